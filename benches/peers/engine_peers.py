#!/usr/bin/env python3
"""The peers of `cargo run --release --bin engine`: the data sets, and scikit-learn and
LightGBM cross-validated on exactly the folds the engine uses.

    python engine_peers.py data --out DIR [--rows N] [--sets a,b]
    python engine_peers.py peers --data SET.csv --folds SET.folds.csv \
        --metric rmse|logloss|auc --threads T [--peers a,b]

`data` writes one CSV per data set into DIR (the target is the column `target`; class
targets are text labels, missing values are empty fields) and prints one JSON line per
set: {"set", "path", "rows"}. A file already there is reused (the generators are
seeded, so it would be the same).

`peers` reads one data set and its folds (the column `fold`, one line per data row: the
fold that scores the row, empty for a row no fold scores) and, for each peer model, fits
on the other folds and scores each fold, then prints one JSON line per model:
{"model", "value", "folds", "seconds", "rounds"}, where value is the mean over the folds of the
per-fold metric (as the engine's `cv_averages`) and seconds the wall time of the whole
5-fold run (preprocessing included, data loading not), rounds a boosted model's mean
boosting rounds over the folds (null otherwise). A first line gives the versions.
`--peers linear,rf,histgb,lightgbm` runs only those peers (default all).

Metrics, as the engine computes them (src/automl/ml/metrics/):
- rmse: sqrt(mean((y - p)^2));
- logloss: mean(-ln(clip(p_true, 1e-15, 1 - 1e-15))), p_true the probability the model
  gives the row's true class (0 when it does not know the class);
- auc: the rank-sum AUC with ties counted half (sklearn's roc_auc_score), the positive
  class being the second class label in sorted order.

Thread counts are applied before numpy and the learners are imported: OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS are set to --threads unless already set, and
every learner with a thread setting gets n_jobs=--threads.
"""
import argparse
import json
import os
import sys
import time

GENERATED_ROWS = {"classification": 10_000, "regression": 10_000, "friedman1": 10_000,
                  "categorical": 20_000}
BUNDLED = ["breast_cancer", "diabetes", "wine", "digits"]
ALL_SETS = BUNDLED + list(GENERATED_ROWS)
EPS = 1e-15
SEED = 0


