//! JSON helpers: numbers that may be NaN, metric maps, and typed access to the fields
//! of a request object with the contract's `400` messages.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::ApiError;

/// `x` as a JSON number, or `null` when it is NaN or infinite (JSON has neither).
pub(crate) fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// A metric map (`{"mse": 0.1, ...}`). A metric that is undefined (NaN) is left out,
/// never sent as `null`: the SDK compares values with `numpy.isnan`, which `null`
/// breaks.
pub(crate) fn metrics(scores: &BTreeMap<String, f64>) -> Value {
    let defined = scores.iter().filter(|(_, v)| v.is_finite());
    let map = defined.map(|(k, v)| (k.clone(), number(*v)));
    Value::Object(map.collect())
}

/// A JSON object of named numbers (a model's hyper-parameters or importances), each
/// through [`number`].
pub(crate) fn named_numbers<K: Into<String>>(pairs: impl IntoIterator<Item = (K, f64)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.into(), number(v)))
            .collect(),
    )
}

/// A request body parsed as a JSON object.
///
/// # Errors
/// `400` when the body is not JSON or not an object.
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice(body)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad("the request body must be a JSON object")),
    }
}

/// Typed, optional access to a request object's fields; `null` counts as absent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a>(pub(crate) &'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn wrong_type(name: &str, expected: &str) -> ApiError {
        ApiError::bad(format!("field '{name}' must be {expected}"))
    }

    /// A required string field.
    pub(crate) fn string(&self, name: &str) -> Result<&'a str, ApiError> {
        self.opt_string(name)?
            .ok_or_else(|| ApiError::bad(format!("missing field '{name}'")))
    }

    /// An optional string field.
    pub(crate) fn opt_string(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        self.get(name)
            .map(|v| v.as_str().ok_or_else(|| Self::wrong_type(name, "a string")))
            .transpose()
    }

    /// An optional non-negative integer field.
    pub(crate) fn opt_u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| Self::wrong_type(name, "a non-negative integer"))
            })
            .transpose()
    }

    /// An optional number field.
    pub(crate) fn opt_f64(&self, name: &str) -> Result<Option<f64>, ApiError> {
        self.get(name)
            .map(|v| v.as_f64().ok_or_else(|| Self::wrong_type(name, "a number")))
            .transpose()
    }

    /// An optional field of any type (`null` counts as absent).
    pub(crate) fn value(&self, name: &str) -> Option<&'a Value> {
        self.get(name)
    }

    /// An optional boolean field.
    pub(crate) fn opt_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.get(name)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| Self::wrong_type(name, "true or false"))
            })
            .transpose()
    }

    /// An optional list.
    pub(crate) fn array(&self, name: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
        self.get(name)
            .map(|v| v.as_array().ok_or_else(|| Self::wrong_type(name, "a list")))
            .transpose()
    }

    /// An optional list of strings.
    pub(crate) fn opt_strings(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let wrong = || Self::wrong_type(name, "a list of strings");
        let items = value.as_array().ok_or_else(wrong)?;
        let strings = items.iter().map(|v| v.as_str().map(str::to_owned));
        strings
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(wrong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nan_and_infinity_become_null_and_undefined_metrics_are_left_out() {
        assert_eq!(number(f64::NAN), Value::Null);
        assert_eq!(number(f64::INFINITY), Value::Null);
        assert_eq!(number(0.25), json!(0.25));
        let scores = BTreeMap::from([("auc".to_owned(), f64::NAN), ("mse".to_owned(), 1.5)]);
        assert_eq!(metrics(&scores).to_string(), r#"{"mse":1.5}"#);
    }

    #[test]
    fn fields_are_typed_and_null_is_absent() {
        let map =
            object(br#"{"a": "x", "n": 3, "f": 0.5, "l": ["p"], "z": null, "bad": [1]}"#).unwrap();
        let fields = Fields(&map);
        assert_eq!(fields.string("a"), Ok("x"));
        assert_eq!(fields.opt_u64("n"), Ok(Some(3)));
        assert_eq!(fields.opt_f64("n"), Ok(Some(3.0)));
        assert_eq!(fields.opt_f64("f"), Ok(Some(0.5)));
        assert_eq!(fields.opt_strings("l"), Ok(Some(vec!["p".to_owned()])));
        assert_eq!(fields.opt_string("z"), Ok(None));
        let missing = fields.string("z").unwrap_err();
        assert_eq!(missing.to_string(), "missing field 'z'");
        let wrong = fields.opt_u64("f").unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "field 'f' must be a non-negative integer"
        );
        assert!(fields.opt_strings("bad").is_err() && fields.string("n").is_err());
    }

    #[test]
    fn only_objects_are_request_bodies() {
        assert_eq!(object(b"[1]").unwrap_err().status(), 400);
        assert_eq!(object(b"{nope").unwrap_err().status(), 400);
        assert_eq!(object(b"").unwrap_err().status(), 400);
    }
}
