//! A cluster model's stored form: the JSON document the server's data directory keeps
//! for a clustering model, and the strict reading of it back.
//!
//! ```text
//! { "kind": "taskloop-cluster-model", "version": 1,
//!   "features": ["x1", "x2"], "feature_types": ["numerical", "categorical" | "datetime"],
//!   "k": 3, "seed": 42, "sizes": [60, 60, 60], "withinss": [...],
//!   "tot_withinss": 1.25, "totss": 400.5, "iterations": 4, "converged": true,
//!   "restart": 2, "rows_used": 180,
//!   "centers": [[{"number": 1.5}, {"level": "a"} | {"level": null}], ...],
//!   "encoder": {"features": [...]},
//!   "centroids": [[0.5, -1.25, ...], ...] }
//! ```
//!
//! `encoder.features` is the encoder as the model download format writes it
//! (`design/06-the-automl-api.md`); every other number is written exactly (see
//! `portable/exact.rs`: NaN and the infinities as the hex digits of their bits), so a
//! model read back is equal to the one written, bit for bit. Reading checks every
//! length that scoring and the model's report rely on (one center per cluster and
//! feature, one centroid of the encoder's width per cluster, the encoder over the
//! features in order): a document that loads assigns rows without panicking.

use serde_json::{json, Value};

use super::super::frame::DataType;
use super::super::linalg::Matrix;
use super::super::portable::{
    exact, exact_items, exact_list, must, open_document, read_encoder, stored_error, write_encoder,
    At, ModelFormatError,
};
use super::{Center, ClusterModel};

/// The `kind` of a stored cluster model.
const KIND: &str = "taskloop-cluster-model";
/// The version of the stored cluster model this build writes and reads.
const VERSION: u64 = 1;
/// The document, as the messages name it.
const WHAT: &str = "cluster model";

impl ClusterModel {
    /// The model's stored form (see the module documentation), which
    /// [`from_stored`](Self::from_stored) reads back to an equal model.
    pub(crate) fn to_stored(&self) -> Vec<u8> {
        let types: Vec<&str> = self.feature_types.iter().map(|t| t.as_str()).collect();
        let centers: Vec<Value> = self
            .centers
            .iter()
            .map(|row| Value::Array(row.iter().map(write_center).collect()))
            .collect();
        let centroids: Vec<Value> = self.centroids.iter_rows().map(exact_list).collect();
        let doc = json!({
            "kind": KIND,
            "version": VERSION,
            "features": self.features,
            "feature_types": types,
            "k": self.k,
            "seed": self.seed,
            "sizes": self.sizes,
            "withinss": exact_list(&self.withinss),
            "tot_withinss": exact(self.tot_withinss),
            "totss": exact(self.totss),
            "iterations": self.iterations,
            "converged": self.converged,
            "restart": self.restart,
            "rows_used": self.rows_used,
            "centers": centers,
            "encoder": {"features": write_encoder(&self.encoder)},
            "centroids": centroids,
        });
        doc.to_string().into_bytes()
    }

    /// Reads a model written by [`to_stored`](Self::to_stored).
    ///
    /// # Errors
    /// A message saying what is wrong when the bytes are not JSON, not a stored
    /// cluster model (another kind, in words), of another version, or when a field is
    /// missing or inconsistent (the message names it).
    pub(crate) fn from_stored(bytes: &[u8]) -> Result<ClusterModel, String> {
        let doc = open_document(bytes, KIND, VERSION, WHAT)?;
        read_model(At::root(&doc)).map_err(stored_error(WHAT))
    }
}

fn write_center(center: &Center) -> Value {
    match center {
        Center::Number(x) => json!({ "number": exact(*x) }),
        Center::Level(level) => json!({ "level": level }),
    }
}

