//! Where an upload's CSV comes from. Every source is streamed to the server in chunks,
//! never read whole into memory (in-memory rows are, of course, already in memory).

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A CSV to upload.
///
/// A path or in-memory rows can be read again, so an upload from them can be retried
/// after a transient fault; a reader can be read once, so an upload from a reader is
/// not retried once it has started sending.
///
/// # Examples
/// ```
/// use taskloop::automl::CsvSource;
///
/// let file = CsvSource::path("data/train.csv"); // opened when the upload runs
/// assert_eq!(file.name(), "train.csv");
/// let text = CsvSource::text("small.csv", "x,y\n1,2\n");
/// let rows = CsvSource::rows("rows.csv", &["city", "note"], vec![vec!["Oslo", "cold, dark"]]);
/// let piped = CsvSource::reader("stdin.csv", std::io::stdin()).named("from a pipe");
/// assert_eq!(piped.name(), "from a pipe");
/// # let _ = (text, rows);
/// ```
#[derive(Clone)]
pub struct CsvSource {
    kind: Kind,
    name: String,
}

#[derive(Clone)]
enum Kind {
    Path(PathBuf),
    Rows(Arc<Vec<u8>>),
    Reader(Arc<Mutex<Option<Box<dyn Read + Send>>>>),
}

impl CsvSource {
    /// A CSV file, opened (and streamed) when the upload runs. The data set's name on
    /// the server is the file's name (`train.csv`).
    pub fn path(path: impl Into<PathBuf>) -> CsvSource {
        let path = path.into();
        let name = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        CsvSource {
            kind: Kind::Path(path),
            name,
        }
    }

    /// CSV text already in memory.
    pub fn text(name: impl Into<String>, csv: impl Into<String>) -> CsvSource {
        CsvSource {
            kind: Kind::Rows(Arc::new(csv.into().into_bytes())),
            name: name.into(),
        }
    }

    /// A header and rows of fields, written as CSV (fields quoted where needed).
    pub fn rows<R, F>(name: impl Into<String>, header: &[&str], rows: R) -> CsvSource
    where
        R: IntoIterator<Item = Vec<F>>,
        F: AsRef<str>,
    {
        let mut csv = String::new();
        push_record(&mut csv, header.iter());
        for row in rows {
            push_record(&mut csv, row.iter());
        }
        CsvSource::text(name, csv)
    }

    /// Any reader (a pipe, a decompressor, ...); read once, when the upload runs.
    pub fn reader(name: impl Into<String>, reader: impl Read + Send + 'static) -> CsvSource {
        CsvSource {
            kind: Kind::Reader(Arc::new(Mutex::new(Some(Box::new(reader))))),
            name: name.into(),
        }
    }

    /// The data set's name on the server.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the data set's name on the server.
    pub fn named(mut self, name: impl Into<String>) -> CsvSource {
        self.name = name.into();
        self
    }

    /// Whether a failed upload can be sent again.
    pub(crate) fn can_resend(&self) -> bool {
        !matches!(self.kind, Kind::Reader(_))
    }

    /// Opens the stream of bytes to send.
    #[cfg(test)]
    pub(crate) fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        self.open_sized().map(|(reader, _)| reader)
    }

    /// Opens the stream of bytes to send, with its length when it is known (a file's
    /// size when it is opened, in-memory text; not a reader's). A file is read for
    /// exactly that many bytes, so that the length sent matches the bytes sent.
    pub(crate) fn open_sized(&self) -> io::Result<(Box<dyn Read + Send>, Option<u64>)> {
        match &self.kind {
            Kind::Path(p) => {
                let in_path =
                    |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", p.display()));
                let file = File::open(p).map_err(in_path)?;
                let len = file.metadata().map_err(in_path)?.len();
                let reader = BufReader::with_capacity(64 * 1024, file).take(len);
                Ok((Box::new(reader), Some(len)))
            }
            Kind::Rows(bytes) => {
                let len = bytes.len() as u64;
                Ok((Box::new(Cursor::new(SharedBytes(bytes.clone()))), Some(len)))
            }
            Kind::Reader(slot) => {
                let reader = crate::runtime::lock(slot).take();
                let reader = reader.ok_or_else(|| {
                    io::Error::other("the CSV reader was already consumed by an earlier attempt")
                })?;
                Ok((reader, None))
            }
        }
    }
}

impl fmt::Debug for CsvSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Path(p) => format!("path {}", p.display()),
            Kind::Rows(b) => format!("{} bytes in memory", b.len()),
            Kind::Reader(_) => "reader".to_string(),
        };
        f.debug_struct("CsvSource")
            .field("name", &self.name)
            .field("kind", &kind)
            .finish()
    }
}

struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Appends one CSV record, quoting fields that contain a comma, quote or newline.
fn push_record<F: AsRef<str>>(out: &mut String, fields: impl Iterator<Item = F>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = field.as_ref();
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_quoted_where_needed() {
        let src = CsvSource::rows(
            "t",
            &["a", "b"],
            vec![vec!["1", "x,y"], vec!["say \"hi\"", ""]],
        );
        let mut text = String::new();
        src.open().unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "a,b\n1,\"x,y\"\n\"say \"\"hi\"\"\",\n");
        assert!(src.can_resend());
        assert_eq!(src.open_sized().unwrap().1, Some(text.len() as u64));
    }

    #[test]
    fn a_file_is_sent_with_its_size_and_named_by_its_file_name() {
        let path = std::env::temp_dir().join(format!("taskloop-src-{}.csv", std::process::id()));
        std::fs::write(&path, "a\n1\n").unwrap();
        let src = CsvSource::path(&path);
        assert_eq!(src.name(), path.file_name().unwrap().to_str().unwrap());
        let (mut reader, len) = src.open_sized().unwrap();
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!((text.as_str(), len), ("a\n1\n", Some(4)));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_reader_is_read_once() {
        let src = CsvSource::reader("r", Cursor::new(b"a\n1\n".to_vec()));
        assert_eq!(src.open_sized().unwrap().1, None);
        let err = src.open().err().unwrap();
        assert!(err.to_string().contains("already consumed"));
        assert!(!src.can_resend());
    }
}
