//! A time-ordered split ([`TimeSplit`]): the rows of each range of the `split_by`
//! column, and the checks that no fold scores a model on rows that come before the
//! rows it learnt from.

use std::cmp::Ordering;

use super::super::error::TrainError;
use super::super::frame::{parse_datetime, Column, ColumnData, Frame};
use super::super::options::{SplitBound, SplitRange, TimeSplit};

/// The rows of a time split, all with a target.
#[derive(Debug)]
pub(crate) struct SplitRows {
    /// Per fold: the rows to fit on and the rows to score.
    pub(crate) folds: Vec<(Vec<usize>, Vec<usize>)>,
    /// The final models' rows.
    pub(crate) train: Vec<usize>,
    /// Rows scored by the final models (empty without a `test` range).
    pub(crate) test: Vec<usize>,
}

/// The rows of `labelled` (rows with a target) that each range of `split` holds.
///
/// # Errors
/// [`TrainError::Invalid`] naming the field: an unknown `split_by` column (or the
/// target), no folds, a bound of the wrong kind for the column, an empty range, or a
/// test range that does not lie after its train range.
pub(crate) fn rows(
    frame: &Frame,
    split: &TimeSplit,
    target: &str,
    labelled: &[usize],
) -> Result<SplitRows, TrainError> {
    let invalid = |m: String| TrainError::Invalid(format!("time_series_split: {m}"));
    let by = &split.split_by;
    let column = frame
        .column(by)
        .ok_or_else(|| invalid(format!("the split_by column '{by}' does not exist")))?;
    if by == target {
        return Err(invalid(format!("split_by cannot be the target '{by}'")));
    }
    if split.cv.is_empty() {
        return Err(invalid("cv must list at least one fold".into()));
    }
    let select = |what: &str, range: &SplitRange| -> Result<Vec<usize>, TrainError> {
        check_bound(column, &range.start).map_err(|m| invalid(format!("{what}: {m}")))?;
        check_bound(column, &range.end).map_err(|m| invalid(format!("{what}: {m}")))?;
        let rows: Vec<usize> = labelled
            .iter()
            .copied()
            .filter(|&r| in_range(column, r, range))
            .collect();
        if rows.is_empty() {
            return Err(invalid(format!(
                "{what} ({range}) holds no row with a target in column '{by}'"
            )));
        }
        Ok(rows)
    };
    let after = |what: &str, test: &SplitRange, train: &SplitRange| {
        if compare_bounds(&test.start, &train.end) == Ordering::Greater {
            return Ok(());
        }
        Err(invalid(format!(
            "{what} starts at {}, which is not after its train range's end {}: a model \
             would be scored on rows older than those it learnt from",
            test.start, train.end
        )))
    };
    let mut folds = Vec::with_capacity(split.cv.len());
    for (i, fold) in split.cv.iter().enumerate() {
        let n = i + 1;
        let fit = select(&format!("cv fold {n}'s train range"), &fold.train)?;
        let scored = select(&format!("cv fold {n}'s test range"), &fold.test)?;
        after(
            &format!("cv fold {n}'s test range"),
            &fold.test,
            &fold.train,
        )?;
        folds.push((fit, scored));
    }
    let train = select("the train range", &split.train)?;
    let test = match &split.test {
        None => Vec::new(),
        Some(range) => {
            let rows = select("the test range", range)?;
            after("the test range", range, &split.train)?;
            rows
        }
    };
    Ok(SplitRows { folds, train, test })
}

/// Checks that `bound` can be compared with `column`'s values.
fn check_bound(column: &Column, bound: &SplitBound) -> Result<(), String> {
    match (&column.data, bound) {
        (ColumnData::Numerical(_), SplitBound::Text(t)) if t.trim().parse::<f64>().is_err() => {
            Err(format!(
                "the column '{}' is numerical, so '{t}' must be a number",
                column.name
            ))
        }
        (ColumnData::Categorical { .. }, SplitBound::Number(x)) => Err(format!(
            "the column '{}' holds text (dates as text compare as text); give {x} as a \
             string",
            column.name
        )),
        (ColumnData::Datetime { .. }, SplitBound::Number(x)) => Err(format!(
            "the column '{}' is datetime; give {x} as a date-time string",
            column.name
        )),
        (ColumnData::Datetime { .. }, SplitBound::Text(t)) if parse_datetime(t).is_none() => {
            Err(format!(
                "the column '{}' is datetime, but '{t}' is not a date-time (YYYY-MM-DD, \
                 optionally with HH:MM[:SS])",
                column.name
            ))
        }
        _ => Ok(()),
    }
}

/// Whether row `row` of `column` lies in `range` (a missing value lies in none).
fn in_range(column: &Column, row: usize, range: &SplitRange) -> bool {
    match &column.data {
        ColumnData::Numerical(values) => {
            let x = values[row];
            x.is_finite() && number(&range.start) <= x && x <= number(&range.end)
        }
        ColumnData::Categorical { .. } => column.text(row).is_some_and(|t| {
            let t: &str = &t;
            text(&range.start) <= t && t <= text(&range.end)
        }),
        ColumnData::Datetime { millis, .. } => millis[row].is_some_and(|m| {
            let moment = |b: &SplitBound| parse_datetime(text(b)).map(|(m, _)| m);
            moment(&range.start).is_some_and(|s| s <= m)
                && moment(&range.end).is_some_and(|e| m <= e)
        }),
    }
}

