use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use super::kmeans::{self, Settings};
use super::*;
use crate::automl::ml::rng::Rng;

const CENTERS: [[f64; 2]; 3] = [[0.0, 0.0], [10.0, 0.0], [5.0, 9.0]];

/// `per` points around each of `centers` (σ = `sd`), blob by blob, with an `id`
/// column; returns the frame and each row's true blob.
fn blobs(centers: &[[f64; 2]], per: usize, sd: f64, seed: u64) -> (Frame, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let (mut x1, mut x2, mut truth) = (vec![], vec![], vec![]);
    for (b, c) in centers.iter().enumerate() {
        for _ in 0..per {
            x1.push(c[0] + sd * rng.normal());
            x2.push(c[1] + sd * rng.normal());
            truth.push(b);
        }
    }
    let ids = (0..truth.len()).map(|i| i as f64).collect();
    let columns = vec![
        Column::numerical("id", ids),
        Column::numerical("x1", x1),
        Column::numerical("x2", x2),
    ];
    (Frame::new(columns).unwrap(), truth)
}

fn spec(features: &[&str], k: Option<u64>, seed: u64) -> ClusterSpec {
    ClusterSpec {
        features: Some(features.iter().map(|s| s.to_string()).collect()),
        k,
        seed,
        ..ClusterSpec::new()
    }
}

fn fit(frame: &Frame, spec: &ClusterSpec) -> Result<ClusterModel, TrainError> {
    train_cluster(frame, spec, &mut |_, _| {}, &AtomicBool::new(false))
}

/// True when `got` equals `truth` up to a renaming of the clusters (a bijection).
fn same_partition(got: &[Option<usize>], truth: &[usize]) -> bool {
    let (mut forward, mut backward) = (HashMap::new(), HashMap::new());
    got.iter().zip(truth).all(|(g, &t)| {
        let Some(g) = *g else { return false };
        *forward.entry(t).or_insert(g) == g && *backward.entry(g).or_insert(t) == t
    })
}

#[test]
fn well_separated_blobs_are_recovered_exactly() {
    let (train, truth) = blobs(&CENTERS, 60, 0.6, 1);
    let model = fit(&train, &spec(&["x1", "x2"], Some(3), 7)).unwrap();
    assert_eq!(model.features, ["x1", "x2"]);
    assert_eq!((model.k, model.rows_used), (3, 180));
    assert!(model.converged);
    assert!(same_partition(&model.assign(&train).unwrap(), &truth));
    let mut sizes = model.sizes.clone();
    sizes.sort_unstable();
    assert_eq!(sizes, [60, 60, 60]);
    assert!(model.tot_withinss < 0.05 * model.totss, "{model:?}");
    assert!((model.betweenss() + model.tot_withinss - model.totss).abs() < 1e-9);
    // every true center has a reported center within 0.5 in original units
    for c in CENTERS {
        let near = model.centers.iter().any(|center| match center.as_slice() {
            [Center::Number(a), Center::Number(b)] => (a - c[0]).hypot(b - c[1]) < 0.5,
            _ => false,
        });
        assert!(near, "no center near {c:?}: {:?}", model.centers);
    }
    // fresh points from the same blobs go to their blob's cluster
    let (fresh, fresh_truth) = blobs(&CENTERS, 20, 0.6, 99);
    let both: Vec<usize> = truth.iter().chain(&fresh_truth).copied().collect();
    let mut assigned = model.assign(&train).unwrap();
    assigned.extend(model.assign(&fresh).unwrap());
    assert!(same_partition(&assigned, &both));
}

#[test]
fn predictions_keep_columns_and_add_the_cluster() {
    let (train, _) = blobs(&CENTERS, 30, 0.6, 2);
    let model = fit(&train, &spec(&["x1", "x2"], Some(3), 1)).unwrap();
    let out = model.predict(&train, &["id".into(), "id".into()]).unwrap();
    let names: Vec<&str> = out.column_names().collect();
    assert_eq!(names, ["id", model::CLUSTER_COLUMN]);
    let ColumnData::Numerical(clusters) = &out.columns()[1].data else {
        panic!("cluster is numerical")
    };
    assert!(clusters.iter().all(|c| [0.0, 1.0, 2.0].contains(c)));
    let renamed = Frame::new(vec![
        Column::numerical("x1", vec![0.0]),
        Column::numerical("x2", vec![0.0]),
        Column::numerical("cluster", vec![1.0]),
    ]);
    let err = model
        .predict(&renamed.unwrap(), &["cluster".into()])
        .unwrap_err();
    assert_eq!(err, PredictError::OutputClash("cluster".into()));
    let lacking = Frame::new(vec![Column::numerical("x1", vec![0.0])]).unwrap();
    assert_eq!(
        model.assign(&lacking),
        Err(PredictError::MissingFeature("x2".into()))
    );
}

