//! The encoder and the three engines (GLM, DRF, GBM, with their trees) to and from the
//! JSON of a model document, version 1. Reading checks every index and length that
//! scoring relies on, so that a document that reads is one that scores without panics.

use serde_json::{json, Value};

use super::read::{must, numbers, At};
use super::ModelFormatError;
use crate::automl::ml::encode::{Encoder, Feature, Part};
use crate::automl::ml::forest::Forest;
use crate::automl::ml::gbm::{Gbm, Loss, LEARN_RATE};
use crate::automl::ml::glm::Glm;
use crate::automl::ml::model::Engine;
use crate::automl::ml::tree::{Node, Tree, TreeParams};

/// The encoder's `features` list.
pub(super) fn write_encoder(encoder: &Encoder) -> Value {
    let feature = |f: &Feature| match f {
        Feature::Numeric {
            name,
            mean,
            scale,
            indicator,
        } => json!({
            "name": name, "type": "numerical",
            "mean": mean, "scale": scale, "missing_indicator": indicator,
        }),
        Feature::OneHot {
            name,
            levels,
            missing_slot,
        } => json!({
            "name": name, "type": "categorical",
            "levels": levels, "missing_slot": missing_slot,
        }),
        Feature::Calendar {
            name,
            parts,
            indicator,
        } => {
            let parts: Vec<Value> = parts
                .iter()
                .map(|(part, mean, scale)| json!({"part": part.as_str(), "mean": mean, "scale": scale}))
                .collect();
            json!({
                "name": name, "type": "datetime",
                "parts": parts, "missing_indicator": indicator,
            })
        }
    };
    Value::Array(encoder.features.iter().map(feature).collect())
}

/// Reads the `features` list of `doc`.
pub(super) fn read_encoder(doc: At<'_>) -> Result<Encoder, ModelFormatError> {
    let list = doc.list("features")?;
    let mut features = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let path = doc.child_path("features") + &format!("[{i}]");
        features.push(read_feature(At::new(value, &path))?);
    }
    Ok(Encoder { features })
}

fn read_feature(at: At<'_>) -> Result<Feature, ModelFormatError> {
    let name = at.str("name")?.to_owned();
    match at.str("type")? {
        "numerical" => {
            let scale = at.f64("scale")?;
            if !scale.is_finite() || scale == 0.0 {
                return Err(must(&at.child_path("scale"), "a finite non-zero number"));
            }
            Ok(Feature::Numeric {
                name,
                mean: at.f64("mean")?,
                scale,
                indicator: at.bool("missing_indicator")?,
            })
        }
        "categorical" => Ok(Feature::OneHot {
            name,
            levels: at.strings("levels")?,
            missing_slot: at.bool("missing_slot")?,
        }),
        "datetime" => {
            let list = at.list("parts")?;
            let mut parts = Vec::with_capacity(list.len());
            for (i, value) in list.iter().enumerate() {
                let path = at.child_path("parts") + &format!("[{i}]");
                let part_at = At::new(value, &path);
                let named = part_at.str("part")?;
                let part = Part::ALL
                    .into_iter()
                    .find(|p| p.as_str() == named)
                    .ok_or_else(|| {
                        must(
                            &part_at.child_path("part"),
                            "year, month, day, yearday, hour or minute",
                        )
                    })?;
                let scale = part_at.f64("scale")?;
                if !scale.is_finite() || scale == 0.0 {
                    return Err(must(
                        &part_at.child_path("scale"),
                        "a finite non-zero number",
                    ));
                }
                parts.push((part, part_at.f64("mean")?, scale));
            }
            Ok(Feature::Calendar {
                name,
                parts,
                indicator: at.bool("missing_indicator")?,
            })
        }
        _ => Err(must(
            &at.child_path("type"),
            "numerical, categorical or datetime",
        )),
    }
}

/// The `engine` object.
pub(super) fn write_engine(engine: &Engine) -> Value {
    match engine {
        Engine::Glm(glm) => write_glm(glm),
        Engine::Drf(forest) => json!({
            "kind": "drf",
            "outputs": forest.classes.unwrap_or(1),
            "classifier": forest.classes.is_some(),
            "max_depth": forest.params.max_depth,
            "min_rows": forest.params.min_leaf,
            "mtries": forest.params.mtry,
            "trees": forest.trees.iter().map(write_tree).collect::<Vec<_>>(),
        }),
        Engine::Gbm(gbm) => {
            let loss = match gbm.loss {
                Loss::Squared => "squared",
                Loss::Logistic => "logistic",
                Loss::Softmax(_) => "softmax",
            };
            let rounds: Vec<Value> = gbm
                .trees
                .iter()
                .map(|round| Value::Array(round.iter().map(write_tree).collect()))
                .collect();
            json!({
                "kind": "gbm", "loss": loss, "learn_rate": LEARN_RATE,
                "init": gbm.init, "rounds": rounds,
            })
        }
    }
}

