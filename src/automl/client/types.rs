//! What remote jobs produce, and what train and predict take.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::AutomlError;
use crate::automl::evaluator::{best_model_index, Evaluator, ModelType};

/// A data set on the server (the result of an upload or setup job).
#[derive(Debug, Clone, PartialEq)]
pub struct DataInfo {
    /// The server's data id.
    pub id: String,
    /// Its name on the server (`data_name`: the uploaded file's name).
    pub name: String,
    /// Where the server keeps it (`accessor.uri`; empty if the server did not say).
    pub uri: String,
    /// Number of rows.
    pub rows: u64,
    /// Its columns, in order.
    pub columns: Vec<ColumnInfo>,
}

/// One column of an uploaded data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// The column's name.
    pub id: String,
    /// `"numerical"` or `"categorical"`.
    pub data_type: String,
}

/// A trained model of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The server's model id.
    pub id: String,
    /// The algorithm (`"GLM"`, `"DRF"`, ...).
    pub algo: String,
    /// Cross-validated metrics (NaN where the server had none).
    pub cv_averages: BTreeMap<String, f64>,
    /// Metrics on the held-out validation rows, if any were held out.
    pub validation_scores: BTreeMap<String, f64>,
}

/// A finished training run (the result of a train job).
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// The server's experiment id.
    pub id: String,
    /// The target column.
    pub target: String,
    /// `"regression"`, `"binary classification"` or `"multinomial classification"`.
    pub model_type: String,
    /// The data it was trained on.
    pub train_data_id: String,
    /// The feature columns it was trained on.
    pub features: Vec<String>,
    /// The models trained, in the server's order (`models`).
    pub models: Vec<ModelInfo>,
    /// The server's own pick per evaluator: `(evaluator, model id)`.
    pub recommendations: Vec<(String, String)>,
}

impl Experiment {
    /// The metric `evaluator` stands for: `"auto"` is `deviance` for regression and
    /// `logloss` for classification (the Decanter SDK's rule); any other name stands for
    /// itself.
    pub fn metric_for(&self, evaluator: &str) -> String {
        let parsed = evaluator.parse::<Evaluator>().ok();
        let model_type = self.model_type.parse::<ModelType>().ok();
        match (parsed, model_type) {
            (Some(e), Some(t)) => e.resolve(t).as_str().to_owned(),
            _ => evaluator.to_owned(),
        }
    }

    /// The best model by `evaluator` (see [`metric_for`](Experiment::metric_for)):
    /// smallest value, largest for `r2`, `auc` and `lift_top_group`; models without a
    /// value are skipped; ties go to the model listed first. `None` if no model has a
    /// value. The rules are [`best_model_index`], the same the server uses for its
    /// recommendations.
    ///
    /// # Examples
    /// ```
    /// use std::collections::BTreeMap;
    /// use taskloop::automl::{Experiment, ModelInfo};
    ///
    /// let model = |id: &str, deviance: f64, r2: f64| ModelInfo {
    ///     id: id.into(),
    ///     algo: id.into(),
    ///     cv_averages: BTreeMap::from([("deviance".into(), deviance), ("r2".into(), r2)]),
    ///     validation_scores: BTreeMap::new(),
    /// };
    /// let exp = Experiment {
    ///     id: "e".into(),
    ///     target: "y".into(),
    ///     model_type: "regression".into(),
    ///     train_data_id: "d".into(),
    ///     features: vec!["x".into()],
    ///     models: vec![model("GLM", 4.0, 0.80), model("GBM", 1.5, 0.95), model("DRF", 1.5, 0.90)],
    ///     recommendations: vec![],
    /// };
    /// assert_eq!(exp.metric_for("auto"), "deviance");
    /// assert_eq!(exp.best_model("auto").unwrap().id, "GBM"); // a tie: the first listed wins
    /// assert_eq!(exp.best_model("r2").unwrap().id, "GBM"); // larger is better for r2
    /// assert!(exp.best_model("auc").is_none());
    /// ```
    pub fn best_model(&self, evaluator: &str) -> Option<&ModelInfo> {
        let metric = self.metric_for(evaluator);
        let scores = self.models.iter().map(|m| &m.cv_averages);
        best_model_index(scores, &metric).map(|i| &self.models[i])
    }

    /// The server's recommended model for `metric` (from `recommendations`).
    pub fn recommended(&self, metric: &str) -> Option<&ModelInfo> {
        let metric = self.metric_for(metric);
        let (_, id) = self.recommendations.iter().find(|(m, _)| *m == metric)?;
        self.model(id)
    }

    /// The model with this id.
    pub fn model(&self, id: &str) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.id == id)
    }
}