use super::super::error::PredictError;

#[test]
fn plus_plus_is_deterministic_for_a_seed() {
    let (train, _) = blobs(&CENTERS, 40, 1.0, 3);
    let a = fit(&train, &spec(&["x1", "x2"], Some(3), 11)).unwrap();
    let b = fit(&train, &spec(&["x1", "x2"], Some(3), 11)).unwrap();
    assert_eq!(a, b);
    let x = Matrix::from_frame_columns(&train, &["x1", "x2"]);
    let cancel = AtomicBool::new(false);
    let seeds = |s| kmeans::plus_plus(&x, 3, &mut Rng::new(s), &cancel).unwrap();
    assert_eq!(seeds(5), seeds(5));
    assert_ne!(seeds(5), seeds(6));
    // every seed is a row of the data
    let seeded = seeds(5);
    for centroid in seeded.iter_rows() {
        assert!(x.iter_rows().any(|row| row == centroid));
    }
}

#[test]
fn restarts_keep_the_lowest_inertia() {
    // 8 tight blobs on a line with k = 8: some seedings put two centroids in one
    // blob and end in a worse local minimum.
    let centers: Vec<[f64; 2]> = (0..8).map(|i| [i as f64 * 3.0, (i % 2) as f64]).collect();
    let (train, _) = blobs(&centers, 10, 0.4, 4);
    let x = Matrix::from_frame_columns(&train, &["x1", "x2"]);
    let cancel = AtomicBool::new(false);
    let mut found = false;
    for seed in 0..40 {
        let settings = Settings {
            k: 8,
            restarts: 5,
            max_iterations: 100,
            seed,
        };
        let each: Vec<f64> = (0..5)
            .map(|r| {
                let mut rng = Rng::derive(seed, r);
                let start = kmeans::plus_plus(&x, 8, &mut rng, &cancel).unwrap();
                kmeans::lloyd(&x, start, 100, &cancel).unwrap().inertia
            })
            .collect();
        let mut reported = Vec::new();
        let best = kmeans::fit(&x, &settings, &cancel, &mut |_, i| reported.push(i)).unwrap();
        assert_eq!(reported, each);
        let min = each.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(best.inertia, min);
        assert_eq!(each[best.restart], min);
        assert!(each[..best.restart].iter().all(|&i| i > min));
        if each.iter().any(|&i| i > min * 1.5) {
            found = true;
            break;
        }
    }
    assert!(found, "no seed gave restarts of different quality");
}

