//! Class balancing ([`Balance`]): the rows a fit learns from, resampled class by class.

use std::borrow::Cow;

use super::super::options::Balance;
use super::super::rng::Rng;

/// `rows` resampled by `balance` (classes per row in `labels`, `k` classes), or `rows`
/// unchanged without balancing. Deterministic for a seed.
///
/// Class `c` is drawn at rate `f[c]`: `floor(f[c])` copies of each of its rows, then
/// `round(frac(f[c]) * n[c])` of its rows chosen at random without repetition. Without
/// `sampling_factors`, `f[c] = (rows / k) / n[c]` (every class to the mean class
/// size). If the result would exceed `max_after_balance * rows.len()` rows, every
/// rate is scaled down to fit. A class present in `rows` keeps at least one row.
pub(crate) fn balanced<'a>(
    rows: &'a [usize],
    labels: &[usize],
    k: usize,
    balance: Option<&Balance>,
    seed: u64,
) -> Cow<'a, [usize]> {
    let Some(balance) = balance else {
        return Cow::Borrowed(rows);
    };
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); k];
    for &r in rows {
        if let Some(class) = by_class.get_mut(labels[r]) {
            class.push(r);
        }
    }
    let present = by_class.iter().filter(|c| !c.is_empty()).count().max(1);
    let mean = rows.len() as f64 / present as f64;
    let mut rates: Vec<f64> = match &balance.sampling_factors {
        Some(factors) => factors.iter().map(|f| f.max(0.0)).collect(),
        None => by_class
            .iter()
            .map(|c| {
                if c.is_empty() {
                    0.0
                } else {
                    mean / c.len() as f64
                }
            })
            .collect(),
    };
    let size: f64 = by_class
        .iter()
        .zip(&rates)
        .map(|(c, f)| c.len() as f64 * f)
        .sum();
    let most = balance.max_after_balance * rows.len() as f64;
    if size > most && size > 0.0 {
        rates.iter_mut().for_each(|f| *f *= most / size);
    }
    let mut rng = Rng::derive(seed, 0xBA1A);
    let mut out = Vec::with_capacity(size.min(most).ceil() as usize);
    for (class, rate) in by_class.iter_mut().zip(rates) {
        if class.is_empty() {
            continue;
        }
        let whole = rate.floor() as usize;
        for _ in 0..whole {
            out.extend_from_slice(class);
        }
        let mut extra = ((rate - rate.floor()) * class.len() as f64).round() as usize;
        if whole == 0 {
            extra = extra.max(1);
        }
        rng.shuffle(class);
        out.extend_from_slice(&class[..extra.min(class.len())]);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(rows: &[usize], labels: &[usize], class: usize) -> usize {
        rows.iter().filter(|&&r| labels[r] == class).count()
    }

    #[test]
    fn brings_classes_to_the_mean_size_within_the_cap() {
        // 90 rows of class 0, 10 of class 1
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i >= 90)).collect();
        let rows: Vec<usize> = (0..100).collect();
        let balance = Balance::default();
        let out = balanced(&rows, &labels, 2, Some(&balance), 7);
        assert_eq!(count(&out, &labels, 0), 50);
        assert_eq!(count(&out, &labels, 1), 50);
        assert_eq!(out, balanced(&rows, &labels, 2, Some(&balance), 7));
        assert!(matches!(
            balanced(&rows, &labels, 2, None, 7),
            Cow::Borrowed(_)
        ));

        let factors = Balance {
            max_after_balance: 5.0,
            sampling_factors: Some(vec![1.0, 4.0]),
        };
        let out = balanced(&rows, &labels, 2, Some(&factors), 7);
        assert_eq!((count(&out, &labels, 0), count(&out, &labels, 1)), (90, 40));

        let capped = Balance {
            max_after_balance: 0.5,
            sampling_factors: Some(vec![1.0, 1.0]),
        };
        let out = balanced(&rows, &labels, 2, Some(&capped), 7);
        assert_eq!(out.len(), 50);
        assert_eq!(count(&out, &labels, 1), 5);
        let tiny = Balance {
            max_after_balance: 5.0,
            sampling_factors: Some(vec![1.0, 0.0]),
        };
        let out = balanced(&rows, &labels, 2, Some(&tiny), 7);
        assert_eq!(count(&out, &labels, 1), 1, "a present class keeps a row");
    }
}
