//! The engine benchmark's command line: `--rows N`, `--sets a,b`, `--threads T`, `--help`.

/// The data sets, in the order they are run: scikit-learn's bundled sets, then the
/// generated ones (`--rows` applies to these).
pub const SETS: [&str; 8] = [
    "breast_cancer",
    "diabetes",
    "wine",
    "digits",
    "classification",
    "regression",
    "friedman1",
    "categorical",
];

/// The peers, by the names `--peers` takes.
pub const PEERS: [&str; 4] = ["linear", "rf", "histgb", "lightgbm"];

/// The engine's algorithms, by the names `--algos` takes.
pub const ALGOS: [&str; 4] = ["glm", "drf", "gbm", "stackedensemble"];

/// How many of [`SETS`] are scikit-learn's bundled sets; the rest are generated.
const BUNDLED: usize = 4;

/// Whether `set` is generated (its rows follow `--rows`), not one of scikit-learn's
/// bundled sets.
pub fn is_generated(set: &str) -> bool {
    SETS[BUNDLED..].contains(&set)
}

/// What `--help` prints.
pub const USAGE: &str = "\
usage: engine [--rows N] [--sets a,b] [--peers a,b] [--algos a,b] [--threads T] [--max-model M] [--help]

Cross-validates the bundled AutoML engine (GLM, DRF, GBM; 5 folds) against scikit-learn
and LightGBM on the same folds, and prints markdown tables (progress on stderr).

  --rows N     rows of the generated sets (default 10000, and 20000 for categorical)
  --sets a,b   only these data sets (default all): breast_cancer, diabetes, wine, digits,
               classification, regression, friedman1, categorical
  --peers a,b  only these peers (default all): linear, rf, histgb, lightgbm
  --algos a,b  only these engine algorithms (default all): glm, drf, gbm, stackedensemble
  --threads T  threads of both sides (default 1): the engine's folds fitted at once
               (TrainSpec::threads); the peers' n_jobs, num_threads, OMP_NUM_THREADS
  --max-model M  the engine's max_model (default: none, the SDK's default input: the
               server's default budget, sized by the data); M above the algorithms'
               count adds searched GLM and GBM settings
  --help       print this text";

/// The settings of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Rows of the generated sets; `None`: their defaults.
    pub rows: Option<usize>,
    /// The data sets to run, in [`SETS`] order.
    pub sets: Vec<&'static str>,
    /// The peers to run, in [`PEERS`] order.
    pub peers: Vec<&'static str>,
    /// The engine's algorithms, in [`ALGOS`] order.
    pub algos: Vec<&'static str>,
    /// Threads of both sides: the engine's folds at once, the peers' thread settings.
    pub threads: usize,
    /// The engine's `max_model`; `None`: the SDK's default input.
    pub max_model: Option<usize>,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the benchmark.
    Run(Args),
    /// Print [`USAGE`].
    Help,
}

/// Parses the arguments after the program name.
///
/// # Errors
/// A message for an unknown argument, a flag without its value, a count that is not a
/// number in range, or an unknown data set.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut parsed = Args {
        rows: None,
        sets: SETS.to_vec(),
        peers: PEERS.to_vec(),
        algos: ALGOS.to_vec(),
        threads: 1,
        max_model: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        if arg == "--help" || arg == "-h" {
            return Ok(Command::Help);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--rows" => parsed.rows = Some(count(&flag, &value()?, 10)?),
            "--threads" => parsed.threads = count(&flag, &value()?, 1)?,
            "--max-model" => parsed.max_model = Some(count(&flag, &value()?, 1)?),
            "--sets" => parsed.sets = names(&flag, &value()?, &SETS)?,
            "--peers" => parsed.peers = names(&flag, &value()?, &PEERS)?,
            "--algos" => parsed.algos = names(&flag, &value()?, &ALGOS)?,
            _ => return Err(format!("unknown argument '{arg}'")),
        }
    }
    Ok(Command::Run(parsed))
}

/// `text` as a whole number of at least `min`.
fn count(flag: &str, text: &str, min: usize) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(format!(
            "{flag} takes a whole number of at least {min}, not '{text}'"
        )),
    }
}

/// The comma-separated names of `text`, each one of `known`, in `known`'s order.
fn names(flag: &str, text: &str, known: &[&'static str]) -> Result<Vec<&'static str>, String> {
    let names: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if let Some(unknown) = names.iter().find(|n| !known.contains(n)) {
        return Err(format!(
            "{flag}: unknown name '{unknown}' (known: {})",
            known.join(", ")
        ));
    }
    if names.is_empty() {
        return Err(format!("{flag} names nothing"));
    }
    Ok(known
        .iter()
        .copied()
        .filter(|s| names.contains(s))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn defaults_and_flags() {
        let Ok(Command::Run(args)) = run(&[]) else {
            panic!()
        };
        assert_eq!((args.rows, args.threads, args.sets.len()), (None, 1, 8));
        let parsed = run(&[
            "--rows",
            "100000",
            "--sets=wine,breast_cancer",
            "--threads",
            "4",
        ]);
        let expected = Args {
            rows: Some(100_000),
            sets: vec!["breast_cancer", "wine"],
            peers: PEERS.to_vec(),
            algos: ALGOS.to_vec(),
            threads: 4,
            max_model: None,
        };
        assert_eq!(parsed, Ok(Command::Run(expected)));
        let Ok(Command::Run(args)) = run(&["--max-model", "8"]) else {
            panic!()
        };
        assert_eq!(args.max_model, Some(8));
        assert_eq!(
            run(&["--rows", "5", "--help"]),
            Err("--rows takes a whole number of at least 10, not '5'".into())
        );
        assert_eq!(run(&["--sets", "wine", "--help"]), Ok(Command::Help));
        let Ok(Command::Run(args)) = run(&["--peers=lightgbm,linear"]) else {
            panic!()
        };
        assert_eq!(args.peers, ["linear", "lightgbm"]);
        let Ok(Command::Run(args)) = run(&["--algos", "gbm"]) else {
            panic!()
        };
        assert_eq!(args.algos, ["gbm"]);
    }

    #[test]
    fn bad_arguments_are_errors() {
        for (args, message) in [
            (&["--fast"][..], "unknown argument '--fast'"),
            (&["--rows"][..], "--rows needs a value"),
            (&["--threads", "0"][..], "at least 1, not '0'"),
            (&["--sets", "iris"][..], "--sets: unknown name 'iris'"),
            (&["--sets", ","][..], "--sets names nothing"),
            (
                &["--peers", "xgboost"][..],
                "--peers: unknown name 'xgboost'",
            ),
            (&["data.csv"][..], "unknown argument 'data.csv'"),
            (&["--algos", "xgb"][..], "--algos: unknown name 'xgb'"),
        ] {
            let err = run(args).unwrap_err();
            assert!(err.contains(message), "{args:?}: {err}");
        }
    }
}
