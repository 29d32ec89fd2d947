//! The in-memory table: named, typed columns of equal length.
//!
//! A [`Frame`] is what [`parse_csv`](super::parse_csv) produces, what
//! [`train`](super::train()) learns from and what
//! [`TrainedModel::predict`](super::TrainedModel::predict) returns. Its invariants
//! (unique non-empty names, equal lengths, category codes inside their level list) are
//! checked once by [`Frame::new`], so readers never need to. [`Frame::retype`] derives
//! a frame with some columns converted to another [`DataType`].

mod datetime;
mod retype;
mod stored;
#[cfg(test)]
mod stored_tests;

pub(crate) use datetime::parse_datetime;
pub(crate) use datetime::{add_months, civil_from_days, days_from_civil, Calendar, DAY_MS};
pub use datetime::{DateFormat, TimePart};
pub(crate) use retype::as_datetime;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

/// Unquoted field values that the CSV reader treats as missing (besides the empty field).
pub(crate) const MISSING_TOKENS: [&str; 5] = ["NA", "NaN", "null", "?", "N/A"];

/// The type of a column, as the wire contract names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// Numbers; missing values are NaN.
    Numerical,
    /// Labels from a finite set of levels.
    Categorical,
    /// Moments in time, all written in one [`DateFormat`].
    Datetime,
}

impl DataType {
    /// `"numerical"`, `"categorical"` or `"datetime"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Numerical => "numerical",
            DataType::Categorical => "categorical",
            DataType::Datetime => "datetime",
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The values of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// One number per row; NaN marks a missing value.
    Numerical(Vec<f64>),
    /// One level index per row (`None` = missing) into `levels`.
    Categorical {
        /// The distinct labels, sorted.
        levels: Vec<String>,
        /// Per row, the index of its label in `levels`.
        codes: Vec<Option<u32>>,
    },
    /// One moment per row, in milliseconds since 1970-01-01 UTC (`None` = missing),
    /// written back in `format`.
    Datetime {
        /// Per row, the moment.
        millis: Vec<Option<i64>>,
        /// The column's text format.
        format: DateFormat,
    },
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's header name.
    pub name: String,
    /// The column's values.
    pub data: ColumnData,
}

impl Column {
    /// A numerical column; NaN values are missing.
    pub fn numerical(name: impl Into<String>, values: Vec<f64>) -> Column {
        let data = ColumnData::Numerical(values);
        Column {
            name: name.into(),
            data,
        }
    }

    /// A categorical column from labels (`None` = missing); levels are sorted.
    pub fn categorical<S: AsRef<str>>(name: impl Into<String>, values: &[Option<S>]) -> Column {
        let mut levels: Vec<String> = values
            .iter()
            .flatten()
            .map(|s| s.as_ref().to_owned())
            .collect();
        levels.sort_unstable();
        levels.dedup();
        let index: HashMap<&str, u32> = levels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u32))
            .collect();
        let codes = values
            .iter()
            .map(|v| v.as_ref().and_then(|s| index.get(s.as_ref()).copied()))
            .collect();
        Column {
            name: name.into(),
            data: ColumnData::Categorical { levels, codes },
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.data {
            ColumnData::Numerical(v) => v.len(),
            ColumnData::Categorical { codes, .. } => codes.len(),
            ColumnData::Datetime { millis, .. } => millis.len(),
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column's type.
    pub fn data_type(&self) -> DataType {
        match self.data {
            ColumnData::Numerical(_) => DataType::Numerical,
            ColumnData::Categorical { .. } => DataType::Categorical,
            ColumnData::Datetime { .. } => DataType::Datetime,
        }
    }

    /// Whether the cell at `row` is missing (or out of range).
    pub fn is_missing(&self, row: usize) -> bool {
        match &self.data {
            ColumnData::Numerical(v) => v.get(row).is_none_or(|x| !x.is_finite()),
            ColumnData::Categorical { codes, .. } => codes.get(row).is_none_or(Option::is_none),
            ColumnData::Datetime { millis, .. } => millis.get(row).is_none_or(Option::is_none),
        }
    }

    /// The cell at `row` as text (numbers formatted as by [`Frame::write_csv`]);
    /// `None` when missing or out of range.
    pub fn text(&self, row: usize) -> Option<Cow<'_, str>> {
        match &self.data {
            ColumnData::Numerical(v) => v
                .get(row)
                .filter(|x| !x.is_nan())
                .map(|&x| Cow::Owned(format_number(x))),
            ColumnData::Categorical { levels, codes } => {
                let code = (*codes.get(row)?)?;
                levels.get(code as usize).map(|l| Cow::Borrowed(l.as_str()))
            }
            ColumnData::Datetime { millis, format } => millis
                .get(row)
                .copied()
                .flatten()
                .map(|ms| Cow::Owned(format.format(ms))),
        }
    }
}

