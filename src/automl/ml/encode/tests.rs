//! The encoder's tests: both modes, type drift, level caps.

use super::*;

fn frame() -> Frame {
    let x = Column::numerical("x", vec![1.0, 3.0, f64::NAN, 5.0]);
    let c = Column::categorical("c", &[Some("a"), Some("b"), None, Some("a")]);
    Frame::new(vec![x, c]).unwrap()
}

#[test]
fn standardises_imputes_and_one_hot_encodes() {
    let f = frame();
    let enc = Encoder::fit(&f, &["x".into(), "c".into()], &[0, 1, 2, 3]).unwrap();
    assert_eq!(enc.width(), 2 + 3);
    let widths: Vec<(&str, usize)> = enc.feature_widths().collect();
    assert_eq!(widths, [("x", 2), ("c", 3)]);
    assert_eq!(
        enc.column_names(),
        ["x", "x.missing", "c.a", "c.b", "c.missing"]
    );
    let m = enc.transform(&f, &[0, 2]).unwrap();
    let sd = (8.0f64 / 3.0).sqrt();
    assert!((m.row(0)[0] + 2.0 / sd).abs() < 1e-12);
    assert_eq!(&m.row(0)[1..], &[0.0, 1.0, 0.0, 0.0]);
    assert_eq!(m.row(1), &[0.0, 1.0, 0.0, 0.0, 1.0]);
}

#[test]
fn learns_from_training_rows_only() {
    let f = frame();
    let enc = Encoder::fit(&f, &["x".into(), "c".into()], &[0, 1]).unwrap();
    assert_eq!(enc.width(), 1 + 2);
    // Row 2 is missing in both columns: the mean, and no slot at all.
    assert_eq!(enc.transform(&f, &[2]).unwrap().row(0), &[0.0, 0.0, 0.0]);
}

#[test]
fn tolerates_type_drift_and_unseen_levels() {
    let f = frame();
    let enc = Encoder::fit(&f, &["x".into(), "c".into()], &[0, 1, 2, 3]).unwrap();
    let x = Column::categorical("x", &[Some("3"), None]);
    let c = Column::numerical("c", vec![7.0, f64::NAN]);
    let scoring = Frame::new(vec![c, x]).unwrap();
    let m = enc.transform(&scoring, &[0, 1]).unwrap();
    assert_eq!(&m.row(0)[2..], &[0.0, 0.0, 0.0]);
    assert_eq!(&m.row(1)[2..], &[0.0, 0.0, 1.0]);
    let bad = Frame::new(vec![
        Column::categorical("x", &[Some("old")]),
        Column::numerical("c", vec![1.0]),
    ]);
    let err = enc.transform(&bad.unwrap(), &[0]).unwrap_err();
    assert_eq!(
        err,
        PredictError::NotNumeric {
            column: "x".into(),
            value: "old".into()
        }
    );
    let missing = Frame::new(vec![Column::numerical("x", vec![1.0])]).unwrap();
    assert_eq!(
        enc.transform(&missing, &[0]),
        Err(PredictError::MissingFeature("c".into()))
    );
}

#[test]
fn keeps_common_levels_then_those_with_enough_rows_up_to_the_cap() {
    let encoded = |counts: &[(usize, usize)]| {
        // `levels` levels of `rows` rows each, then a constant column.
        let labels: Vec<Option<String>> = counts
            .iter()
            .enumerate()
            .flat_map(|(g, &(levels, rows))| {
                (0..levels * rows).map(move |i| Some(format!("g{g}l{}", i % levels)))
            })
            .collect();
        let n = labels.len();
        let c = Column::categorical("c", &labels);
        let f = Frame::new(vec![c, Column::numerical("k", vec![2.0; n])]).unwrap();
        let all: Vec<usize> = (0..n).collect();
        let enc = Encoder::fit(&f, &["c".into(), "k".into()], &all).unwrap();
        let m = enc.transform(&f, &all).unwrap();
        assert!(m.iter_rows().all(|r| r.iter().all(|v| v.is_finite())));
        assert_eq!(enc.feature_names().collect::<Vec<_>>(), ["c", "k"]);
        enc.width() - 1
    };
    // Rare levels fill the first 32 slots; beyond them a level needs 5 rows.
    assert_eq!(encoded(&[(50, 2)]), COMMON_LEVELS);
    assert_eq!(encoded(&[(40, MIN_LEVEL_ROWS), (20, 4)]), 40);
    assert_eq!(encoded(&[(60, MIN_LEVEL_ROWS)]), 60);
    assert_eq!(encoded(&[(300, MIN_LEVEL_ROWS)]), MAX_LEVELS);
}

#[test]
fn tree_mode_keeps_numbers_and_codes_every_level_by_frequency() {
    let labels: Vec<Option<String>> = (0..200)
        .map(|i| (i % 7 != 0).then(|| format!("l{}", i % 50)))
        .collect();
    let f = Frame::new(vec![
        Column::categorical("c", &labels),
        Column::numerical(
            "x",
            (0..200)
                .map(|i| if i == 3 { f64::NAN } else { i as f64 })
                .collect(),
        ),
    ])
    .unwrap();
    let rows: Vec<usize> = (0..200).collect();
    let enc = Encoder::fit_trees(&f, &["c".into(), "x".into()], &rows).unwrap();
    assert_eq!(enc.width(), 2);
    assert_eq!(
        enc.column_kinds(),
        [ColumnKind::Categorical, ColumnKind::Numeric]
    );
    let Feature::Codes { levels, .. } = &enc.features[0] else {
        panic!("codes")
    };
    // Every level is kept, not only the 32 most frequent.
    assert_eq!(levels.len(), 50);
    let m = enc.transform(&f, &[0, 1, 3]).unwrap();
    assert!(m.row(0)[0].is_nan(), "row 0 has no level");
    assert_eq!(levels[m.row(1)[0] as usize], "l1");
    assert!(m.row(2)[1].is_nan() && m.row(1)[1] == 1.0);
    let unseen = Frame::new(vec![
        Column::categorical("c", &[Some("new")]),
        Column::numerical("x", vec![2.5]),
    ])
    .unwrap();
    assert_eq!(enc.transform(&unseen, &[0]).unwrap().row(0), &[50.0, 2.5]);
}
