//! The upload form: a `multipart/form-data` body with one file part named `csv`, the
//! shape the Decanter SDK sends and every server of the API accepts.
//!
//! The CSV is streamed between a small head and tail, never copied into the form. When
//! the source's size is known the form's length is too, and the request carries a
//! `Content-Length`; only a reader of unknown length is sent chunked.

use std::hash::{BuildHasher, Hasher};
use std::io::{self, Cursor, Read};

use super::source::CsvSource;

/// An opened form: its content type, its bytes, and their count when known.
pub(crate) struct Form {
    pub(crate) content_type: String,
    pub(crate) body: Box<dyn Read + Send>,
    pub(crate) len: Option<u64>,
}

/// Opens `source` as an upload form.
///
/// # Errors
/// When the source cannot be opened (a missing file, a reader already consumed).
pub(crate) fn open(source: &CsvSource) -> io::Result<Form> {
    let boundary = boundary();
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"{}\"\r\n\
         Content-Type: text/csv\r\n\r\n",
        quoted(source.name())
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let (csv, csv_len) = source.open_sized()?;
    let len = csv_len.map(|n| n + head.len() as u64 + tail.len() as u64);
    let body = Cursor::new(head.into_bytes())
        .chain(csv)
        .chain(Cursor::new(tail.into_bytes()));
    Ok(Form {
        content_type: format!("multipart/form-data; boundary={boundary}"),
        body: Box::new(body),
        len,
    })
}

/// A boundary no CSV will contain by chance: 128 random bits.
fn boundary() -> String {
    let random = || {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    format!("taskloop-{:016x}{:016x}", random(), random())
}

/// A file name as a quoted-string parameter: quotes and backslashes escaped, line
/// breaks (which would end the header) replaced by spaces.
fn quoted(name: &str) -> String {
    name.chars()
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            '\r' | '\n' => vec![' '],
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_wraps_the_csv_and_knows_its_length() {
        let form = open(&CsvSource::text("tr\"ain.csv", "a\n1\n")).unwrap();
        let boundary = form
            .content_type
            .split("boundary=")
            .nth(1)
            .unwrap()
            .to_owned();
        let mut body = String::new();
        let mut reader = form.body;
        reader.read_to_string(&mut body).unwrap();
        assert_eq!(form.len, Some(body.len() as u64));
        assert!(body.starts_with(&format!("--{boundary}\r\n")));
        assert!(body.contains("name=\"csv\"; filename=\"tr\\\"ain.csv\""));
        assert!(body.ends_with(&format!("\r\n\r\na\n1\n\r\n--{boundary}--\r\n")));
    }

    #[test]
    fn a_reader_has_no_known_length_and_boundaries_differ() {
        let form = open(&CsvSource::reader("r", Cursor::new(b"a\n".to_vec()))).unwrap();
        assert_eq!(form.len, None);
        assert_ne!(boundary(), boundary());
        assert_eq!(quoted("a\nb"), "a b");
    }
}
