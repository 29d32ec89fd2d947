//! A frame's stored form: the exact bytes the server's data directory keeps for a
//! data set, and the strict reading of them back.
//!
//! The format is little-endian binary, laid out column after column so that a column
//! of a million numbers is one bulk copy each way:
//!
//! ```text
//! magic     8 bytes  "TLFRAME\0"
//! version   u32      1
//! rows      u64
//! columns   u32
//! then per column:
//!   name    u64 byte length, then UTF-8 bytes
//!   type    u8       0 numerical, 1 categorical, 2 datetime
//!   numerical:   rows × u64, each value's f64 bits (NaN payloads and -0.0 kept)
//!   categorical: u64 level count, each level as a name is; then rows × u32 codes,
//!                u32::MAX for a missing value
//!   datetime:    the format: date_sep u32 (a char), time_sep u32 (a char),
//!                time u8 (0 date only, 1 HH:MM, 2 HH:MM:SS, 3 with a fraction),
//!                fraction digits u8 (0 unless time is 3), zulu u8 (0 or 1);
//!                then rows × u8 presence (1 present, 0 missing) and rows × i64
//!                milliseconds (0 where missing)
//! ```
//!
//! Nothing may follow the last column. The encoding of a frame is unique: reading
//! refuses every byte string that [`Frame::to_stored`] would not have written
//! (unknown tags, flags other than 0 and 1, a non-zero moment under a missing one,
//! codes without a level, invalid UTF-8), and the frame's own invariants are checked
//! by [`Frame::new`]. Reading never panics and allocates no more than the input's
//! length justifies, so a damaged file is an error, not a crash.
//!
//! A categorical column of 2³² levels or more cannot be stored: its code `u32::MAX`
//! would read back as missing (such a column needs far more memory than any data set
//! this server holds).

use super::{Column, ColumnData, DateFormat, Frame, TimePart};

/// The first bytes of every stored frame.
const MAGIC: &[u8; 8] = b"TLFRAME\0";
/// The format version this build writes and reads.
const VERSION: u32 = 1;
/// The stored code of a missing category.
const MISSING_CODE: u32 = u32::MAX;

const NUMERICAL: u8 = 0;
const CATEGORICAL: u8 = 1;
const DATETIME: u8 = 2;

impl Frame {
    /// The frame's stored form (see the module documentation), which
    /// [`from_stored`](Self::from_stored) reads back to an identical frame, bit for
    /// bit.
    pub(crate) fn to_stored(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(stored_size(self));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.rows as u64).to_le_bytes());
        out.extend_from_slice(&(self.columns.len() as u32).to_le_bytes());
        for column in &self.columns {
            write_str(&mut out, &column.name);
            write_data(&mut out, &column.data);
        }
        out
    }

    /// Reads a frame written by [`to_stored`](Self::to_stored).
    ///
    /// # Errors
    /// A message naming what is wrong when the bytes are not a stored frame of this
    /// version, are cut short or run on, or hold a value the format does not allow.
    pub(crate) fn from_stored(bytes: &[u8]) -> Result<Frame, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len(), "the header").ok() != Some(&MAGIC[..]) {
            return Err("not a stored frame (it does not start with TLFRAME)".into());
        }
        let version = r.u32("the version")?;
        if version != VERSION {
            return Err(format!(
                "the stored frame has format version {version}; this build reads version \
                 {VERSION}"
            ));
        }
        let rows = r.len("the row count")?;
        let count = r.u32("the column count")? as usize;
        // Every column takes at least 9 bytes (its name's length and its type).
        let mut columns = Vec::with_capacity(count.min(r.remaining() / 9));
        for i in 0..count {
            let name = r.string(&format!("the name of column {i}"))?;
            let data = read_data(&mut r, rows, &name)?;
            columns.push(Column { name, data });
        }
        if r.remaining() > 0 {
            return Err(format!(
                "the stored frame has {} bytes after its last column",
                r.remaining()
            ));
        }
        let frame = Frame::new(columns).map_err(|e| format!("stored frame: {e}"))?;
        // Frame::new takes the row count from the first column; a frame without columns
        // has none.
        if frame.rows != rows {
            return Err(format!(
                "the stored frame says {rows} rows but has no column to hold them"
            ));
        }
        Ok(frame)
    }
}