/// Parses an upload task's result.
pub(crate) fn data_info(v: &Value) -> Result<DataInfo, AutomlError> {
    let columns = v["columns"]
        .as_array()
        .ok_or_else(|| AutomlError::protocol("upload result without 'columns'"))?
        .iter()
        .map(|c| {
            Ok(ColumnInfo {
                id: text(c, "id")?,
                data_type: text(c, "data_type")?,
            })
        })
        .collect::<Result<_, AutomlError>>()?;
    Ok(DataInfo {
        id: text(v, "_id")?,
        name: v["data_name"].as_str().unwrap_or_default().to_string(),
        uri: v["accessor"]["uri"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        rows: v["rows"].as_u64().unwrap_or(0),
        columns,
    })
}

/// Parses an experiment: a train task's result, or `GET /v2/experiments/{id}`.
/// Models come in the order of `models` (ties in `best_model` go to the first).
pub(crate) fn experiment(v: &Value) -> Result<Experiment, AutomlError> {
    let attributes = v["attributes"]
        .as_object()
        .ok_or_else(|| AutomlError::protocol("experiment without 'attributes'"))?;
    let order = strings(&v["models"])
        .ok_or_else(|| AutomlError::protocol("experiment without a 'models' list"))?;
    let models = order
        .iter()
        .map(|id| {
            let m = attributes.get(id).ok_or_else(|| {
                AutomlError::protocol(format!("model {id} is listed but has no attributes"))
            })?;
            Ok(ModelInfo {
                id: id.clone(),
                algo: m["algo"].as_str().unwrap_or_default().to_string(),
                cv_averages: metrics(&m["cv_averages"]),
                validation_scores: metrics(&m["validation_scores"]),
            })
        })
        .collect::<Result<Vec<_>, AutomlError>>()?;
    let recommendations = v["recommendations"]
        .as_array()
        .map(|recs| {
            recs.iter()
                .filter_map(|r| {
                    Some((
                        r["evaluator"].as_str()?.to_string(),
                        r["model_id"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Experiment {
        id: text(v, "_id")?,
        target: v["target"].as_str().unwrap_or_default().to_string(),
        model_type: v["hyperparameters"]["model_type"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        train_data_id: v["train_data_id"].as_str().unwrap_or_default().to_string(),
        features: strings(&v["features"]).unwrap_or_default(),
        models,
        recommendations,
    })
}

/// Metric maps: `null` or non-numbers become NaN (and are skipped by `best_model`).
fn metrics(v: &Value) -> BTreeMap<String, f64> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(f64::NAN)))
                .collect()
        })
        .unwrap_or_default()
}

/// A list of strings; `None` if `v` is not one.
fn strings(v: &Value) -> Option<Vec<String>> {
    let items = v.as_array()?.iter().map(|s| s.as_str().map(str::to_owned));
    items.collect()
}

/// A required string field.
pub(crate) fn text(v: &Value, field: &str) -> Result<String, AutomlError> {
    v[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| AutomlError::protocol(format!("missing string field '{field}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(model_type: &str, scores: &[(&str, f64)]) -> Experiment {
        let models = scores
            .iter()
            .map(|(id, v)| ModelInfo {
                id: id.to_string(),
                algo: "GLM".into(),
                cv_averages: BTreeMap::from([
                    ("deviance".to_string(), *v),
                    ("mse".to_string(), *v),
                    ("r2".to_string(), -*v),
                ]),
                validation_scores: BTreeMap::new(),
            })
            .collect();
        Experiment {
            id: "e".into(),
            target: "y".into(),
            model_type: model_type.into(),
            train_data_id: "d".into(),
            features: vec![],
            models,
            recommendations: vec![("mse".into(), "a".into())],
        }
    }

    #[test]
    fn best_model_skips_nan_and_respects_direction() {
        let e = exp("regression", &[("a", 2.0), ("b", f64::NAN), ("c", 1.0)]);
        assert_eq!(e.metric_for("auto"), "deviance");
        assert_eq!(e.best_model("auto").unwrap().id, "c");
        assert_eq!(e.best_model("mse").unwrap().id, "c");
        // r2 = -mse here: the largest r2 is the smallest mse, still "c".
        assert_eq!(e.best_model("r2").unwrap().id, "c");
        assert_eq!(e.recommended("mse").unwrap().id, "a");
        assert!(e.recommended("r2").is_none());
        assert!(exp("regression", &[("a", f64::NAN)])
            .best_model("auto")
            .is_none());
    }

    #[test]
    fn ties_go_to_the_model_listed_first() {
        let e = exp("regression", &[("z", 1.0), ("a", 1.0)]);
        assert_eq!(e.best_model("auto").unwrap().id, "z");
        assert_eq!(e.best_model("r2").unwrap().id, "z");
        let e = exp("binary classification", &[]);
        assert_eq!(e.metric_for("auto"), "logloss");
        assert_eq!(e.metric_for("AUC"), "auc");
    }

    #[test]
    fn parses_the_contract_shapes() {
        let v = serde_json::json!({"_id": "e1", "target": "y", "train_data_id": "d1",
            "features": ["a", "b"], "models": ["m2", "m1"],
            "hyperparameters": {"model_type": "binary classification"},
            "attributes": {
                "m1": {"model_id": "m1", "algo": "DRF", "cv_averages": {"logloss": 0.2, "auc": null}},
                "m2": {"model_id": "m2", "algo": "GBM", "cv_averages": {"logloss": 0.2}}},
            "recommendations": [{"evaluator": "logloss", "model_id": "m2"}], "extra": 1});
        let e = experiment(&v).unwrap();
        let ids: Vec<&str> = e.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m2", "m1"]);
        assert_eq!(e.models[1].algo, "DRF");
        assert!(e.models[1].cv_averages["auc"].is_nan());
        // A tie on logloss: the first in `models` wins.
        assert_eq!(e.best_model("auto").unwrap().id, "m2");
        assert_eq!((e.train_data_id.as_str(), e.features.len()), ("d1", 2));
        assert_eq!(
            e.recommendations,
            vec![("logloss".to_string(), "m2".to_string())]
        );
        let mut unlisted = v.clone();
        unlisted["models"] = serde_json::json!(["m3"]);
        assert!(experiment(&unlisted).is_err());
        assert!(data_info(&serde_json::json!({"_id": "d"})).is_err());
        let d = data_info(
            &serde_json::json!({"_id": "d", "data_name": "t.csv", "rows": 2,
            "columns": [{"id": "a", "data_type": "numerical"}],
            "accessor": {"uri": "/v2/data/d/file", "format": "csv"}}),
        )
        .unwrap();
        assert_eq!(
            (d.name.as_str(), d.uri.as_str(), d.rows),
            ("t.csv", "/v2/data/d/file", 2)
        );
    }
}
