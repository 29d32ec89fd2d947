//! Splits a byte stream into CSV records (RFC 4180), one record at a time.
//!
//! The tokenizer is a byte-at-a-time state machine, so the input is read through a
//! `BufRead` and never held in memory as a whole. It enforces the per-field and
//! per-record size limits while reading, so a hostile file cannot make it allocate more
//! than `max_field_bytes × max_columns`.

use std::io::BufRead;

use super::CsvError;

/// One field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// The field's text: unquoted fields trimmed of spaces and tabs, quoted ones verbatim.
    pub(crate) text: String,
    /// Whether the field was enclosed in double quotes.
    pub(crate) quoted: bool,
}

/// One record and the line it started on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) line: usize,
    pub(crate) fields: Vec<Field>,
}

impl Record {
    /// A line with nothing on it; the reader skips these.
    pub(crate) fn is_blank(&self) -> bool {
        matches!(self.fields.as_slice(), [f] if f.text.is_empty() && !f.quoted)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    Start,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: a second quote or the field's end.
    QuoteSeen,
}

/// What one byte did to the current record.
enum Step {
    Continue,
    EndRecord,
}

/// The state machine; separate from the reader so that both can be borrowed at once.
#[derive(Debug)]
struct Machine {
    state: State,
    field: Vec<u8>,
    quoted: bool,
    fields: Vec<Field>,
    /// Current physical line (1-based).
    line: usize,
    /// Line on which the current record started.
    record_line: usize,
    /// Line on which the current quoted field opened.
    quote_line: usize,
    /// A `\r` ended the last record; swallow a following `\n`.
    skip_lf: bool,
    max_field_bytes: usize,
    max_fields: usize,
    /// Fields per record once the header is known (`None` while reading the header).
    expected: Option<usize>,
}

/// Reads records from a `BufRead`.
#[derive(Debug)]
pub(crate) struct RecordReader<R> {
    reader: R,
    machine: Machine,
}

impl<R: BufRead> RecordReader<R> {
    /// A reader enforcing the given field size and field count limits.
    pub(crate) fn new(reader: R, max_field_bytes: usize, max_fields: usize) -> Self {
        let machine = Machine {
            state: State::Start,
            field: Vec::new(),
            quoted: false,
            fields: Vec::new(),
            line: 1,
            record_line: 1,
            quote_line: 1,
            skip_lf: false,
            max_field_bytes,
            max_fields,
            expected: None,
        };
        RecordReader { reader, machine }
    }

    /// From now on records must have exactly `n` fields.
    pub(crate) fn expect_fields(&mut self, n: usize) {
        self.machine.expected = Some(n);
    }

    /// The next record, or `None` at the end of the input.
    pub(crate) fn next_record(&mut self) -> Result<Option<Record>, CsvError> {
        self.machine.begin_record();
        let mut started = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return self.machine.finish(started);
            }
            let mut used = 0;
            let mut ended = false;
            for &byte in buf {
                used += 1;
                started |= !(self.machine.skip_lf && byte == b'\n');
                if let Step::EndRecord = self.machine.step(byte)? {
                    ended = true;
                    break;
                }
            }
            self.reader.consume(used);
            if ended {
                return self.machine.take_record().map(Some);
            }
        }
    }
}

impl Machine {
    fn begin_record(&mut self) {
        self.state = State::Start;
        self.fields.clear();
        self.field.clear();
        self.quoted = false;
        self.record_line = self.line;
    }

    fn step(&mut self, byte: u8) -> Result<Step, CsvError> {
        if std::mem::take(&mut self.skip_lf) && byte == b'\n' {
            self.record_line = self.line;
            return Ok(Step::Continue);
        }
        match (self.state, byte) {
            (State::Start, b'"') => {
                self.state = State::Quoted;
                self.quoted = true;
                self.quote_line = self.line;
            }
            (State::Start | State::Unquoted | State::QuoteSeen, b',') => self.end_field()?,
            (State::Start | State::Unquoted | State::QuoteSeen, b'\n' | b'\r') => {
                self.end_field()?;
                self.skip_lf = byte == b'\r';
                self.line += 1;
                return Ok(Step::EndRecord);
            }
            (State::Start | State::Unquoted, _) => {
                self.state = State::Unquoted;
                self.push(byte)?;
            }
            (State::Quoted, b'"') => self.state = State::QuoteSeen,
            (State::Quoted, _) => {
                self.line += usize::from(byte == b'\n');
                self.push(byte)?;
            }
            (State::QuoteSeen, b'"') => {
                self.state = State::Quoted;
                self.push(b'"')?;
            }
            (State::QuoteSeen, b' ' | b'\t') => {}
            (State::QuoteSeen, _) => return Err(CsvError::TextAfterQuote { line: self.line }),
        }
        Ok(Step::Continue)
    }

