//! The work behind each task type, as [`Job`]s for the worker threads: parse an upload,
//! train an experiment, score a data set. Each owns its inputs, so nothing is locked
//! while it runs.

use std::ops::Range;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::budget::Reservation;
use super::store::{DataSet, NewExperiment};
use super::worker::{Job, JobOutput};
use crate::automl::ml::{
    parse_csv, train_tested, working_memory, ColumnData, CsvLimits, DataType, Frame, TrainError,
    TrainSpec, TrainedModel,
};

/// Parses `body[content]` as CSV into a data set named `name`. `hold` keeps the body's
/// bytes in the server's memory budget until it is parsed.
pub(crate) fn upload(body: Vec<u8>, content: Range<usize>, name: String, hold: Reservation) -> Job {
    Box::new(move |progress| {
        let _hold = hold;
        progress.report(0.0, "parsing CSV");
        let Some(bytes) = body.get(content) else {
            return JobOutput::Fail("bad CSV: upload content out of range".into());
        };
        let _working = match progress.reserve(parse_memory(bytes), "parse this upload") {
            Ok(reservation) => reservation,
            Err(message) => return JobOutput::Fail(message),
        };
        match parse_csv(bytes, &CsvLimits::default()) {
            Ok(frame) => JobOutput::Data(DataSet {
                name,
                frame: Arc::new(frame),
                csv: Arc::from(bytes),
            }),
            Err(e) => JobOutput::Fail(format!("bad CSV: {e}")),
        }
    })
}

/// Estimated peak bytes of parsing `csv`: per cell (counted by its separators) its
/// value, its place in the text and the bookkeeping of a level, 32 bytes, plus the text
/// twice (kept while the type is inferred, and the data set's copy of the CSV).
fn parse_memory(csv: &[u8]) -> usize {
    let cells = csv.iter().filter(|&&b| b == b',' || b == b'\n').count() + 1;
    cells
        .saturating_mul(32)
        .saturating_add(csv.len().saturating_mul(2))
}

/// Retypes columns of `data` into a new data set (the original stays as it is). An
/// unknown column or type name, or a missing value in a column of `not_null` (marked
/// `"nullable": false`), makes the task `invalid`.
pub(crate) fn setup(data: DataSet, changes: Vec<(String, String)>, not_null: Vec<String>) -> Job {
    Box::new(move |progress| {
        progress.report(0.0, "retyping columns");
        let mut typed = Vec::with_capacity(changes.len());
        for (column, type_name) in changes {
            match parse_data_type(&type_name) {
                Some(data_type) => typed.push((column, data_type)),
                None => {
                    return JobOutput::Invalid(format!(
                        "unknown data_type '{type_name}' for column '{column}' \
                         (expected numerical, categorical or datetime)"
                    ))
                }
            }
        }
        let frame = match data.frame.retype(&typed) {
            Ok(frame) => frame,
            Err(e) => return JobOutput::Invalid(e.to_string()),
        };
        for name in &not_null {
            let Some(column) = frame.column(name) else {
                return JobOutput::Invalid(format!("there is no column '{name}'"));
            };
            let missing = match &column.data {
                ColumnData::Numerical(values) => values.iter().filter(|v| !v.is_finite()).count(),
                ColumnData::Categorical { codes, .. } => {
                    codes.iter().filter(|c| c.is_none()).count()
                }
                ColumnData::Datetime { millis, .. } => {
                    millis.iter().filter(|m| m.is_none()).count()
                }
            };
            if missing > 0 {
                return JobOutput::Invalid(format!(
                    "column '{name}' has {missing} missing values, but data_columns marks \
                     it nullable: false"
                ));
            }
        }
        JobOutput::Data(DataSet {
            frame: Arc::new(frame),
            ..data
        })
    })
}

/// The data type a setup or `feature_types` names.
pub(crate) fn parse_data_type(name: &str) -> Option<DataType> {
    [
        DataType::Numerical,
        DataType::Categorical,
        DataType::Datetime,
    ]
    .into_iter()
    .find(|t| t.as_str() == name)
}

