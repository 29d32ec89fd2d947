//! The AutoML benchmarks' pipeline (`src/bin/automl.rs`, `src/bin/client.rs`): upload the
//! training and the forecast data (A, B), train a GLM (C), predict the forecast with it
//! (D), as the Decanter SDK's users do.

use taskloop::automl::{Context, CsvSource, PredictInput, Predictions, TrainInput};
use taskloop::flow::{Flow, Job};

/// The feature columns of the rentals data the models are trained on.
pub const FEATURES: [&str; 5] = ["hour", "temp", "humidity", "workingday", "season"];

/// Declares pipeline `i` on `flow`: A and B upload their data under per-pipeline names,
/// C trains a GLM of `rentals` with `nfold` folds (seeded by `i`), D predicts B keeping
/// the `id` column. Returns D.
pub fn declare(
    ctx: &Context,
    flow: &mut Flow,
    i: usize,
    train: &CsvSource,
    forecast: &CsvSource,
    nfold: u32,
) -> Job<Predictions> {
    let a = ctx.upload(
        flow,
        format!("A{i}"),
        train.clone().named(format!("train-{i}")),
    );
    let b = ctx.upload(
        flow,
        format!("B{i}"),
        forecast.clone().named(format!("forecast-{i}")),
    );
    let spec = TrainInput::new(&a, "rentals")
        .algos(["GLM"])
        .nfold(nfold)
        .seed(i as u64)
        .features(FEATURES);
    let c = ctx.train(flow, format!("C{i}"), spec);
    ctx.predict(
        flow,
        format!("D{i}"),
        PredictInput::new(&b, &c).keep_columns(["id"]),
    )
}