    fn push(&mut self, byte: u8) -> Result<(), CsvError> {
        if self.field.len() >= self.max_field_bytes {
            let limit = self.max_field_bytes;
            return Err(CsvError::FieldTooLong {
                line: self.line,
                limit,
            });
        }
        self.field.push(byte);
        Ok(())
    }

    fn end_field(&mut self) -> Result<(), CsvError> {
        let limit = self.expected.unwrap_or(self.max_fields);
        if self.fields.len() >= limit {
            return Err(self.too_many_fields());
        }
        let bytes = std::mem::take(&mut self.field);
        let mut text =
            String::from_utf8(bytes).map_err(|_| CsvError::InvalidUtf8 { line: self.line })?;
        if !self.quoted {
            let trimmed = text.trim_matches([' ', '\t']);
            if trimmed.len() != text.len() {
                text = trimmed.to_owned();
            }
        }
        self.fields.push(Field {
            text,
            quoted: std::mem::take(&mut self.quoted),
        });
        self.state = State::Start;
        Ok(())
    }

    fn too_many_fields(&self) -> CsvError {
        match self.expected {
            Some(expected) => {
                let found = expected + 1;
                CsvError::RaggedRow {
                    line: self.record_line,
                    expected,
                    found,
                    more: true,
                }
            }
            None => CsvError::TooManyColumns {
                limit: self.max_fields,
            },
        }
    }

    fn finish(&mut self, started: bool) -> Result<Option<Record>, CsvError> {
        match self.state {
            State::Quoted => Err(CsvError::UnterminatedQuote {
                line: self.quote_line,
            }),
            State::Start if !started && self.fields.is_empty() => Ok(None),
            _ => {
                self.end_field()?;
                self.take_record().map(Some)
            }
        }
    }

    fn take_record(&mut self) -> Result<Record, CsvError> {
        let fields = std::mem::take(&mut self.fields);
        let record = Record {
            line: self.record_line,
            fields,
        };
        if let Some(expected) = self.expected {
            if record.fields.len() != expected && !record.is_blank() {
                let (line, found) = (record.line, record.fields.len());
                return Err(CsvError::RaggedRow {
                    line,
                    expected,
                    found,
                    more: false,
                });
            }
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &str) -> Result<Vec<Vec<String>>, CsvError> {
        let mut reader = RecordReader::new(input.as_bytes(), 1000, 100);
        let mut out = Vec::new();
        while let Some(r) = reader.next_record()? {
            out.push(r.fields.into_iter().map(|f| f.text).collect());
        }
        Ok(out)
    }

    #[test]
    fn splits_quoted_fields() {
        let got = records("a,\"b,\"\"c\"\"\nd\",e\r\n\"\",f\n").unwrap();
        assert_eq!(got, vec![vec!["a", "b,\"c\"\nd", "e"], vec!["", "f"]]);
    }

    #[test]
    fn last_line_without_newline_and_lone_cr() {
        assert_eq!(
            records("a,b\rc,d").unwrap(),
            vec![vec!["a", "b"], vec!["c", "d"]]
        );
        assert_eq!(records("").unwrap(), Vec::<Vec<String>>::new());
    }

    #[test]
    fn trims_only_unquoted_fields() {
        assert_eq!(
            records(" a ,\" b \" ,c").unwrap(),
            vec![vec!["a", " b ", "c"]]
        );
    }

    #[test]
    fn counts_lines_inside_quotes() {
        let mut reader = RecordReader::new("\"a\nb\"\r\nc\n".as_bytes(), 100, 10);
        assert_eq!(reader.next_record().unwrap().unwrap().line, 1);
        assert_eq!(reader.next_record().unwrap().unwrap().line, 3);
    }

    #[test]
    fn rejects_text_after_closing_quote() {
        assert!(matches!(
            records("\"a\"b"),
            Err(CsvError::TextAfterQuote { line: 1 })
        ));
    }
}
