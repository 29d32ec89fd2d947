//! What a train request must satisfy before any data is read, and the request's
//! column retyping.

use std::borrow::Cow;

use super::super::error::TrainError;
use super::super::frame::{Frame, FrameError};
use super::super::spec::{trained_phrase, Algo, TrainSpec};

/// `frame` with `spec.feature_types` applied (columns `frame` lacks are skipped for a
/// test set, named `what`).
pub(super) fn retyped<'a>(
    frame: &'a Frame,
    spec: &TrainSpec,
    what: &str,
) -> Result<Cow<'a, Frame>, TrainError> {
    if spec.feature_types.is_empty() {
        return Ok(Cow::Borrowed(frame));
    }
    let changes: Vec<_> = spec
        .feature_types
        .iter()
        .filter(|(name, _)| what.is_empty() || frame.column(name).is_some())
        .cloned()
        .collect();
    frame.retype(&changes).map(Cow::Owned).map_err(|e| {
        let e = match e {
            FrameError::UnknownColumn(name) => {
                format!("the column '{name}' does not exist")
            }
            other => other.to_string(),
        };
        TrainError::Invalid(format!("feature_types: {what}{e}"))
    })
}

/// Checks the options beyond the basics: class balancing, the time split, the
/// tolerance and the time budget.
fn check_options(spec: &TrainSpec) -> Result<(), TrainError> {
    let bad = |m: String| Err(TrainError::BadSpec(m));
    if spec.time_split.is_some() && spec.validation_percentage.is_some() {
        return bad(
            "validation_percentage (or holdout_percentage) cannot be combined with \
             time_series_split: a random hold-out would leak later rows into training; \
             give time_series_split a test range instead"
                .into(),
        );
    }
    if let Some(t) = spec.tolerance.filter(|t| !(0.0..1.0).contains(t)) {
        return bad(format!("tolerance must be at least 0 and below 1, not {t}"));
    }
    if spec.max_run_time.is_some_and(|t| t.is_zero()) {
        return bad("max_run_time must be more than 0 seconds".into());
    }
    if let Some(balance) = &spec.balance {
        let m = balance.max_after_balance;
        if !(m.is_finite() && m > 0.0) {
            return bad(format!(
                "max_after_balance must be a number above 0, not {m}"
            ));
        }
        let factors = balance.sampling_factors.iter().flatten();
        if let Some(f) = factors.copied().find(|f| !(f.is_finite() && *f >= 0.0)) {
            return bad(format!(
                "sampling_factors must be numbers of at least 0, not {f}"
            ));
        }
    }
    Ok(())
}

/// The distinct algorithms to train, after checking the data-independent parts of
/// `spec`.
pub(super) fn check_spec(spec: &TrainSpec) -> Result<Vec<Algo>, TrainError> {
    if !(2..=10).contains(&spec.nfold) {
        return Err(TrainError::BadSpec(format!(
            "nfold must be between 2 and 10, not {}",
            spec.nfold
        )));
    }
    if let Some(pct) = spec.validation_percentage {
        if !(0.0..=90.0).contains(&pct) {
            return Err(TrainError::BadSpec(format!(
                "validation_percentage must be between 0 and 90, not {pct}"
            )));
        }
    }
    if spec.max_model == Some(0) {
        return Err(TrainError::BadSpec("max_model must be at least 1".into()));
    }
    check_options(spec)?;
    let mut algos: Vec<Algo> = Vec::new();
    for &algo in &spec.algos {
        if !algos.contains(&algo) {
            algos.push(algo);
        }
    }
    if algos.is_empty() {
        return Err(TrainError::BadSpec(format!(
            "no algorithm to train (use {})",
            trained_phrase(", ")
        )));
    }
    if algos == [Algo::StackedEnsemble] {
        return Err(TrainError::BadSpec(
            "StackedEnsemble combines the models of other algorithms: request it with \
             GLM, DRF or GBM"
                .into(),
        ));
    }
    if spec.time_split.is_some() && algos.contains(&Algo::StackedEnsemble) {
        return Err(TrainError::BadSpec(
            "StackedEnsemble cannot be combined with time_series_split: its blend learns \
             from every fold's predictions, so later rows would teach the blend that \
             scores earlier ones; leave StackedEnsemble out"
                .into(),
        ));
    }
    Ok(algos)
}