/// The exact length of `frame`'s stored form.
fn stored_size(frame: &Frame) -> usize {
    let rows = frame.rows;
    let data = |data: &ColumnData| match data {
        ColumnData::Numerical(_) => rows * 8,
        ColumnData::Categorical { levels, .. } => {
            8 + levels.iter().map(|l| 8 + l.len()).sum::<usize>() + rows * 4
        }
        ColumnData::Datetime { .. } => 11 + rows * 9,
    };
    let columns = frame.columns.iter();
    24 + columns
        .map(|c| 9 + c.name.len() + data(&c.data))
        .sum::<usize>()
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

fn write_data(out: &mut Vec<u8>, data: &ColumnData) {
    match data {
        ColumnData::Numerical(values) => {
            out.push(NUMERICAL);
            put_all(out, values, |v| v.to_bits().to_le_bytes());
        }
        ColumnData::Categorical { levels, codes } => {
            out.push(CATEGORICAL);
            out.extend_from_slice(&(levels.len() as u64).to_le_bytes());
            for level in levels {
                write_str(out, level);
            }
            put_all(out, codes, |c| c.unwrap_or(MISSING_CODE).to_le_bytes());
        }
        ColumnData::Datetime { millis, format } => {
            out.push(DATETIME);
            write_format(out, format);
            put_all(out, millis, |m| [u8::from(m.is_some())]);
            put_all(out, millis, |m| m.unwrap_or(0).to_le_bytes());
        }
    }
}

/// Appends the `N` bytes `bytes` makes of each of `values`, in one pass over a
/// buffer grown once.
fn put_all<T: Copy, const N: usize>(out: &mut Vec<u8>, values: &[T], bytes: impl Fn(T) -> [u8; N]) {
    let start = out.len();
    out.resize(start + values.len() * N, 0);
    for (chunk, &value) in out[start..].chunks_exact_mut(N).zip(values) {
        chunk.copy_from_slice(&bytes(value));
    }
}

fn write_format(out: &mut Vec<u8>, format: &DateFormat) {
    out.extend_from_slice(&u32::from(format.date_sep).to_le_bytes());
    out.extend_from_slice(&u32::from(format.time_sep).to_le_bytes());
    let (time, digits) = match format.time {
        TimePart::None => (0, 0),
        TimePart::Minutes => (1, 0),
        TimePart::Seconds => (2, 0),
        TimePart::Fraction(digits) => (3, digits),
    };
    out.extend_from_slice(&[time, digits, u8::from(format.zulu)]);
}

fn read_data(r: &mut Reader<'_>, rows: usize, name: &str) -> Result<ColumnData, String> {
    match r.u8(&format!("the type of column '{name}'"))? {
        NUMERICAL => {
            let bytes = r.array(rows, 8, &format!("the values of column '{name}'"))?;
            let values = bytes.chunks_exact(8).map(|b| f64::from_bits(u64_at(b)));
            Ok(ColumnData::Numerical(values.collect()))
        }
        CATEGORICAL => read_categorical(r, rows, name),
        DATETIME => read_datetime(r, rows, name),
        other => Err(format!("column '{name}' has the unknown type tag {other}")),
    }
}

fn read_categorical(r: &mut Reader<'_>, rows: usize, name: &str) -> Result<ColumnData, String> {
    let count = r.len(&format!("the level count of column '{name}'"))?;
    // Every level takes at least 8 bytes (its length).
    let mut levels = Vec::with_capacity(count.min(r.remaining() / 8));
    let what = format!("a level of column '{name}'");
    for _ in 0..count {
        levels.push(r.string(&what)?);
    }
    let bytes = r.array(rows, 4, &format!("the codes of column '{name}'"))?;
    let mut codes = Vec::with_capacity(rows);
    for b in bytes.chunks_exact(4) {
        let code = <[u8; 4]>::try_from(b).map_or(MISSING_CODE, u32::from_le_bytes);
        if code == MISSING_CODE {
            codes.push(None);
        } else if (code as usize) < levels.len() {
            codes.push(Some(code));
        } else {
            return Err(format!(
                "column '{name}' has the code {code} but only {} levels",
                levels.len()
            ));
        }
    }
    Ok(ColumnData::Categorical { levels, codes })
}

fn read_datetime(r: &mut Reader<'_>, rows: usize, name: &str) -> Result<ColumnData, String> {
    let format = read_format(r, name)?;
    let present = r.array(rows, 1, &format!("the presence flags of column '{name}'"))?;
    let values = r.array(rows, 8, &format!("the moments of column '{name}'"))?;
    let mut millis = Vec::with_capacity(rows);
    for (&flag, b) in present.iter().zip(values.chunks_exact(8)) {
        let ms = u64_at(b) as i64;
        match (flag, ms) {
            (1, ms) => millis.push(Some(ms)),
            (0, 0) => millis.push(None),
            (0, _) => return Err(format!("column '{name}' has a moment under a missing one")),
            _ => return Err(format!("column '{name}' has the presence flag {flag}")),
        }
    }
    Ok(ColumnData::Datetime { millis, format })
}

fn read_format(r: &mut Reader<'_>, name: &str) -> Result<DateFormat, String> {
    let what = format!("the date format of column '{name}'");
    let char_at = |code: u32| {
        char::from_u32(code)
            .ok_or_else(|| format!("{what} has the separator {code:#x}, not a character"))
    };
    let date_sep = char_at(r.u32(&what)?)?;
    let time_sep = char_at(r.u32(&what)?)?;
    let [time, digits, zulu] = *r.fixed::<3>(&what)?;
    let time = match (time, digits) {
        (0, 0) => TimePart::None,
        (1, 0) => TimePart::Minutes,
        (2, 0) => TimePart::Seconds,
        (3, digits) => TimePart::Fraction(digits),
        _ => return Err(format!("{what} has the unknown time part {time}/{digits}")),
    };
    let zulu = match zulu {
        0 => false,
        1 => true,
        _ => return Err(format!("{what} has the zulu flag {zulu}")),
    };
    Ok(DateFormat {
        date_sep,
        time_sep,
        time,
        zulu,
    })
}

/// The `u64` of 8 little-endian bytes (`b` is one chunk of `chunks_exact(8)`).
fn u64_at(b: &[u8]) -> u64 {
    <[u8; 8]>::try_from(b).map_or(0, u64::from_le_bytes)
}

/// A cursor over the stored bytes whose every read checks what is left.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// The next `n` bytes, which hold `what`.
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if n > self.remaining() {
            return Err(format!(
                "the stored frame is cut short: {what} needs {n} bytes, {} are left",
                self.remaining()
            ));
        }
        let bytes = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(bytes)
    }

    /// The bytes of `count` items of `size` bytes each.
    fn array(&mut self, count: usize, size: usize, what: &str) -> Result<&'a [u8], String> {
        let n = count
            .checked_mul(size)
            .ok_or_else(|| format!("the stored frame is cut short: {what} is too large"))?;
        self.take(n, what)
    }

    fn fixed<const N: usize>(&mut self, what: &str) -> Result<&'a [u8; N], String> {
        let bytes = self.take(N, what)?;
        bytes
            .try_into()
            .map_err(|_| format!("{what}: {N} bytes expected"))
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.fixed::<1>(what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(*self.fixed(what)?))
    }

    /// A length or count, which must fit in memory.
    fn len(&mut self, what: &str) -> Result<usize, String> {
        let n = u64::from_le_bytes(*self.fixed(what)?);
        usize::try_from(n).map_err(|_| format!("{what} is {n}, too large for this machine"))
    }

    /// A length-prefixed UTF-8 string.
    fn string(&mut self, what: &str) -> Result<String, String> {
        let n = self.len(what)?;
        let bytes = self.take(n, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
    }
}