def log(message):
    print(f"[peers] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------------------

def labelled(frame, y, names):
    """`frame` with the column `target` holding the text label names[y]."""
    import numpy as np
    frame = frame.copy()
    frame["target"] = np.asarray(names, dtype=object)[np.asarray(y)]
    return frame


def features(x, prefix="x"):
    import pandas as pd
    return pd.DataFrame(x, columns=[f"{prefix}{i}" for i in range(x.shape[1])])


def bundled(name):
    """One of scikit-learn's bundled data sets; class targets as their label names."""
    from sklearn import datasets
    load = getattr(datasets, f"load_{name}")
    bunch = load(as_frame=True)
    frame = bunch.data.copy()
    frame.columns = [c.replace(" ", "_").replace("(", "").replace(")", "")
                     for c in frame.columns]
    if name == "diabetes":
        frame["target"] = bunch.target.to_numpy()
        return frame
    names = [str(n) for n in getattr(bunch, "target_names", [])]
    if name == "digits":
        names = [f"digit_{d}" for d in range(10)]
    return labelled(frame, bunch.target.to_numpy(), names)


def generated(name, rows):
    """make_classification / make_regression / make_friedman1 at `rows` rows, or the
    categorical set."""
    from sklearn import datasets
    if name == "classification":
        x, y = datasets.make_classification(n_samples=rows, random_state=SEED)
        return labelled(features(x), y, ["class_0", "class_1"])
    if name == "regression":
        x, y = datasets.make_regression(n_samples=rows, noise=10.0, random_state=SEED)
    elif name == "friedman1":
        x, y = datasets.make_friedman1(n_samples=rows, random_state=SEED)
    else:
        return categorical(rows)
    frame = features(x)
    frame["target"] = y
    return frame


def categorical(rows):
    """A binary target driven by two 60-level string columns (main effects and an
    interaction) and six numeric columns (linear, product, sine, pure noise), with 10% of
    every feature's values missing."""
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(SEED)
    levels = 60
    a, b = rng.integers(0, levels, rows), rng.integers(0, levels, rows)
    effect_a, effect_b = rng.normal(0, 1, levels), rng.normal(0, 1, levels)
    x = rng.normal(size=(rows, 6))
    logit = (effect_a[a] + effect_b[b] + 1.5 * (a % 4 == b % 4)
             + x[:, 0] - 0.8 * x[:, 1] + 0.6 * x[:, 2] * x[:, 3] + np.sin(2 * x[:, 4]))
    logit -= logit.mean()
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({
        "city": np.array([f"city_{i:02d}" for i in range(levels)], dtype=object)[a],
        "shop": np.array([f"shop_{i:02d}" for i in range(levels)], dtype=object)[b],
    })
    for i in range(6):
        frame[f"num_{i}"] = x[:, i]
    for column in frame.columns:
        frame.loc[rng.random(rows) < 0.10, column] = None
    return labelled(frame, y, ["no", "yes"])


def make_data(args):
    sets = pick_sets(args.sets)
    os.makedirs(args.out, exist_ok=True)
    for name in sets:
        rows = None if name in BUNDLED else (args.rows or GENERATED_ROWS[name])
        stem = name if rows is None else f"{name}_{rows}"
        path = os.path.join(args.out, f"{stem}.csv")
        if os.path.exists(path):
            log(f"reusing {path}")
        else:
            log(f"writing {path}")
            frame = bundled(name) if rows is None else generated(name, rows)
            partial = path + ".partial"
            frame.to_csv(partial, index=False, na_rep="")
            os.replace(partial, path)
        count = rows if rows is not None else sum(1 for _ in open(path)) - 1
        print(json.dumps({"set": name, "path": os.path.abspath(path), "rows": count}),
              flush=True)


def pick_sets(wanted):
    if not wanted:
        return ALL_SETS
    names = [w.strip() for w in wanted.split(",") if w.strip()]
    unknown = [n for n in names if n not in ALL_SETS]
    if unknown or not names:
        sys.exit(f"unknown data set(s) {', '.join(unknown) or '(none given)'}; "
                 f"known: {', '.join(ALL_SETS)}")
    return [n for n in ALL_SETS if n in names]


# ---------------------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------------------

def peer_models(classify, threads, cat_cols, num_cols):
    """(key, name, factory, wants_categories): factory() returns a fresh unfitted model taking
    the raw frame; wants_categories says whether it reads pandas category columns (the
    native-categorical learners) or object columns (the one-hot pipelines)."""
    from lightgbm import LGBMClassifier, LGBMRegressor
    from sklearn import ensemble, linear_model
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def one_hot(model, numeric):
        cats = make_pipeline(SimpleImputer(strategy="constant", fill_value="(missing)"),
                             OneHotEncoder(handle_unknown="ignore"))
        columns = ColumnTransformer([("num", numeric, num_cols), ("cat", cats, cat_cols)],
                                    sparse_threshold=0.0)
        return make_pipeline(columns, model)

    def linear():
        scaled = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler())
        model = (linear_model.LogisticRegression(max_iter=1000) if classify
                 else linear_model.LinearRegression(n_jobs=threads))
        return one_hot(model, scaled)

    def forest():
        kind = ensemble.RandomForestClassifier if classify else ensemble.RandomForestRegressor
        return one_hot(kind(n_jobs=threads, random_state=SEED), "passthrough")

    def hist():
        kind = (ensemble.HistGradientBoostingClassifier if classify
                else ensemble.HistGradientBoostingRegressor)
        return kind(categorical_features="from_dtype", random_state=SEED)

    def lgbm():
        kind = LGBMClassifier if classify else LGBMRegressor
        return kind(n_jobs=threads, verbose=-1)

    name = "LogisticRegression" if classify else "LinearRegression"
    return [("linear", name, linear, False), ("rf", "RandomForest", forest, False),
            ("histgb", "HistGradientBoosting", hist, True), ("lightgbm", "LightGBM", lgbm, True)]


def rounds(model):
    """A boosted model's boosting rounds (after early stopping), else None."""
    for attribute in ["n_estimators_", "n_iter_"]:
        value = getattr(model, attribute, None)
        if isinstance(value, (int, float)) or hasattr(value, "item"):
            return float(value)
    return None


