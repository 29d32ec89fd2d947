//! The encoder (a model's `features`) to and from the JSON of a model document,
//! version 2. Reading checks what encoding relies on (levels, a non-zero finite
//! scale), so that a document that reads is one that encodes a row without panics.

use serde_json::{json, Value};

use super::read::{must, At};
use super::ModelFormatError;
use crate::automl::ml::encode::{Encoder, Feature, Part};

/// The encoder's `features` list.
pub(crate) fn write_encoder(encoder: &Encoder) -> Value {
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
        Feature::Raw { name } => json!({"name": name, "type": "raw"}),
        Feature::Codes { name, levels } => json!({"name": name, "type": "codes", "levels": levels}),
    };
    Value::Array(encoder.features.iter().map(feature).collect())
}

/// Reads the `features` list of `doc`.
pub(crate) fn read_encoder(doc: At<'_>) -> Result<Encoder, ModelFormatError> {
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
        "raw" => Ok(Feature::Raw { name }),
        "codes" => Ok(Feature::Codes {
            name,
            levels: at.strings("levels")?,
        }),
        _ => Err(must(
            &at.child_path("type"),
            "numerical, categorical, datetime, raw or codes",
        )),
    }
}
