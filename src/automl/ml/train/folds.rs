//! Which cross-validation fold scores each row, as [`train_tested`](super::train_tested)
//! deals them: for tools outside the engine (a benchmark's peers, say) that must be
//! scored on exactly the same folds.

use super::super::error::TrainError;
use super::super::frame::Frame;
use super::super::spec::TrainSpec;
use super::task::Task;
use super::{check_spec, retyped};

/// Per row of `frame`, the index of the cross-validation fold whose model scores it
/// when `spec` is trained on `frame`: `Some(fold)` (0-based, below `spec.nfold`), or
/// `None` for a row that no fold scores (no target value, held out by
/// `validation_percentage`, outside a time split's folds).
///
/// The folds come from the same preparation training runs (the same shuffle by
/// `spec.seed`, the same class stratification), so the same frame and spec always give
/// the folds training uses, and fold `f`'s model is fitted on the rows of every other
/// fold. With a time split a row may be fitted on by later folds; the fold given is the
/// one that scores it.
///
/// # Examples
/// ```
/// use taskloop::automl::{cv_folds, parse_csv, CsvLimits, TrainSpec};
///
/// let csv = "x,y\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,a\n8,b\n9,\n";
/// let frame = parse_csv(csv.as_bytes(), &CsvLimits::default()).unwrap();
/// let spec = TrainSpec { nfold: 2, ..TrainSpec::new("y") };
/// let folds = cv_folds(&frame, &spec).unwrap();
/// assert_eq!(folds.len(), 9);
/// assert_eq!(folds[8], None); // no target
/// assert_eq!(folds.iter().filter(|f| **f == Some(0)).count(), 4);
/// ```
///
/// # Errors
/// The errors of [`train_tested`](super::train_tested) that do not depend on training
/// itself: [`TrainError::BadSpec`] for a malformed spec (fold count outside 2..=10, ...)
/// and [`TrainError::Invalid`] when the spec does not fit the data (unknown target, a
/// single class, too few rows, ...).
pub fn cv_folds(frame: &Frame, spec: &TrainSpec) -> Result<Vec<Option<usize>>, TrainError> {
    check_spec(spec)?;
    let frame = retyped(frame, spec, "")?;
    let task = Task::prepare(&frame, spec)?;
    let mut folds = vec![None; frame.rows()];
    for fold in 0..task.cv.len() {
        let (_, scored) = task.cv.fold(fold);
        for &row in scored {
            folds[row] = Some(fold);
        }
    }
    Ok(folds)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::super::super::metrics::average;
    use super::super::super::model::Predictor;
    use super::super::super::testdata::linear;
    use super::super::super::{Algo, Column};
    use super::super::tests::{model, run};
    use super::super::{fit, score, How, Settings};
    use super::*;

    /// The rows `folds` assigns to fold `f`, and the labelled rows of the other folds.
    fn split(folds: &[Option<usize>], f: usize) -> (Vec<usize>, Vec<usize>) {
        let rows = |keep: &dyn Fn(usize) -> bool| -> Vec<usize> {
            (0..folds.len())
                .filter(|&r| folds[r].is_some_and(keep))
                .collect()
        };
        (rows(&|g| g != f), rows(&|g| g == f))
    }

    #[test]
    fn refitting_on_the_given_folds_reproduces_the_cv_averages() {
        let frame = linear(300, 7);
        let spec = TrainSpec {
            algos: vec![Algo::Glm],
            seed: 11,
            ..TrainSpec::new("y")
        };
        let folds = cv_folds(&frame, &spec).unwrap();
        let task = Task::prepare(&frame, &spec).unwrap();
        let cancel = AtomicBool::new(false);
        let scores: Vec<_> = (0..spec.nfold)
            .map(|f| {
                let (training, scored) = split(&folds, f);
                let how = How {
                    algo: Algo::Glm,
                    trees: None,
                    settings: &Settings::Default,
                    ntrees: None,
                };
                let (fitted, _) = fit(&frame, &task, how, &training, None, 0, &cancel).unwrap();
                score(
                    &frame,
                    &task,
                    &task.target,
                    &Predictor::One(fitted),
                    &scored,
                )
                .unwrap()
            })
            .collect();
        let ours = average(&scores);
        let experiment = run(&frame, &spec).unwrap();
        let trained = &model(&experiment, Algo::Glm).cv_averages;
        for metric in ["mse", "mae", "r2"] {
            let (a, b) = (ours[metric], trained[metric]);
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{metric}: {a} vs {b}"
            );
        }
    }

    #[test]
    fn every_labelled_row_gets_one_fold_and_classes_are_spread() {
        let labels: Vec<Option<&str>> = (0..200)
            .map(|i| [Some("a"), Some("b"), None, Some("b")][i % 4])
            .collect();
        let x = Column::numerical("x", (0..200).map(f64::from).collect());
        let frame = Frame::new(vec![x, Column::categorical("y", &labels)]).unwrap();
        let folds = cv_folds(&frame, &TrainSpec::new("y")).unwrap();
        assert_eq!(folds.len(), 200);
        for (row, fold) in folds.iter().enumerate() {
            assert_eq!(fold.is_some(), labels[row].is_some(), "row {row}");
        }
        for f in 0..5 {
            let in_fold = |label: &str| {
                (0..200)
                    .filter(|&r| folds[r] == Some(f) && labels[r] == Some(label))
                    .count()
            };
            assert_eq!((in_fold("a"), in_fold("b")), (10, 20), "fold {f}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_folds_and_another_seed_others() {
        let frame = linear(100, 1);
        let with_seed = |seed| {
            cv_folds(
                &frame,
                &TrainSpec {
                    seed,
                    ..TrainSpec::new("y")
                },
            )
            .unwrap()
        };
        assert_eq!(with_seed(5), with_seed(5));
        assert_ne!(with_seed(5), with_seed(6));
    }

    #[test]
    fn held_out_rows_have_no_fold_and_bad_specs_are_errors() {
        let frame = linear(100, 1);
        let spec = TrainSpec {
            validation_percentage: Some(20.0),
            ..TrainSpec::new("y")
        };
        let folds = cv_folds(&frame, &spec).unwrap();
        assert_eq!(folds.iter().filter(|f| f.is_none()).count(), 20);
        let bad = TrainSpec {
            nfold: 0,
            ..TrainSpec::new("y")
        };
        assert!(matches!(
            cv_folds(&frame, &bad),
            Err(TrainError::BadSpec(_))
        ));
        assert!(matches!(
            cv_folds(&frame, &TrainSpec::new("nope")),
            Err(TrainError::Invalid(_))
        ));
    }
}