fn write_glm(glm: &Glm) -> Value {
    let (link, coefficients, lambda) = match glm {
        Glm::Linear { beta, lambda } => ("identity", vec![beta], lambda),
        Glm::Logistic { beta, lambda } => ("logistic", vec![beta], lambda),
        Glm::Softmax { betas, lambda } => ("softmax", betas.iter().collect(), lambda),
    };
    json!({
        "kind": "glm", "link": link, "lambda": lambda, "coefficients": coefficients,
    })
}

/// What an engine must fit: the encoded width it reads and the outputs it makes
/// (`None` for regression, else the number of classes).
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    pub(super) width: usize,
    pub(super) classes: Option<usize>,
}

/// Reads the `engine` object, checked against `shape`.
pub(super) fn read_engine(at: At<'_>, shape: Shape) -> Result<Engine, ModelFormatError> {
    match at.str("kind")? {
        "glm" => read_glm(at, shape).map(Engine::Glm),
        "drf" => read_forest(at, shape).map(Engine::Drf),
        "gbm" => read_gbm(at, shape).map(Engine::Gbm),
        _ => Err(must(&at.child_path("kind"), "glm, drf or gbm")),
    }
}

fn read_glm(at: At<'_>, shape: Shape) -> Result<Glm, ModelFormatError> {
    let path = at.child_path("coefficients");
    let lists = at.list("coefficients")?;
    let mut betas = Vec::with_capacity(lists.len());
    for (i, list) in lists.iter().enumerate() {
        let item = format!("{path}[{i}]");
        let beta = numbers(list.as_array().map_or(&[][..], Vec::as_slice), &item)?;
        if beta.len() != shape.width + 1 || !list.is_array() {
            let expected = format!("a list of {} numbers (intercept first)", shape.width + 1);
            return Err(must(&item, expected));
        }
        betas.push(beta);
    }
    let link = at.str("link")?;
    let wanted = match link {
        "identity" | "logistic" => 1,
        "softmax" => shape.classes.unwrap_or(0),
        _ => {
            return Err(must(
                &at.child_path("link"),
                "identity, logistic or softmax",
            ))
        }
    };
    let fits = match (link, shape.classes) {
        ("identity", None) | ("logistic", Some(2)) => true,
        ("softmax", Some(k)) => k > 2,
        _ => false,
    };
    if !fits {
        return Err(mismatch(&at.child_path("link"), link, shape));
    }
    if betas.len() != wanted {
        return Err(must(&path, format!("{wanted} coefficient list(s)")));
    }
    // Classifier documents from before their λ was written have none: unknown (NaN).
    let lambda = match (link, at.field("lambda")) {
        ("identity", _) | (_, Ok(_)) => at.f64("lambda")?,
        _ => f64::NAN,
    };
    Ok(match link {
        "identity" => Glm::Linear {
            beta: betas.remove(0),
            lambda,
        },
        "logistic" => Glm::Logistic {
            beta: betas.remove(0),
            lambda,
        },
        _ => Glm::Softmax { betas, lambda },
    })
}

/// An engine whose outputs do not fit the model type.
fn mismatch(path: &str, what: &str, shape: Shape) -> ModelFormatError {
    let model = match shape.classes {
        None => "a regression model".to_owned(),
        Some(k) => format!("a classifier of {k} classes"),
    };
    ModelFormatError::Malformed(format!("'{path}' is {what}, which does not fit {model}"))
}

fn read_forest(at: At<'_>, shape: Shape) -> Result<Forest, ModelFormatError> {
    let outputs = at.usize("outputs")?;
    let classes = at.bool("classifier")?.then_some(outputs);
    if classes != shape.classes {
        return Err(mismatch(
            &at.child_path("outputs"),
            &outputs.to_string(),
            shape,
        ));
    }
    let params = TreeParams {
        max_depth: at.usize("max_depth")?,
        min_leaf: at.usize("min_rows")?,
        mtry: at.usize("mtries")?,
    };
    let trees = read_trees(
        at.list("trees")?,
        &at.child_path("trees"),
        shape.width,
        outputs,
    )?;
    Ok(Forest {
        trees,
        classes,
        params,
    })
}