def fold_metric(metric, model, x, y, classes):
    """The metric of fitted `model` on rows x with targets y, as the engine defines it."""
    import numpy as np
    if metric == "rmse":
        return float(np.sqrt(np.mean((y - model.predict(x)) ** 2)))
    probs = model.predict_proba(x)
    column = {c: i for i, c in enumerate(model.classes_)}
    if metric == "auc":
        from sklearn.metrics import roc_auc_score
        positive = classes[1]
        p1 = probs[:, column[positive]] if positive in column else np.zeros(len(y))
        return float(roc_auc_score(y == positive, p1))
    index = np.array([column.get(label, -1) for label in y])
    p_true = np.where(index >= 0, probs[np.arange(len(y)), np.maximum(index, 0)], 0.0)
    return float(np.mean(-np.log(np.clip(p_true, EPS, 1 - EPS))))


def cross_validate(metric, factory, x, y, folds, classes):
    """Per-fold metrics of fresh models fitted on the other folds, the wall time, and
    the mean boosting rounds (None for a model that does not boost)."""
    import numpy as np
    in_cv = ~np.isnan(folds)
    scores, fold_rounds = [], []
    start = time.perf_counter()
    for fold in sorted(set(folds[in_cv].astype(int))):
        scored = folds == fold
        fitted = factory().fit(x[in_cv & ~scored], y[in_cv & ~scored])
        scores.append(fold_metric(metric, fitted, x[scored], y[scored], classes))
        fold_rounds.append(rounds(fitted))
    seconds = time.perf_counter() - start
    mean_rounds = None if None in fold_rounds else float(np.mean(fold_rounds))
    return scores, seconds, mean_rounds


def read_frame(path, folds_path, classify):
    """The features (text columns as object columns with NaN for missing), the target
    (text labels or numbers) and the fold of every row (NaN for none)."""
    import numpy as np
    import pandas as pd
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    folds = pd.read_csv(folds_path, keep_default_na=False, na_values=[""])["fold"]
    if len(folds) != len(frame):
        sys.exit(f"{folds_path} has {len(folds)} rows, {path} has {len(frame)}")
    target = frame.pop("target")
    y = target.astype(object).to_numpy() if classify else target.to_numpy(dtype=float)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            values = frame[column].astype(object)
            frame[column] = values.where(values.notna(), np.nan)
    return frame, y, folds.to_numpy(dtype=float)


def run_peers(args):
    import lightgbm
    import numpy as np
    import pandas as pd
    import sklearn
    classify = args.metric != "rmse"
    frame, y, folds = read_frame(args.data, args.folds, classify)
    classes = sorted({v for v in y if isinstance(v, str)}) if classify else []
    cat_cols = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    num_cols = [c for c in frame.columns if c not in cat_cols]
    as_category = frame.astype({c: "category" for c in cat_cols})
    print(json.dumps({"versions": {"scikit-learn": sklearn.__version__,
                                   "lightgbm": lightgbm.__version__,
                                   "numpy": np.__version__}}), flush=True)
    models = peer_models(classify, args.threads, cat_cols, num_cols)
    for key, name, factory, wants_categories in models:
        if args.peers and key not in args.peers.split(","):
            continue
        x = as_category if wants_categories else frame
        log(f"{os.path.basename(args.data)}: {name}")
        scores, seconds, boosted = cross_validate(args.metric, factory, x, y, folds, classes)
        print(json.dumps({"model": name, "value": float(np.mean(scores)), "folds": scores,
                          "seconds": seconds, "rounds": boosted}), flush=True)


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="write the data sets as CSV files")
    data.add_argument("--out", required=True)
    data.add_argument("--rows", type=int, help="rows of the generated sets")
    data.add_argument("--sets", help="comma-separated set names (default: all)")
    peers = sub.add_parser("peers", help="cross-validate the peers on one set")
    peers.add_argument("--data", required=True)
    peers.add_argument("--folds", required=True)
    peers.add_argument("--metric", required=True, choices=["rmse", "logloss", "auc"])
    peers.add_argument("--threads", type=int, default=1)
    peers.add_argument("--peers", help="comma-separated: linear, rf, histgb, lightgbm "
                                        "(default: all)")
    args = parser.parse_args()
    if getattr(args, "rows", None) is not None and args.rows < 10:
        parser.error("--rows must be at least 10")
    if getattr(args, "threads", 1) < 1:
        parser.error("--threads must be at least 1")
    known = ["linear", "rf", "histgb", "lightgbm"]
    unknown = [p for p in (getattr(args, "peers", None) or "").split(",") if p and p not in known]
    if unknown:
        parser.error(f"unknown peer(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return args


def main():
    args = parse_args()
    if args.command == "data":
        make_data(args)
        return
    for variable in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
        os.environ.setdefault(variable, str(args.threads))
    run_peers(args)


if __name__ == "__main__":
    main()
