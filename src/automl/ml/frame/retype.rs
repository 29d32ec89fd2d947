//! Converting columns between numerical, categorical and datetime, for the contract's
//! `POST /v2/tasks/setup` (e.g. a 0/1 target made categorical to train a classifier, or
//! a text column of dates made datetime).

use super::datetime::parse_datetime;
use super::{Column, ColumnData, DataType, DateFormat, Frame, FrameError};

impl Frame {
    /// A new frame with the columns `changes` names converted to the given types; this
    /// frame is left as it is. Changes apply in order; a column already of the asked
    /// type is unchanged, and missing values stay missing.
    ///
    /// - Numerical → categorical: one level per distinct value, labelled as
    ///   [`Frame::write_csv`] prints the number (`1.0` → `"1"`, `2.5` → `"2.5"`), so a
    ///   retyped 0/1 target predicts the classes `0` and `1`.
    /// - Categorical → numerical: every label is parsed as a number (surrounding spaces
    ///   ignored).
    /// - Any type → datetime: every value's text is read as a date-time
    ///   (`YYYY-MM-DD` or `YYYY/MM/DD`, optionally with `HH:MM`, `:SS`, `.fff` and a
    ///   trailing `Z`), and all must share one format.
    /// - Datetime → categorical: one level per distinct moment, written in the
    ///   column's format; datetime → numerical reads that text as numbers (so fails).
    ///
    /// # Errors
    /// [`FrameError::UnknownColumn`] naming a column the frame does not have;
    /// [`FrameError::NotANumber`] naming the column and its first label (in row order)
    /// that is not a finite number; [`FrameError::NotADatetime`] likewise for a label
    /// that is not a date-time; [`FrameError::MixedDateFormats`] naming the column and
    /// two values in different formats.
    pub fn retype(&self, changes: &[(String, DataType)]) -> Result<Frame, FrameError> {
        let mut columns = self.columns.clone();
        for (name, data_type) in changes {
            let column = columns
                .iter_mut()
                .find(|c| &c.name == name)
                .ok_or_else(|| FrameError::UnknownColumn(name.clone()))?;
            if column.data_type() != *data_type {
                *column = converted(column, *data_type)?;
            }
        }
        Frame::new(columns)
    }
}

/// `column` as type `to` (which differs from its own).
fn converted(column: &Column, to: DataType) -> Result<Column, FrameError> {
    let name = column.name.clone();
    match (&column.data, to) {
        (ColumnData::Categorical { levels, codes }, DataType::Numerical) => {
            let numbers: Vec<Option<f64>> = levels.iter().map(|l| parse_number(l)).collect();
            let value = |code: &Option<u32>| match code {
                None => Ok(f64::NAN),
                Some(c) => numbers[*c as usize].ok_or_else(|| FrameError::NotANumber {
                    column: name.clone(),
                    label: levels[*c as usize].clone(),
                }),
            };
            let values = codes.iter().map(value).collect::<Result<_, _>>()?;
            Ok(Column::numerical(name.clone(), values))
        }
        (_, DataType::Categorical) => {
            let labels: Vec<Option<_>> = (0..column.len()).map(|r| column.text(r)).collect();
            Ok(Column::categorical(name, &labels))
        }
        (_, DataType::Datetime) => datetime_column(column),
        (ColumnData::Datetime { .. }, DataType::Numerical) => {
            let text = converted(column, DataType::Categorical)?;
            converted(&text, DataType::Numerical)
        }
        (ColumnData::Numerical(_), DataType::Numerical) => Ok(column.clone()),
    }
}

/// `column` as a datetime column: itself if it is one, else its text read as
/// date-times (see [`Frame::retype`]).
pub(crate) fn as_datetime(column: &Column) -> Result<std::borrow::Cow<'_, Column>, FrameError> {
    match column.data {
        ColumnData::Datetime { .. } => Ok(std::borrow::Cow::Borrowed(column)),
        _ => datetime_column(column).map(std::borrow::Cow::Owned),
    }
}

/// `column` read as date-times in one format.
fn datetime_column(column: &Column) -> Result<Column, FrameError> {
    let mut first: Option<(String, DateFormat)> = None;
    let mut format: Option<DateFormat> = None;
    let mut millis = Vec::with_capacity(column.len());
    for row in 0..column.len() {
        let Some(text) = column.text(row) else {
            millis.push(None);
            continue;
        };
        let (ms, own) = parse_datetime(&text).ok_or_else(|| FrameError::NotADatetime {
            column: column.name.clone(),
            label: text.to_string(),
        })?;
        match &first {
            None => first = Some((text.to_string(), own)),
            Some((value, seen)) if !seen.same_as(&own) => {
                return Err(FrameError::MixedDateFormats {
                    column: column.name.clone(),
                    first: (value.clone(), *seen),
                    second: (text.to_string(), own),
                })
            }
            Some(_) => {}
        }
        format = Some(format.map_or(own, |f| f.widest(own)));
        millis.push(Some(ms));
    }
    let format = format.unwrap_or(DateFormat {
        date_sep: '-',
        time_sep: ' ',
        time: super::TimePart::None,
        zulu: false,
    });
    let data = ColumnData::Datetime { millis, format };
    Ok(Column {
        name: column.name.clone(),
        data,
    })
}

