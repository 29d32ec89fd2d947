//! `multipart/form-data` bodies (RFC 7578), as browsers and Decanter's SDK send file
//! uploads: parts separated by `--boundary` lines, each with its own header fields.
//!
//! Parsing only finds where each part's content lies in the body; nothing is copied.
//! A form holds at most [`MAX_PARTS`] parts: the SDK sends one, and 7 million empty
//! parts in a 60 MiB body once built a 490 MiB list of them.

use std::ops::Range;

use super::error::ApiError;

/// Largest header block accepted for one part.
const MAX_PART_HEAD: usize = 8 * 1024;

/// Most parts a form may hold.
pub(crate) const MAX_PARTS: usize = 64;

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// The form field's name (`Content-Disposition: form-data; name="..."`).
    pub(crate) name: Option<String>,
    /// The file name, for a file field.
    pub(crate) filename: Option<String>,
    /// Where the part's content lies in the body.
    pub(crate) content: Range<usize>,
}

/// The boundary of a `multipart/form-data` content type, or `None` for any other type.
pub(crate) fn form_boundary(content_type: &str) -> Option<Result<String, ApiError>> {
    let mut params = split_params(content_type).into_iter();
    let media_type = params.next()?;
    if !media_type.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params.find_map(|p| param_value(&p, "boundary"));
    Some(match boundary {
        Some(b) if !b.is_empty() && b.len() <= 200 => Ok(b),
        _ => Err(ApiError::bad(
            "multipart/form-data without a valid boundary",
        )),
    })
}

/// The part of `body` whose field name is `name` (the first, if several are).
///
/// # Errors
/// As [`parse`]; `400` when no part has that name.
pub(crate) fn file_field(body: &[u8], boundary: &str, name: &str) -> Result<Part, ApiError> {
    let parts = parse(body, boundary)?;
    let part = parts.into_iter().find(|p| p.name.as_deref() == Some(name));
    part.ok_or_else(|| ApiError::bad(format!("the form has no file field '{name}'")))
}

/// Finds the parts of `body`.
///
/// # Errors
/// `400` when the body does not start with the boundary, a part is not terminated, or
/// a part's header block is malformed or too long; `413` for more than [`MAX_PARTS`]
/// parts.
pub(crate) fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, ApiError> {
    let delimiter = format!("\r\n--{boundary}").into_bytes();
    let first = if body.starts_with(&delimiter[2..]) {
        delimiter.len() - 2
    } else {
        find(body, &delimiter, 0).ok_or_else(|| malformed("no boundary found"))? + delimiter.len()
    };
    let mut parts = Vec::new();
    let mut pos = first;
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") || rest.is_empty() {
            return Ok(parts);
        }
        if parts.len() == MAX_PARTS {
            return Err(ApiError::TooLarge(format!(
                "a form may hold at most {MAX_PARTS} parts (send the CSV as the one file \
                 field 'csv')"
            )));
        }
        pos += line_end_after_padding(rest)?;
        let (name, filename, head_len) = part_head(&body[pos..])?;
        let start = pos + head_len;
        let end = find(body, &delimiter, start).ok_or_else(|| malformed("part not terminated"))?;
        parts.push(Part {
            name,
            filename,
            content: start..end,
        });
        pos = end + delimiter.len();
    }
}

fn malformed(what: &str) -> ApiError {
    ApiError::bad(format!("malformed multipart body: {what}"))
}

/// After a boundary: optional spaces and tabs, then a line end; returns its length.
fn line_end_after_padding(rest: &[u8]) -> Result<usize, ApiError> {
    let pad = rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    match &rest[pad..] {
        [b'\r', b'\n', ..] => Ok(pad + 2),
        [b'\n', ..] => Ok(pad + 1),
        _ => Err(malformed("boundary not followed by a line end")),
    }
}

