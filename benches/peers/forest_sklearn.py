"""scikit-learn's random forests on the data of taskloop's forest measurement.

Write the data first (from the taskloop crate):

    DRF_BENCH_CSV=/tmp/drf-bench cargo test --release --lib forest::measure -- --ignored --nocapture

then `python forest_sklearn.py /tmp/drf-bench`. Prints, per setting, the median seconds of
three fits on one thread and the test metrics, as taskloop's measurement does.
"""

import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import log_loss, mean_squared_error, r2_score, roc_auc_score


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1]


def timed(make, x, y, runs=3):
    times = []
    for _ in range(runs):
        model = make()
        start = time.perf_counter()
        model.fit(x, y)
        times.append(time.perf_counter() - start)
    return sorted(times)[runs // 2], model


def main():
    folder = sys.argv[1]
    x, y = load(f"{folder}/train.csv")
    tx, ty = load(f"{folder}/test.csv")
    median = np.sort(y)[len(y) // 2]
    c, tc = (y > median).astype(int), (ty > median).astype(int)
    settings = {
        "sklearn defaults (100 trees, bootstrap)": {},
        "H2O-like (50 trees, depth 20, bootstraps of 63.2% of the rows)": {
            "n_estimators": 50,
            "max_depth": 20,
            "bootstrap": True,
            "max_samples": 0.632,
        },
    }
    for name, kw in settings.items():
        secs, model = timed(lambda: RandomForestRegressor(random_state=7, n_jobs=1, **kw), x, y)
        pred = model.predict(tx)
        rmse = mean_squared_error(ty, pred) ** 0.5
        print(f"{name} regression: {secs:.3f} s, test rmse {rmse:.4f}, r2 {r2_score(ty, pred):.4f}")
        reg_third = dict(kw, max_features=1 / 3)
        secs, model = timed(lambda: RandomForestRegressor(random_state=7, n_jobs=1, **reg_third), x, y)
        pred = model.predict(tx)
        rmse = mean_squared_error(ty, pred) ** 0.5
        print(f"{name} regression, p/3 features: {secs:.3f} s, test rmse {rmse:.4f}, r2 {r2_score(ty, pred):.4f}")
        secs, model = timed(lambda: RandomForestClassifier(random_state=7, n_jobs=1, **kw), x, c)
        p = np.clip(model.predict_proba(tx)[:, 1], 1e-15, 1 - 1e-15)
        err = np.mean((p >= 0.5) != tc)
        print(
            f"{name} binary: {secs:.3f} s, test auc {roc_auc_score(tc, p):.4f}, "
            f"logloss {log_loss(tc, p):.4f}, error {err:.4f}"
        )


if __name__ == "__main__":
    main()
