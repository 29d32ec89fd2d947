//! The portable model format: a trained model as one JSON document that holds
//! everything needed to score with it, so that it can be downloaded from the server
//! (`GET /v2/models/{id}/download`) and loaded again, here or by another program.
//!
//! The document (version [`VERSION`]) is described field by field in
//! `design/06-the-automl-api.md`, "Model download format". In short:
//!
//! ```text
//! { "format": "taskloop-model", "version": 1,
//!   "algo": "GBM", "model_type": "binary classification", "target": "label", "classes": ["no", "yes"],
//!   "seed": 42, "cv_averages": {...}, "validation_scores": {...}, "test_scores": {...},
//!   "features": [ {"name", "type": "numerical", "mean", "scale", "missing_indicator"}
//!               | {"name", "type": "categorical", "levels", "missing_slot"} ],
//!   "column_weights": [...],
//!   "engine": {"kind": "glm" | "drf" | "gbm", ...} }
//! ```
//!
//! Numbers are written in their shortest exact decimal form and read back exactly (the
//! crate's JSON parser is built with `float_roundtrip`), so a reloaded model scores bit
//! for bit like the original. Reading checks every index and length that scoring relies
//! on: a document that loads is one that scores without panicking.

mod encoder;
mod engine;
mod exact;
mod read;
mod stack;
#[cfg(test)]
mod tests;

// The pieces the server's stored documents (`cluster/stored.rs`,
// `timeseries/stored.rs`) build on.
pub(crate) use encoder::{read_encoder, write_encoder};
pub(crate) use exact::{exact, exact_items, exact_list, exact_map, open_document, stored_error};
pub(crate) use read::{must, At};

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::{fmt, fs, io};

use serde_json::{json, Map, Value};

use self::engine::Shape;
use super::model::{Engine, Fitted, Predictor, TrainedModel};
use super::spec::{Algo, ModelType};

/// The `format` field of every model document.
pub const FORMAT: &str = "taskloop-model";
/// The version of the model document this build writes and reads.
pub const VERSION: u64 = 2;

/// Why a model document could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelFormatError {
    /// The bytes are not a JSON object.
    NotJson(String),
    /// The document's `format` is not [`FORMAT`].
    NotAModel,
    /// The document has another format version than this build reads.
    Version {
        /// The document's version.
        found: u64,
    },
    /// A field is missing, mistyped or inconsistent; the message names it.
    Malformed(String),
    /// The model file could not be read ([`TrainedModel::load`]).
    Io {
        /// The file.
        path: PathBuf,
        /// What kind of failure it was (`NotFound`, `PermissionDenied`, ...).
        kind: io::ErrorKind,
        /// The operating system's message.
        message: String,
    },
}

