//! The tables: per data set the engine's best model against the best peer, every model's
//! score and time, and GBM against LightGBM on the generated sets.

use taskloop::automl::evaluator::Evaluator;

use super::{args, Scored, SetResult};

/// A table: its header and rows, ready for [`print_table`](crate::print_table).
pub type Table = (Vec<String>, Vec<Vec<String>>);

/// The best of `models` by `metric` (first on ties); `None` when none has a value.
pub fn best(models: &[Scored], metric: Evaluator) -> Option<&Scored> {
    let better = |a: f64, b: f64| {
        if metric.higher_is_better() {
            a > b
        } else {
            a < b
        }
    };
    let mut best: Option<&Scored> = None;
    for model in models.iter().filter(|m| m.value.is_some()) {
        if best.is_none_or(|b| better(model.value.unwrap(), b.value.unwrap())) {
            best = Some(model);
        }
    }
    best
}

/// Whether the engine's `ours` is at least as good as the peers' `theirs` by `metric`.
pub fn at_least_as_good(ours: f64, theirs: f64, metric: Evaluator) -> bool {
    if metric.higher_is_better() {
        ours >= theirs
    } else {
        ours <= theirs
    }
}

/// A model's short column name in the summary: the engine's algorithm, or the peer.
fn short(name: &str) -> &str {
    match name {
        "LogisticRegression" | "LinearRegression" => "sk-linear",
        "RandomForest" => "sk-RF",
        "HistGradientBoosting" => "sk-HistGB",
        other => other,
    }
}

/// `0.1234`, or `n/a`.
fn value(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.4}"))
}

/// `1.23`, or `n/a`.
fn seconds(s: Option<f64>) -> String {
    s.map_or("n/a".into(), |s| format!("{s:.2}"))
}

/// `name value`, or `n/a`.
fn named(model: Option<&Scored>) -> String {
    model.map_or("n/a".into(), |m| format!("{} {}", m.name, value(m.value)))
}

/// The metric's name with its direction, `auc (higher)`.
fn metric_name(metric: Evaluator) -> String {
    let direction = if metric.higher_is_better() {
        "higher"
    } else {
        "lower"
    };
    format!("{} ({direction} is better)", metric.as_str())
}

/// The comparison per data set: the server's best, the best peer, their ratio, whether
/// the server is at least as good, and every model's 5-fold time.
pub fn summary(results: &[SetResult]) -> Table {
    let mut timed: Vec<String> = Vec::new();
    for m in results.iter().flat_map(|r| r.engine.iter().chain(&r.peers)) {
        if !timed.iter().any(|t| t == short(&m.name)) {
            timed.push(short(&m.name).to_owned());
        }
    }
    let mut header: Vec<String> = ["set", "rows", "metric", "server best", "best peer"]
        .map(String::from)
        .to_vec();
    header.extend(["server/peer".into(), "at least as good".into()]);
    header.extend(timed.iter().map(|t| format!("{t} s")));
    header.push("server total s".into());
    let rows = results.iter().map(|r| summary_row(r, &timed)).collect();
    (header, rows)
}

fn summary_row(r: &SetResult, timed: &[String]) -> Vec<String> {
    let (ours, theirs) = (best(&r.engine, r.metric), best(&r.peers, r.metric));
    let pair = ours.and_then(|o| Some((o.value?, theirs?.value?)));
    let mut row = vec![
        r.set.name.clone(),
        r.set.rows.to_string(),
        metric_name(r.metric),
        named(ours),
        named(theirs),
        pair.map_or("n/a".into(), |(o, t)| format!("{:.4}", o / t)),
        pair.map_or("n/a".into(), |(o, t)| {
            if at_least_as_good(o, t, r.metric) {
                "yes"
            } else {
                "no"
            }
            .into()
        }),
    ];
    for column in timed {
        let model = r
            .engine
            .iter()
            .chain(&r.peers)
            .find(|m| short(&m.name) == column);
        row.push(seconds(model.and_then(|m| m.seconds)));
    }
    row.push(seconds(Some(r.engine_total)));
    row
}

/// Every model on every set: its cross-validated metric, against the best peer, its
/// 5-fold time and its settings.
pub fn per_model(results: &[SetResult]) -> Table {
    let header = [
        "set",
        "side",
        "model",
        "metric",
        "cv value",
        "vs best peer",
        "5-fold s",
    ];
    let mut header: Vec<String> = header.map(String::from).to_vec();
    header.push("settings".into());
    let mut rows = Vec::new();
    for r in results {
        let peer = best(&r.peers, r.metric).and_then(|m| m.value);
        let sides = [("server", &r.engine), ("peer", &r.peers)];
        for (side, models) in sides {
            for m in models.iter() {
                let ratio = m.value.zip(peer).map(|(v, p)| format!("{:.4}", v / p));
                rows.push(vec![
                    r.set.name.clone(),
                    side.into(),
                    m.name.clone(),
                    r.metric.as_str().into(),
                    value(m.value),
                    ratio.unwrap_or_else(|| "n/a".into()),
                    seconds(m.seconds),
                    m.settings.clone(),
                ]);
            }
        }
    }
    (header, rows)
}