fn read_gbm(at: At<'_>, shape: Shape) -> Result<Gbm, ModelFormatError> {
    let init = at.numbers("init")?;
    let loss_name = at.str("loss")?;
    let loss = match (loss_name, shape.classes) {
        ("squared", None) => Loss::Squared,
        ("logistic", Some(2)) => Loss::Logistic,
        ("softmax", Some(k)) if k > 2 => Loss::Softmax(k),
        ("squared" | "logistic" | "softmax", _) => {
            return Err(mismatch(&at.child_path("loss"), loss_name, shape))
        }
        _ => return Err(must(&at.child_path("loss"), "squared, logistic or softmax")),
    };
    let scores = match loss {
        Loss::Squared | Loss::Logistic => 1,
        Loss::Softmax(k) => k,
    };
    if init.len() != scores {
        return Err(must(&at.child_path("init"), format!("{scores} number(s)")));
    }
    let learn_rate = at.f64("learn_rate")?;
    if learn_rate != LEARN_RATE {
        let expected = format!("{LEARN_RATE} (the only learning rate of version 1)");
        return Err(must(&at.child_path("learn_rate"), expected));
    }
    let path = at.child_path("rounds");
    let rounds = at.list("rounds")?;
    let mut trees = Vec::with_capacity(rounds.len());
    for (i, round) in rounds.iter().enumerate() {
        let round_path = format!("{path}[{i}]");
        let list = round.as_array().map_or(&[][..], Vec::as_slice);
        let grown = read_trees(list, &round_path, shape.width, 1)?;
        if grown.len() != scores || !round.is_array() {
            return Err(must(&round_path, format!("a list of {scores} tree(s)")));
        }
        trees.push(grown);
    }
    Ok(Gbm { loss, init, trees })
}

/// A tree: its leaf width and its nodes, in index order.
fn write_tree(tree: &Tree) -> Value {
    let node = |n: &Node| match n {
        Node::Leaf { start } => json!({ "value": &tree.values[*start..*start + tree.width] }),
        Node::Split {
            feature,
            cut,
            left,
            right,
            gain,
        } => json!({
            "feature": feature, "cut": cut, "left": left, "right": right, "gain": gain,
        }),
    };
    json!({ "width": tree.width, "nodes": tree.nodes.iter().map(node).collect::<Vec<_>>() })
}

/// Reads the trees `list` (at `path`): each reads encoded rows of `width` columns and
/// has leaves of `outputs` values.
fn read_trees(
    list: &[Value],
    path: &str,
    width: usize,
    outputs: usize,
) -> Result<Vec<Tree>, ModelFormatError> {
    let mut trees = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let tree_path = format!("{path}[{i}]");
        trees.push(read_tree(At::new(value, &tree_path), width, outputs)?);
    }
    Ok(trees)
}

fn read_tree(at: At<'_>, width: usize, outputs: usize) -> Result<Tree, ModelFormatError> {
    if at.usize("width")? != outputs {
        return Err(must(&at.child_path("width"), outputs.to_string()));
    }
    let path = at.child_path("nodes");
    let list = at.list("nodes")?;
    if list.is_empty() {
        return Err(must(&path, "a non-empty list"));
    }
    let mut tree = Tree {
        nodes: Vec::with_capacity(list.len()),
        values: Vec::new(),
        width: outputs,
    };
    for (i, value) in list.iter().enumerate() {
        let node_path = format!("{path}[{i}]");
        let node = At::new(value, &node_path);
        let read = match value.get("value") {
            Some(_) => {
                let leaf = node.numbers("value")?;
                if leaf.len() != outputs {
                    return Err(must(
                        &node.child_path("value"),
                        format!("{outputs} number(s)"),
                    ));
                }
                let start = tree.values.len();
                tree.values.extend(leaf);
                Node::Leaf { start }
            }
            None => read_split(node, i, list.len(), width)?,
        };
        tree.nodes.push(read);
    }
    Ok(tree)
}

/// A split node at index `index` of `count`: its children come after it, so walking a
/// tree always ends at a leaf.
fn read_split(
    at: At<'_>,
    index: usize,
    count: usize,
    width: usize,
) -> Result<Node, ModelFormatError> {
    let child = |name: &str| -> Result<usize, ModelFormatError> {
        let c = at.usize(name)?;
        match c > index && c < count {
            true => Ok(c),
            false => Err(must(
                &at.child_path(name),
                format!("a node index after {index} and below {count}"),
            )),
        }
    };
    let feature = at.usize("feature")?;
    if feature >= width {
        return Err(must(
            &at.child_path("feature"),
            format!("an encoded column below {width}"),
        ));
    }
    Ok(Node::Split {
        feature,
        cut: at.f64("cut")?,
        left: child("left")?,
        right: child("right")?,
        gain: at.f64("gain")?,
    })
}