impl fmt::Display for ModelFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelFormatError::NotJson(e) => write!(f, "the model document is not JSON: {e}"),
            ModelFormatError::NotAModel => {
                write!(f, "not a model document (its 'format' is not '{FORMAT}')")
            }
            ModelFormatError::Version { found } => write!(
                f,
                "the model document has format version {found}; this build reads version \
                 {VERSION}"
            ),
            ModelFormatError::Malformed(m) => write!(f, "malformed model document: {m}"),
            ModelFormatError::Io { path, message, .. } => write!(
                f,
                "could not read the model file '{}': {message}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ModelFormatError {}

/// `x` as a JSON number, `null` when NaN or infinite.
fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

impl TrainedModel {
    /// The model as a portable JSON document (UTF-8 bytes), which
    /// [`from_portable`](Self::from_portable) loads again; the format is described in
    /// `design/06-the-automl-api.md`.
    pub fn to_portable(&self) -> Vec<u8> {
        let scores = |m: &BTreeMap<String, f64>| -> Value {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), number(*v))).collect())
        };
        let mut doc = json!({
            "format": FORMAT,
            "version": VERSION,
            "algo": self.algo.as_str(),
            "model_type": self.model_type.as_str(),
            "target": self.target,
            "classes": self.classes,
            "seed": self.seed,
            "cv_averages": scores(&self.cv_averages),
            "validation_scores": scores(&self.validation_scores),
            "test_scores": scores(&self.test_scores),
        });
        let fields = match &self.fitted {
            Predictor::One(fitted) => write_fitted(fitted),
            Predictor::Stack(stack) => stack::write_stack(stack),
        };
        if let Value::Object(doc) = &mut doc {
            doc.extend(fields);
        }
        doc.to_string().into_bytes()
    }

    /// Loads a model from a document written by [`to_portable`](Self::to_portable)
    /// (for instance one downloaded from `GET /v2/models/{id}/download`). It predicts
    /// exactly as the model that wrote it.
    ///
    /// # Errors
    /// [`ModelFormatError`] when the bytes are not JSON, not a model document, of
    /// another version (the message names both), or a field is missing or inconsistent
    /// (the message names it).
    pub fn from_portable(bytes: &[u8]) -> Result<TrainedModel, ModelFormatError> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| not_json(bytes, &e))?;
        if !doc.is_object() {
            return Err(ModelFormatError::NotJson("not a JSON object".into()));
        }
        let at = At::root(&doc);
        if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(ModelFormatError::NotAModel);
        }
        let found = at.u64("version")?;
        if found != VERSION {
            return Err(ModelFormatError::Version { found });
        }
        read_model(at)
    }

    /// Loads a model from the file at `path`, a document downloaded from
    /// `GET /v2/models/{id}/download` (or written from [`to_portable`](Self::to_portable)):
    /// the file's bytes through [`from_portable`](Self::from_portable). The model
    /// predicts exactly as the server's: the same prediction and class probabilities,
    /// bit for bit, for the same rows.
    ///
    /// # Errors
    /// [`ModelFormatError::Io`], naming the path and the operating system's error, when
    /// the file cannot be read; otherwise those of [`from_portable`](Self::from_portable)
    /// (a truncated file is [`ModelFormatError::NotJson`], saying that it ends too early;
    /// a document of another format version is [`ModelFormatError::Version`]).
    ///
    /// # Examples
    /// A small GLM, `y = 1 + 2·x`, written as the server writes models, loaded and scored
    /// on CSV (a missing `x` counts as the training mean, here 0):
    /// ```
    /// use taskloop::automl::{parse_csv, CsvLimits, Model};
    ///
    /// let doc = r#"{"format": "taskloop-model", "version": 2, "algo": "GLM",
    ///   "model_type": "regression", "target": "y", "classes": [], "seed": 1,
    ///   "cv_averages": {}, "validation_scores": {}, "test_scores": {},
    ///   "features": [{"name": "x", "type": "numerical", "mean": 0, "scale": 1,
    ///                 "missing_indicator": false}],
    ///   "column_weights": [1],
    ///   "engine": {"kind": "glm", "link": "identity", "coefficients": [[1, 2]], "lambda": 0}}"#;
    /// let path = std::env::temp_dir().join(format!("model-{}.json", std::process::id()));
    /// std::fs::write(&path, doc)?;
    /// let model = Model::load(&path)?;
    /// std::fs::remove_file(&path)?;
    ///
    /// let frame = parse_csv("id,x\n1,3\n2,\n".as_bytes(), &CsvLimits::default())?;
    /// let mut csv = Vec::new();
    /// model.predict(&frame, &[], None)?.write_csv(&mut csv)?;
    /// assert_eq!(String::from_utf8(csv)?, "prediction\n7\n1\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<TrainedModel, ModelFormatError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|e| ModelFormatError::Io {
            path: path.to_owned(),
            kind: e.kind(),
            message: e.to_string(),
        })?;
        TrainedModel::from_portable(&bytes)
    }
}

/// The error of `bytes`, which do not parse as JSON (`e`), saying so plainly when they
/// are empty or end too early (a truncated download).
fn not_json(bytes: &[u8], e: &serde_json::Error) -> ModelFormatError {
    let message = if bytes.iter().all(u8::is_ascii_whitespace) {
        "the document is empty".to_owned()
    } else if e.is_eof() {
        format!("{e} (it ends too early: a truncated file?)")
    } else {
        e.to_string()
    };
    ModelFormatError::NotJson(message)
}

