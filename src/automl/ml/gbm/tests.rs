//! The boosting engine's tests: fits, determinism, early stopping, categorical and
//! missing values, sampling and the initial scores.

use super::super::tree::{ColumnKind, Rule};
use super::*;

/// A 20 × 20 grid of `(x0, x1)` in `[0, 1)²`.
fn grid() -> Matrix {
    let mut x = Matrix::zeros(400, 2);
    for i in 0..400 {
        let (a, b) = ((i % 20) as f64 / 20.0, (i / 20) as f64 / 20.0);
        x.row_mut(i).copy_from_slice(&[a, b]);
    }
    x
}

fn fit(x: &Matrix, labels: Labels<'_>, seed: u64) -> Gbm {
    let params = GbmParams {
        min_rows: 5,
        ..GbmParams::default()
    };
    Gbm::fit_matrix(x, labels, &params, seed, &AtomicBool::new(false)).unwrap()
}

fn mse(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, t)| (p - t).powi(2)).sum::<f64>() / a.len() as f64
}

#[test]
fn regression_fits_a_bump() {
    let x = grid();
    let y: Vec<f64> = x
        .iter_rows()
        .map(|r| (6.0 * r[0]).sin() + 4.0 * (r[1] - 0.5).powi(2))
        .collect();
    let Output::Values(pred) = fit(&x, Labels::Values(&y), 1).predict(&x) else {
        panic!("regression predicts values")
    };
    assert!(mse(&pred, &y) < 0.02, "training mse {}", mse(&pred, &y));
}

#[test]
fn regression_reaches_targets_of_any_scale() {
    // Values in the thousands: a step cap in the target's units (10 per leaf, 1 after
    // shrinking) would leave 200 trees far short of them.
    let x = grid();
    let y: Vec<f64> = x
        .iter_rows()
        .map(|r| 5000.0 * r[0] + 3000.0 * (6.0 * r[1]).sin())
        .collect();
    let Output::Values(pred) = fit(&x, Labels::Values(&y), 4).predict(&x) else {
        panic!("regression predicts values")
    };
    let var = mse(&y, &vec![y.iter().sum::<f64>() / y.len() as f64; y.len()]);
    let r2 = 1.0 - mse(&pred, &y) / var;
    assert!(r2 > 0.99, "training r2 {r2}");
}

#[test]
fn classifiers_give_probabilities_that_separate() {
    let x = grid();
    let two: Vec<usize> = x.iter_rows().map(|r| usize::from(r[0] > r[1])).collect();
    let Output::Probs(p) = fit(&x, Labels::Classes(&two, 2), 2).predict(&x) else {
        panic!("classifiers predict probabilities")
    };
    let right = (0..400)
        .filter(|&i| (p.row(i)[1] >= 0.5) == (two[i] == 1))
        .count();
    assert!(right >= 380, "{right} of 400");
    let three: Vec<usize> = x.iter_rows().map(|r| (r[0] * 3.0) as usize).collect();
    let Output::Probs(p) = fit(&x, Labels::Classes(&three, 3), 3).predict(&x) else {
        panic!("classifiers predict probabilities")
    };
    for (i, row) in p.iter_rows().enumerate() {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let best = (0..3).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
        assert_eq!(best, three[i], "row {i}: {row:?}");
    }
}

#[test]
fn same_seed_same_model_and_cancel_stops_it() {
    let x = grid();
    let c: Vec<usize> = x
        .iter_rows()
        .map(|r| usize::from(r[0] + r[1] > 1.0))
        .collect();
    // The seed draws each round's rows.
    let sampled = GbmParams {
        sample_rate: 0.8,
        ..GbmParams::default()
    };
    let fit = |seed| {
        let cancel = AtomicBool::new(false);
        Gbm::fit_matrix(&x, Labels::Classes(&c, 2), &sampled, seed, &cancel).unwrap()
    };
    let a = fit(5);
    assert_eq!(a, fit(5));
    assert_ne!(a, fit(6));
    let fixed = GbmParams {
        ntrees: Some(7),
        ..GbmParams::default()
    };
    let seven = Gbm::fit_matrix(
        &x,
        Labels::Classes(&c, 2),
        &fixed,
        5,
        &AtomicBool::new(false),
    );
    assert_eq!(seven.unwrap().trees.len(), 7);
    let stopped = Gbm::fit_matrix(
        &x,
        Labels::Classes(&c, 2),
        &GbmParams::default(),
        5,
        &AtomicBool::new(true),
    );
    assert_eq!(stopped, Err(TrainError::Cancelled));
}

#[test]
fn early_stopping_keeps_the_best_round_of_the_held_out_rows() {
    // Pure noise: the held-out loss stops improving almost at once.
    let mut rng = Rng::new(3);
    let n = 12_000;
    let mut x = Matrix::zeros(n, 3);
    (0..n).for_each(|i| (0..3).for_each(|j| x.row_mut(i)[j] = rng.next_f64()));
    let y: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let params = GbmParams::default();
    let gbm = Gbm::fit_matrix(&x, Labels::Values(&y), &params, 1, &AtomicBool::new(false));
    let n = gbm.unwrap().trees.len();
    assert!(n < 30, "{n} trees on noise");
    // A learnable target keeps boosting far longer.
    let y: Vec<f64> = x.iter_rows().map(|r| (9.0 * r[0]).sin() * r[1]).collect();
    let gbm = Gbm::fit_matrix(&x, Labels::Values(&y), &params, 1, &AtomicBool::new(false));
    assert!(gbm.unwrap().trees.len() > 100);
    // Fewer rows than early stopping needs: LightGBM's 100 rounds.
    let small = Matrix::zeros(500, 3);
    let gbm = Gbm::fit_matrix(
        &small,
        Labels::Values(&y[..500]),
        &params,
        1,
        &AtomicBool::new(false),
    );
    assert_eq!(gbm.unwrap().trees.len(), 100);
}