/// Why a set of columns cannot form a [`Frame`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// Two columns share a name.
    DuplicateColumn(String),
    /// A column has an empty name.
    EmptyColumnName,
    /// A column's length differs from the first column's.
    LengthMismatch {
        /// The offending column.
        column: String,
        /// Rows of the first column.
        expected: usize,
        /// Rows of this column.
        found: usize,
    },
    /// A categorical code points past the column's level list.
    BadCode(String),
    /// [`Frame::retype`] names a column the frame does not have.
    UnknownColumn(String),
    /// [`Frame::retype`] cannot make a column numerical: a label is not a number.
    NotANumber {
        /// The column.
        column: String,
        /// The first label (in row order) that is not a finite number.
        label: String,
    },
    /// [`Frame::retype`] cannot make a column datetime: a label is not a date-time in
    /// a format that is read.
    NotADatetime {
        /// The column.
        column: String,
        /// The first label (in row order) that is not a date-time.
        label: String,
    },
    /// [`Frame::retype`] cannot make a column datetime: its values use two formats.
    MixedDateFormats {
        /// The column.
        column: String,
        /// A value in the first format met, and that format.
        first: (String, DateFormat),
        /// The first value in another format, and that format.
        second: (String, DateFormat),
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::DuplicateColumn(name) => write!(f, "duplicate column name '{name}'"),
            FrameError::EmptyColumnName => f.write_str("a column has an empty name"),
            FrameError::LengthMismatch {
                column,
                expected,
                found,
            } => {
                write!(f, "column '{column}' has {found} rows, expected {expected}")
            }
            FrameError::BadCode(name) => {
                write!(f, "column '{name}' has a category code without a level")
            }
            FrameError::UnknownColumn(name) => write!(f, "there is no column '{name}'"),
            FrameError::NotANumber { column, label } => write!(
                f,
                "column '{column}' cannot be numerical: '{label}' is not a number"
            ),
            FrameError::NotADatetime { column, label } => write!(
                f,
                "column '{column}' cannot be datetime: '{label}' is not a date-time in a \
                 format this server reads (YYYY-MM-DD or YYYY/MM/DD, optionally followed by \
                 a space or T and HH:MM, HH:MM:SS or HH:MM:SS.fff, optionally Z)"
            ),
            FrameError::MixedDateFormats {
                column,
                first,
                second,
            } => write!(
                f,
                "column '{column}' mixes date formats: '{}' is {} but '{}' is {}; \
                 a datetime column must use one format",
                first.0, first.1, second.0, second.1
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// A table of named columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    columns: Vec<Column>,
    rows: usize,
}

impl Frame {
    /// Builds a frame, checking names, lengths and category codes.
    ///
    /// # Errors
    /// A [`FrameError`] naming the first offending column.
    pub fn new(columns: Vec<Column>) -> Result<Frame, FrameError> {
        let rows = columns.first().map_or(0, Column::len);
        let mut seen = std::collections::HashSet::new();
        for column in &columns {
            check_column(column, rows)?;
            if !seen.insert(column.name.as_str()) {
                return Err(FrameError::DuplicateColumn(column.name.clone()));
            }
        }
        Ok(Frame { columns, rows })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// All columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column names, in order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// Writes the frame as CSV: a header row, then one line per row, `\n` line ends.
    /// Missing values are empty fields; fields are quoted when they would otherwise not
    /// read back the same.
    ///
    /// # Errors
    /// Any I/O error of `w`.
    pub fn write_csv<W: Write>(&self, w: W) -> io::Result<()> {
        let mut w = io::BufWriter::new(w);
        let names: Vec<&str> = self.column_names().collect();
        write_record(&mut w, names.iter().map(|n| Some(Cow::Borrowed(*n))))?;
        for row in 0..self.rows {
            write_record(&mut w, self.columns.iter().map(|c| c.text(row)))?;
        }
        w.flush()
    }
}

fn check_column(column: &Column, rows: usize) -> Result<(), FrameError> {
    if column.name.is_empty() {
        return Err(FrameError::EmptyColumnName);
    }
    if column.len() != rows {
        let (column, expected, found) = (column.name.clone(), rows, column.len());
        return Err(FrameError::LengthMismatch {
            column,
            expected,
            found,
        });
    }
    if let ColumnData::Categorical { levels, codes } = &column.data {
        if codes.iter().flatten().any(|&c| c as usize >= levels.len()) {
            return Err(FrameError::BadCode(column.name.clone()));
        }
    }
    Ok(())
}

fn write_record<'a, W, I>(w: &mut W, fields: I) -> io::Result<()>
where
    W: Write,
    I: Iterator<Item = Option<Cow<'a, str>>>,
{
    for (i, field) in fields.enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        if let Some(text) = field {
            write_field(w, &text)?;
        }
    }
    w.write_all(b"\n")
}

fn write_field<W: Write>(w: &mut W, text: &str) -> io::Result<()> {
    if !needs_quotes(text) {
        return w.write_all(text.as_bytes());
    }
    w.write_all(b"\"")?;
    w.write_all(text.replace('"', "\"\"").as_bytes())?;
    w.write_all(b"\"")
}

fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text.contains([',', '"', '\r', '\n'])
        || text.starts_with([' ', '\t'])
        || text.ends_with([' ', '\t'])
        || MISSING_TOKENS.contains(&text)
}

