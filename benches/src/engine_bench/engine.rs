//! The engine's side, in-process through the crate's public API: read the CSV with
//! `parse_csv`, write the folds `cv_folds` deals, train GLM, DRF, GBM and their
//! StackedEnsemble with 5-fold cross-validation (`train_tested`, every other setting
//! the SDK default) and time each algorithm's folds.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write as _};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use taskloop::automl::evaluator::Evaluator;
use taskloop::automl::{
    cv_folds, parse_csv, train_tested, Algo, CsvLimits, Frame, ModelType, TrainSpec,
    TrainedExperiment, TrainedModel,
};

use super::Scored;

/// The target column of every data set.
pub const TARGET: &str = "target";

/// What the engine scored on one data set.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineRun {
    /// The metric compared: RMSE, logloss or AUC by the model type.
    pub metric: Evaluator,
    /// GLM, DRF, GBM (with their 5-fold times) and StackedEnsemble.
    pub models: Vec<Scored>,
    /// Wall time of the whole `train_tested` call (folds and final fits).
    pub total_seconds: f64,
}

/// The SDK's default train input with every algorithm the server trains: GLM, DRF,
/// GBM and StackedEnsemble (or those of `algos` named, by [`super::args::ALGOS`]'
/// names), 5 folds, seed 42, `auto` evaluator, no hold-out, no `max_model` unless
/// given; `threads` folds fitted at once (the models do not depend on it).
pub fn spec(threads: usize, max_model: Option<usize>, algos: &[&str]) -> TrainSpec {
    let all = [
        ("glm", Algo::Glm),
        ("drf", Algo::Drf),
        ("gbm", Algo::Gbm),
        ("stackedensemble", Algo::StackedEnsemble),
    ];
    TrainSpec {
        algos: all
            .iter()
            .filter(|(name, _)| algos.contains(name))
            .map(|&(_, algo)| algo)
            .collect(),
        nfold: 5,
        threads,
        max_model,
        ..TrainSpec::new(TARGET)
    }
}

/// Reads the CSV at `path` (no row limit).
///
/// # Errors
/// A message naming the file when it cannot be opened or parsed.
pub fn load(path: &Path) -> Result<Frame, String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let limits = CsvLimits {
        max_rows: usize::MAX,
        ..CsvLimits::default()
    };
    parse_csv(BufReader::new(file), &limits).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the fold of every row of `frame` under `spec` to `path`: a `fold` column, one
/// line per data row, empty for a row no fold scores.
///
/// # Errors
/// A message when the folds cannot be dealt or the file written.
pub fn write_folds(frame: &Frame, spec: &TrainSpec, path: &Path) -> Result<(), String> {
    let folds = cv_folds(frame, spec).map_err(|e| format!("cv_folds: {e}"))?;
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    writeln!(out, "fold").map_err(io)?;
    for fold in folds {
        match fold {
            Some(f) => writeln!(out, "{f}"),
            None => writeln!(out),
        }
        .map_err(io)?;
    }
    out.flush().map_err(io)
}

/// Trains `spec` on `frame`, timing each algorithm from the progress reports; `label`
/// prefixes the progress lines on stderr.
///
/// # Errors
/// The training error as a message.
pub fn train(frame: &Frame, spec: &TrainSpec, label: &str) -> Result<EngineRun, String> {
    let mut events: Vec<(Instant, String)> = Vec::new();
    let start = Instant::now();
    let mut progress = |_: f64, message: &str| {
        eprintln!("[engine] {label}: {message}");
        events.push((Instant::now(), message.to_owned()));
    };
    let experiment = train_tested(frame, None, spec, &mut progress, &AtomicBool::new(false))
        .map_err(|e| format!("train_tested: {e}"))?;
    let total_seconds = start.elapsed().as_secs_f64();
    let metric = metric(&experiment);
    let models = experiment
        .models
        .iter()
        .map(|m| scored(m, metric, fold_seconds(&events, start, m.algo)))
        .collect();
    Ok(EngineRun {
        metric,
        models,
        total_seconds,
    })
}

