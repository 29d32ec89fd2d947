//! Regression metrics of predictions `pred` against targets `y`. Each is `None` where it
//! is undefined: on no rows, and in the cases each function names.

/// Mean squared error (also the mean residual deviance of a Gaussian model).
pub(crate) fn mse(y: &[f64], pred: &[f64]) -> Option<f64> {
    mean(y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)), y.len())
}

/// Mean absolute error.
pub(crate) fn mae(y: &[f64], pred: &[f64]) -> Option<f64> {
    mean(y.iter().zip(pred).map(|(a, b)| (a - b).abs()), y.len())
}

/// Root mean squared logarithmic error, `√mean((ln(1+p) − ln(1+y))²)`; undefined when
/// any target or prediction is ≤ −1.
pub(crate) fn rmsle(y: &[f64], pred: &[f64]) -> Option<f64> {
    if y.iter().chain(pred).any(|&v| v <= -1.0) {
        return None;
    }
    let terms = y
        .iter()
        .zip(pred)
        .map(|(a, b)| (b.ln_1p() - a.ln_1p()).powi(2));
    mean(terms, y.len()).map(f64::sqrt)
}

/// Coefficient of determination, `1 − SS_res / SS_tot`; undefined for a constant
/// target.
pub(crate) fn r2(y: &[f64], pred: &[f64]) -> Option<f64> {
    let m = mean(y.iter().copied(), y.len())?;
    let total: f64 = y.iter().map(|v| (v - m).powi(2)).sum();
    let residual: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    (total > 0.0).then(|| 1.0 - residual / total)
}

/// Mean absolute percentage error, `mean(|y − p| / |y|)`; undefined when any target
/// is 0.
pub(crate) fn mape(y: &[f64], pred: &[f64]) -> Option<f64> {
    if y.contains(&0.0) {
        return None;
    }
    mean(
        y.iter().zip(pred).map(|(a, b)| (a - b).abs() / a.abs()),
        y.len(),
    )
}

/// Weighted mean absolute percentage error, `Σ|y − p| / Σ|y|`; undefined when
/// `Σ|y| = 0`.
pub(crate) fn wmape(y: &[f64], pred: &[f64]) -> Option<f64> {
    let scale: f64 = y.iter().map(|a| a.abs()).sum();
    let error: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum();
    (scale > 0.0).then(|| error / scale)
}

/// The mean of `n` values; `None` when `n` is 0.
pub(crate) fn mean(values: impl Iterator<Item = f64>, n: usize) -> Option<f64> {
    (n > 0).then(|| values.sum::<f64>() / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y: [f64; 4] = [1.0, 2.0, 3.0, 4.0];
    const P: [f64; 4] = [1.0, 2.0, 3.0, 6.0];

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn squared_and_absolute_errors() {
        assert_eq!(mse(&Y, &P), Some(1.0));
        assert_eq!(mae(&Y, &P), Some(0.5));
        assert_eq!(mse(&[], &[]), None);
    }

    #[test]
    fn r2_is_undefined_for_a_constant_target() {
        // SS_tot = 5, SS_res = 4.
        assert!(close(r2(&Y, &P), 0.2));
        assert_eq!(r2(&[2.0, 2.0], &[2.0, 2.0]), None);
    }

    #[test]
    fn rmsle_by_hand_and_its_domain() {
        // Only the last row differs: (ln 7 − ln 5)² / 4 under the root.
        let expected = ((7.0f64.ln() - 5.0f64.ln()).powi(2) / 4.0).sqrt();
        assert!(close(rmsle(&Y, &P), expected));
        assert!(close(rmsle(&[0.0, -0.5], &[0.0, -0.5]), 0.0));
        assert_eq!(rmsle(&[-1.0, 2.0], &[0.0, 2.0]), None);
        assert_eq!(rmsle(&[0.0, 2.0], &[-1.5, 2.0]), None);
    }

    #[test]
    fn mape_by_hand_and_zero_targets() {
        // |4 − 6| / 4 = 0.5 on one row of four.
        assert!(close(mape(&Y, &P), 0.125));
        assert!(close(mape(&[-2.0, 4.0], &[-1.0, 4.0]), 0.25));
        assert_eq!(mape(&[0.0, 1.0], &[0.0, 1.0]), None);
    }

    #[test]
    fn wmape_by_hand_and_all_zero_targets() {
        // Σ|y − p| = 2, Σ|y| = 10.
        assert!(close(wmape(&Y, &P), 0.2));
        assert!(close(wmape(&[0.0, -2.0], &[1.0, -2.0]), 0.5));
        assert_eq!(wmape(&[0.0, 0.0], &[1.0, 2.0]), None);
    }
}