/// Formats a number so that it parses back to the same `f64`: plain digits for ordinary
/// magnitudes, exponent notation for very large or very small ones.
pub(crate) fn format_number(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(1e-6..1e16).contains(&a) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Frame {
        let cat = Column::categorical("c", &[Some("b"), None, Some("a,b")]);
        Frame::new(vec![Column::numerical("x", vec![1.5, f64::NAN, 1e-9]), cat]).unwrap()
    }

    #[test]
    fn categorical_levels_are_sorted() {
        let f = sample();
        let c = f.column("c").unwrap();
        assert_eq!(c.data_type(), DataType::Categorical);
        let ColumnData::Categorical { levels, codes } = &c.data else {
            panic!("not categorical")
        };
        assert_eq!(levels, &["a,b", "b"]);
        assert_eq!(codes, &[Some(1), None, Some(0)]);
        assert_eq!(c.text(1), None);
    }

    #[test]
    fn new_rejects_bad_columns() {
        let a = Column::numerical("a", vec![1.0]);
        let long = Column::numerical("b", vec![1.0, 2.0]);
        assert!(matches!(
            Frame::new(vec![a.clone(), long]),
            Err(FrameError::LengthMismatch { .. })
        ));
        assert_eq!(
            Frame::new(vec![a.clone(), a.clone()]),
            Err(FrameError::DuplicateColumn("a".into()))
        );
        let bad = Column {
            name: "z".into(),
            data: ColumnData::Categorical {
                levels: vec![],
                codes: vec![Some(0)],
            },
        };
        assert_eq!(
            Frame::new(vec![a, bad]),
            Err(FrameError::BadCode("z".into()))
        );
        assert_eq!(
            Frame::new(vec![Column::numerical("", vec![])]),
            Err(FrameError::EmptyColumnName)
        );
    }

    #[test]
    fn write_csv_quotes_and_blanks_missing() {
        let mut out = Vec::new();
        sample().write_csv(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "x,c\n1.5,b\n,\n1e-9,\"a,b\"\n"
        );
    }

    #[test]
    fn quoting_rules() {
        for text in ["", "a\"b", " lead", "trail\t", "NA", "?", "x\ny"] {
            assert!(needs_quotes(text), "{text:?}");
        }
        assert!(!needs_quotes("plain text"));
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-2.5e20), "-2.5e20");
        assert_eq!(DataType::Numerical.as_str(), "numerical");
    }
}
