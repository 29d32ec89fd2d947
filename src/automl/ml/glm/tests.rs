//! What a GLM fit must get right: known models recovered, wide and separable data,
//! the penalty, cancellation, determinism and bad labels.

use super::objective::{Problem, Solver};
use super::*;
use crate::automl::ml::rng::Rng;

fn no_cancel() -> AtomicBool {
    AtomicBool::new(false)
}

fn fit(x: &Matrix, labels: Labels<'_>) -> Glm {
    Glm::fit(x, labels, &GlmParams::default(), &no_cancel()).unwrap()
}

/// `rows × cols` standard normal draws.
fn normal_matrix(rows: usize, cols: usize, seed: u64) -> Matrix {
    let mut rng = Rng::new(seed);
    let mut x = Matrix::zeros(rows, cols);
    (0..rows).for_each(|i| x.row_mut(i).iter_mut().for_each(|v| *v = rng.normal()));
    x
}

fn matrix(rows: &[[f64; 2]]) -> Matrix {
    let mut m = Matrix::zeros(rows.len(), 2);
    rows.iter()
        .enumerate()
        .for_each(|(i, r)| m.row_mut(i).copy_from_slice(r));
    m
}

fn values(output: Output) -> Vec<f64> {
    match output {
        Output::Values(v) => v,
        Output::Probs(_) => panic!("probabilities from a regression"),
    }
}

fn probs(output: Output) -> Matrix {
    match output {
        Output::Probs(p) => p,
        Output::Values(_) => panic!("values from a classifier"),
    }
}

fn lambda_of(glm: &Glm) -> f64 {
    glm.hyperparameters()[1].1
}

#[test]
fn linear_fits_a_known_linear_target_to_1e_6() {
    let x = normal_matrix(300, 5, 1);
    let truth = [3.0, 1.5, -2.0, 0.25, 0.0, 4.0];
    let y: Vec<f64> = x.iter_rows().map(|r| linear(&truth, r)).collect();
    let Glm::Linear { beta, .. } = fit(&x, Labels::Values(&y)) else {
        panic!("not a linear model")
    };
    for (b, t) in beta.iter().zip(truth) {
        assert!((b - t).abs() < 1e-6, "{beta:?}");
    }
}

