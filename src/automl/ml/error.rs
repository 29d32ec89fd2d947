//! Errors of training and prediction.

use std::fmt;

use super::spec::ParseSpecError;

/// Why [`train_tested`](super::train_tested) did not produce an experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrainError {
    /// The request itself is malformed (unknown name, fold count out of range, ...),
    /// whatever the data.
    BadSpec(String),
    /// The request does not fit this data (no such target, a single class, too few
    /// rows, ...). The server reports this as status `invalid`.
    Invalid(String),
    /// The cancel flag was raised.
    Cancelled,
    /// `max_run_time` ran out before any model finished.
    OutOfTime(String),
    /// A numerical failure no data should cause; please report it.
    Failed(String),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::BadSpec(m) => write!(f, "bad train request: {m}"),
            TrainError::Invalid(m) => write!(f, "cannot train on this data: {m}"),
            TrainError::Cancelled => f.write_str("training was stopped"),
            TrainError::OutOfTime(m) => write!(f, "training ran out of time: {m}"),
            TrainError::Failed(m) => write!(f, "training failed: {m}"),
        }
    }
}

impl std::error::Error for TrainError {}

impl From<ParseSpecError> for TrainError {
    fn from(e: ParseSpecError) -> Self {
        TrainError::BadSpec(e.to_string())
    }
}

/// Why [`TrainedModel::predict`](super::TrainedModel::predict) failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PredictError {
    /// The data lacks a column the model was trained on.
    MissingFeature(String),
    /// A column asked for in `keep_columns` does not exist.
    MissingKeepColumn(String),
    /// A column that was numerical in training holds a value that is not a number.
    NotNumeric {
        /// The column.
        column: String,
        /// The first offending value.
        value: String,
    },
    /// A column the model reads as date-times holds something else (the message).
    NotDatetime(String),
    /// The threshold is not a probability.
    BadThreshold(f64),
    /// Two output columns would share a name: a kept column (or the target) named
    /// `prediction` or like a class label, or a class labelled `prediction`.
    OutputClash(String),
}

impl fmt::Display for PredictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PredictError::MissingFeature(c) => {
                write!(
                    f,
                    "the data has no column '{c}', which the model was trained on"
                )
            }
            PredictError::MissingKeepColumn(c) => {
                write!(f, "cannot keep column '{c}': the data has no such column")
            }
            PredictError::NotNumeric { column, value } => {
                write!(
                    f,
                    "column '{column}' was numerical in training but holds '{value}'"
                )
            }
            PredictError::NotDatetime(message) => f.write_str(message),
            PredictError::BadThreshold(t) => write!(f, "threshold {t} is not between 0 and 1"),
            PredictError::OutputClash(c) => {
                write!(
                    f,
                    "the predictions would have two columns named '{c}' (a kept column \
                     or the target named like 'prediction' or a class label)"
                )
            }
        }
    }
}

impl std::error::Error for PredictError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        let e = TrainError::Invalid("target 'y' does not exist".into());
        assert_eq!(
            e.to_string(),
            "cannot train on this data: target 'y' does not exist"
        );
        let e = PredictError::NotNumeric {
            column: "age".into(),
            value: "old".into(),
        };
        assert_eq!(
            e.to_string(),
            "column 'age' was numerical in training but holds 'old'"
        );
        let e: TrainError = "x".parse::<super::super::Algo>().unwrap_err().into();
        assert!(matches!(e, TrainError::BadSpec(_)));
    }

    #[test]
    fn error_types_stay_small() {
        assert!(std::mem::size_of::<TrainError>() <= 32);
        assert!(std::mem::size_of::<PredictError>() <= 56);
    }
}
