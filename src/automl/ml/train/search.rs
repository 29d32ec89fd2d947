//! The AutoML search: which models a train request trains, and in which order.
//!
//! Model `i` of a training is a **candidate**: an algorithm and its settings. The first
//! candidates are each requested algorithm's defaults, in request order. After them come
//! searched candidates, taking the searchable requested algorithms in turn:
//! - GBM: settings drawn at random (learning rate, leaves, depth, rows per leaf, L2
//!   penalty, row and column sample rates), each from its own random stream of the
//!   request's seed, so the same seed gives the same candidates whatever the budget;
//! - GLM: the next penalty of a fixed path around the default, [`GLM_STRENGTHS`]
//!   (scikit-learn's `1/C`, or a ridge's `alpha`), until the path is done.
//!
//! DRF has no search: its defaults grow every tree to single rows, which leaves little
//! to tune but the feature sampling.
//!
//! How many candidates are trained (the **budget**):
//! - `max_model = n`: exactly `n` (fewer only when the algorithms requested have
//!   nothing more to search, or `max_run_time` runs out first);
//! - otherwise, with `max_run_time`: candidates one after another until the time runs
//!   out, at most [`MAX_SEARCH_MODELS`];
//! - otherwise (the SDK's default): a search sized by the data, [`default_count`]:
//!   small data sets, whose models take well under a second, get up to
//!   [`DEFAULT_MOST_SEARCHED`] searched candidates; large ones their defaults only.

use super::super::gbm::GbmParams;
use super::super::glm::GlmParams;
use super::super::rng::Rng;
use super::super::spec::{Algo, TrainSpec};

/// Most models a search bounded only by `max_run_time` trains.
pub(crate) const MAX_SEARCH_MODELS: usize = 100;

/// The default budget trains about as many models as fit this many cells (rows ×
/// features) of training data: each algorithm's defaults, then searched candidates.
pub(crate) const DEFAULT_BUDGET_CELLS: usize = 2_000_000;

/// Most searched candidates of the default budget.
pub(crate) const DEFAULT_MOST_SEARCHED: usize = 10;

/// GLM's search path: penalty strengths `s` (λ = `s` / rows on the mean loss), the
/// nearest to the defaults first (scikit-learn's `C = 1` for the classifiers, no
/// penalty for least squares).
pub(crate) const GLM_STRENGTHS: [f64; 8] = [10.0, 0.1, 100.0, 0.01, 3.0, 0.3, 30.0, 0.03];

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
    /// A GLM penalty from the search path.
    Glm(GlmParams),
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

/// How many searched candidates `algo` has at most.
fn capacity(algo: Algo) -> usize {
    match algo {
        Algo::Gbm => usize::MAX,
        Algo::Glm => GLM_STRENGTHS.len(),
        Algo::Drf | Algo::StackedEnsemble => 0,
    }
}

/// The default budget's number of models for `algos` on `cells` cells (training rows
/// × features): `DEFAULT_BUDGET_CELLS / cells`, at least one per algorithm and at most
/// [`DEFAULT_MOST_SEARCHED`] more.
pub(crate) fn default_count(algos: usize, cells: usize) -> usize {
    (DEFAULT_BUDGET_CELLS / cells.max(1)).clamp(algos, algos + DEFAULT_MOST_SEARCHED)
}