/// The fields that describe one fitted engine: `features`, `column_weights` and
/// `engine`.
pub(crate) fn write_fitted(fitted: &Fitted) -> Map<String, Value> {
    let weights: Vec<Value> = fitted.column_weights.iter().map(|w| number(*w)).collect();
    let mut fields = Map::new();
    fields.insert("features".into(), encoder::write_encoder(&fitted.encoder));
    fields.insert("column_weights".into(), Value::Array(weights));
    fields.insert("engine".into(), engine::write_engine(&fitted.engine));
    fields
}

/// Reads the fields [`write_fitted`] writes, of an `algo` model with `classes` (none
/// for regression).
pub(crate) fn read_fitted(
    at: At<'_>,
    algo: Algo,
    classes: Option<usize>,
) -> Result<Fitted, ModelFormatError> {
    let encoder = encoder::read_encoder(at)?;
    let width = encoder.width();
    let column_weights = at.numbers("column_weights")?;
    if column_weights.len() != width {
        return Err(must(
            &at.child_path("column_weights"),
            format!("{width} numbers"),
        ));
    }
    let shape = Shape { width, classes };
    let path = at.child_path("engine");
    let engine_at = At::new(at.field("engine")?, &path);
    let engine = engine::read_engine(engine_at, shape)?;
    let kind_fits = matches!(
        (algo, &engine),
        (Algo::Glm, Engine::Glm(_)) | (Algo::Drf, Engine::Drf(_)) | (Algo::Gbm, Engine::Gbm(_))
    );
    if !kind_fits {
        return Err(must(
            &engine_at.child_path("kind"),
            format!("the engine of {algo}"),
        ));
    }
    Ok(Fitted {
        encoder,
        engine,
        column_weights,
    })
}

fn read_model(at: At<'_>) -> Result<TrainedModel, ModelFormatError> {
    let algo: Algo = at
        .str("algo")?
        .parse()
        .map_err(|_| must("algo", "GLM, DRF, GBM or StackedEnsemble"))?;
    let model_type: ModelType = at.str("model_type")?.parse().map_err(|_| {
        must(
            "model_type",
            "regression, binary classification or multinomial classification",
        )
    })?;
    let classes = read_classes(at, model_type)?;
    let outputs = (model_type != ModelType::Regression).then_some(classes.len());
    let fitted = match algo {
        Algo::StackedEnsemble => Predictor::Stack(stack::read_stack(at, outputs)?),
        algo => Predictor::One(read_fitted(at, algo, outputs)?),
    };
    Ok(TrainedModel {
        algo,
        cv_averages: at.number_map("cv_averages")?,
        validation_scores: at.number_map("validation_scores")?,
        test_scores: at.number_map("test_scores")?,
        target: at.str("target")?.to_owned(),
        seed: at.u64("seed")?,
        model_type,
        classes,
        fitted,
    })
}

/// The `classes`, as many as the model type calls for, each once.
fn read_classes(at: At<'_>, model_type: ModelType) -> Result<Vec<String>, ModelFormatError> {
    let classes = at.strings("classes")?;
    let fits = match model_type {
        ModelType::Regression => classes.is_empty(),
        ModelType::Binary => classes.len() == 2,
        ModelType::Multinomial => classes.len() > 2,
    };
    if !fits {
        let expected = match model_type {
            ModelType::Regression => "empty for a regression model",
            ModelType::Binary => "two labels for a binary model",
            ModelType::Multinomial => "more than two labels for a multinomial model",
        };
        return Err(must("classes", expected));
    }
    let mut seen = HashSet::new();
    if let Some(twice) = classes.iter().find(|c| !seen.insert(c.as_str())) {
        return Err(must(
            "classes",
            format!("distinct labels ('{twice}' is there twice)"),
        ));
    }
    Ok(classes)
}