#[test]
fn bad_requests_are_refused_naming_the_field() {
    let (train, _) = blobs(&CENTERS, 2, 0.6, 5);
    let message = |s: &ClusterSpec| match fit(&train, s) {
        Err(TrainError::Invalid(m)) => m,
        other => panic!("expected invalid, got {other:?}"),
    };
    let m = message(&spec(&["x1"], Some(0), 1));
    assert_eq!(m, "k must be at least 1, not 0");
    let m = message(&spec(&["x1"], Some(7), 1));
    assert!(m.starts_with("k is 7, but only 6 rows have a value"), "{m}");
    let m = message(&spec(&["x1"], Some(MAX_K as u64 + 1), 1));
    assert!(m.starts_with("k is 1001, but at most 1000"), "{m}");
    let m = message(&spec(&["x1", "ghost"], Some(2), 1));
    assert_eq!(
        m,
        "features names column 'ghost', which the data does not have"
    );
    let m = message(&spec(&[], Some(2), 1));
    assert!(m.starts_with("features is an empty list"), "{m}");
    let mut typed = spec(&["x1"], Some(2), 1);
    typed.feature_types = vec![("x2".into(), DataType::Categorical)];
    assert!(message(&typed).contains("feature_types names column 'x2', which is not one of"));
    typed.feature_types = vec![("nope".into(), DataType::Categorical)];
    assert!(message(&typed).contains("feature_types names column 'nope', which the data"));
    let words = Frame::new(vec![
        Column::categorical("w", &[Some("a"), Some("b")]),
        Column::numerical("empty", vec![f64::NAN, f64::NAN]),
    ])
    .unwrap();
    let mut retype = spec(&["w"], Some(1), 1);
    retype.feature_types = vec![("w".into(), DataType::Numerical)];
    let m = match fit(&words, &retype) {
        Err(TrainError::Invalid(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        m,
        "feature_types: column 'w' cannot be numerical: 'a' is not a number"
    );
    let m = match fit(&words, &spec(&["empty"], Some(1), 1)) {
        Err(TrainError::Invalid(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        m,
        "features names column 'empty', which has no values to cluster on"
    );
    let only_empty = Frame::new(vec![Column::numerical("e", vec![f64::NAN])]).unwrap();
    let m = match fit(&only_empty, &ClusterSpec::new()) {
        Err(TrainError::Invalid(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(m.starts_with("features: no usable feature column"), "{m}");
}

#[test]
fn defaults_missing_values_and_retyping() {
    // default k is 8, capped by the usable rows; default features are every column,
    // an empty one skipped
    let (train, _) = blobs(&CENTERS, 20, 0.6, 6);
    let model = fit(&train, &ClusterSpec::new()).unwrap();
    assert_eq!((model.k, model.features.len()), (DEFAULT_K, 3));
    let tiny = Frame::new(vec![
        Column::numerical("a", vec![1.0, f64::NAN, 3.0, 4.0]),
        Column::categorical("c", &[Some("p"), None, Some("q"), None]),
        Column::numerical("blank", vec![f64::NAN; 4]),
    ])
    .unwrap();
    let model = fit(&tiny, &ClusterSpec::new()).unwrap();
    assert_eq!((model.k, model.rows_used), (3, 3));
    assert_eq!(model.features, ["a", "c"]);
    assert_eq!(model.assign(&tiny).unwrap()[1], None, "row 1 has no value");
    let names = model.encoded_columns();
    assert_eq!(names, ["a", "c.p", "c.q", "c.missing"]);
    assert_eq!(model.centers_std()[0].len(), names.len());
    // a numerical code retyped as categorical is one-hot encoded
    let mut typed = ClusterSpec::new();
    typed.feature_types = vec![("a".into(), DataType::Categorical)];
    let model = fit(&tiny, &typed).unwrap();
    assert_eq!(
        model.feature_types,
        [DataType::Categorical, DataType::Categorical]
    );
    assert!(model.encoded_columns().contains(&"a.3".to_owned()));
}

#[test]
fn categorical_groups_are_found() {
    let labels: Vec<Option<&str>> = (0..60).map(|i| Some(["u", "v", "w"][i % 3])).collect();
    let truth: Vec<usize> = (0..60).map(|i| i % 3).collect();
    let frame = Frame::new(vec![Column::categorical("g", &labels)]).unwrap();
    let model = fit(&frame, &spec(&["g"], Some(3), 2)).unwrap();
    assert!(same_partition(&model.assign(&frame).unwrap(), &truth));
    assert_eq!(model.tot_withinss, 0.0);
    let mut levels: Vec<Center> = model.centers.iter().map(|c| c[0].clone()).collect();
    levels.sort_by_key(|c| format!("{c:?}"));
    let want = ["u", "v", "w"].map(|l| Center::Level(Some(l.into())));
    assert_eq!(levels, want);
}

#[test]
fn a_raised_cancel_flag_stops_training() {
    let (train, _) = blobs(&CENTERS, 10, 0.6, 8);
    let result = train_cluster(
        &train,
        &ClusterSpec::new(),
        &mut |_, _| {},
        &AtomicBool::new(true),
    );
    assert_eq!(result.unwrap_err(), TrainError::Cancelled);
}

use super::super::linalg::Matrix;

impl Matrix {
    /// The numerical columns `names` of `frame`, as they are.
    fn from_frame_columns(frame: &Frame, names: &[&str]) -> Matrix {
        let mut x = Matrix::zeros(frame.rows(), names.len());
        for (j, name) in names.iter().enumerate() {
            let Some(ColumnData::Numerical(values)) = frame.column(name).map(|c| &c.data) else {
                panic!("{name} is numerical")
            };
            for (i, v) in values.iter().enumerate() {
                x.row_mut(i)[j] = *v;
            }
        }
        x
    }
}
