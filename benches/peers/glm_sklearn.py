"""scikit-learn's default linear models (and LightGBM) on the data sets the GLM is
measured on, with the same five folds as the crate's ignored test
`glm_against_scikit_learn` (src/automl/ml/glm/peer_tests.rs).

    python glm_sklearn.py OUT_DIR

writes OUT_DIR/<name>.csv (features f0.., a string column `cat` for the wide set, the
target `y` and the fold `fold`) and prints one line per data set and model: the mean
over the folds of the log loss and AUC (binary) or accuracy (multiclass), or the RMSE
(regression), and the fit time. Features are standardised on the training folds, as the
crate's encoder does; categoricals one-hot encoded with every level.
"""

import sys
import time

import numpy as np
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

FOLDS = 5


def wide_categorical(rows=20_000, levels=60, seed=0):
    """A binary target driven by five numbers and a 60-level string column whose
    levels follow a Zipf-like frequency, so a third of them have fewer than 100 rows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 5))
    weights = 1.0 / np.arange(1, levels + 1) ** 0.8
    cat = rng.choice(levels, size=rows, p=weights / weights.sum())
    effect = rng.normal(scale=1.0, size=levels)
    logit = x @ np.array([1.0, -0.7, 0.5, 0.3, 0.0]) + effect[cat] + 0.4 * x[:, 0] * x[:, 1]
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, np.array([f"L{c}" for c in cat]), y


def load():
    out = {}
    for name, loader, task in [
        ("breast_cancer", datasets.load_breast_cancer, "binary"),
        ("diabetes", datasets.load_diabetes, "regression"),
        ("wine", datasets.load_wine, "multiclass"),
        ("digits", datasets.load_digits, "multiclass"),
    ]:
        x, y = loader(return_X_y=True)
        out[name] = (x, None, y, task)
    x, cat, y = wide_categorical()
    out["wide_categorical"] = (x, cat, y, "binary")
    return out


def folds(n, seed=42):
    order = np.random.default_rng(seed).permutation(n)
    fold = np.empty(n, dtype=int)
    fold[order] = np.arange(n) % FOLDS
    return fold


def write_csv(path, x, cat, y, fold):
    with open(path, "w") as f:
        names = [f"f{j}" for j in range(x.shape[1])] + (["cat"] if cat is not None else [])
        f.write(",".join(names + ["y", "fold"]) + "\n")
        for i in range(len(y)):
            cells = [repr(float(v)) for v in x[i]] + ([cat[i]] if cat is not None else [])
            f.write(",".join(cells + [repr(y[i].item()), str(fold[i])]) + "\n")


def models(task, width, has_cat):
    numbers = list(range(width))
    steps = [("num", StandardScaler(), numbers)]
    if has_cat:
        steps.append(("cat", OneHotEncoder(handle_unknown="ignore"), [5]))
    prep = lambda: ColumnTransformer(steps)
    if task == "regression":
        yield "LinearRegression", make_pipeline(prep(), LinearRegression())
        return
    yield "LogisticRegression", make_pipeline(prep(), LogisticRegression())
    yield "LogisticRegression(max_iter=5000)", make_pipeline(prep(), LogisticRegression(max_iter=5000))
    if has_cat:
        import lightgbm

        yield "LightGBM", make_pipeline(prep(), lightgbm.LGBMClassifier(verbose=-1))


def score(task, y, pred):
    if task == "regression":
        return {"rmse": mean_squared_error(y, pred) ** 0.5}
    out = {"logloss": log_loss(y, pred, labels=np.arange(pred.shape[1]))}
    if task == "binary":
        out["auc"] = roc_auc_score(y, pred[:, 1])
    else:
        out["accuracy"] = accuracy_score(y, pred.argmax(axis=1))
    return out


def main(out_dir):
    for name, (x, cat, y, task) in load().items():
        fold = folds(len(y))
        write_csv(f"{out_dir}/{name}.csv", x, cat, y, fold)
        data = x
        if cat is not None:
            data = np.empty((len(y), x.shape[1] + 1), dtype=object)
            data[:, :5], data[:, 5] = x, cat
        for label, model in models(task, x.shape[1], cat is not None):
            scores, seconds = [], 0.0
            for k in range(FOLDS):
                train, test = fold != k, fold == k
                start = time.perf_counter()
                model.fit(data[train], y[train])
                seconds += time.perf_counter() - start
                pred = model.predict(data[test]) if task == "regression" else model.predict_proba(data[test])
                scores.append(score(task, y[test], pred))
            means = {m: np.mean([s[m] for s in scores]) for m in scores[0]}
            shown = " ".join(f"{m}={v:.4f}" for m, v in means.items())
            print(f"{name:17} {label:34} {shown}  fit {seconds:.3f} s")


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore")
    main(sys.argv[1])