/// The metric compared for the experiment's model type.
fn metric(experiment: &TrainedExperiment) -> Evaluator {
    match experiment.model_type {
        ModelType::Regression => Evaluator::Rmse,
        ModelType::Binary => Evaluator::Auc,
        ModelType::Multinomial => Evaluator::Logloss,
    }
}

/// One engine model as a [`Scored`]: its cross-validated `metric`, its fold time and
/// its hyper-parameters.
fn scored(model: &TrainedModel, metric: Evaluator, seconds: Option<f64>) -> Scored {
    let settings: Vec<String> = model
        .hyperparameters()
        .iter()
        .filter(|(name, _)| *name != "seed")
        .map(|(name, value)| format!("{name}={}", compact(*value)))
        .collect();
    let rounds = model
        .hyperparameters()
        .into_iter()
        .find(|(n, _)| *n == "ntrees");
    Scored {
        name: model.algo.to_string(),
        value: model.cv_averages.get(metric.as_str()).copied(),
        seconds,
        settings: settings.join(" "),
        rounds: rounds.filter(|_| model.algo == Algo::Gbm).map(|(_, n)| n),
    }
}

/// `value` in few characters: `50`, `0.8`, `4.42e-4`.
fn compact(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else if value.abs() >= 0.01 {
        let text = format!("{value:.4}");
        text.trim_end_matches('0').to_owned()
    } else {
        format!("{value:.2e}")
    }
}

/// The seconds `algo` spent on its cross-validation folds: from the report before its
/// first one (or `start`) to its last `"{algo} fold ..."` report. `None` when the
/// reports name no fold of `algo`.
fn fold_seconds(events: &[(Instant, String)], start: Instant, algo: Algo) -> Option<f64> {
    let prefix = format!("{algo} fold");
    let first = events.iter().position(|(_, m)| m.starts_with(&prefix))?;
    let last = events.iter().rposition(|(_, m)| m.starts_with(&prefix))?;
    let from = match first {
        0 => start,
        i => events[i - 1].0,
    };
    Some(events[last].0.duration_since(from).as_secs_f64())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn fold_time_runs_from_the_previous_report_to_the_last_fold() {
        let start = Instant::now();
        let at = |ms: u64, m: &str| (start + Duration::from_millis(ms), m.to_owned());
        let events = [
            at(10, "data prepared"),
            at(20, "GLM fold 1/2"),
            at(30, "GLM fold 2/2"),
            at(40, "GLM final model"),
            at(100, "DRF fold 1/2"),
            at(300, "DRF fold 2/2"),
        ];
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-9;
        assert!(close(fold_seconds(&events, start, Algo::Glm), 0.020));
        assert!(close(fold_seconds(&events, start, Algo::Drf), 0.260));
        assert_eq!(fold_seconds(&events, start, Algo::Gbm), None);
        assert!(close(fold_seconds(&events[1..], start, Algo::Glm), 0.030));
    }

    #[test]
    fn settings_are_short() {
        let texts = [50.0, 0.8, 0.1, 0.000442, -2.5].map(compact);
        assert_eq!(texts, ["50", "0.8", "0.1", "4.42e-4", "-2.5"]);
    }

    #[test]
    fn folds_file_has_one_line_per_row() {
        let csv = "x,target\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,\n";
        let frame = parse_csv(csv.as_bytes(), &CsvLimits::default()).unwrap();
        let spec = TrainSpec {
            nfold: 2,
            ..spec(1, None, &super::super::args::ALGOS)
        };
        let path = std::env::temp_dir().join(format!("engine-folds-{}.csv", std::process::id()));
        write_folds(&frame, &spec, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8);
        assert_eq!((lines[0], lines[7]), ("fold", ""));
        assert_eq!(lines.iter().filter(|l| **l == "0").count(), 3);
    }
}
