//! Datetime features: the calendar parts of a moment (year, month, day, day of the year,
//! hour and minute, each standardised on the training rows) and the day of the week
//! one-hot, as the encoder writes them.

use super::super::error::PredictError;
use super::super::frame::{as_datetime, Calendar, Column, ColumnData};
use super::super::linalg::Matrix;
use super::{mean_and_scale, Feature};

/// A numeric calendar part of a datetime feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Year,
    Month,
    Day,
    Yearday,
    Hour,
    Minute,
}

impl Part {
    /// Every part, in encoding order.
    pub(crate) const ALL: [Part; 6] = [
        Part::Year,
        Part::Month,
        Part::Day,
        Part::Yearday,
        Part::Hour,
        Part::Minute,
    ];

    /// The part's name in encoded column names and model documents.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Part::Year => "year",
            Part::Month => "month",
            Part::Day => "day",
            Part::Yearday => "yearday",
            Part::Hour => "hour",
            Part::Minute => "minute",
        }
    }

    fn of(self, c: &Calendar) -> f64 {
        let v = match self {
            Part::Year => c.year,
            Part::Month => c.month,
            Part::Day => c.day,
            Part::Yearday => c.yearday,
            Part::Hour => c.hour,
            Part::Minute => c.minute,
        };
        v as f64
    }
}

/// Slots of the one-hot day of the week.
pub(super) const WEEKDAYS: usize = 7;

/// The calendar parts of a datetime column on the training rows.
pub(super) fn fit_calendar(column: &Column, rows: &[usize]) -> Result<Feature, PredictError> {
    let moments: Vec<Calendar> = calendar_values(column, rows)?
        .into_iter()
        .flatten()
        .collect();
    let indicator = moments.len() < rows.len();
    let mut parts = Vec::new();
    for part in Part::ALL {
        let values: Vec<f64> = moments.iter().map(|c| part.of(c)).collect();
        let clock = matches!(part, Part::Hour | Part::Minute);
        if clock && values.iter().all(|&v| v == 0.0) {
            continue;
        }
        let (mean, scale) = mean_and_scale(&values);
        parts.push((part, mean, scale));
    }
    Ok(Feature::Calendar {
        name: column.name.clone(),
        parts,
        indicator,
    })
}

/// The calendar of each row of `rows` (`None` = missing), reading text as date-times.
pub(super) fn calendar_values(
    column: &Column,
    rows: &[usize],
) -> Result<Vec<Option<Calendar>>, PredictError> {
    let column = as_datetime(column).map_err(|e| PredictError::NotDatetime(e.to_string()))?;
    let ColumnData::Datetime { millis, .. } = &column.data else {
        return Err(PredictError::NotDatetime(format!(
            "column '{}' is not datetime",
            column.name
        )));
    };
    Ok(rows.iter().map(|&r| millis[r].map(Calendar::of)).collect())
}

pub(super) fn fill_calendar(
    out: &mut Matrix,
    offset: usize,
    moments: &[Option<Calendar>],
    parts: &[(Part, f64, f64)],
    indicator: bool,
) {
    for (i, moment) in moments.iter().enumerate() {
        let row = out.row_mut(i);
        let Some(c) = moment else {
            if indicator {
                row[offset + parts.len() + WEEKDAYS] = 1.0;
            }
            continue;
        };
        for (k, &(part, mean, scale)) in parts.iter().enumerate() {
            row[offset + k] = (part.of(c) - mean) / scale;
        }
        row[offset + parts.len() + c.weekday as usize] = 1.0;
    }
}