/// A label's number, as the CSV reader would take it: finite, spaces ignored.
fn parse_number(label: &str) -> Option<f64> {
    label.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame::new(vec![
            Column::numerical("n", vec![1.0, 0.0, f64::NAN, 2.5, 1.0, 1e20]),
            Column::categorical(
                "c",
                &[
                    Some("3"),
                    Some(" -1.5 "),
                    None,
                    Some("1e3"),
                    Some("3"),
                    Some("0"),
                ],
            ),
            Column::categorical("word", &[Some("a"), None, Some("b"), None, None, None]),
        ])
        .unwrap()
    }

    /// The frame as CSV text (frames with NaN never compare equal).
    fn csv(frame: &Frame) -> String {
        let mut bytes = Vec::new();
        frame.write_csv(&mut bytes).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    fn retype(frame: &Frame, name: &str, to: DataType) -> Result<Frame, FrameError> {
        frame.retype(&[(name.to_owned(), to)])
    }

    #[test]
    fn numbers_become_levels_printed_as_the_csv_writer_prints_them() {
        let original = frame();
        let retyped = retype(&original, "n", DataType::Categorical).unwrap();
        let ColumnData::Categorical { levels, codes } = &retyped.column("n").unwrap().data else {
            panic!("n is categorical now")
        };
        assert_eq!(levels, &["0", "1", "1e20", "2.5"]);
        assert_eq!(codes, &[Some(1), Some(0), None, Some(3), Some(1), Some(2)]);
        assert_eq!(
            original.column("n").unwrap().data_type(),
            DataType::Numerical
        );
        assert_eq!(retyped.column("c"), original.column("c"));
        assert_eq!(csv(&retyped), csv(&original));
        assert!(csv(&retyped).starts_with("n,c,word\n1,3,a\n0,"));
    }

    #[test]
    fn labels_become_numbers() {
        let retyped = retype(&frame(), "c", DataType::Numerical).unwrap();
        let ColumnData::Numerical(values) = &retyped.column("c").unwrap().data else {
            panic!("c is numerical now")
        };
        assert_eq!(values[..2], [3.0, -1.5]);
        assert!(values[2].is_nan());
        assert_eq!(values[3..], [1000.0, 3.0, 0.0]);
    }

    #[test]
    fn round_trip_and_unchanged_columns() {
        let original = frame();
        let there = retype(&original, "n", DataType::Categorical).unwrap();
        let back = retype(&there, "n", DataType::Numerical).unwrap();
        assert_eq!(back.column("n").unwrap().data_type(), DataType::Numerical);
        assert_eq!(csv(&back), csv(&original));
        let same = retype(&original, "n", DataType::Numerical).unwrap();
        assert_eq!(same.column("n").unwrap().data_type(), DataType::Numerical);
        assert_eq!(csv(&same), csv(&original));
        let same = retype(&original, "word", DataType::Categorical).unwrap();
        assert_eq!(same.column("word"), original.column("word"));
        assert_eq!(csv(&original.retype(&[]).unwrap()), csv(&original));
    }

    #[test]
    fn text_and_unknown_columns_are_refused_by_name() {
        let err = retype(&frame(), "word", DataType::Numerical).unwrap_err();
        assert_eq!(
            err,
            FrameError::NotANumber {
                column: "word".into(),
                label: "a".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "column 'word' cannot be numerical: 'a' is not a number"
        );
        let inf = Frame::new(vec![Column::categorical("x", &[Some("1"), Some("inf")])]);
        let err = retype(&inf.unwrap(), "x", DataType::Numerical).unwrap_err();
        assert!(err.to_string().contains("'inf' is not a number"), "{err}");
        let err = retype(&frame(), "ghost", DataType::Categorical).unwrap_err();
        assert_eq!(err, FrameError::UnknownColumn("ghost".into()));
        assert_eq!(err.to_string(), "there is no column 'ghost'");
    }

    #[test]
    fn text_becomes_datetime_and_back() {
        let labels = [
            Some("2020-01-06"),
            None,
            Some("2020-01-07"),
            Some("2020-01-06"),
        ];
        let f = Frame::new(vec![Column::categorical("d", &labels)]).unwrap();
        let dated = retype(&f, "d", DataType::Datetime).unwrap();
        let ColumnData::Datetime { millis, format } = &dated.column("d").unwrap().data else {
            panic!("d is datetime now")
        };
        assert_eq!(format.to_string(), "YYYY-MM-DD");
        assert_eq!(millis[0], Some(18_267 * 86_400_000));
        assert_eq!(millis[1], None);
        assert_eq!(csv(&dated), csv(&f));
        let back = retype(&dated, "d", DataType::Categorical).unwrap();
        assert_eq!(back.column("d"), f.column("d"));
        let err = retype(&dated, "d", DataType::Numerical).unwrap_err();
        assert!(
            err.to_string().contains("'2020-01-06' is not a number"),
            "{err}"
        );
    }

    #[test]
    fn mixed_formats_and_non_dates_are_refused_with_examples() {
        let labels = [
            Some("2020-01-06"),
            Some("2020-01-07 10:00"),
            Some("2020/01/08"),
        ];
        let f = Frame::new(vec![Column::categorical("when", &labels)]).unwrap();
        let err = retype(&f, "when", DataType::Datetime).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column 'when' mixes date formats: '2020-01-06' is YYYY-MM-DD but \
             '2020-01-07 10:00' is YYYY-MM-DD HH:MM; a datetime column must use one format"
        );
        let err = retype(&frame(), "word", DataType::Datetime).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("column 'word' cannot be datetime: 'a' is not a date-time"),
            "{err}"
        );
        let err = retype(&frame(), "n", DataType::Datetime).unwrap_err();
        assert!(matches!(err, FrameError::NotADatetime { .. }), "{err}");
    }
}
