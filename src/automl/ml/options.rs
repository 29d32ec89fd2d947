//! The train request's options beyond the basics of [`TrainSpec`](super::TrainSpec):
//! class balancing, a time-ordered split instead of random folds, a time budget and the
//! early-stopping tolerance. Each is honoured by [`train()`](super::train()) as its
//! documentation says; none is accepted and then ignored.

use std::fmt;

/// Class balancing for classifiers (the SDK's `balance_class`, `max_after_balance` and
/// `sampling_factors`, H2O's `balance_classes`, `max_after_balance_size` and
/// `class_sampling_factors`).
///
/// Every fit resamples its training rows class by class: class `c` is drawn at rate
/// `factor[c]` (whole copies of every row, then a seeded random share of the rows for
/// the fraction), so a factor of 2 doubles a class and 0.5 halves it. Without
/// `sampling_factors` each class is brought to the mean class size (`rows / classes`).
/// When the resampled rows would exceed `max_after_balance` times the original count,
/// all factors are scaled down to fit. Scores (cross-validation, validation, test) are
/// always computed on the original, unbalanced rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    /// Most rows after balancing, relative to the rows before (H2O's default: 5).
    pub max_after_balance: f64,
    /// One rate per class, in the sorted order of the class labels; `None`: equal
    /// class sizes.
    pub sampling_factors: Option<Vec<f64>>,
}

impl Default for Balance {
    fn default() -> Self {
        Balance {
            max_after_balance: 5.0,
            sampling_factors: None,
        }
    }
}

/// One end of a [`SplitRange`]: a number for a numerical column, a text for any other
/// (ISO 8601 dates and times order correctly as text).
#[derive(Debug, Clone, PartialEq)]
pub enum SplitBound {
    /// Compared numerically with a numerical column's values.
    Number(f64),
    /// Compared as text with the column's values as the CSV shows them.
    Text(String),
}

impl fmt::Display for SplitBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitBound::Number(x) => write!(f, "{x}"),
            SplitBound::Text(t) => write!(f, "'{t}'"),
        }
    }
}

/// The rows whose `split_by` value lies in `start..=end`.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitRange {
    /// The first value included.
    pub start: SplitBound,
    /// The last value included.
    pub end: SplitBound,
}

impl fmt::Display for SplitRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.start, self.end)
    }
}

/// One cross-validation fold of a [`TimeSplit`]: fit on `train`, score on `test`.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitFold {
    /// The rows the fold's model is fitted on.
    pub train: SplitRange,
    /// The rows it is scored on; they must all come after `train`.
    pub test: SplitRange,
}

/// A time-ordered split (the SDK's `time_series_split` built from `ts_split_split_by`,
/// `ts_split_cv`, `ts_split_train` and `ts_split_test`), in place of random folds:
/// the folds are given as ranges of the `split_by` column, the final models are fitted
/// on the `train` range, and the optional `test` range is scored into `test_scores`.
/// A fold whose test range does not lie entirely after its train range is refused, as
/// is a `test` range that does not lie after `train`: either would score a model on
/// the past of the rows it learnt from.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSplit {
    /// The column whose values order the rows in time.
    pub split_by: String,
    /// The cross-validation folds (at least one).
    pub cv: Vec<SplitFold>,
    /// The rows the final models are fitted on.
    pub train: SplitRange,
    /// Rows scored by the final models into `test_scores`.
    pub test: Option<SplitRange>,
}
