//! What a forest must learn (smooth functions, interactions, signal in many levels and
//! in missing values), and that it is reproducible and cancellable.

use super::super::rng::Rng;
use super::super::tree::{ColumnKind, Node, Rule};
use super::*;

fn grid(n: usize) -> Matrix {
    let mut x = Matrix::zeros(n, 2);
    for i in 0..n {
        x.row_mut(i)
            .copy_from_slice(&[(i % 20) as f64, (i / 20) as f64]);
    }
    x
}

/// A matrix of `rows` rows of uniform values in `[0, 1)`, `cols` wide.
fn uniform(rows: usize, cols: usize, seed: u64) -> Matrix {
    let mut rng = Rng::new(seed);
    let mut x = Matrix::zeros(rows, cols);
    for i in 0..rows {
        x.row_mut(i).iter_mut().for_each(|v| *v = rng.next_f64());
    }
    x
}

fn fit(x: &Matrix, labels: Labels<'_>, seed: u64) -> Forest {
    let params = ForestParams::default();
    Forest::fit_matrix(x, labels, &params, seed, &AtomicBool::new(false)).unwrap()
}

/// A forest with the default settings on every row of `x`, its columns of `kinds`.
fn fit_kinds(x: &Matrix, kinds: &[ColumnKind], labels: Labels<'_>, seed: u64) -> Forest {
    let data = Binned::with_kinds(x, kinds);
    let rows: Vec<u32> = (0..x.rows() as u32).collect();
    let params = ForestParams::default();
    Forest::fit(&data, &rows, labels, &params, seed, &AtomicBool::new(false)).unwrap()
}

/// The probability of class 1 for each row of `x`.
fn p1(forest: &Forest, x: &Matrix) -> Vec<f64> {
    let Output::Probs(probs) = forest.predict(x) else {
        panic!("a classifier")
    };
    probs.iter_rows().map(|r| r[1]).collect()
}

#[test]
fn regression_forest_fits_a_smooth_function() {
    let x = grid(400);
    let y: Vec<f64> = x.iter_rows().map(|r| r[0] + 2.0 * r[1]).collect();
    let forest = fit(&x, Labels::Values(&y), 7);
    let Output::Values(pred) = forest.predict(&x) else {
        panic!()
    };
    let mae = pred.iter().zip(&y).map(|(p, t)| (p - t).abs()).sum::<f64>() / 400.0;
    assert!(mae < 2.5, "mae {mae}");
}

#[test]
fn finds_an_interaction_no_single_feature_shows() {
    // The class is x0 > ½ XOR x1 > ½; x2 to x5 are noise. Neither x0 nor x1 alone
    // says anything about the class.
    let class = |r: &[f64]| usize::from((r[0] > 0.5) != (r[1] > 0.5));
    let x = uniform(2000, 6, 1);
    let c: Vec<usize> = x.iter_rows().map(class).collect();
    let forest = fit(&x, Labels::Classes(&c, 2), 5);
    let test = uniform(1000, 6, 2);
    let wrong = test
        .iter_rows()
        .zip(p1(&forest, &test))
        .filter(|(r, p)| usize::from(*p >= 0.5) != class(r))
        .count();
    assert!(wrong < 50, "{wrong} of 1000 test rows wrong");
}

/// Rows of one categorical feature of 80 levels (codes 0 to 79) and a uniform noise
/// feature; the class is 1 for the levels of a random half.
fn eighty_levels(rows: usize, seed: u64) -> (Matrix, Vec<usize>, Vec<bool>) {
    let mut rng = Rng::new(seed);
    let high: Vec<bool> = (0..80).map(|l| (l * 37 + 11) % 80 < 40).collect();
    let mut x = Matrix::zeros(rows, 2);
    let mut c = Vec::with_capacity(rows);
    for i in 0..rows {
        let level = rng.below(80);
        x.row_mut(i)
            .copy_from_slice(&[level as f64, rng.next_f64()]);
        c.push(usize::from(high[level]));
    }
    (x, c, high)
}