#[test]
fn linear_recovers_exact_coefficients_despite_collinearity() {
    // Second column duplicates the first: the fit must still predict exactly.
    let x = matrix(&[[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]);
    let y = [1.0, 3.0, 5.0, 7.0];
    let pred = values(fit(&x, Labels::Values(&y)).predict(&x));
    pred.iter()
        .zip(y)
        .for_each(|(p, t)| assert!((p - t).abs() < 1e-3, "{p} vs {t}"));
}

/// One-hot columns of a `levels`-level categorical over `rows` rows, then one normal
/// column: wider than the normal equations go.
fn wide_one_hot(rows: usize, levels: usize) -> Matrix {
    let mut rng = Rng::new(5);
    let mut x = Matrix::zeros(rows, levels + 1);
    for i in 0..rows {
        let row = x.row_mut(i);
        row[i % levels] = 1.0;
        row[levels] = rng.normal();
    }
    x
}

#[test]
fn wide_least_squares_by_lbfgs_matches_the_normal_equations() {
    let x = wide_one_hot(2000, NORMAL_EQUATIONS_MAX_WIDTH + 20);
    assert!(x.cols() > NORMAL_EQUATIONS_MAX_WIDTH);
    let mut rng = Rng::new(9);
    let y: Vec<f64> = x
        .iter_rows()
        .enumerate()
        .map(|(i, r)| (i % 7) as f64 + 2.0 * r[r.len() - 1] + rng.normal())
        .collect();
    let problem = Problem {
        x: &x,
        family: Family::Gaussian(&y),
    };
    let settings = Settings {
        gradient_tolerance: 1e-10,
        ..Settings::default()
    };
    let start = vec![0.0; x.cols() + 1];
    let by_lbfgs = Solver::Iterative(problem)
        .solve(1e-3, start, &settings, &no_cancel())
        .unwrap();
    let exact = problem
        .normal_equations(&y, &no_cancel())
        .unwrap()
        .solve(1e-3)
        .unwrap();
    for (a, b) in by_lbfgs.iter().zip(&exact) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn wide_regression_fits_by_default() {
    let x = wide_one_hot(3000, 600);
    let y: Vec<f64> = (0..3000).map(|i| (i % 600) as f64 / 100.0).collect();
    let pred = values(fit(&x, Labels::Values(&y)).predict(&x));
    let worst = pred
        .iter()
        .zip(&y)
        .map(|(p, t)| (p - t).abs())
        .fold(0.0, f64::max);
    // The 1e-8 ridge alone shrinks a level seen in 1/600 of the rows by 6e-6 of its
    // effect (up to 3 standard deviations here).
    assert!(worst < 1e-4, "worst error {worst}");
}

#[test]
fn logistic_recovers_the_coefficients_of_a_logit_model() {
    let x = normal_matrix(20_000, 3, 2);
    let truth = [0.5, 1.0, -2.0, 0.5];
    let mut rng = Rng::new(3);
    let labels: Vec<usize> = x
        .iter_rows()
        .map(|r| usize::from(rng.next_f64() < sigmoid(linear(&truth, r))))
        .collect();
    let Glm::Logistic { beta, .. } = fit(&x, Labels::Classes(&labels, 2)) else {
        panic!("not a logistic model")
    };
    for (b, t) in beta.iter().zip(truth) {
        assert!((b - t).abs() < 0.1, "{beta:?}");
    }
}

#[test]
fn logistic_separates_and_stays_finite() {
    let x = matrix(&[[-2.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [2.0, 0.0]]);
    let p = probs(fit(&x, Labels::Classes(&[0, 0, 1, 1], 2)).predict(&x));
    assert!(p.row(0)[1] < 0.3 && p.row(3)[1] > 0.7);
    assert!(p.iter_rows().all(|r| r.iter().all(|v| v.is_finite())));
}

/// Digits-like data: `classes` prototypes of `features` values, each row its class's
/// prototype plus noise.
fn prototypes(rows: usize, features: usize, classes: usize, noise: f64) -> (Matrix, Vec<usize>) {
    let mut rng = Rng::new(4);
    let centres = normal_matrix(classes, features, 7);
    let mut x = Matrix::zeros(rows, features);
    let labels: Vec<usize> = (0..rows).map(|i| (i * 7 + i / 3) % classes).collect();
    for (i, &c) in labels.iter().enumerate() {
        let row = x.row_mut(i);
        row.iter_mut()
            .zip(centres.row(c))
            .for_each(|(v, m)| *v = m + noise * rng.normal());
    }
    (x, labels)
}

fn accuracy(p: &Matrix, labels: &[usize]) -> f64 {
    let right = p
        .iter_rows()
        .zip(labels)
        .filter(|(row, &label)| (0..row.len()).all(|k| row[k] <= row[label]));
    right.count() as f64 / labels.len() as f64
}

#[test]
fn softmax_learns_ten_classes_of_sixty_four_features() {
    let (x, labels) = prototypes(1000, 64, 10, 2.0);
    let model = fit(&x, Labels::Classes(&labels, 10));
    let Glm::Softmax { betas, .. } = &model else {
        panic!("not a softmax model")
    };
    assert_eq!((betas.len(), betas[0].len()), (10, 65));
    let p = probs(model.predict(&x));
    for row in p.iter_rows() {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    assert!(accuracy(&p, &labels) > 0.9, "{}", accuracy(&p, &labels));
    let (fresh, fresh_labels) = prototypes(500, 64, 10, 2.0);
    let on_fresh = accuracy(&probs(model.predict(&fresh)), &fresh_labels);
    assert!(on_fresh > 0.85, "{on_fresh}");
}

#[test]
fn separable_softmax_stays_finite() {
    let (x, labels) = prototypes(300, 8, 3, 0.01);
    let model = fit(&x, Labels::Classes(&labels, 3));
    let p = probs(model.predict(&x));
    assert!(p.iter_rows().all(|r| r.iter().all(|v| v.is_finite())));
    assert_eq!(accuracy(&p, &labels), 1.0);
}

#[test]
fn a_raised_cancel_flag_stops_every_family() {
    let (x, labels) = prototypes(600, 4, 3, 1.0);
    let y: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
    let binary: Vec<usize> = labels.iter().map(|&l| l % 2).collect();
    let wide = wide_one_hot(600, NORMAL_EQUATIONS_MAX_WIDTH + 1);
    let cases = [
        (&x, Labels::Values(&y)),
        (&wide, Labels::Values(&y)),
        (&x, Labels::Classes(&binary, 2)),
        (&x, Labels::Classes(&labels, 3)),
    ];
    for (x, labels) in cases {
        for lambda in [None, Some(0.01)] {
            let params = GlmParams {
                lambda,
                ..GlmParams::default()
            };
            let fitted = Glm::fit(x, labels, &params, &AtomicBool::new(true));
            assert_eq!(fitted, Err(TrainError::Cancelled));
        }
    }
}

#[test]
fn the_same_data_gives_the_same_model() {
    let (x, labels) = prototypes(400, 6, 4, 1.5);
    let first = fit(&x, Labels::Classes(&labels, 4));
    assert_eq!(fit(&x, Labels::Classes(&labels, 4)), first);
}

#[test]
fn constant_and_all_zero_columns_are_harmless() {
    let mut x = normal_matrix(200, 3, 11);
    (0..200).for_each(|i| x.row_mut(i)[1] = 0.0);
    (0..200).for_each(|i| x.row_mut(i)[2] = 7.0);
    let y: Vec<f64> = x.iter_rows().map(|r| 1.0 + 2.0 * r[0]).collect();
    let labels: Vec<usize> = y.iter().map(|&v| usize::from(v > 1.0)).collect();
    for model in [
        fit(&x, Labels::Values(&y)),
        fit(&x, Labels::Classes(&labels, 2)),
    ] {
        let (Glm::Linear { beta, .. } | Glm::Logistic { beta, .. }) = &model else {
            panic!("not a single-vector model")
        };
        assert!(beta.iter().all(|b| b.is_finite()), "{beta:?}");
        assert_eq!(beta[2], 0.0, "the all-zero column got a weight");
        assert!(beta[1] > 0.0);
    }
}

#[test]
fn lambda_is_the_one_given_or_scikit_learns_default() {
    let (x, labels) = prototypes(500, 5, 3, 1.0);
    let given = GlmParams {
        lambda: Some(0.25),
        ..GlmParams::default()
    };
    let model = Glm::fit(&x, Labels::Classes(&labels, 3), &given, &no_cancel()).unwrap();
    assert_eq!(model.hyperparameters(), [("alpha", 0.0), ("lambda", 0.25)]);
    // C = 1 on the summed loss is λ = 1/n on the mean loss.
    assert_eq!(
        lambda_of(&fit(&x, Labels::Classes(&labels, 3))),
        1.0 / 500.0
    );
    let y: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
    assert_eq!(
        lambda_of(&fit(&x, Labels::Values(&y))),
        LEAST_SQUARES_LAMBDA
    );
    // A stronger penalty shrinks the coefficients.
    let norm = |glm: &Glm| {
        let Glm::Softmax { betas, .. } = glm else {
            panic!("not a softmax model")
        };
        betas
            .iter()
            .flat_map(|b| &b[1..])
            .map(|v| v * v)
            .sum::<f64>()
    };
    assert!(norm(&model) < 0.5 * norm(&fit(&x, Labels::Classes(&labels, 3))));
}

#[test]
fn labels_that_do_not_fit_are_refused() {
    let x = normal_matrix(10, 2, 13);
    let invalid = |labels: Labels<'_>, needle: &str| {
        let err = Glm::fit(&x, labels, &GlmParams::default(), &no_cancel()).unwrap_err();
        assert!(
            matches!(&err, TrainError::Invalid(m) if m.contains(needle)),
            "{err:?} lacks {needle}"
        );
    };
    invalid(
        Labels::Classes(&[0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 2),
        "class index 2",
    );
    invalid(Labels::Values(&[1.0; 9]), "9 labels for 10 rows");
    let none = Matrix::zeros(0, 2);
    let err = Glm::fit(
        &none,
        Labels::Values(&[]),
        &GlmParams::default(),
        &no_cancel(),
    );
    assert!(matches!(err, Err(TrainError::Invalid(_))), "{err:?}");
    let mut nan = normal_matrix(10, 2, 14);
    nan.row_mut(3)[1] = f64::NAN;
    let err = Glm::fit(
        &nan,
        Labels::Classes(&[0, 1].repeat(5), 2),
        &GlmParams::default(),
        &no_cancel(),
    );
    assert!(matches!(err, Err(TrainError::Failed(_))), "{err:?}");
}

#[test]
fn a_fit_never_needs_a_width_squared_buffer_for_classifiers() {
    let narrow = fit_bytes(1000, 100, 10);
    let wide = fit_bytes(1000, 10_000, 10);
    assert!(
        wide < 100 * narrow + 1000 * 3 * 8 * 100,
        "{narrow} vs {wide}"
    );
    assert!(fit_bytes(1000, 10_000, 2) < 10_001 * 10_001);
}