fn read_model(at: At<'_>) -> Result<ClusterModel, ModelFormatError> {
    let features = at.strings("features")?;
    if features.is_empty() {
        return Err(must("features", "a list of at least one column name"));
    }
    let feature_types = read_types(at, features.len())?;
    let encoder_path = at.child_path("encoder");
    let encoder = read_encoder(At::new(at.field("encoder")?, &encoder_path))?;
    if !encoder
        .feature_names()
        .eq(features.iter().map(String::as_str))
    {
        return Err(must(
            &format!("{encoder_path}.features"),
            "the encoding of the features, in their order",
        ));
    }
    let k = at.usize("k")?;
    if k == 0 {
        return Err(must("k", "at least 1"));
    }
    let sizes = read_counts(at, "sizes", k)?;
    let withinss = at.exact_list("withinss")?;
    if withinss.len() != k {
        return Err(must("withinss", format!("{k} numbers, one per cluster")));
    }
    Ok(ClusterModel {
        centers: read_centers(at, k, &feature_types)?,
        centroids: read_centroids(at, k, encoder.width())?,
        features,
        feature_types,
        k,
        seed: at.u64("seed")?,
        sizes,
        withinss,
        tot_withinss: at.exact("tot_withinss")?,
        totss: at.exact("totss")?,
        iterations: at.usize("iterations")?,
        converged: at.bool("converged")?,
        restart: at.usize("restart")?,
        rows_used: at.usize("rows_used")?,
        encoder,
    })
}

/// `feature_types`: one type per feature.
fn read_types(at: At<'_>, features: usize) -> Result<Vec<DataType>, ModelFormatError> {
    let expected = || {
        must(
            "feature_types",
            format!("{features} of numerical, categorical or datetime, one per feature"),
        )
    };
    let names = at.strings("feature_types")?;
    if names.len() != features {
        return Err(expected());
    }
    let parse = |name: &String| match name.as_str() {
        "numerical" => Some(DataType::Numerical),
        "categorical" => Some(DataType::Categorical),
        "datetime" => Some(DataType::Datetime),
        _ => None,
    };
    names
        .iter()
        .map(parse)
        .collect::<Option<_>>()
        .ok_or_else(expected)
}

/// Field `name`: `k` counts.
fn read_counts(at: At<'_>, name: &str, k: usize) -> Result<Vec<usize>, ModelFormatError> {
    let count = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
    let counts = at.list(name)?.iter().map(count).collect::<Option<Vec<_>>>();
    counts
        .filter(|c| c.len() == k)
        .ok_or_else(|| must(name, format!("{k} counts, one per cluster")))
}

/// `centers`: per cluster, one center per feature, of the feature's kind.
fn read_centers(
    at: At<'_>,
    k: usize,
    types: &[DataType],
) -> Result<Vec<Vec<Center>>, ModelFormatError> {
    let rows = at.list("centers")?;
    if rows.len() != k {
        return Err(must("centers", format!("{k} lists, one per cluster")));
    }
    let mut centers = Vec::with_capacity(k);
    for (c, row) in rows.iter().enumerate() {
        let path = format!("centers[{c}]");
        let row = row
            .as_array()
            .filter(|r| r.len() == types.len())
            .ok_or_else(|| must(&path, format!("a list of {} centers", types.len())))?;
        let one = |(f, (value, &kind)): (usize, (&Value, &DataType))| {
            read_center(At::new(value, &format!("{path}[{f}]")), kind)
        };
        centers.push(
            row.iter()
                .zip(types)
                .enumerate()
                .map(one)
                .collect::<Result<_, _>>()?,
        );
    }
    Ok(centers)
}

fn read_center(at: At<'_>, kind: DataType) -> Result<Center, ModelFormatError> {
    if kind == DataType::Numerical {
        return Ok(Center::Number(at.exact("number")?));
    }
    match at.value.get("level") {
        Some(Value::Null) => Ok(Center::Level(None)),
        Some(Value::String(level)) => Ok(Center::Level(Some(level.clone()))),
        _ => Err(must(
            &at.child_path("level"),
            "a level or null (the center of a categorical or datetime feature)",
        )),
    }
}

/// `centroids`: `k` rows of `width` numbers.
fn read_centroids(at: At<'_>, k: usize, width: usize) -> Result<Matrix, ModelFormatError> {
    let rows = at.list("centroids")?;
    if rows.len() != k {
        return Err(must("centroids", format!("{k} lists, one per cluster")));
    }
    let expected = format!("a list of {width} numbers (the encoder's width)");
    let mut values = Vec::with_capacity(k);
    for (c, row) in rows.iter().enumerate() {
        let path = format!("centroids[{c}]");
        let row = row.as_array().ok_or_else(|| must(&path, &expected))?;
        let row = exact_items(row, &path)?;
        if row.len() != width {
            return Err(must(&path, &expected));
        }
        values.push(row);
    }
    let mut centroids = Matrix::zeros(k, width);
    for (c, row) in values.iter().enumerate() {
        centroids.row_mut(c).copy_from_slice(row);
    }
    Ok(centroids)
}
