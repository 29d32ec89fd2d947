//! Date-times: reading them from text in a few fixed formats, writing them back, and
//! the calendar parts (year, month, ..., day of week) the encoder and the forecaster use.
//!
//! A value is a count of milliseconds since 1970-01-01 00:00:00, read as UTC: a
//! trailing `Z` is accepted and means the same as no zone at all; other offsets are
//! not read. The formats are all year first (day-first and month-first orders are
//! ambiguous, so they are not guessed):
//!
//! - the date `YYYY-MM-DD` or `YYYY/MM/DD`,
//! - optionally followed by a space or `T` and `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f`
//!   (1 to 9 fraction digits, kept to the millisecond),
//! - optionally followed by `Z` (only after a time).
//!
//! Every field has its fixed number of digits (`2020-1-5` is not a date). A column
//! uses ONE format ([`DateFormat`]); the number of fraction digits may vary within it.

use std::fmt;

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// How much of the time of day a format writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimePart {
    /// A date alone.
    None,
    /// `HH:MM`.
    Minutes,
    /// `HH:MM:SS`.
    Seconds,
    /// `HH:MM:SS.f`, with up to this many fraction digits written back (1 to 3).
    Fraction(u8),
}

/// The text format of a datetime column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateFormat {
    /// `'-'` or `'/'` between year, month and day.
    pub date_sep: char,
    /// `' '` or `'T'` between date and time (unused without a time).
    pub time_sep: char,
    /// The time of day written.
    pub time: TimePart,
    /// A trailing `Z`.
    pub zulu: bool,
}

impl DateFormat {
    /// Whether two formats are the same up to the number of fraction digits.
    pub(crate) fn same_as(&self, other: &DateFormat) -> bool {
        let fraction = |t: TimePart| matches!(t, TimePart::Fraction(_));
        let time_equal = self.time == other.time || (fraction(self.time) && fraction(other.time));
        self.date_sep == other.date_sep
            && time_equal
            && (self.time == TimePart::None || self.time_sep == other.time_sep)
            && self.zulu == other.zulu
    }

    /// The format that writes both formats' values (the most fraction digits).
    pub(crate) fn widest(self, other: DateFormat) -> DateFormat {
        match (self.time, other.time) {
            (TimePart::Fraction(a), TimePart::Fraction(b)) if b > a => other,
            _ => self,
        }
    }

    /// `millis` written in this format.
    pub fn format(&self, millis: i64) -> String {
        let (days, ms) = (millis.div_euclid(DAY_MS), millis.rem_euclid(DAY_MS));
        let (y, m, d) = civil_from_days(days);
        let s = self.date_sep;
        let mut out = format!("{y:04}{s}{m:02}{s}{d:02}");
        let (hh, mm, ss, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        match self.time {
            TimePart::None => return out,
            TimePart::Minutes => out += &format!("{}{hh:02}:{mm:02}", self.time_sep),
            TimePart::Seconds => out += &format!("{}{hh:02}:{mm:02}:{ss:02}", self.time_sep),
            TimePart::Fraction(digits) => {
                let digits = usize::from(digits.clamp(1, 3));
                let frac = format!("{frac:03}");
                out += &format!("{}{hh:02}:{mm:02}:{ss:02}.", self.time_sep);
                out += &frac[..digits];
            }
        }
        if self.zulu {
            out.push('Z');
        }
        out
    }
}

impl fmt::Display for DateFormat {
    /// The pattern, such as `YYYY-MM-DD HH:MM:SS.fff` or `YYYY/MM/DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.date_sep;
        write!(f, "YYYY{s}MM{s}DD")?;
        let t = self.time_sep;
        match self.time {
            TimePart::None => return Ok(()),
            TimePart::Minutes => write!(f, "{t}HH:MM")?,
            TimePart::Seconds => write!(f, "{t}HH:MM:SS")?,
            TimePart::Fraction(_) => write!(f, "{t}HH:MM:SS.fff")?,
        }
        if self.zulu {
            f.write_str("Z")?;
        }
        Ok(())
    }
}