impl Plan {
    /// The plan of `spec` over the distinct requested `algos`, whose training data has
    /// `cells` cells (rows × features).
    pub(crate) fn new(algos: &[Algo], spec: &TrainSpec, cells: usize) -> Plan {
        let searchable: Vec<Algo> = algos.iter().copied().filter(|&a| capacity(a) > 0).collect();
        let most = searchable
            .iter()
            .fold(algos.len(), |n, &a| n.saturating_add(capacity(a)));
        let (count, open_ended) = match (spec.max_model, spec.max_run_time) {
            (Some(n), _) => (n, false),
            (None, Some(_)) => (MAX_SEARCH_MODELS, true),
            (None, None) => (default_count(algos.len(), cells), false),
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
        // Searched candidates take the searchable algorithms in turn, skipping those
        // whose search is done; `turns[k]` counts algorithm k's candidates so far.
        let mut turns = vec![0; self.searchable.len()];
        let mut drawn = 0;
        let mut k = 0;
        loop {
            let algo = self.searchable[k % self.searchable.len()];
            let slot = k % self.searchable.len();
            k += 1;
            if turns[slot] >= capacity(algo) {
                continue;
            }
            if drawn + self.algos.len() == i {
                return self.searched(algo, drawn, turns[slot]);
            }
            turns[slot] += 1;
            drawn += 1;
        }
    }

    /// The `turn`-th searched candidate of `algo`, the `drawn`-th searched in all.
    fn searched(&self, algo: Algo, drawn: usize, turn: usize) -> Candidate {
        let settings = match algo {
            Algo::Glm => Settings::Glm(GlmParams {
                strength: Some(GLM_STRENGTHS[turn]),
                ..GlmParams::default()
            }),
            _ => {
                let mut rng = Rng::derive(self.seed, 0x5EA_0000 + drawn as u64);
                Settings::Gbm(draw_gbm(&mut rng))
            }
        };
        Candidate { algo, settings }
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

    const SMALL: usize = 10_000;

    #[test]
    fn defaults_come_first_then_searched_candidates_in_turn() {
        let algos = [Algo::Drf, Algo::Gbm, Algo::Glm];
        let plan = Plan::new(&algos, &spec(Some(8), None), SMALL);
        assert_eq!(plan.count, 8);
        let got: Vec<Candidate> = (0..8).map(|i| plan.candidate(i)).collect();
        assert_eq!(got[0].algo, Algo::Drf);
        assert_eq!(got[2].settings, Settings::Default);
        let searched: Vec<Algo> = got[3..].iter().map(|c| c.algo).collect();
        assert_eq!(
            searched,
            [Algo::Gbm, Algo::Glm, Algo::Gbm, Algo::Glm, Algo::Gbm]
        );
        assert_ne!(got[3], got[5]);
        let Settings::Glm(first) = &got[4].settings else {
            panic!("{:?}", got[4])
        };
        assert_eq!(first.strength, Some(GLM_STRENGTHS[0]));
        // The same seed gives the same candidates.
        let again = Plan::new(&algos, &spec(Some(8), None), SMALL);
        assert_eq!(again.candidate(7), got[7]);
    }

    #[test]
    fn glm_leaves_the_turns_when_its_path_is_done() {
        let plan = Plan::new(&[Algo::Glm, Algo::Gbm], &spec(Some(30), None), SMALL);
        let glms = (0..30)
            .filter(|&i| plan.candidate(i).algo == Algo::Glm)
            .count();
        assert_eq!(glms, 1 + GLM_STRENGTHS.len());
        assert_eq!(plan.candidate(29).algo, Algo::Gbm);
        // GLM alone: its defaults and its path, no more.
        assert_eq!(
            Plan::new(&[Algo::Glm], &spec(Some(50), None), SMALL).count,
            9
        );
    }

    #[test]
    fn budgets_follow_max_model_max_run_time_or_the_data() {
        let gbm = [Algo::Gbm];
        assert_eq!(Plan::new(&gbm, &spec(Some(3), None), SMALL).count, 3);
        let timed = Plan::new(&gbm, &spec(None, Some(10)), SMALL);
        assert_eq!((timed.count, timed.open_ended), (MAX_SEARCH_MODELS, true));
        let both = [Algo::Glm, Algo::Gbm];
        let small = Plan::new(&both, &spec(None, None), SMALL);
        assert_eq!(small.count, 2 + DEFAULT_MOST_SEARCHED);
        let middle = Plan::new(&both, &spec(None, None), 400_000);
        assert_eq!(middle.count, 5);
        // 100,000 rows of 20 features: each algorithm's defaults only.
        let large = Plan::new(&both, &spec(None, None), 2_000_000);
        assert_eq!(large.count, 2);
        // Nothing to search beyond DRF's defaults.
        assert_eq!(
            Plan::new(&[Algo::Drf], &spec(Some(5), None), SMALL).count,
            1
        );
    }
}
