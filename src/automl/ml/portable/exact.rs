//! What the server's stored documents (a stored cluster model, a stored forecaster)
//! add to the model document's JSON: numbers that come back bit for bit, and the
//! opening of a document of a given kind and version.
//!
//! A finite number is written as a JSON number, which the crate's parser
//! (`float_roundtrip`) reads back to the same bits, `-0.0` included. NaN and the
//! infinities have no JSON number; they are written as a string of the value's 16 hex
//! bit digits (`"7ff8000000000000"`), so that a NaN's sign and payload survive too.
//! A finite number written as hex is refused: every value has one spelling.

use std::collections::BTreeMap;

use serde_json::Value;

use super::read::{must, At};
use super::ModelFormatError;

/// `x` as JSON, exactly (see the module documentation).
pub(crate) fn exact(x: f64) -> Value {
    match serde_json::Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None => Value::String(format!("{:016x}", x.to_bits())),
    }
}

/// `values` as a JSON list, exactly.
pub(crate) fn exact_list(values: &[f64]) -> Value {
    Value::Array(values.iter().map(|&x| exact(x)).collect())
}

/// The number [`exact`] wrote as `value`.
fn read_exact(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(hex) if hex.len() == 16 => u64::from_str_radix(hex, 16)
            .ok()
            .map(f64::from_bits)
            .filter(|x| !x.is_finite()),
        _ => None,
    }
}

const EXACT: &str = "a number (or the 16 hex digits of a NaN or an infinity)";

impl At<'_> {
    /// Field `name`, a number written by [`exact`].
    pub(crate) fn exact(&self, name: &str) -> Result<f64, ModelFormatError> {
        read_exact(self.field(name)?).ok_or_else(|| must(&self.child_path(name), EXACT))
    }

    /// Field `name`, a list written by [`exact_list`].
    pub(crate) fn exact_list(&self, name: &str) -> Result<Vec<f64>, ModelFormatError> {
        let path = self.child_path(name);
        exact_items(self.list(name)?, &path)
    }

    /// Field `name`, an object of numbers written by [`exact_map`].
    pub(crate) fn exact_map(&self, name: &str) -> Result<BTreeMap<String, f64>, ModelFormatError> {
        let path = self.child_path(name);
        let object = self
            .field(name)?
            .as_object()
            .ok_or_else(|| must(&path, "an object"))?;
        let read = |(key, value): (&String, &Value)| Some((key.clone(), read_exact(value)?));
        let map = object.iter().map(read).collect::<Option<BTreeMap<_, _>>>();
        map.ok_or_else(|| must(&path, format!("an object of which each value is {EXACT}")))
    }
}

/// `map` as a JSON object of numbers written exactly.
pub(crate) fn exact_map(map: &BTreeMap<String, f64>) -> Value {
    Value::Object(map.iter().map(|(k, &v)| (k.clone(), exact(v))).collect())
}

/// `items`, numbers written by [`exact`].
pub(crate) fn exact_items(items: &[Value], path: &str) -> Result<Vec<f64>, ModelFormatError> {
    let values = items.iter().map(read_exact).collect::<Option<Vec<f64>>>();
    values.ok_or_else(|| must(path, format!("a list of which each is {EXACT}")))
}

/// Parses `bytes` as a JSON object whose `kind` is `kind` and whose `version` is
/// `version`; `what` names the document in the messages.
///
/// # Errors
/// A message saying the bytes are not JSON, not a `what` (another kind, in words),
/// or of another version.
pub(crate) fn open_document(
    bytes: &[u8],
    kind: &str,
    version: u64,
    what: &str,
) -> Result<Value, String> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the stored {what} is not JSON: {e}"))?;
    let found = match doc.get("kind") {
        Some(Value::String(found)) => found.as_str(),
        _ => {
            return Err(format!(
                "not a stored {what}: it has no kind (expected '{kind}')"
            ))
        }
    };
    if found != kind {
        return Err(format!(
            "not a stored {what}: its kind is '{found}', not '{kind}'"
        ));
    }
    match doc.get("version").and_then(Value::as_u64) {
        Some(v) if v == version => Ok(doc),
        Some(v) => Err(format!(
            "the stored {what} has version {v}; this build reads version {version}"
        )),
        None => Err(format!("the stored {what} has no version")),
    }
}

/// The message of an error found reading a stored `what`.
pub(crate) fn stored_error(what: &str) -> impl Fn(ModelFormatError) -> String + '_ {
    move |e| match e {
        ModelFormatError::Malformed(m) => format!("malformed stored {what}: {m}"),
        other => format!("stored {what}: {other}"),
    }
}
