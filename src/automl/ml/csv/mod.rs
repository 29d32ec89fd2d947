//! Streaming CSV reading with type inference.
//!
//! [`parse_csv`] reads RFC 4180 CSV (quoted fields, doubled quotes, separators and line
//! breaks inside quotes, `\r\n` or `\n` line ends) from any `BufRead` and returns a
//! typed [`Frame`]. The first non-blank line is the header. Blank lines are skipped.
//! Unquoted fields are trimmed of spaces and tabs; quoted fields are kept verbatim.
//! Missing values are the empty field and the unquoted tokens `NA`, `N/A`, `NaN`,
//! `null` and `?`. A column is numerical when every non-missing value is a finite
//! number, categorical when some value is not a number. A non-finite number (`inf`,
//! `Infinity`, `-inf`, `1e999`) among numbers is an error naming the column and the
//! line ([`CsvError::NonFinite`]); among text it is just a label.

mod builder;
#[cfg(test)]
mod tests;
mod tokenizer;

use std::collections::HashSet;
use std::fmt;
use std::io::{self, BufRead};

use super::frame::Frame;
use builder::ColumnBuilder;
use tokenizer::{Record, RecordReader};

/// Size limits enforced while reading, so that an upload cannot exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvLimits {
    /// Most data rows accepted (the header does not count).
    pub max_rows: usize,
    /// Most columns accepted.
    pub max_columns: usize,
    /// Longest field accepted, in bytes.
    pub max_field_bytes: usize,
}

impl Default for CsvLimits {
    /// One million rows, 1,000 columns, 64 KiB per field.
    fn default() -> Self {
        CsvLimits {
            max_rows: 1_000_000,
            max_columns: 1_000,
            max_field_bytes: 64 * 1024,
        }
    }
}

/// Why a CSV input was rejected. Line numbers are 1-based physical lines.
#[derive(Debug)]
#[non_exhaustive]
pub enum CsvError {
    /// Reading the input failed.
    Io(io::Error),
    /// The input has no bytes at all.
    Empty,
    /// The input has only blank lines, so there is no header row.
    NoHeader,
    /// A header field is empty.
    EmptyColumnName {
        /// 1-based position of the column.
        column: usize,
    },
    /// Two header fields are equal.
    DuplicateColumn(String),
    /// A row has a different number of fields than the header.
    RaggedRow {
        /// Line where the row starts.
        line: usize,
        /// Fields in the header.
        expected: usize,
        /// Fields found (a lower bound when `more` is set).
        found: usize,
        /// The row was cut off at `found` fields; it has at least that many.
        more: bool,
    },
    /// A quoted field is never closed.
    UnterminatedQuote {
        /// Line where the quoted field opens.
        line: usize,
    },
    /// Something other than a separator or line end follows a closing quote.
    TextAfterQuote {
        /// Line of the offending character.
        line: usize,
    },
    /// A field is not valid UTF-8.
    InvalidUtf8 {
        /// Line where the field ends.
        line: usize,
    },
    /// More data rows than [`CsvLimits::max_rows`].
    TooManyRows {
        /// The limit.
        limit: usize,
    },
    /// More header fields than [`CsvLimits::max_columns`].
    TooManyColumns {
        /// The limit.
        limit: usize,
    },
    /// A field longer than [`CsvLimits::max_field_bytes`].
    FieldTooLong {
        /// Line of the field.
        line: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A numerical column holds a number that is not finite (`inf`, `1e999`): the
    /// column's name, the line and the value as written (its first 40 characters).
    NonFinite(Box<(String, usize, String)>),
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Io(e) => write!(f, "cannot read the CSV data: {e}"),
            CsvError::Empty => f.write_str("the CSV data is empty"),
            CsvError::NoHeader => f.write_str("the CSV data has no header row (only blank lines)"),
            CsvError::EmptyColumnName { column } => {
                write!(f, "line 1: column {column} has an empty name")
            }
            CsvError::DuplicateColumn(name) => write!(f, "the header names column '{name}' twice"),
            CsvError::RaggedRow {
                line,
                expected,
                found,
                more,
            } => {
                let (prefix, found) = if *more {
                    ("more than ", found - 1)
                } else {
                    ("", *found)
                };
                write!(f, "line {line}: expected {expected} fields like the header, found {prefix}{found}")
            }
            CsvError::UnterminatedQuote { line } => {
                write!(f, "line {line}: quoted field is never closed")
            }
            CsvError::TextAfterQuote { line } => {
                write!(f, "line {line}: unexpected text after a closing quote (write a quote inside a quoted field as \"\")")
            }
            CsvError::InvalidUtf8 { line } => write!(f, "line {line}: text is not valid UTF-8"),
            CsvError::TooManyRows { limit } => write!(f, "the CSV data has more than {limit} rows"),
            CsvError::TooManyColumns { limit } => {
                write!(f, "the CSV data has more than {limit} columns")
            }
            CsvError::FieldTooLong { line, limit } => {
                write!(f, "line {line}: a field is longer than {limit} bytes")
            }
            CsvError::NonFinite(at) => {
                let (column, line, text) = &**at;
                write!(
                    f,
                    "line {line}: column '{column}' holds '{text}', which is not a finite \
                     number (write a missing value as an empty field or NA)"
                )
            }
        }
    }
}

impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CsvError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for CsvError {
    fn from(e: io::Error) -> Self {
        CsvError::Io(e)
    }
}

/// Reads CSV from `reader` into a typed [`Frame`], streaming.
///
/// # Errors
/// A [`CsvError`] for unreadable, malformed or over-limit input; the message names the
/// line where it applies.
pub fn parse_csv<R: BufRead>(mut reader: R, limits: &CsvLimits) -> Result<Frame, CsvError> {
    if reader.fill_buf()?.is_empty() {
        return Err(CsvError::Empty);
    }
    let mut records = RecordReader::new(reader, limits.max_field_bytes, limits.max_columns);
    let header = next_nonblank(&mut records)?.ok_or(CsvError::NoHeader)?;
    let mut columns = header_columns(header)?;
    records.expect_fields(columns.len());
    let mut rows = 0;
    while let Some(record) = next_nonblank(&mut records)? {
        if rows == limits.max_rows {
            return Err(CsvError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        rows += 1;
        for (column, field) in columns.iter_mut().zip(&record.fields) {
            column.push(field, record.line);
        }
    }
    let columns = columns
        .into_iter()
        .map(|c| {
            c.finish().map_err(|(column, line, text)| {
                let text = text.chars().take(40).collect();
                CsvError::NonFinite(Box::new((column, line, text)))
            })
        })
        .collect::<Result<_, _>>()?;
    // The header check above already guarantees unique, non-empty names.
    Frame::new(columns).map_err(|e| CsvError::Io(io::Error::new(io::ErrorKind::InvalidData, e)))
}

fn next_nonblank<R: BufRead>(records: &mut RecordReader<R>) -> Result<Option<Record>, CsvError> {
    while let Some(record) = records.next_record()? {
        if !record.is_blank() {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

fn header_columns(header: Record) -> Result<Vec<ColumnBuilder>, CsvError> {
    let mut seen = HashSet::new();
    let mut columns = Vec::with_capacity(header.fields.len());
    for (i, field) in header.fields.into_iter().enumerate() {
        let name = match field.text.strip_prefix('\u{feff}') {
            Some(rest) if i == 0 => rest.to_owned(),
            _ => field.text,
        };
        if name.is_empty() {
            return Err(CsvError::EmptyColumnName { column: i + 1 });
        }
        if !seen.insert(name.clone()) {
            return Err(CsvError::DuplicateColumn(name));
        }
        columns.push(ColumnBuilder::new(name));
    }
    Ok(columns)
}
