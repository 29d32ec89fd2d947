//! A split's rule: where a row goes, from its feature's value or bin. Numerical
//! features split at a threshold, categorical ones by a set of levels; both know where
//! missing values go. Boosted trees and forest trees share it.

use super::binned::code_bin;

/// Where a split sends a row: left when the rule holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rule {
    /// A numerical feature: `x <= cut` goes left, and a missing value when
    /// `missing_left`.
    Le {
        /// The threshold on the feature's values: one of the binning's cuts.
        cut: f64,
        /// Whether a missing value goes left.
        missing_left: bool,
    },
    /// A categorical feature: the bins (bin 0 = missing, `1 + code` = a level, 255 =
    /// the rarest and unseen levels) whose bit is set go left.
    In {
        /// A 256-bit set of bins (boxed: most splits are thresholds, and a tree's nodes
        /// are as large as their largest rule).
        bins: Box<[u64; 4]>,
    },
}

impl Rule {
    /// Whether a row whose feature falls in `bin` goes left, the feature binned at
    /// `cuts` (bin `b` holds values up to `cuts[b - 1]`; the last bin, those above all).
    pub(crate) fn left_bin(&self, bin: u8, cuts: &[f64]) -> bool {
        match self {
            Rule::Le { cut, missing_left } => match bin {
                0 => *missing_left,
                b => cuts.get(usize::from(b) - 1).is_some_and(|c| c <= cut),
            },
            Rule::In { bins } => bit(bins, bin),
        }
    }

    /// Whether a row whose feature's value is `value` goes left.
    pub(crate) fn left_value(&self, value: f64) -> bool {
        match self {
            Rule::Le { cut, missing_left } => {
                if value.is_nan() {
                    *missing_left
                } else {
                    value <= *cut
                }
            }
            Rule::In { bins } => bit(bins, code_bin(value)),
        }
    }
}

/// Whether bit `b` of a 256-bit set is set.
pub(crate) fn bit(bins: &[u64; 4], b: u8) -> bool {
    bins[usize::from(b / 64)] >> (b % 64) & 1 == 1
}

/// Sets bit `b` of a 256-bit set.
pub(crate) fn set_bit(bins: &mut [u64; 4], b: usize) {
    bins[b / 64] |= 1 << (b % 64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_route_values_bins_and_missing_alike() {
        let le = Rule::Le {
            cut: 2.5,
            missing_left: true,
        };
        assert!(le.left_value(2.5) && !le.left_value(2.6) && le.left_value(f64::NAN));
        let cuts = [0.5, 1.5, 2.5, 3.5];
        assert!(le.left_bin(0, &cuts) && le.left_bin(3, &cuts) && !le.left_bin(4, &cuts));
        assert!(!le.left_bin(5, &cuts));
        let mut bins = [0; 4];
        set_bit(&mut bins, 0);
        set_bit(&mut bins, 3);
        set_bit(&mut bins, 255);
        let set = Rule::In {
            bins: Box::new(bins),
        };
        // Code 2 is bin 3; NaN is bin 0; codes from 254 on share bin 255.
        assert!(set.left_value(2.0) && set.left_value(f64::NAN) && set.left_value(900.0));
        assert!(!set.left_value(1.0) && !set.left_bin(2, &[]) && set.left_bin(255, &[]));
    }
}
