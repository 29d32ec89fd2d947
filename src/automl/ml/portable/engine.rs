//! The three engines (GLM, DRF, GBM, with their trees) to and from the JSON of a model
//! document, version 2 (the encoder is in `encoder.rs`). Reading checks every index and length that
//! scoring relies on, so that a document that reads is one that scores without panics.

use serde_json::{json, Value};

use super::read::{must, numbers, At};
use super::ModelFormatError;
use crate::automl::ml::forest::{Forest, ForestParams};
use crate::automl::ml::gbm::{BoostNode, BoostTree, Gbm, GbmParams, Loss};
use crate::automl::ml::glm::Glm;
use crate::automl::ml::model::Engine;
use crate::automl::ml::tree::{bit, set_bit, Node, Rule, Tree, OTHER_BIN};

/// The `engine` object.
pub(super) fn write_engine(engine: &Engine) -> Value {
    match engine {
        Engine::Glm(glm) => write_glm(glm),
        Engine::Drf(forest) => json!({
            "kind": "drf",
            "outputs": forest.classes.unwrap_or(1),
            "classifier": forest.classes.is_some(),
            "params": write_params(forest.hyperparameters()),
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
                .map(|round| Value::Array(round.iter().map(write_boost_tree).collect()))
                .collect();
            let params = write_params(gbm.hyperparameters());
            json!({ "kind": "gbm", "loss": loss, "init": gbm.init, "params": params, "rounds": rounds })
        }
    }
}

/// A model's settings as a `params` object, by their H2O names.
fn write_params(named: Vec<(&'static str, f64)>) -> Value {
    let map: serde_json::Map<String, Value> = named
        .into_iter()
        .map(|(name, value)| (name.to_owned(), json!(value)))
        .collect();
    Value::Object(map)
}

/// A boosted tree's nodes, in index order: `{"value"}` for a leaf (already shrunk) and
/// a split as [`write_split`] writes it.
fn write_boost_tree(tree: &BoostTree) -> Value {
    json!({ "nodes": write_nodes(&tree.nodes, |value| json!({ "value": value })) })
}

/// A split node: `{"feature", "cut", "missing_left", ...}` for a threshold split and
/// `{"feature", "levels", "missing_left", "other_left", ...}` for a split on level codes.
fn write_split(feature: usize, rule: &Rule, left: usize, right: usize, gain: f64) -> Value {
    match rule {
        Rule::Le { cut, missing_left } => json!({
            "feature": feature, "cut": cut, "missing_left": missing_left,
            "left": left, "right": right, "gain": gain,
        }),
        Rule::In { bins } => {
            let levels: Vec<u8> = (1..OTHER_BIN)
                .filter(|&b| bit(bins, b))
                .map(|b| b - 1)
                .collect();
            json!({
                "feature": feature, "levels": levels, "missing_left": bit(bins, 0),
                "other_left": bit(bins, OTHER_BIN), "left": left, "right": right, "gain": gain,
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
    let path = at.child_path("params");
    let params = At::new(at.field("params")?, &path);
    let trees = read_trees(
        at.list("trees")?,
        &at.child_path("trees"),
        shape.width,
        outputs,
    )?;
    let params = ForestParams {
        ntrees: trees.len(),
        max_depth: count(params, "max_depth")?,
        min_rows: count(params, "min_rows")?,
        mtries: Some(count(params, "mtries")?),
        sample_rate: params.f64("sample_rate")?,
    };
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
    let params = read_gbm_params(at)?;
    let path = at.child_path("rounds");
    let rounds = at.list("rounds")?;
    let mut trees = Vec::with_capacity(rounds.len());
    for (i, round) in rounds.iter().enumerate() {
        let round_path = format!("{path}[{i}]");
        let list = round.as_array().map_or(&[][..], Vec::as_slice);
        if list.len() != scores || !round.is_array() {
            return Err(must(&round_path, format!("a list of {scores} tree(s)")));
        }
        let mut grown = Vec::with_capacity(scores);
        for (k, value) in list.iter().enumerate() {
            let tree_path = format!("{round_path}[{k}]");
            grown.push(read_boost_tree(At::new(value, &tree_path), shape.width)?);
        }
        trees.push(grown);
    }
    Ok(Gbm {
        loss,
        init,
        trees,
        params,
    })
}

/// The settings a GBM was fitted with, from its `params` object (by H2O names).
fn read_gbm_params(at: At<'_>) -> Result<GbmParams, ModelFormatError> {
    let path = at.child_path("params");
    let params = At::new(at.field("params")?, &path);
    let depth = count(params, "max_depth")?;
    Ok(GbmParams {
        ntrees: Some(count(params, "ntrees")?),
        learn_rate: params.f64("learn_rate")?,
        max_leaves: count(params, "max_leaves")?,
        max_depth: if depth == 0 { usize::MAX } else { depth },
        min_rows: count(params, "min_rows")?,
        lambda: params.f64("reg_lambda")?,
        sample_rate: params.f64("sample_rate")?,
        col_sample_rate: params.f64("col_sample_rate_per_tree")?,
        ..GbmParams::default()
    })
}

/// The whole number `params[name]`.
fn count(params: At<'_>, name: &str) -> Result<usize, ModelFormatError> {
    let x = params.f64(name)?;
    if x.is_finite() && x >= 0.0 && x.fract() == 0.0 {
        Ok(x as usize)
    } else {
        Err(must(
            &params.child_path(name),
            "a whole number of at least 0",
        ))
    }
}

/// A boosted tree reading encoded rows of `width` columns.
fn read_boost_tree(at: At<'_>, width: usize) -> Result<BoostTree, ModelFormatError> {
    let path = at.child_path("nodes");
    let list = at.list("nodes")?;
    if list.is_empty() {
        return Err(must(&path, "a non-empty list"));
    }
    let mut nodes = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let node_path = format!("{path}[{i}]");
        let node = At::new(value, &node_path);
        nodes.push(match value.get("value") {
            Some(_) => BoostNode::Leaf(node.f64("value")?),
            None => read_boost_split(node, i, list.len(), width)?,
        });
    }
    Ok(BoostTree { nodes })
}

/// A boosted tree's split node at index `index` of `count`.
fn read_boost_split(
    at: At<'_>,
    index: usize,
    count: usize,
    width: usize,
) -> Result<BoostNode, ModelFormatError> {
    let Split {
        feature,
        rule,
        left,
        right,
        gain,
    } = read_split(at, index, count, width)?;
    Ok(BoostNode::Split {
        feature,
        rule,
        left,
        right,
        gain,
    })
}

/// A tree: its leaf width and its nodes, in index order; a leaf is `{"value": [...]}`
/// and a split as [`write_split`] writes it.
fn write_tree(tree: &Tree) -> Value {
    let leaf = |&start: &usize| json!({ "value": &tree.values[start..start + tree.width] });
    json!({ "width": tree.width, "nodes": write_nodes(&tree.nodes, leaf) })
}

/// Every node of a tree in index order: leaves by `leaf`, splits by [`write_split`].
fn write_nodes<L>(nodes: &[Node<L>], leaf: impl Fn(&L) -> Value) -> Vec<Value> {
    let node = |n: &Node<L>| match n {
        Node::Leaf(l) => leaf(l),
        Node::Split {
            feature,
            rule,
            left,
            right,
            gain,
        } => write_split(*feature, rule, *left, *right, *gain),
    };
    nodes.iter().map(node).collect()
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
                Node::Leaf(start)
            }
            None => {
                let split = read_split(node, i, list.len(), width)?;
                Node::Split {
                    feature: split.feature,
                    rule: split.rule,
                    left: split.left,
                    right: split.right,
                    gain: split.gain,
                }
            }
        };
        tree.nodes.push(read);
    }
    Ok(tree)
}

/// The fields of a split node, shared by forest and boosted trees.
struct Split {
    feature: usize,
    rule: Rule,
    left: usize,
    right: usize,
    gain: f64,
}

/// A split node at index `index` of `count`: its children come after it, so walking a
/// tree always ends at a leaf.
fn read_split(
    at: At<'_>,
    index: usize,
    count: usize,
    width: usize,
) -> Result<Split, ModelFormatError> {
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
    Ok(Split {
        feature,
        rule: read_rule(at)?,
        left: child("left")?,
        right: child("right")?,
        gain: at.f64("gain")?,
    })
}

/// A split's rule: a threshold (`cut`) or a set of level codes (`levels`), each with
/// `missing_left`.
fn read_rule(at: At<'_>) -> Result<Rule, ModelFormatError> {
    let missing_left = at.bool("missing_left")?;
    if at.value.get("levels").is_none() {
        let cut = at.f64("cut")?;
        return Ok(Rule::Le { cut, missing_left });
    }
    let mut bins = [0; 4];
    for (i, code) in at.numbers("levels")?.into_iter().enumerate() {
        if !(code.fract() == 0.0 && (0.0..f64::from(OTHER_BIN - 1)).contains(&code)) {
            let item = format!("{}[{i}]", at.child_path("levels"));
            return Err(must(&item, "a level code from 0 to 253"));
        }
        set_bit(&mut bins, code as usize + 1);
    }
    if missing_left {
        set_bit(&mut bins, 0);
    }
    if at.bool("other_left")? {
        set_bit(&mut bins, usize::from(OTHER_BIN));
    }
    Ok(Rule::In {
        bins: Box::new(bins),
    })
}