/// A bound as a number (only called on bounds [`check_bound`] accepted for a
/// numerical column).
fn number(bound: &SplitBound) -> f64 {
    match bound {
        SplitBound::Number(x) => *x,
        SplitBound::Text(t) => t.trim().parse().unwrap_or(f64::NAN),
    }
}

/// A bound as text (only called on bounds accepted for a text column).
fn text(bound: &SplitBound) -> &str {
    match bound {
        SplitBound::Text(t) => t,
        SplitBound::Number(_) => "",
    }
}

/// Orders two bounds of the same column (numbers numerically, text as text).
fn compare_bounds(a: &SplitBound, b: &SplitBound) -> Ordering {
    match (a, b) {
        (SplitBound::Text(x), SplitBound::Text(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => match (parse_datetime(x), parse_datetime(y)) {
                (Some((x, _)), Some((y, _))) => x.cmp(&y),
                _ => x.cmp(y),
            },
        },
        _ => number(a).total_cmp(&number(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automl::ml::SplitFold;

    fn range(start: &str, end: &str) -> SplitRange {
        let bound = |s: &str| SplitBound::Text(s.to_owned());
        SplitRange {
            start: bound(start),
            end: bound(end),
        }
    }

    fn frame() -> Frame {
        let days: Vec<Option<String>> = (1..=20).map(|d| Some(format!("2024-01-{d:02}"))).collect();
        Frame::new(vec![
            Column::categorical("day", &days),
            Column::numerical("t", (1..=20).map(f64::from).collect()),
            Column::numerical("y", (1..=20).map(f64::from).collect()),
        ])
        .unwrap()
    }

    fn split(
        by: &str,
        cv: Vec<SplitFold>,
        train: SplitRange,
        test: Option<SplitRange>,
    ) -> TimeSplit {
        TimeSplit {
            split_by: by.into(),
            cv,
            train,
            test,
        }
    }

    #[test]
    fn selects_each_range_by_date_text_and_by_number() {
        let all: Vec<usize> = (0..20).collect();
        let cv = vec![SplitFold {
            train: range("2024-01-01", "2024-01-10"),
            test: range("2024-01-11", "2024-01-15"),
        }];
        let s = split(
            "day",
            cv,
            range("2024-01-01", "2024-01-15"),
            Some(range("2024-01-16", "2024-01-20")),
        );
        let got = rows(&frame(), &s, "y", &all).unwrap();
        assert_eq!(got.folds[0].0, (0..10).collect::<Vec<_>>());
        assert_eq!(got.folds[0].1, (10..15).collect::<Vec<_>>());
        assert_eq!(got.train.len(), 15);
        assert_eq!(got.test, (15..20).collect::<Vec<_>>());

        let cv = vec![SplitFold {
            train: range("1", "5"),
            test: range("6", "8"),
        }];
        let got = rows(&frame(), &split("t", cv, range("1", "8"), None), "y", &all).unwrap();
        assert_eq!(got.folds[0].1, vec![5, 6, 7]);
        assert!(got.test.is_empty());
    }

    #[test]
    fn refuses_folds_that_look_back_in_time() {
        let all: Vec<usize> = (0..20).collect();
        let cv = vec![SplitFold {
            train: range("2024-01-05", "2024-01-10"),
            test: range("2024-01-01", "2024-01-04"),
        }];
        let s = split("day", cv, range("2024-01-01", "2024-01-15"), None);
        let err = rows(&frame(), &s, "y", &all).unwrap_err().to_string();
        assert!(
            err.contains("cv fold 1's test range starts at '2024-01-01'"),
            "{err}"
        );
        assert!(err.contains("not after"), "{err}");

        let ok_fold = || {
            vec![SplitFold {
                train: range("2024-01-01", "2024-01-05"),
                test: range("2024-01-06", "2024-01-08"),
            }]
        };
        let s = split(
            "day",
            ok_fold(),
            range("2024-01-01", "2024-01-15"),
            Some(range("2024-01-10", "2024-01-20")),
        );
        let err = rows(&frame(), &s, "y", &all).unwrap_err().to_string();
        assert!(err.contains("the test range starts at"), "{err}");

        let s = split("nope", ok_fold(), range("2024-01-01", "2024-01-15"), None);
        assert!(rows(&frame(), &s, "y", &all)
            .unwrap_err()
            .to_string()
            .contains("'nope' does not exist"));
        let s = split("day", ok_fold(), range("2025-01-01", "2025-02-01"), None);
        let err = rows(&frame(), &s, "y", &all).unwrap_err().to_string();
        assert!(
            err.contains("the train range ('2025-01-01' to '2025-02-01') holds no row"),
            "{err}"
        );
        let s = split("day", Vec::new(), range("2024-01-01", "2024-01-15"), None);
        assert!(rows(&frame(), &s, "y", &all)
            .unwrap_err()
            .to_string()
            .contains("at least one fold"));
        let cv = vec![SplitFold {
            train: range("a", "5"),
            test: range("6", "8"),
        }];
        let err = rows(&frame(), &split("t", cv, range("1", "8"), None), "y", &all).unwrap_err();
        assert!(err.to_string().contains("'a' must be a number"), "{err}");
    }
}