#[test]
fn missing_values_and_many_levels_are_used() {
    // y depends on which of 80 levels a row has, and is high when x is missing.
    let n = 8000;
    let mut x = Matrix::zeros(n, 2);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let level = (i * 7919) % 80;
        let missing = i % 5 == 0;
        x.row_mut(i).copy_from_slice(&[
            level as f64,
            if missing { f64::NAN } else { (i % 13) as f64 },
        ]);
        y.push(f64::from(u8::from(level % 3 == 0)) + if missing { 2.0 } else { 0.0 });
    }
    let data = Binned::with_kinds(&x, &[ColumnKind::Categorical, ColumnKind::Numeric]);
    let rows: Vec<u32> = (0..n as u32).collect();
    let gbm = Gbm::fit(
        &data,
        &rows,
        Labels::Values(&y),
        &GbmParams::default(),
        1,
        &AtomicBool::new(false),
    )
    .unwrap();
    let Output::Values(pred) = gbm.predict(&x) else {
        panic!()
    };
    assert!(mse(&pred, &y) < 1e-3, "mse {}", mse(&pred, &y));
    let splits_on_sets = gbm
        .trees
        .iter()
        .flatten()
        .flat_map(|t| &t.nodes)
        .any(|node| {
            matches!(
                node,
                BoostNode::Split {
                    rule: Rule::In { .. },
                    ..
                }
            )
        });
    assert!(splits_on_sets);
}

#[test]
fn rounds_sample_without_replacement() {
    let all: Vec<u32> = (0..100).collect();
    let (rows, rest) = sample(&all, 0.8, &mut Rng::new(1));
    assert_eq!(rows.len(), 80);
    assert!(rows.windows(2).all(|w| w[0] < w[1]));
    let mut both = [rows.clone(), rest.clone()].concat();
    both.sort_unstable();
    assert_eq!(both, all);
    assert!(rest.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(sample(&[4], 0.5, &mut Rng::new(1)).0, [4]);
    assert!(sample(&[], 0.5, &mut Rng::new(1)).0.is_empty());
    assert_eq!(sample(&all, 1.0, &mut Rng::new(1)), (all.clone(), vec![]));
    assert_eq!(sample_features(5, 1.0, &mut Rng::new(1)), [0, 1, 2, 3, 4]);
}

/// The draw of the first sampler: a partial shuffle of the positions, sorted.
fn sorted_draw(rows: &[u32], rate: f64, rng: &mut Rng) -> Vec<u32> {
    let n = rows.len();
    let m = ((n as f64 * rate).round() as usize).clamp(n.min(1), n);
    let mut picked: Vec<usize> = (0..n).collect();
    for i in 0..m {
        let j = i + rng.below(n - i);
        picked.swap(i, j);
    }
    picked.truncate(m);
    picked.sort_unstable();
    picked.into_iter().map(|i| rows[i]).collect()
}

#[test]
fn the_sample_is_the_sorted_partial_shuffle() {
    // Models must not change with the sampler's implementation: the same seed draws
    // the same rows as sorting a partial shuffle of the positions does.
    let rows: Vec<u32> = (0..1000).map(|i| 3 * i + 1).collect();
    for (seed, rate) in [(1, 0.8), (2, 0.5), (3, 0.01), (4, 0.999)] {
        let drawn = sample(&rows, rate, &mut Rng::new(seed)).0;
        assert_eq!(drawn, sorted_draw(&rows, rate, &mut Rng::new(seed)));
    }
}

#[test]
fn scores_from_leaf_ranges_and_walks_agree_with_the_tree() {
    // Rows a tree grew on take their leaf's value from its range, the others walk the
    // tree on bins; both must equal the tree's prediction from the raw values.
    let x = grid();
    let y: Vec<f64> = x.iter_rows().map(|r| (5.0 * r[0]).sin() + r[1]).collect();
    let data = Binned::new(&x);
    let targets = Targets::new(Labels::Values(&y));
    let all: Vec<u32> = (0..400).collect();
    let params = GbmParams {
        min_rows: 5,
        ..GbmParams::default()
    };
    let mut boost = Boosting::new(&data, &targets, &all, &[], &params);
    for round in 0..3 {
        boost.round(9, round);
    }
    for (i, row) in x.iter_rows().enumerate() {
        let expected = boost.init[0]
            + boost
                .trees
                .iter()
                .map(|t| t[0].predict_row(row))
                .sum::<f64>();
        assert!((boost.scores[i] - expected).abs() < 1e-12, "row {i}");
    }
    let tree = &boost.trees[2][0];
    let mut walked = vec![0.0; 400];
    tree.add_binned(&data, &all, |r, v| walked[r as usize] = v);
    for (r, &value) in walked.iter().enumerate() {
        assert_eq!(value, tree.predict_binned(&data, r), "row {r}");
    }
}

#[test]
fn initial_scores_match_the_priors() {
    let c = [0, 1, 1, 1];
    let targets = Targets::new(Labels::Classes(&c, 2));
    // (3 + 0.5) / (4 + 1) = 0.7.
    let init = targets.initial_scores(&[0, 1, 2, 3]);
    assert!((init[0] - (0.7f64 / 0.3).ln()).abs() < 1e-12);
    let y = [1.0, 2.0, 6.0];
    assert_eq!(
        Targets::new(Labels::Values(&y)).initial_scores(&[0, 1, 2]),
        [3.0]
    );
}