/// Trains the models `spec` asks for on `frame` (data set `data_id`), scoring them on
/// the data set `test` if given, reporting fold by fold. `options` are the request's
/// options the experiment echoes.
pub(crate) fn train_experiment(
    frame: Arc<Frame>,
    data_id: String,
    test: Option<(String, Arc<Frame>)>,
    spec: TrainSpec,
    options: Map<String, Value>,
) -> Job {
    Box::new(move |progress| {
        let mut spec = spec;
        let what = format!("train on {} rows", frame.rows());
        // Folds fitted at once each need a fit's memory: as many threads as fit, at
        // least one (whose refusal is the task's error).
        let _working = loop {
            let need = match working_memory(&frame, &spec) {
                Ok(bytes) => bytes,
                Err(e) => return train_failed(e),
            };
            match progress.reserve(need, &what) {
                Ok(reservation) => break reservation,
                Err(_) if spec.threads > 1 => spec.threads -= 1,
                Err(message) => return JobOutput::Fail(message),
            }
        };
        let mut report = |fraction: f64, message: &str| progress.report(fraction, message);
        let test_frame = test.as_ref().map(|(_, f)| &**f);
        match train_tested(
            &frame,
            test_frame,
            &spec,
            &mut report,
            progress.cancel_flag(),
        ) {
            Ok(experiment) => JobOutput::Experiment(
                NewExperiment {
                    experiment,
                    train_data_id: data_id,
                    test_data_id: test.map(|(id, _)| id),
                    options,
                }
                .built(),
            ),
            Err(e) => train_failed(e),
        }
    })
}

/// The task's end for a training error.
fn train_failed(e: TrainError) -> JobOutput {
    match e {
        TrainError::Invalid(message) | TrainError::BadSpec(message) => JobOutput::Invalid(message),
        TrainError::Cancelled => JobOutput::Fail("stopped".into()),
        e => JobOutput::Fail(e.to_string()),
    }
}

/// What a predict task needs besides the model and the data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PredictOptions {
    /// Id of the model, to name the predictions.
    pub(crate) model_id: String,
    /// Columns of the data copied into the predictions.
    pub(crate) keep_columns: Vec<String>,
    /// Probability at which a binary model predicts the positive class.
    pub(crate) threshold: Option<f64>,
}

/// Scores `data` with `model` into a new data set of predictions. The job reserves
/// its working memory first: the output frame, its CSV (counted as large again) and
/// one chunk of encoded rows (the model encodes a few thousand rows at a time).
pub(crate) fn predict(model: Arc<TrainedModel>, data: Arc<Frame>, options: PredictOptions) -> Job {
    Box::new(move |progress| {
        let need = model
            .predict_memory(&data, &options.keep_columns)
            .saturating_mul(2);
        let what = format!("predict {} rows", data.rows());
        let _working = match progress.reserve(need, &what) {
            Ok(reservation) => reservation,
            Err(message) => return JobOutput::Fail(message),
        };
        progress.report(0.0, "predicting");
        let frame = match model.predict(&data, &options.keep_columns, options.threshold) {
            Ok(frame) => frame,
            Err(e) => return JobOutput::Invalid(e.to_string()),
        };
        data_output(frame, format!("predictions of {}", options.model_id))
    })
}

/// A new data set named `name` of `frame` and its CSV (predictions, forecasts).
pub(crate) fn data_output(frame: Frame, name: String) -> JobOutput {
    let mut csv = Vec::new();
    if let Err(e) = frame.write_csv(&mut csv) {
        return JobOutput::Fail(format!("could not write the predictions: {e}"));
    }
    JobOutput::Data(DataSet {
        name,
        frame: Arc::new(frame),
        csv: csv.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_is_estimated_from_cells_and_text() {
        // 2 commas + 2 line ends + 1 = 5 cells; 8 bytes of text, twice.
        assert_eq!(parse_memory(b"a,b\n1,2\n"), 5 * 32 + 16);
    }
}