#[test]
fn a_categorical_feature_of_80_levels_is_split_by_sets_of_levels() {
    let (x, c, high) = eighty_levels(4000, 3);
    let kinds = [ColumnKind::Categorical, ColumnKind::Numeric];
    let forest = fit_kinds(&x, &kinds, Labels::Classes(&c, 2), 9);
    // Every level, the rarer ones beyond 32 included, gets its class.
    let mut levels = Matrix::zeros(80, 2);
    (0..80).for_each(|l| levels.row_mut(l)[0] = l as f64);
    for (level, p) in p1(&forest, &levels).into_iter().enumerate() {
        assert_eq!(p >= 0.5, high[level], "level {level}: p {p}");
    }
    // With one feature tried per node, about half the roots try the levels, and split
    // them into two sets in one step.
    let set_roots = forest
        .trees
        .iter()
        .filter(|t| {
            matches!(
                t.nodes[0],
                Node::Split {
                    feature: 0,
                    rule: Rule::In { .. },
                    ..
                }
            )
        })
        .count();
    assert!(set_roots >= 15, "{set_roots} of 50 roots split the levels");
}

#[test]
fn missing_values_that_carry_signal_go_their_own_way() {
    // Class 1 above ½ and where x0 is missing; class 0 below ½, however low. The old
    // trees always sent missing values left with the lowest values.
    let mut x = uniform(1000, 2, 4);
    let mut c = Vec::with_capacity(1000);
    for i in 0..1000 {
        let r = x.row_mut(i);
        if i % 4 == 0 {
            r[0] = f64::NAN;
        }
        c.push(usize::from(r[0].is_nan() || r[0] > 0.5));
    }
    let forest = fit(&x, Labels::Classes(&c, 2), 6);
    let mut probe = Matrix::zeros(3, 2);
    for (i, v) in [f64::NAN, 0.0, 0.9].into_iter().enumerate() {
        probe.row_mut(i).copy_from_slice(&[v, 0.5]);
    }
    let p = p1(&forest, &probe);
    assert!(p[0] > 0.95 && p[1] < 0.05 && p[2] > 0.95, "{p:?}");
}

#[test]
fn the_same_seed_grows_the_same_forest_and_another_seed_another() {
    let x = uniform(300, 4, 5);
    let y: Vec<f64> = x.iter_rows().map(|r| r[0] * r[1] + r[2]).collect();
    let a = fit(&x, Labels::Values(&y), 3);
    assert_eq!(a, fit(&x, Labels::Values(&y), 3));
    assert_ne!(a, fit(&x, Labels::Values(&y), 4));
    assert_eq!(a.trees.len(), 50);
    assert_eq!(a.params.mtries, Some(1));
}

#[test]
fn a_set_flag_cancels_before_any_tree() {
    let x = grid(100);
    let c: Vec<usize> = x.iter_rows().map(|r| usize::from(r[0] > 9.5)).collect();
    let params = ForestParams::default();
    let stopped = Forest::fit_matrix(
        &x,
        Labels::Classes(&c, 2),
        &params,
        3,
        &AtomicBool::new(true),
    );
    assert_eq!(stopped, Err(TrainError::Cancelled));
}

#[test]
fn each_tree_grows_on_a_share_of_the_rows_drawn_without_replacement() {
    let rows: Vec<u32> = (100..1100).collect();
    let drawn = sample(&rows, 0.632, &mut Rng::new(1));
    assert_eq!(drawn.len(), 632);
    assert!(
        drawn.windows(2).all(|w| w[0] < w[1]),
        "distinct and in order"
    );
    assert!(drawn.iter().all(|r| rows.contains(r)));
    assert_eq!(sample(&rows, 0.0, &mut Rng::new(1)).len(), 1);
    assert_eq!(sample(&rows, 1.0, &mut Rng::new(1)), rows);
}

