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

    /// The rule as a test on bins alone, for a feature binned at `cuts`: what
    /// [`Rule::left_bin`] answers, without looking the cuts up for every row.
    pub(crate) fn on_bins(&self, cuts: &[f64]) -> BinRule<'_> {
        match self {
            Rule::Le { cut, missing_left } => BinRule::Le {
                last: cuts.partition_point(|c| c <= cut).min(usize::from(u8::MAX)) as u8,
                missing_left: *missing_left,
            },
            Rule::In { bins } => BinRule::In(bins),
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

/// A [`Rule`] on the bins of one feature (see [`Rule::on_bins`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BinRule<'a> {
    /// The bins `1..=last` go left, and bin 0 (missing) when `missing_left`.
    Le {
        /// The last bin that goes left.
        last: u8,
        /// Whether a missing value goes left.
        missing_left: bool,
    },
    /// The bins whose bit is set go left.
    In(&'a [u64; 4]),
}

impl BinRule<'_> {
    /// Whether a row whose feature falls in `bin` goes left.
    pub(crate) fn left(self, bin: u8) -> bool {
        match self {
            BinRule::Le { last, missing_left } => {
                if bin == 0 {
                    missing_left
                } else {
                    bin <= last
                }
            }
            BinRule::In(bins) => bit(bins, bin),
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

    #[test]
    fn a_rule_on_bins_answers_as_the_rule_does() {
        let cuts = [0.5, 1.5, 2.5, 3.5];
        let mut set = [0; 4];
        [0, 3, 200].iter().for_each(|&b| set_bit(&mut set, b));
        let mut rules = vec![Rule::In {
            bins: Box::new(set),
        }];
        for cut in [0.5, 1.5, 2.5, 3.5, -1.0, 9.0] {
            for missing_left in [false, true] {
                rules.push(Rule::Le { cut, missing_left });
            }
        }
        for rule in &rules {
            let on_bins = rule.on_bins(&cuts);
            for bin in 0..=255 {
                assert_eq!(
                    on_bins.left(bin),
                    rule.left_bin(bin, &cuts),
                    "{rule:?} {bin}"
                );
            }
        }
    }
}
