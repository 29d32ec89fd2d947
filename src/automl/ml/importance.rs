//! Feature importances: from one raw weight per encoded column to one share per
//! original feature column.
//!
//! The engines weigh the columns of the encoded matrix (GLM: `|β|` times the column's
//! standard deviation; DRF and GBM: the split gains). A categorical feature spans one
//! encoded column per level and a numerical one may carry a missing-value indicator, so
//! the weights are summed back to their frame column, then scaled to sum to 1.

use super::encode::Encoder;

/// One entry per feature column of `encoder`: the summed `weights` of its encoded
/// columns, scaled to sum to 1 when any is positive, sorted by decreasing importance
/// then name. Negative or non-finite weights count as 0.
pub(crate) fn by_feature(encoder: &Encoder, weights: &[f64]) -> Vec<(String, f64)> {
    let mut offset = 0;
    let mut importances: Vec<(String, f64)> = encoder
        .feature_widths()
        .map(|(name, width)| {
            let columns = weights.get(offset..offset + width).unwrap_or(&[]);
            offset += width;
            let sum: f64 = columns.iter().filter(|w| w.is_finite() && **w > 0.0).sum();
            (name.to_owned(), sum)
        })
        .collect();
    let total: f64 = importances.iter().map(|(_, w)| w).sum();
    if total > 0.0 {
        importances.iter_mut().for_each(|(_, w)| *w /= total);
    }
    importances.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    importances
}

#[cfg(test)]
mod tests {
    use super::super::frame::{Column, Frame};
    use super::*;

    fn encoder() -> Encoder {
        let frame = Frame::new(vec![
            Column::numerical("x", vec![1.0, 2.0, 3.0]),
            Column::categorical("c", &[Some("a"), Some("b"), Some("c")]),
            Column::numerical("z", vec![0.0, 1.0, 0.0]),
        ]);
        let names = ["x".into(), "c".into(), "z".into()];
        Encoder::fit(&frame.unwrap(), &names, &[0, 1, 2]).unwrap()
    }

    #[test]
    fn sums_encoded_columns_and_scales_to_one() {
        // x: one column; c: three levels; z: one column.
        let importances = by_feature(&encoder(), &[1.0, 0.5, 1.0, 1.5, 1.0]);
        assert_eq!(
            importances,
            [("c".into(), 0.6), ("x".into(), 0.2), ("z".into(), 0.2)]
        );
    }

    #[test]
    fn all_zero_weights_stay_zero_and_sort_by_name() {
        let importances = by_feature(&encoder(), &[0.0, -1.0, 0.0, f64::NAN, 0.0]);
        let names: Vec<&str> = importances.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["c", "x", "z"]);
        assert!(importances.iter().all(|(_, w)| *w == 0.0));
    }
}