#[test]
fn a_trained_forest_reads_every_level_of_a_categorical_feature() {
    use super::super::frame::{Column, Frame};
    use super::super::train::train;
    use super::super::TrainSpec;
    // The one-hot encoding kept the 32 most frequent levels only: the other 48 levels'
    // rows looked alike, and about a third of all rows were misclassified.
    let (x, c, _) = eighty_levels(2000, 8);
    let level: Vec<Option<String>> = x.iter_rows().map(|r| Some(format!("L{}", r[0]))).collect();
    let label: Vec<Option<&str>> = c.iter().map(|&k| Some(["no", "yes"][k])).collect();
    let noise = x.iter_rows().map(|r| r[1]).collect();
    let frame = Frame::new(vec![
        Column::categorical("level", &level),
        Column::numerical("noise", noise),
        Column::categorical("label", &label),
    ])
    .unwrap();
    let spec = TrainSpec {
        algos: vec![super::super::Algo::Drf],
        nfold: 2,
        ..TrainSpec::new("label")
    };
    let experiment = train(&frame, &spec, &mut |_, _| {}, &AtomicBool::new(false)).unwrap();
    let error = experiment.models[0].cv_averages["misclassification"];
    assert!(error < 0.02, "cross-validated error {error}");
}

#[test]
fn settings_that_cannot_grow_a_forest_are_refused_by_name() {
    let x = grid(40);
    let y: Vec<f64> = x.iter_rows().map(|r| r[0]).collect();
    let with = |edit: fn(&mut ForestParams)| {
        let mut params = ForestParams::default();
        edit(&mut params);
        params
    };
    let cases = [
        (with(|p| p.ntrees = 0), "ntrees"),
        (with(|p| p.min_rows = 0), "min_rows"),
        (with(|p| p.mtries = Some(0)), "mtries"),
        (with(|p| p.sample_rate = 0.0), "sample_rate"),
        (with(|p| p.sample_rate = f64::NAN), "sample_rate"),
        (with(|p| p.sample_rate = 1.5), "sample_rate"),
    ];
    for (params, name) in cases {
        let cancel = AtomicBool::new(false);
        let err = Forest::fit_matrix(&x, Labels::Values(&y), &params, 1, &cancel).unwrap_err();
        assert!(
            matches!(&err, TrainError::BadSpec(m) if m.contains(name)),
            "{err}"
        );
    }
    let params = ForestParams {
        ntrees: 3,
        max_depth: 2,
        min_rows: 5,
        mtries: Some(2),
        sample_rate: 1.0,
    };
    let forest = Forest::fit_matrix(&x, Labels::Values(&y), &params, 1, &AtomicBool::new(false));
    let forest = forest.unwrap();
    assert_eq!(forest.params, params);
    assert!(
        forest.trees.iter().all(|t| t.nodes.len() <= 7),
        "depth 2 at most"
    );
}

#[test]
fn classes_of_many_levels_are_told_apart() {
    // Three classes; each of 30 levels belongs to one of them.
    let mut rng = Rng::new(12);
    let mut x = Matrix::zeros(3000, 1);
    let mut c = Vec::new();
    for i in 0..3000 {
        let level = rng.below(30);
        x.row_mut(i)[0] = level as f64;
        c.push(level * 7 % 3);
    }
    let forest = fit_kinds(&x, &[ColumnKind::Categorical], Labels::Classes(&c, 3), 2);
    let mut levels = Matrix::zeros(30, 1);
    (0..30).for_each(|l| levels.row_mut(l)[0] = l as f64);
    let Output::Probs(probs) = forest.predict(&levels) else {
        panic!("a classifier")
    };
    for (level, p) in probs.iter_rows().enumerate() {
        assert!(p[level * 7 % 3] > 0.99, "level {level}: {p:?}");
    }
}
