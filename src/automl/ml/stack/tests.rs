use super::super::linalg::Matrix;
use super::super::model::Output;
use super::super::rng::Rng;
use super::*;

fn noise(rng: &mut Rng) -> f64 {
    rng.next_f64() * 2.0 - 1.0
}

fn mse(pred: &[f64], y: &[f64]) -> f64 {
    pred.iter()
        .zip(y)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / y.len() as f64
}

fn values(output: &Output) -> &[f64] {
    match output {
        Output::Values(v) => v,
        Output::Probs(_) => panic!("values expected"),
    }
}

#[test]
fn a_regression_blend_averages_independent_errors_and_drops_a_harmful_base() {
    let mut rng = Rng::new(3);
    let y: Vec<f64> = (0..2000).map(|i| (i as f64 * 0.01).sin() * 10.0).collect();
    let a: Vec<f64> = y.iter().map(|t| t + 2.0 * noise(&mut rng)).collect();
    let b: Vec<f64> = y.iter().map(|t| t + 2.0 * noise(&mut rng)).collect();
    // Anti-correlated with the target: a non-negative blend must leave it out.
    let c: Vec<f64> = y.iter().map(|t| -t).collect();
    let outputs = [
        Output::Values(a.clone()),
        Output::Values(b.clone()),
        Output::Values(c),
    ];
    let rows: Vec<usize> = (0..y.len()).collect();
    let blend = Blend::fit(&outputs, &Truth::Values(&y), &rows);
    let w = blend.weights();
    assert!(
        (w[0] - 0.5).abs() < 0.05 && (w[1] - 0.5).abs() < 0.05,
        "{w:?}"
    );
    assert_eq!(w[2], 0.0, "{w:?}");
    let blended = blend.combine(&outputs);
    let best = mse(&a, &y).min(mse(&b, &y));
    assert!(mse(values(&blended), &y) < 0.6 * best);
}

/// Probabilities of `classes` classes, the true one raised by `skill` and the rest
/// random.
fn probs(labels: &[usize], classes: usize, skill: f64, rng: &mut Rng) -> Output {
    let mut p = Matrix::zeros(labels.len(), classes);
    for (i, &y) in labels.iter().enumerate() {
        let row = p.row_mut(i);
        for (c, v) in row.iter_mut().enumerate() {
            *v = rng.next_f64() + if c == y { skill } else { 0.0 };
        }
        let sum: f64 = row.iter().sum();
        row.iter_mut().for_each(|v| *v /= sum);
    }
    Output::Probs(p)
}

fn logloss(output: &Output, labels: &[usize]) -> f64 {
    let Output::Probs(p) = output else {
        panic!("probabilities expected")
    };
    let total: f64 = labels
        .iter()
        .enumerate()
        .map(|(i, &y)| -p.row(i)[y].max(1e-15).ln())
        .sum();
    total / labels.len() as f64
}

#[test]
fn a_class_mixture_is_never_worse_than_its_best_base_on_the_rows_it_fits() {
    for classes in [2, 3, 10] {
        let mut rng = Rng::new(classes as u64);
        let labels: Vec<usize> = (0..1500).map(|_| rng.below(classes)).collect();
        let outputs = [
            probs(&labels, classes, 0.8, &mut rng),
            probs(&labels, classes, 0.4, &mut rng),
            probs(&labels, classes, 0.0, &mut rng),
        ];
        let rows: Vec<usize> = (0..labels.len()).collect();
        let blend = Blend::fit(&outputs, &Truth::Classes(&labels), &rows);
        let blended = blend.combine(&outputs);
        let best = outputs
            .iter()
            .map(|o| logloss(o, &labels))
            .fold(f64::MAX, f64::min);
        let got = logloss(&blended, &labels);
        // EM stops when the weights move by less than 1e-8.
        assert!(
            got <= best + 1e-6,
            "{classes} classes: {got} against {best}"
        );
        let Output::Probs(p) = &blended else {
            unreachable!()
        };
        for row in p.iter_rows() {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        let w = blend.weights();
        assert!(
            w.iter().all(|w| *w >= 0.0) && w[0] > w[1] && w[0] > w[2],
            "{w:?}"
        );
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{w:?}");
    }
}

#[test]
fn a_zero_probability_does_not_veto_a_class() {
    // Base 0 is right on every row but one, where it gives the true class 0; base 1
    // is unsure everywhere. The mixture keeps the row's loss finite and small.
    let labels = vec![0, 1, 0, 1, 0, 1, 0, 1];
    let mut sure = Matrix::zeros(8, 2);
    let mut unsure = Matrix::zeros(8, 2);
    for (i, &y) in labels.iter().enumerate() {
        let right = if i == 7 { 0.0 } else { 1.0 };
        sure.row_mut(i)[y] = right;
        sure.row_mut(i)[1 - y] = 1.0 - right;
        unsure.row_mut(i).copy_from_slice(&[0.5, 0.5]);
    }
    let outputs = [Output::Probs(sure), Output::Probs(unsure)];
    let rows: Vec<usize> = (0..8).collect();
    let blend = Blend::fit(&outputs, &Truth::Classes(&labels), &rows);
    let w = blend.weights().to_vec();
    // The likelihood 7·ln(½ + ½w) + ln(½(1 − w)) is highest at w = 3/4.
    assert!((w[0] - 0.75).abs() < 1e-4, "{w:?}");
    let Output::Probs(p) = blend.combine(&outputs) else {
        unreachable!()
    };
    assert!((p.row(7)[1] - 0.5 * w[1]).abs() < 1e-12);
    assert!((p.row(0)[0] - (w[0] + 0.5 * w[1])).abs() < 1e-12);
}

#[test]
fn a_blend_fits_only_the_rows_it_is_given() {
    let y: Vec<f64> = (0..100).map(f64::from).collect();
    // The base is exact on the first half and useless on the second.
    let base: Vec<f64> = y.iter().map(|&t| if t < 50.0 { t } else { 0.0 }).collect();
    let outputs = [Output::Values(base)];
    let first: Vec<usize> = (0..50).collect();
    let blend = Blend::fit(&outputs, &Truth::Values(&y), &first);
    let Blend::Values { intercept, weights } = &blend else {
        panic!("a regression blend")
    };
    assert!(
        (weights[0] - 1.0).abs() < 1e-6 && intercept.abs() < 1e-4,
        "{blend:?}"
    );
}