/// Reads `text` (spaces around it ignored) as a date-time: its milliseconds since the
/// epoch and its format; `None` when it is not in one of the formats or not a real
/// date (`2021-02-29`, `24:00`).
pub fn parse_datetime(text: &str) -> Option<(i64, DateFormat)> {
    let b = text.trim().as_bytes();
    if b.len() < 10 {
        return None;
    }
    let date_sep = char::from(b[4]);
    if !matches!(date_sep, '-' | '/') || b[7] != b[4] {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let mut format = DateFormat {
        date_sep,
        time_sep: ' ',
        time: TimePart::None,
        zulu: false,
    };
    let rest = &b[10..];
    if rest.is_empty() {
        return Some((days * DAY_MS, format));
    }
    format.time_sep = char::from(rest[0]);
    if !matches!(format.time_sep, ' ' | 'T') {
        return None;
    }
    let mut rest = &rest[1..];
    if let Some(stripped) = rest.strip_suffix(b"Z") {
        format.zulu = true;
        rest = stripped;
    }
    let (ms, time) = parse_time(rest)?;
    format.time = time;
    Some((days * DAY_MS + ms, format))
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f...`: milliseconds into the day and the part.
fn parse_time(b: &[u8]) -> Option<(i64, TimePart)> {
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let (hh, mm) = (digits(&b[0..2])?, digits(&b[3..5])?);
    let (mut ss, mut ms, mut part) = (0, 0, TimePart::Minutes);
    if b.len() > 5 {
        if b.len() < 8 || b[5] != b':' {
            return None;
        }
        ss = digits(&b[6..8])?;
        part = TimePart::Seconds;
        if b.len() > 8 {
            let frac = &b[9..];
            if b[8] != b'.' || frac.is_empty() || frac.len() > 9 {
                return None;
            }
            digits(frac)?;
            let first3: Vec<u8> = frac.iter().copied().chain([b'0'; 3]).take(3).collect();
            ms = digits(&first3)?;
            part = TimePart::Fraction(frac.len().min(3) as u8);
        }
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    Some((((hh * 60 + mm) * 60 + ss) * 1000 + ms, part))
}

/// ASCII digits as a number.
fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The calendar parts of a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Calendar {
    pub(crate) year: i64,
    pub(crate) month: i64,
    pub(crate) day: i64,
    /// 0 = Monday ... 6 = Sunday.
    pub(crate) weekday: i64,
    /// 1 to 366.
    pub(crate) yearday: i64,
    pub(crate) hour: i64,
    pub(crate) minute: i64,
}

impl Calendar {
    pub(crate) fn of(millis: i64) -> Calendar {
        let (days, ms) = (millis.div_euclid(DAY_MS), millis.rem_euclid(DAY_MS));
        let (year, month, day) = civil_from_days(days);
        Calendar {
            year,
            month,
            day,
            // 1970-01-01 was a Thursday (3).
            weekday: (days + 3).rem_euclid(7),
            yearday: days - days_from_civil(year, 1, 1) + 1,
            hour: ms / 3_600_000,
            minute: ms / 60_000 % 60,
        }
    }
}

/// `millis` moved by `months` calendar months, the day clamped to the month's length.
pub(crate) fn add_months(millis: i64, months: i64) -> i64 {
    let (days, ms) = (millis.div_euclid(DAY_MS), millis.rem_euclid(DAY_MS));
    let (y, m, d) = civil_from_days(days);
    let index = y * 12 + (m - 1) + months;
    let (y, m) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    days_from_civil(y, m, d.min(days_in_month(y, m))) * DAY_MS + ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_formats_and_writes_them_back() {
        for text in [
            "2020-03-01",
            "2020/03/01",
            "2020-03-01 13:45",
            "2020-03-01 13:45:07",
            "2020-03-01T13:45:07",
            "2020-03-01T13:45:07Z",
            "2020-03-01 13:45:07.250",
            "1969-12-31 23:59:59.5",
        ] {
            let (ms, format) = parse_datetime(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(format.format(ms), text);
        }
        let (ms, format) = parse_datetime("2020-03-01T13:45:07Z").unwrap();
        assert_eq!(format.to_string(), "YYYY-MM-DDTHH:MM:SSZ");
        assert_eq!(ms, 1_583_070_307_000);
        assert_eq!(parse_datetime(" 1970-01-02 ").unwrap().0, DAY_MS);
        assert_eq!(parse_datetime("1969-12-31 23:59:59.5").unwrap().0, -500);
    }

    #[test]
    fn refuses_what_is_not_a_real_date_in_a_format() {
        for text in [
            "2021-02-29",
            "2020-13-01",
            "2020-1-5",
            "2020-01-01 24:00",
            "2020-01-01 12:60",
            "2020-01/01",
            "01/02/2020",
            "2020-01-01X12:00",
            "2020-01-01 12:00:00.",
            "2020-01-01Z",
            "hello",
            "20200101",
        ] {
            assert_eq!(parse_datetime(text), None, "{text}");
        }
        assert!(parse_datetime("2020-02-29").is_some());
    }

    #[test]
    fn formats_compare_up_to_fraction_digits() {
        let f = |t: &str| parse_datetime(t).unwrap().1;
        assert!(f("2020-01-01 10:00:00.5").same_as(&f("2020-01-01 10:00:00.25")));
        assert!(!f("2020-01-01 10:00").same_as(&f("2020-01-01 10:00:00")));
        assert!(!f("2020-01-01").same_as(&f("2020/01/01")));
        assert!(f("2020-01-01").same_as(&f("2021-05-06")));
        assert!(!f("2020-01-01T10:00").same_as(&f("2020-01-01 10:00")));
    }

    #[test]
    fn calendar_parts_and_month_steps() {
        let c = Calendar::of(parse_datetime("2024-03-04 05:06").unwrap().0);
        assert_eq!(
            (c.year, c.month, c.day, c.weekday, c.yearday, c.hour, c.minute),
            (2024, 3, 4, 0, 64, 5, 6)
        );
        let jan31 = parse_datetime("2023-01-31").unwrap().0;
        let (feb, format) = parse_datetime("2023-02-28").unwrap();
        assert_eq!(add_months(jan31, 1), feb);
        assert_eq!(format.format(add_months(jan31, 13)), "2024-02-29");
        for days in [-800_000, -1, 0, 59, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
