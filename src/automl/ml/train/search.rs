//! The AutoML search: which models a train request trains, and in which order.
//!
//! Model `i` of a training is a **candidate**: an algorithm and its settings. The first
//! candidates are each requested algorithm's defaults, in request order. After them come
//! drawn candidates, taking the searchable requested algorithms in turn (GBM: learning
//! rate, leaves, depth, rows per leaf, L2 penalty, row and column sample rates), each
//! drawn from its own random stream of the request's seed, so the same seed gives the
//! same candidates whatever the budget.
//!
//! How many candidates are trained (the **budget**):
//! - `max_model = n`: exactly `n` (fewer only when the algorithms requested have
//!   nothing more to search, or `max_run_time` runs out first);
//! - otherwise, with `max_run_time`: candidates one after another until the time runs
//!   out, at most [`MAX_SEARCH_MODELS`];
//! - otherwise (the SDK's default): [`DEFAULT_BUDGET`].

use super::super::gbm::GbmParams;
use super::super::rng::Rng;
use super::super::spec::{Algo, TrainSpec};

/// Most models a search bounded only by `max_run_time` trains.
pub(crate) const MAX_SEARCH_MODELS: usize = 100;

/// The default budget: each requested algorithm's defaults, then this many drawn
/// candidates per searchable requested algorithm.
pub(crate) const DEFAULT_DRAWS_PER_ALGO: usize = 0;

/// One model to train.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    pub(crate) algo: Algo,
    pub(crate) settings: Settings,
}

/// A candidate's settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Settings {
    /// The algorithm's defaults.
    Default,
    /// Drawn boosting settings.
    Gbm(GbmParams),
}

/// The candidates of one training and how many of them to train.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    algos: Vec<Algo>,
    searchable: Vec<Algo>,
    seed: u64,
    /// How many candidates to train at most.
    pub(crate) count: usize,
    /// Whether the count is only a cap and the time budget decides.
    pub(crate) open_ended: bool,
}

impl Plan {
    /// The plan of `spec` over the distinct requested `algos`.
    pub(crate) fn new(algos: &[Algo], spec: &TrainSpec) -> Plan {
        let searchable: Vec<Algo> = algos.iter().copied().filter(|&a| a == Algo::Gbm).collect();
        let most = if searchable.is_empty() {
            algos.len()
        } else {
            usize::MAX
        };
        let (count, open_ended) = match (spec.max_model, spec.max_run_time) {
            (Some(n), _) => (n, false),
            (None, Some(_)) => (MAX_SEARCH_MODELS, true),
            (None, None) => (
                algos.len() + DEFAULT_DRAWS_PER_ALGO * searchable.len(),
                false,
            ),
        };
        Plan {
            algos: algos.to_vec(),
            searchable,
            seed: spec.seed,
            count: count.min(most),
            open_ended,
        }
    }

    /// Candidate `i`.
    pub(crate) fn candidate(&self, i: usize) -> Candidate {
        if let Some(&algo) = self.algos.get(i) {
            return Candidate {
                algo,
                settings: Settings::Default,
            };
        }
        let drawn = i - self.algos.len();
        let algo = self.searchable[drawn % self.searchable.len()];
        let mut rng = Rng::derive(self.seed, 0x5EA_0000 + drawn as u64);
        Candidate {
            algo,
            settings: Settings::Gbm(draw_gbm(&mut rng)),
        }
    }
}

/// One of `choices`, uniformly.
fn pick<T: Copy>(rng: &mut Rng, choices: &[T]) -> T {
    choices[rng.below(choices.len())]
}

/// Boosting settings drawn around LightGBM's defaults.
fn draw_gbm(rng: &mut Rng) -> GbmParams {
    let learn_rate = pick(rng, &[0.03, 0.05, 0.1, 0.2]);
    GbmParams {
        learn_rate,
        // As many trees as the defaults' 200 at 0.1 would take to move as far.
        max_trees: (20.0 / learn_rate).round() as usize,
        max_leaves: pick(rng, &[7, 15, 31, 63, 127]),
        max_depth: pick(rng, &[usize::MAX, usize::MAX, 6, 10]),
        min_rows: pick(rng, &[2, 5, 10, 20, 50]),
        lambda: pick(rng, &[0.0, 0.1, 1.0, 10.0]),
        sample_rate: pick(rng, &[0.6, 0.8, 1.0]),
        col_sample_rate: pick(rng, &[0.5, 0.7, 0.9, 1.0]),
        ..GbmParams::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn spec(max_model: Option<usize>, max_run_time: Option<u64>) -> TrainSpec {
        TrainSpec {
            max_model,
            max_run_time: max_run_time.map(Duration::from_secs),
            ..TrainSpec::new("y")
        }
    }

    #[test]
    fn defaults_come_first_then_drawn_candidates_in_turn() {
        let algos = [Algo::Glm, Algo::Gbm, Algo::Drf];
        let plan = Plan::new(&algos, &spec(Some(6), None));
        assert_eq!(plan.count, 6);
        let got: Vec<Candidate> = (0..6).map(|i| plan.candidate(i)).collect();
        assert_eq!(got[0].algo, Algo::Glm);
        assert_eq!(got[2].settings, Settings::Default);
        assert!(got[3..].iter().all(|c| c.algo == Algo::Gbm));
        assert_ne!(got[3], got[4]);
        // The same seed gives the same candidates.
        let again = Plan::new(&algos, &spec(Some(6), None));
        assert_eq!(again.candidate(5), got[5]);
    }

    #[test]
    fn budgets_follow_max_model_max_run_time_or_the_default() {
        let gbm = [Algo::Gbm];
        assert_eq!(Plan::new(&gbm, &spec(Some(3), None)).count, 3);
        let timed = Plan::new(&gbm, &spec(None, Some(10)));
        assert_eq!((timed.count, timed.open_ended), (MAX_SEARCH_MODELS, true));
        let default = Plan::new(&[Algo::Glm, Algo::Gbm], &spec(None, None));
        assert_eq!(default.count, 2 + DEFAULT_DRAWS_PER_ALGO);
        // Nothing to search beyond GLM's defaults.
        assert_eq!(Plan::new(&[Algo::Glm], &spec(Some(5), None)).count, 1);
    }
}