/// GBM alone against LightGBM on the generated sets: 5-fold times, boosting rounds, the
/// time ratios (whole and per round) and the two scores.
pub fn speed(results: &[SetResult], threads: usize) -> Table {
    let header = [
        "set",
        "rows",
        "threads",
        "GBM 5-fold s",
        "LightGBM 5-fold s",
    ];
    let mut header: Vec<String> = header.map(String::from).to_vec();
    header.extend(
        [
            "GBM / LightGBM time",
            "GBM rounds",
            "LightGBM rounds",
            "GBM / LightGBM time per round",
            "metric",
            "GBM",
            "LightGBM",
        ]
        .map(String::from),
    );
    let rows = results
        .iter()
        .filter(|r| args::is_generated(&r.set.name))
        .map(|r| speed_row(r, threads))
        .collect();
    (header, rows)
}

fn speed_row(r: &SetResult, threads: usize) -> Vec<String> {
    let find = |models: &[Scored], name: &str| models.iter().find(|m| m.name == name).cloned();
    let (gbm, lgbm) = (find(&r.engine, "GBM"), find(&r.peers, "LightGBM"));
    let time = |m: &Option<Scored>| m.as_ref().and_then(|m| m.seconds);
    let rounds = |m: &Option<Scored>| m.as_ref().and_then(|m| m.rounds);
    let per_round = |m: &Option<Scored>| time(m).zip(rounds(m)).map(|(t, n)| t / n);
    let ratio = |a: Option<f64>, b: Option<f64>| {
        a.zip(b)
            .map_or("n/a".into(), |(a, b)| format!("{:.2}x", a / b))
    };
    let count = |n: Option<f64>| n.map_or("n/a".into(), |n| format!("{n:.0}"));
    vec![
        r.set.name.clone(),
        r.set.rows.to_string(),
        threads.to_string(),
        seconds(time(&gbm)),
        seconds(time(&lgbm)),
        ratio(time(&gbm), time(&lgbm)),
        count(rounds(&gbm)),
        count(rounds(&lgbm)),
        ratio(per_round(&gbm), per_round(&lgbm)),
        r.metric.as_str().into(),
        value(gbm.as_ref().and_then(|m| m.value)),
        value(lgbm.as_ref().and_then(|m| m.value)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, v: Option<f64>) -> Scored {
        Scored {
            name: name.into(),
            value: v,
            seconds: Some(1.0),
            settings: String::new(),
            rounds: None,
        }
    }

    #[test]
    fn best_follows_the_metric_direction_and_skips_missing_values() {
        let models = [
            model("a", Some(0.8)),
            model("b", None),
            model("c", Some(0.9)),
        ];
        assert_eq!(best(&models, Evaluator::Auc).unwrap().name, "c");
        assert_eq!(best(&models, Evaluator::Rmse).unwrap().name, "a");
        assert!(best(&models[1..2], Evaluator::Rmse).is_none());
        assert!(at_least_as_good(0.9, 0.9, Evaluator::Auc));
        assert!(!at_least_as_good(0.89, 0.9, Evaluator::Auc));
        assert!(at_least_as_good(1.0, 1.1, Evaluator::Logloss));
        assert!(!at_least_as_good(1.2, 1.1, Evaluator::Rmse));
    }

    #[test]
    fn speed_compares_whole_runs_and_rounds() {
        let boosted = |name: &str, seconds: f64, rounds: f64| Scored {
            seconds: Some(seconds),
            rounds: Some(rounds),
            ..model(name, Some(0.5))
        };
        let result = SetResult {
            set: super::super::python::DataSet {
                name: "friedman1".into(),
                path: "f.csv".into(),
                rows: 10,
            },
            metric: Evaluator::Rmse,
            engine: vec![boosted("GBM", 10.0, 500.0)],
            engine_total: 12.0,
            peers: vec![boosted("LightGBM", 2.0, 100.0)],
            versions: String::new(),
        };
        let row = speed_row(&result, 2);
        assert_eq!(row[5..9], ["5.00x", "500", "100", "1.00x"]);
        assert!(speed(
            &[SetResult {
                set: super::super::python::DataSet {
                    name: "wine".into(),
                    ..result.set.clone()
                },
                ..result
            }],
            1
        )
        .1
        .is_empty());
    }
}
