//! A stacked ensemble in the model document: its `bases`, each written as a
//! single-engine model's `features`, `column_weights` and `engine` with its `algo` and
//! `index`, and its `blend`.
//!
//! ```text
//! "bases": [ {"algo": "GLM", "index": 0, "features": [...], "column_weights": [...], "engine": {...}}, ... ],
//! "blend": {"kind": "values", "intercept": 1.5, "weights": [0.4, 0.7]}
//!        | {"kind": "classes", "weights": [0.3, 0.7]}
//! ```

use serde_json::{json, Map, Value};

use super::read::{must, At};
use super::{number, read_fitted, write_fitted, ModelFormatError};
use crate::automl::ml::spec::Algo;
use crate::automl::ml::stack::{Base, Blend, Stack, MAX_BASES};

fn numbers(values: &[f64]) -> Vec<Value> {
    values.iter().map(|v| number(*v)).collect()
}

/// The `bases` and `blend` fields of `stack`.
pub(super) fn write_stack(stack: &Stack) -> Map<String, Value> {
    let bases: Vec<Value> = stack
        .bases
        .iter()
        .map(|base| {
            let mut fields = Map::new();
            fields.insert("algo".into(), json!(base.algo.as_str()));
            fields.insert("index".into(), json!(base.index));
            fields.extend(write_fitted(&base.fitted));
            Value::Object(fields)
        })
        .collect();
    let blend = match &stack.blend {
        Blend::Values { intercept, weights } => json!({
            "kind": "values", "intercept": number(*intercept), "weights": numbers(weights),
        }),
        Blend::Classes { weights } => json!({
            "kind": "classes", "weights": numbers(weights),
        }),
    };
    let mut fields = Map::new();
    fields.insert("bases".into(), Value::Array(bases));
    fields.insert("blend".into(), blend);
    fields
}

/// Reads the `bases` and `blend` of an ensemble with `classes` (none for regression).
pub(super) fn read_stack(at: At<'_>, classes: Option<usize>) -> Result<Stack, ModelFormatError> {
    let path = at.child_path("bases");
    let items = at.list("bases")?;
    if !(2..=MAX_BASES).contains(&items.len()) {
        return Err(must(&path, format!("a list of 2 to {MAX_BASES} models")));
    }
    let mut bases = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let base_at = At::new(item, &item_path);
        let algo: Algo = base_at
            .str("algo")?
            .parse()
            .ok()
            .filter(|a| *a != Algo::StackedEnsemble)
            .ok_or_else(|| must(&base_at.child_path("algo"), "GLM, DRF or GBM"))?;
        let index = base_at.usize("index")?;
        let fitted = read_fitted(base_at, algo, classes)?;
        bases.push(Base {
            algo,
            index,
            fitted,
        });
    }
    let blend_path = at.child_path("blend");
    let blend_at = At::new(at.field("blend")?, &blend_path);
    let weights = blend_at.numbers("weights")?;
    if weights.len() != bases.len() || weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        let expected = format!("{} numbers of at least 0, one per base", bases.len());
        return Err(must(&blend_at.child_path("weights"), expected));
    }
    let blend = match (blend_at.str("kind")?, classes) {
        ("values", None) => Blend::Values {
            intercept: blend_at.f64("intercept")?,
            weights,
        },
        ("classes", Some(_)) => {
            let total: f64 = weights.iter().sum();
            if (total - 1.0).abs() > 1e-6 {
                let path = blend_at.child_path("weights");
                return Err(must(&path, "weights summing to 1 for a classifier"));
            }
            Blend::Classes { weights }
        }
        _ => {
            let expected = match classes {
                None => "values, for a regression model",
                Some(_) => "classes, for a classifier",
            };
            return Err(must(&blend_at.child_path("kind"), expected));
        }
    };
    Ok(Stack { bases, blend })
}
