//! Typed reading of a model document's fields, with errors that name the field's path
//! (`engine.trees[3].nodes[7].left`) and what it should have been.

use serde_json::{Map, Value};

use super::ModelFormatError;

/// A JSON value and where it sits in the document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) value: &'a Value,
    path: &'a str,
}

/// An owned path, so that children can borrow it.
pub(crate) type Path = String;

fn malformed(path: &str, expected: &str) -> ModelFormatError {
    ModelFormatError::Malformed(format!("'{path}' must be {expected}"))
}

impl<'a> At<'a> {
    /// The document's root.
    pub(crate) fn root(value: &'a Value) -> At<'a> {
        At { value, path: "" }
    }

    /// A value at `path`.
    pub(crate) fn new(value: &'a Value, path: &'a str) -> At<'a> {
        At { value, path }
    }

    /// The path of field `name` of this object.
    pub(crate) fn child_path(&self, name: &str) -> Path {
        match self.path {
            "" => name.to_owned(),
            parent => format!("{parent}.{name}"),
        }
    }

    fn object(&self) -> Result<&'a Map<String, Value>, ModelFormatError> {
        self.value
            .as_object()
            .ok_or_else(|| malformed(self.path_or_document(), "an object"))
    }

    fn path_or_document(&self) -> &str {
        match self.path {
            "" => "the document",
            path => path,
        }
    }

    /// Field `name`, which must be present (and not `null`).
    pub(crate) fn field(&self, name: &str) -> Result<&'a Value, ModelFormatError> {
        self.object()?
            .get(name)
            .filter(|v| !v.is_null())
            .ok_or_else(|| {
                ModelFormatError::Malformed(format!("'{}' is missing", self.child_path(name)))
            })
    }

    /// Field `name` as a string.
    pub(crate) fn str(&self, name: &str) -> Result<&'a str, ModelFormatError> {
        let value = self.field(name)?;
        value
            .as_str()
            .ok_or_else(|| malformed(&self.child_path(name), "a string"))
    }

    /// Field `name` as a non-negative integer.
    pub(crate) fn u64(&self, name: &str) -> Result<u64, ModelFormatError> {
        let value = self.field(name)?;
        value
            .as_u64()
            .ok_or_else(|| malformed(&self.child_path(name), "a non-negative integer"))
    }

    /// Field `name` as an index or count.
    pub(crate) fn usize(&self, name: &str) -> Result<usize, ModelFormatError> {
        let n = self.u64(name)?;
        usize::try_from(n).map_err(|_| malformed(&self.child_path(name), "a smaller integer"))
    }

    /// Field `name` as a number.
    pub(crate) fn f64(&self, name: &str) -> Result<f64, ModelFormatError> {
        let value = self.field(name)?;
        value
            .as_f64()
            .ok_or_else(|| malformed(&self.child_path(name), "a number"))
    }

    /// Field `name` as a boolean.
    pub(crate) fn bool(&self, name: &str) -> Result<bool, ModelFormatError> {
        let value = self.field(name)?;
        value
            .as_bool()
            .ok_or_else(|| malformed(&self.child_path(name), "true or false"))
    }

    /// Field `name` as a list.
    pub(crate) fn list(&self, name: &str) -> Result<&'a Vec<Value>, ModelFormatError> {
        let value = self.field(name)?;
        value
            .as_array()
            .ok_or_else(|| malformed(&self.child_path(name), "a list"))
    }

    /// Field `name` as a list of numbers.
    pub(crate) fn numbers(&self, name: &str) -> Result<Vec<f64>, ModelFormatError> {
        numbers(self.list(name)?, &self.child_path(name))
    }

    /// Field `name` as a list of strings.
    pub(crate) fn strings(&self, name: &str) -> Result<Vec<String>, ModelFormatError> {
        let path = self.child_path(name);
        let items = self
            .list(name)?
            .iter()
            .map(|v| v.as_str().map(str::to_owned));
        items
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| malformed(&path, "a list of strings"))
    }

    /// Field `name` as an object of numbers (`null` reads as NaN).
    pub(crate) fn number_map(
        &self,
        name: &str,
    ) -> Result<std::collections::BTreeMap<String, f64>, ModelFormatError> {
        let path = self.child_path(name);
        let value = self.field(name)?;
        let map = value
            .as_object()
            .ok_or_else(|| malformed(&path, "an object of numbers"))?;
        map.iter()
            .map(|(k, v)| match v {
                Value::Null => Ok((k.clone(), f64::NAN)),
                v => v
                    .as_f64()
                    .map(|x| (k.clone(), x))
                    .ok_or_else(|| malformed(&path, "an object of numbers")),
            })
            .collect()
    }
}

/// `items` as numbers.
pub(crate) fn numbers(items: &[Value], path: &str) -> Result<Vec<f64>, ModelFormatError> {
    items
        .iter()
        .map(Value::as_f64)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| malformed(path, "a list of numbers"))
}

/// A `Malformed` error for `path`: it `must be ...`.
pub(crate) fn must(path: &str, expected: impl AsRef<str>) -> ModelFormatError {
    malformed(path, expected.as_ref())
}
