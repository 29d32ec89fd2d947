//! Generated data sets with known structure, for tests.

use super::frame::{Column, Frame};
use super::rng::Rng;

/// `y = 3·x1 − 2·x2 + effect(c) + noise(σ = 0.5)` with a three-level categorical `c`.
pub(crate) fn linear(rows: usize, seed: u64) -> Frame {
    let mut rng = Rng::new(seed);
    let (mut x1, mut x2, mut c, mut y) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rows {
        let (a, b) = (rng.normal(), rng.normal());
        let level = ["red", "green", "blue"][rng.below(3)];
        let effect = match level {
            "red" => 0.5,
            "green" => -0.5,
            _ => 0.0,
        };
        y.push(3.0 * a - 2.0 * b + effect + 0.5 * rng.normal());
        x1.push(a);
        x2.push(b);
        c.push(Some(level));
    }
    let columns = vec![
        Column::numerical("x1", x1),
        Column::numerical("x2", x2),
        Column::categorical("c", &c),
        Column::numerical("y", y),
    ];
    Frame::new(columns).expect("generated columns are consistent")
}

/// `y = 3·sin(2·x1) + x2² + 2·[c = "on"] + noise(σ = 0.3)`, with `x1` uniform on
/// `[−2, 2]`, `x2` standard normal and an unrelated column `noise`: a relation no
/// straight line follows.
pub(crate) fn nonlinear(rows: usize, seed: u64) -> Frame {
    let mut rng = Rng::new(seed);
    let (mut x1, mut x2, mut noise, mut c, mut y) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..rows {
        let (a, b) = (4.0 * rng.next_f64() - 2.0, rng.normal());
        let on = rng.below(2) == 1;
        y.push(3.0 * (2.0 * a).sin() + b * b + 2.0 * f64::from(u8::from(on)) + 0.3 * rng.normal());
        x1.push(a);
        x2.push(b);
        noise.push(rng.normal());
        c.push(Some(if on { "on" } else { "off" }));
    }
    let columns = vec![
        Column::numerical("x1", x1),
        Column::numerical("x2", x2),
        Column::numerical("noise", noise),
        Column::categorical("c", &c),
        Column::numerical("y", y),
    ];
    Frame::new(columns).expect("generated columns are consistent")
}

/// Two well-separated classes `"no"`/`"yes"` by the sign of `x1 + x2`, plus a noise
/// column and a categorical column with missing values.
pub(crate) fn binary(rows: usize, seed: u64) -> Frame {
    let mut rng = Rng::new(seed);
    let (mut x1, mut x2, mut noise, mut tag, mut label) = (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..rows {
        let (a, b) = (rng.normal(), rng.normal());
        let shift = if a + b > 0.0 { 0.5 } else { -0.5 };
        x1.push(a + shift);
        x2.push(b + shift);
        noise.push(rng.normal());
        tag.push((i % 7 != 0).then_some(["p", "q"][rng.below(2)]));
        label.push(Some(if a + b > 0.0 { "yes" } else { "no" }));
    }
    let columns = vec![
        Column::numerical("x1", x1),
        Column::numerical("x2", x2),
        Column::numerical("noise", noise),
        Column::categorical("tag", &tag),
        Column::categorical("label", &label),
    ];
    Frame::new(columns).expect("generated columns are consistent")
}

/// Three Gaussian clusters labelled `"a"`, `"b"`, `"c"`.
pub(crate) fn three_class(rows: usize, seed: u64) -> Frame {
    let mut rng = Rng::new(seed);
    let centers = [(0.0, 0.0), (4.0, 0.0), (0.0, 4.0)];
    let (mut x1, mut x2, mut label) = (vec![], vec![], vec![]);
    for _ in 0..rows {
        let k = rng.below(3);
        x1.push(centers[k].0 + 0.8 * rng.normal());
        x2.push(centers[k].1 + 0.8 * rng.normal());
        label.push(Some(["a", "b", "c"][k]));
    }
    let columns = vec![
        Column::numerical("x1", x1),
        Column::numerical("x2", x2),
        Column::categorical("label", &label),
    ];
    Frame::new(columns).expect("generated columns are consistent")
}

/// Drops the column `name`.
pub(crate) fn without(frame: &Frame, name: &str) -> Frame {
    let columns = frame
        .columns()
        .iter()
        .filter(|c| c.name != name)
        .cloned()
        .collect();
    Frame::new(columns).expect("a subset of a frame is a frame")
}