/// Reads a part's header lines up to the blank line: the field name, the file name,
/// and the length of the block.
fn part_head(input: &[u8]) -> Result<(Option<String>, Option<String>, usize), ApiError> {
    let (mut name, mut filename, mut pos) = (None, None, 0);
    loop {
        let nl = input[pos..]
            .iter()
            .take(MAX_PART_HEAD)
            .position(|&b| b == b'\n')
            .ok_or_else(|| malformed("part header not terminated"))?;
        let line = &input[pos..pos + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos += nl + 1;
        if line.is_empty() {
            return Ok((name, filename, pos));
        }
        if pos > MAX_PART_HEAD {
            return Err(malformed("part header too long"));
        }
        let line = std::str::from_utf8(line).map_err(|_| malformed("part header not UTF-8"))?;
        let (field, value) = line
            .split_once(':')
            .ok_or_else(|| malformed("part header without ':'"))?;
        if field.trim().eq_ignore_ascii_case("content-disposition") {
            let params = split_params(value);
            name = params.iter().find_map(|p| param_value(p, "name"));
            filename = params.iter().find_map(|p| param_value(p, "filename"));
        }
    }
}

/// Splits `a; b="x;y"; c` at the semicolons that are not inside quotes.
fn split_params(value: &str) -> Vec<String> {
    let (mut params, mut current) = (Vec::new(), String::new());
    let (mut quoted, mut escaped) = (false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                params.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    params.push(current.trim().to_owned());
    params
}

/// The value of `key=value` or `key="value"` when the key is `key` (case-insensitive).
fn param_value(param: &str, key: &str) -> Option<String> {
    let (k, v) = param.split_once('=')?;
    if !k.trim().eq_ignore_ascii_case(key) {
        return None;
    }
    let v = v.trim();
    match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => Some(unescape(inner)),
        None => Some(v.to_owned()),
    }
}

fn unescape(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

/// The first position at or after `from` where `needle` (non-empty) starts.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = needle[0];
    let mut i = from;
    while i + needle.len() <= haystack.len() {
        let offset = haystack[i..=haystack.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        i += offset;
        if &haystack[i..i + needle.len()] == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(boundary: &str, parts: &[(&str, &str)]) -> Vec<u8> {
        let mut body = String::from("preamble to ignore\r\n");
        for (head, content) in parts {
            body.push_str(&format!("--{boundary}\r\n{head}\r\n\r\n{content}\r\n"));
        }
        body.push_str(&format!("--{boundary}--\r\nepilogue"));
        body.into_bytes()
    }

    #[test]
    fn finds_the_parts_and_their_names() {
        let csv = "a,b\r\n1,2\r\n";
        let body = form(
            "XyZ",
            &[
                ("Content-Disposition: form-data; name=\"note\"", "hello"),
                (
                    "Content-Disposition: form-data; name=\"csv\"; filename=\"a;b.csv\"\r\nContent-Type: text/csv",
                    csv,
                ),
            ],
        );
        let parts = parse(&body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name.as_deref(), Some("note"));
        assert_eq!(&body[parts[0].content.clone()], b"hello");
        assert_eq!(parts[1].name.as_deref(), Some("csv"));
        assert_eq!(parts[1].filename.as_deref(), Some("a;b.csv"));
        assert_eq!(&body[parts[1].content.clone()], csv.as_bytes());
    }

    #[test]
    fn a_body_may_start_with_the_boundary_and_parts_may_be_empty() {
        let body = b"--b\r\nContent-Disposition: form-data; name=csv\r\n\r\n\r\n--b--";
        let parts = parse(body, "b").unwrap();
        assert_eq!(parts[0].name.as_deref(), Some("csv"));
        assert!(parts[0].content.is_empty());
    }

    #[test]
    fn broken_framing_is_a_bad_request() {
        let cases: [&[u8]; 4] = [
            b"no boundary here",
            b"--b\r\nContent-Disposition: form-data; name=csv\r\n\r\nnever closed",
            b"--bX\r\n\r\n",
            b"--b\r\nno colon\r\n\r\nx\r\n--b--",
        ];
        for body in cases {
            assert_eq!(parse(body, "b").unwrap_err().status(), 400);
        }
    }

    #[test]
    fn boundary_from_content_type() {
        let b = form_boundary("multipart/form-data; boundary=\"a b\"").unwrap();
        assert_eq!(b.unwrap(), "a b");
        assert_eq!(
            form_boundary("multipart/form-data; charset=x")
                .unwrap()
                .unwrap_err()
                .status(),
            400
        );
        assert!(form_boundary("text/csv").is_none());
    }

    #[test]
    fn too_many_parts_are_refused_in_words() {
        let empty = "--b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n";
        let body = format!("{}--b--", empty.repeat(MAX_PARTS));
        assert_eq!(parse(body.as_bytes(), "b").unwrap().len(), MAX_PARTS);
        let body = format!("{}--b--", empty.repeat(MAX_PARTS + 1));
        let err = parse(body.as_bytes(), "b").unwrap_err();
        assert_eq!(err.status(), 413);
        assert!(err.to_string().contains("at most 64 parts"), "{err}");
        let err = file_field(b"--b\r\nX: y\r\n\r\n\r\n--b--", "b", "csv").unwrap_err();
        assert!(err.to_string().contains("no file field 'csv'"), "{err}");
    }

    #[test]
    fn find_handles_edges() {
        assert_eq!(find(b"abcabd", b"abd", 0), Some(3));
        assert_eq!(find(b"ab", b"abc", 0), None);
        assert_eq!(find(b"aaa", b"a", 3), None);
    }
}
