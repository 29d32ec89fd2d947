//! Just enough JSON to write a trace: values built in memory and printed compactly. The
//! flow layer needs nothing beyond the runtime's dependencies, so it writes its own.

use std::fmt::{self, Write as _};

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    /// A string (escaped when written).
    Str(String),
    /// A whole number.
    Int(u64),
    /// A number; NaN and infinities are written as `null` (JSON has neither).
    Float(f64),
    /// An object, keys in the given order.
    Obj(Vec<(&'static str, Json)>),
    /// An array.
    Arr(Vec<Json>),
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::Int(n)
    }
}

impl From<u32> for Json {
    fn from(n: u32) -> Json {
        Json::Int(u64::from(n))
    }
}

impl From<f64> for Json {
    fn from(x: f64) -> Json {
        Json::Float(x)
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Str(s) => write_str(f, s),
            Json::Int(n) => write!(f, "{n}"),
            // Debug keeps the point of whole numbers (`2.0`), as serde_json does.
            Json::Float(x) if x.is_finite() => write!(f, "{x:?}"),
            Json::Float(_) => f.write_str("null"),
            Json::Obj(fields) => {
                f.write_char('{')?;
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_str(f, key)?;
                    write!(f, ":{value}")?;
                }
                f.write_char('}')
            }
            Json::Arr(items) => {
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(']')
            }
        }
    }
}

/// Writes `s` as a JSON string: quotes, backslashes and control characters escaped.
fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if u32::from(c) < 0x20 => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_compact_json_that_a_parser_reads_back() {
        let doc = Json::Obj(vec![
            ("name", "say \"hi\"\n\\ \u{1}é".into()),
            ("n", 3u64.into()),
            ("x", 0.25.into()),
            ("whole", 2.0.into()),
            ("nan", f64::NAN.into()),
            ("list", Json::Arr(vec![Json::Int(1), Json::Obj(vec![])])),
        ]);
        let text = doc.to_string();
        assert_eq!(
            text,
            r#"{"name":"say \"hi\"\n\\ \u0001é","n":3,"x":0.25,"whole":2.0,"nan":null,"list":[1,{}]}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["name"], "say \"hi\"\n\\ \u{1}é");
        assert_eq!(parsed["x"], 0.25);
    }
}
