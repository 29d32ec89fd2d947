#!/usr/bin/env python3
"""Drives the real Decanter AI Core SDK (decanter-ai-core-sdk 1.1.11, unchanged) against
the bundled automl-server, through the SDK's documented workflow: upload (a CSV file and
a DataFrame) -> setup -> train -> predict, model look-ups, stopping a job, job status.

Run by tests/decanter_sdk.rs; by hand:

    python workflow.py --host http://127.0.0.1:PORT --user U --password P --workdir DIR

Every check prints one line; the first failed check prints `FAIL: ...` and exits with 1
(`--keep-going` instead records the failure, skips the rest of that scenario and goes
on, exiting with 1 at the end: handy for a full list of what a server gets wrong).

Only the SDK's public API is used to drive the server (the imports below are the ones
of the SDK's own examples/example.py: TrainInput, PredictInput and SetupInput live in
decanter.core.core_api, the enums in decanter.core.enums). Plain `requests` calls are
used only to *observe* the server (a task's server-side status after a stop, the
worker status), never to drive the workflow.
"""
import argparse
import asyncio
import os
import re
import time

import numpy as np
import pandas as pd

from decanter import core
from decanter.core.core_api import PredictInput, SetupInput, TrainInput
from decanter.core.enums.algorithms import Algo
from decanter.core.enums.evaluators import Evaluator
from decanter.core.jobs import DataUpload

SEED = 20240611
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")

REGRESSION_METRICS = ["deviance", "mse", "rmse", "mae", "rmsle", "r2", "mape", "wmape"]
BINARY_METRICS = [
    "logloss",
    "auc",
    "misclassification",
    "mean_per_class_error",
    "lift_top_group",
    "mse",
    "rmse",
]
MULTINOMIAL_METRICS = ["logloss", "misclassification", "mean_per_class_error", "mse", "rmse"]
# "Best" is the largest value for these, the smallest for every other metric (the
# SDK's rule in Experiment.get_best_model).
LARGER_IS_BETTER = {"r2", "auc", "lift_top_group"}


import sdkcheck  # noqa: E402
from sdkcheck import Checks, SdkErrors, Server, connect, finish, is_number  # noqa: E402


# ------------------------------------------------------------------------------ data


def regression_frame(rng, n):
    """A numeric target that is a clear (linear) function of three numeric features
    and one categorical one, plus a little noise; every target is well above 0, so
    rmsle and mape are defined."""
    color = rng.choice(["red", "green", "blue"], size=n)
    x1 = rng.uniform(0.0, 10.0, n)
    x2 = rng.normal(0.0, 3.0, n)
    x3 = rng.uniform(-5.0, 5.0, n)
    effect = pd.Series(color).map({"red": 0.0, "green": 8.0, "blue": -6.0}).to_numpy()
    target = 60.0 + 3.0 * x1 - 2.0 * x2 + 1.5 * x3 + effect + rng.normal(0.0, 1.0, n)
    return pd.DataFrame(
        {"x1": x1, "x2": x2, "x3": x3, "color": color, "target": np.round(target, 4)}
    )


def binary_frame(rng, n):
    """A 0/1 label decided by a linear score of two features and a categorical one."""
    segment = rng.choice(["a", "b"], size=n)
    x1 = rng.normal(0.0, 1.0, n)
    x2 = rng.normal(0.0, 1.0, n)
    x3 = rng.uniform(0.0, 1.0, n)  # noise
    score = 2.5 * x1 - 2.0 * x2 + np.where(segment == "a", 1.0, -1.0)
    label = (score + rng.normal(0.0, 0.3, n) > 0).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "segment": segment, "label": label})


def multinomial_frame(rng, n):
    """Three well separated clusters in (x1, x2), labelled with strings."""
    names = np.array(["alpha", "beta", "gamma"])
    centers = np.array([[0.0, 0.0], [5.0, 0.0], [2.5, 4.5]])
    k = rng.integers(0, 3, n)
    xy = centers[k] + rng.normal(0.0, 0.9, (n, 2))
    shade = rng.choice(["dark", "light"], size=n)  # noise
    return pd.DataFrame({"x1": xy[:, 0], "x2": xy[:, 1], "shade": shade, "species": names[k]})


def stop_frame(rng, n):
    """Many rows and features: training GBM and DRF with 10 folds on it takes a while."""
    cols = {"f%d" % i: rng.normal(0.0, 1.0, n) for i in range(12)}
    frame = pd.DataFrame(cols)
    frame["y"] = (
        frame["f0"] * 3.0 - frame["f1"] * frame["f2"] + np.sin(frame["f3"]) + rng.normal(0, 1, n)
    )
    return frame


def with_ids(features):
    """The held-out features with an `id` column in front (kept in the predictions)."""
    out = features.reset_index(drop=True).copy()
    out.insert(0, "id", np.arange(1, len(out) + 1))
    return out


# --------------------------------------------------------------------------- helpers


def r2_score(truth, pred):
    truth = np.asarray(truth, dtype=float)
    pred = np.asarray(pred, dtype=float)
    ss_res = float(np.sum((truth - pred) ** 2))
    ss_tot = float(np.sum((truth - truth.mean()) ** 2))
    return 1.0 - ss_res / ss_tot


def best_by(exp, metric):
    """The model the contract calls best by `metric` (ties: first in exp.models)."""
    sign = -1.0 if metric in LARGER_IS_BETTER else 1.0
    best = None
    for model_id in exp.models:
        value = sign * exp.attributes[model_id]["cv_averages"][metric]
        if best is None or value < best[0]:
            best = (value, model_id)
    return best[1]


def best_value(exp, metric):
    return exp.attributes[best_by(exp, metric)]["cv_averages"][metric]


# ------------------------------------------------------------------------- scenarios


def check_upload(check, job, name, frame, data_name, categorical):
    """An upload (or setup) job finished with a data object describing `frame`."""
    check(job.status == "done", "%s: status done" % name, "status %r" % job.status)
    check(
        isinstance(job.id, str) and OBJECT_ID.match(job.id) is not None,
        "%s: data id is 24 hex digits" % name,
        repr(job.id),
    )
    check(job.name == name, "%s: the job keeps its name" % name, "name is %r" % job.name)
    if data_name is not None:
        check(
            getattr(job, "data_name", None) == data_name,
            "%s: data_name is %r" % (name, data_name),
            "data_name is %r" % getattr(job, "data_name", None),
        )
    check(
        getattr(job, "rows", None) == len(frame),
        "%s: rows == %d" % (name, len(frame)),
        "rows is %r" % getattr(job, "rows", None),
    )
    columns = getattr(job, "columns", None) or []
    ids = [c.get("id") for c in columns]
    check(
        ids == list(frame.columns),
        "%s: columns in file order" % name,
        "%r != %r" % (ids, list(frame.columns)),
    )
    want = {c: ("categorical" if c in categorical else "numerical") for c in frame.columns}
    got = {c.get("id"): c.get("data_type") for c in columns}
    check(got == want, "%s: column data types" % name, "%r != %r" % (got, want))
    accessor = getattr(job, "accessor", None)
    check(
        isinstance(accessor, dict) and accessor.get("format") == "csv" and "uri" in accessor,
        "%s: accessor {uri, format: csv}" % name,
        repr(accessor),
    )


def check_same_frame(check, what, got, want):
    ok = list(got.columns) == list(want.columns) and len(got) == len(want)
    detail = "columns %r rows %d, want %r rows %d" % (
        list(got.columns),
        len(got),
        list(want.columns),
        len(want),
    )
    if ok:
        for col in want.columns:
            if pd.api.types.is_numeric_dtype(want[col]):
                if not pd.api.types.is_numeric_dtype(got[col]) or not np.allclose(
                    got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float)
                ):
                    ok, detail = False, "column %r differs" % col
                    break
            elif list(got[col].astype(str)) != list(want[col].astype(str)):
                ok, detail = False, "column %r differs" % col
                break
    check(ok, what, detail)


def check_experiment(
    check, exp, name, model_type, metrics, train_data, target, features, algos, seed, nfold
):
    check(exp.status == "done", "%s: status done" % name, "status %r" % exp.status)
    check(exp.name == name, "%s: the job keeps its name" % name, "name is %r" % exp.name)
    check(
        isinstance(exp.id, str) and OBJECT_ID.match(exp.id) is not None,
        "%s: experiment id is 24 hex digits" % name,
        repr(exp.id),
    )
    check(exp.target == target, "%s: target %r" % (name, target), repr(exp.target))
    check(
        exp.train_data_id == train_data.id,
        "%s: train_data_id is the training data's id" % name,
        "%r != %r" % (exp.train_data_id, train_data.id),
    )
    check(
        sorted(exp.features or []) == sorted(features),
        "%s: features are every column but the target" % name,
        repr(exp.features),
    )
    hyper = exp.hyperparameters or {}
    check(
        hyper.get("model_type") == model_type,
        "%s: hyperparameters.model_type == %r" % (name, model_type),
        repr(hyper.get("model_type")),
    )
    check(
        hyper.get("nfold") == nfold and hyper.get("seed") == seed,
        "%s: hyperparameters echo nfold and seed" % name,
        "nfold %r seed %r" % (hyper.get("nfold"), hyper.get("seed")),
    )
    models = exp.models or []
    # Each algorithm's defaults, then what the default budget searches (design/06).
    first = [exp.attributes[m]["algo"] for m in models[: len(algos)]] if exp.attributes else []
    check(
        len(models) >= len(algos) and len(set(models)) == len(models)
        and first == [getattr(a, "value", a) for a in algos],
        "%s: distinct model ids, the %d algorithms' defaults first" % (name, len(algos)),
        repr(models),
    )
    check(
        all(isinstance(m, str) and OBJECT_ID.match(m) for m in models),
        "%s: model ids are 24 hex digits" % name,
        repr(models),
    )
    attributes = exp.attributes or {}
    check(
        set(attributes) == set(models),
        "%s: attributes has one entry per model" % name,
        "%r vs %r" % (sorted(attributes), sorted(models)),
    )
    # The contract breaks ties between equally good models by their order in `models`;
    # the SDK (Experiment.get_best_model: min/max over attributes.values()) breaks them
    # by the order of the keys of `attributes`. The two agree only if the orders do.
    check(
        list(attributes) == list(models),
        "%s: attributes lists the models in `models` order (the SDK's tie order)" % name,
        "%r vs %r" % (list(attributes), list(models)),
    )
    got_algos = sorted(attributes[m].get("algo") for m in models)
    check(
        set(got_algos) == set(algos),
        "%s: models of every algorithm %s, and no other" % (name, sorted(algos)),
        repr(got_algos),
    )
    for model_id in models:
        attr = attributes[model_id]
        check(
            attr.get("model_id") == model_id,
            "%s: attributes[%s].model_id" % (name, attr.get("algo")),
            repr(attr.get("model_id")),
        )
        cv = attr.get("cv_averages") or {}
        missing = [m for m in metrics if m not in cv]
        check(
            not missing,
            "%s: %s cv_averages has %s" % (name, attr.get("algo"), ", ".join(metrics)),
            "missing %r; has %r" % (missing, sorted(cv)),
        )
        bad = {k: v for k, v in cv.items() if not is_number(v)}
        check(not bad, "%s: %s cv_averages are finite numbers" % (name, attr.get("algo")), repr(bad))
    recs = exp.recommendations or []
    rec_metrics = [r.get("evaluator") for r in recs]
    all_metrics = set(attributes[models[0]]["cv_averages"])
    check(
        sorted(rec_metrics) == sorted(all_metrics),
        "%s: recommendations has one entry per metric" % name,
        "%r vs %r" % (sorted(rec_metrics), sorted(all_metrics)),
    )
    for rec in recs:
        metric, model_id = rec.get("evaluator"), rec.get("model_id")
        check(
            model_id in attributes
            and attributes[model_id]["cv_averages"][metric] == best_value(exp, metric),
            "%s: recommendation for %s is a best model by %s" % (name, metric, metric),
            "%r (best is %r)" % (model_id, best_by(exp, metric)),
        )


def check_best_model(check, exp, name, metric):
    """exp.best_model (which the SDK chose by exp.select_model_by) is the best model by
    `metric`, and it is the server's model object."""
    want = best_by(exp, metric)
    best = exp.best_model
    check(
        best.id == want,
        "%s: best_model by %s is %s" % (name, exp.select_model_by, want),
        "best_model.id is %r; cv %s: %r"
        % (
            best.id,
            metric,
            {exp.attributes[m]["algo"]: exp.attributes[m]["cv_averages"][metric] for m in exp.models},
        ),
    )
    check(best.exp_id == exp.id, "%s: best_model.exp_id" % name, repr(best.exp_id))
    check(
        best.name == exp.attributes[want]["algo"],
        "%s: best_model.name is its algorithm" % name,
        repr(best.name),
    )
    cv = (best.attributes or {}).get("cv_averages")
    check(
        cv == exp.attributes[want]["cv_averages"],
        "%s: best_model.attributes.cv_averages match the experiment's" % name,
        "%r vs %r" % (cv, exp.attributes[want]["cv_averages"]),
    )


def check_prediction(check, pred, name, test_features, classes, workdir):
    """The prediction job's data: `id` kept, then `prediction` (then one probability
    column per class for classifiers, named by the class label as the real service
    names them); download_csv writes the same data. The held-out features carry no
    target, so no target column comes back."""
    check(pred.status == "done", "%s: status done" % name, "status %r" % pred.status)
    check(pred.name == name, "%s: the job keeps its name" % name, "name is %r" % pred.name)
    df = pred.show_df()
    check(df is not None, "%s: show_df() returns the data" % name)
    cols = list(df.columns)
    check(
        cols[:2] == ["id", "prediction"],
        "%s: show_df() columns start with id, prediction" % name,
        repr(cols),
    )
    check(len(df) == len(test_features), "%s: one row per input row" % name, "%d rows" % len(df))
    check(
        list(df["id"]) == list(test_features["id"]),
        "%s: id column kept in input order" % name,
    )
    if classes is None:
        check(len(cols) == 2, "%s: regression has no probability columns" % name, repr(cols))
        check(
            pd.api.types.is_numeric_dtype(df["prediction"]) and df["prediction"].notna().all(),
            "%s: numeric predictions" % name,
        )
    else:
        probs = df[cols[2:]]
        check(
            len(cols) - 2 == len(classes),
            "%s: one probability column per class" % name,
            repr(cols),
        )
        check(
            sorted(str(c) for c in cols[2:]) == sorted(str(c) for c in classes),
            "%s: probability columns named by the class labels" % name,
            "%r for classes %r" % (cols[2:], sorted(classes)),
        )
        values = probs.to_numpy(dtype=float)
        check(
            bool(np.all((values >= 0) & (values <= 1)))
            and np.allclose(values.sum(axis=1), 1.0, atol=1e-6),
            "%s: probabilities in [0, 1] summing to 1" % name,
        )
        got = set(df["prediction"].astype(str))
        check(
            got <= set(classes),
            "%s: predictions are class labels" % name,
            "%r not within %r" % (sorted(got), sorted(classes)),
        )
    path = os.path.join(workdir, "%s.csv" % name)
    pred.download_csv(path)
    check_same_frame(check, "%s: download_csv(path) writes the same data" % name, pd.read_csv(path), df)
    return df


# ------------------------------------------------------------------------------ main


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--keep-going", action="store_true")
    parser.add_argument("--stop-rows", type=int, default=60000)
    args = parser.parse_args()
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    check = Checks(args.keep_going)
    server = Server(args.host, args.user, args.password)
    started = time.monotonic()

    def stamp(what):
        print("-- %s (%.1f s)" % (what, time.monotonic() - started), flush=True)

    rng = np.random.default_rng(SEED)

    # --- data, written to disk where it is uploaded from a file
    reg = regression_frame(rng, 800)
    reg_train, reg_test = reg.iloc[:600].reset_index(drop=True), reg.iloc[600:].reset_index(drop=True)
    reg_train_path = os.path.join(workdir, "regression_train.csv")
    reg_train.to_csv(reg_train_path, index=False)
    reg_test_x = with_ids(reg_test.drop(columns=["target"]))

    binary = binary_frame(rng, 800)
    bin_train, bin_test = binary.iloc[:600].reset_index(drop=True), binary.iloc[600:].reset_index(drop=True)
    bin_train_path = os.path.join(workdir, "binary_train.csv")
    bin_train.to_csv(bin_train_path, index=False)
    bin_test_x = with_ids(bin_test.drop(columns=["label"]))

    multi = multinomial_frame(rng, 800)
    multi_train, multi_test = multi.iloc[:600].reset_index(drop=True), multi.iloc[600:].reset_index(drop=True)
    multi_train_path = os.path.join(workdir, "multinomial_train.csv")
    multi_train.to_csv(multi_train_path, index=False)
    multi_test_x = with_ids(multi_test.drop(columns=["species"]))

    big = stop_frame(rng, args.stop_rows)
    big_path = os.path.join(workdir, "stop_train.csv")
    big.to_csv(big_path, index=False)

    core.enable_default_logger()
    errors = SdkErrors()  # the SDK's ERROR log lines, cleared at every stage
    client = connect(args, check)
    stamp("connected")
    my_jobs = {}  # name -> job: every job this script declares

    def keep(job):
        my_jobs[job.name] = job
        return job

    algos3 = [Algo.GLM, Algo.DRF, Algo.GBM]
    algo_names = ["GLM", "DRF", "GBM"]

    def run_stage(title):
        """client.run() for the jobs declared since the last run."""
        stamp("%s: declared" % title)
        sdkcheck.run_stage(client, check, title, errors)
        stamp("%s: ran" % title)

    files = []

    def open_csv(path):
        handle = open(path, "rb")
        files.append(handle)
        return handle

    # --- stage 1: uploads
    reg_up = keep(client.upload(file=open_csv(reg_train_path), name="reg_train"))
    reg_test_up = keep(client.upload(file=reg_test_x, name="reg_test"))
    bin_up = keep(client.upload(file=open_csv(bin_train_path), name="bin_train"))
    bin_test_up = keep(client.upload(file=bin_test_x, name="bin_test"))
    multi_up = keep(client.upload(file=open_csv(multi_train_path), name="multi_train"))
    multi_test_up = keep(client.upload(file=multi_test_x, name="multi_test"))
    run_stage("stage 1 (6 uploads)")

    # --- uploads
    def uploads():
        check_upload(check, reg_up, "reg_train", reg_train, "regression_train.csv", {"color"})
        check_same_frame(check, "reg_train: show_df() is the uploaded file", reg_up.show_df(), reg_train)
        # client.upload(DataFrame) sends the frame as a file part named "no_name"
        check_upload(check, reg_test_up, "reg_test", reg_test_x, "no_name", {"color"})
        check_same_frame(check, "reg_test: show_df() is the uploaded frame", reg_test_up.show_df(), reg_test_x)
        check_upload(check, bin_up, "bin_train", bin_train, "binary_train.csv", {"segment"})
        check_upload(check, bin_test_up, "bin_test", bin_test_x, "no_name", {"segment"})
        check_upload(
            check, multi_up, "multi_train", multi_train, "multinomial_train.csv", {"shade", "species"}
        )
        check_upload(check, multi_test_up, "multi_test", multi_test_x, "no_name", {"shade"})

    check.scenario("uploads: a CSV file and DataFrames", uploads)

    # --- stage 2: setup, five trainings, four predictions, declared at once
    reg_exp = keep(
        client.train(
            TrainInput(data=reg_up, target="target", algos=algos3, nfold=3, seed=SEED),
            select_model_by=Evaluator.auto,
            name="reg_exp_auto",
        )
    )
    reg_exp_r2 = keep(
        client.train(
            TrainInput(data=reg_up, target="target", algos=algos3, nfold=3, seed=SEED),
            select_model_by=Evaluator.r2,
            name="reg_exp_r2",
        )
    )
    reg_pred_best = keep(
        client.predict(
            PredictInput(data=reg_test_up, experiment=reg_exp, keep_columns=["id"]),
            name="reg_pred_best",
        )
    )
    reg_pred_mae = keep(
        client.predict(
            PredictInput(
                data=reg_test_up,
                experiment=reg_exp,
                select_model="recommendation",
                select_opt=Evaluator.mae,
                keep_columns=["id"],
            ),
            name="reg_pred_rec_mae",
        )
    )
    bin_setup = keep(
        client.setup(
            SetupInput(
                data=bin_up, data_columns=[{"id": "label", "data_type": "categorical"}]
            ),
            name="bin_setup",
        )
    )
    bin_exp = keep(
        client.train(
            TrainInput(data=bin_setup, target="label", algos=algos3, nfold=3, seed=SEED),
            name="bin_exp_auto",
        )
    )
    bin_exp_auc = keep(
        client.train(
            TrainInput(data=bin_setup, target="label", algos=algos3, nfold=3, seed=SEED),
            select_model_by=Evaluator.auc,
            name="bin_exp_auc",
        )
    )
    bin_pred = keep(
        client.predict(
            PredictInput(data=bin_test_up, experiment=bin_exp, keep_columns=["id"]),
            name="bin_pred_best",
        )
    )
    multi_exp = keep(
        client.train(
            TrainInput(data=multi_up, target="species", algos=algos3, nfold=3, seed=SEED),
            select_model_by=Evaluator.auto,
            name="multi_exp_auto",
        )
    )
    multi_pred = keep(
        client.predict(
            PredictInput(data=multi_test_up, experiment=multi_exp, keep_columns=["id"]),
            name="multi_pred_best",
        )
    )
    run_stage("stage 2 (setup, 5 trainings, 4 predictions)")

    # --- setup
    def setup():
        check_upload(check, bin_setup, "bin_setup", bin_train, None, {"segment", "label"})
        check(bin_setup.id != bin_up.id, "bin_setup: a new data object", bin_setup.id)
        check_same_frame(check, "bin_setup: show_df() is the same data", bin_setup.show_df(), bin_train)
        again = DataUpload.create(bin_up.id, name="bin_train_again")  # GET /data/{id}
        types = {c["id"]: c["data_type"] for c in again.columns}
        check(
            again.id == bin_up.id and types.get("label") == "numerical",
            "bin_train: setup left the original data unchanged (GET /data/{id})",
            repr(types),
        )

    check.scenario("setup: a 0/1 column made categorical", setup)

    # --- regression
    reg_model_pred = {}

    def regression():
        metrics = list(REGRESSION_METRICS)
        if not reg_train["target"].min() > -1:
            metrics.remove("rmsle")
        features = ["x1", "x2", "x3", "color"]
        for exp, name in [(reg_exp, "reg_exp_auto"), (reg_exp_r2, "reg_exp_r2")]:
            check_experiment(
                check, exp, name, "regression", metrics, reg_up, "target", features,
                algo_names, SEED, 3,
            )
        for model_id in reg_exp.models:
            cv = reg_exp.attributes[model_id]["cv_averages"]
            check(
                abs(cv["deviance"] - cv["mse"]) <= 1e-9 * max(1.0, cv["mse"]),
                "reg_exp_auto: %s deviance equals mse (Gaussian)" % reg_exp.attributes[model_id]["algo"],
                "deviance %r mse %r" % (cv["deviance"], cv["mse"]),
            )
        check_best_model(check, reg_exp, "reg_exp_auto", "deviance")
        check_best_model(check, reg_exp_r2, "reg_exp_r2", "r2")
        # get_best_model() recomputes the same choice
        before = reg_exp.best_model.id
        reg_exp.get_best_model()
        check(reg_exp.best_model.id == before, "reg_exp_auto: get_best_model() agrees", reg_exp.best_model.id)

        truth = reg_test["target"].to_numpy()
        df = check_prediction(check, reg_pred_best, "reg_pred_best", reg_test_x, None, workdir)
        r2 = r2_score(truth, df["prediction"])
        check(r2 > 0.9, "reg_pred_best: held-out r2 %.4f > 0.9" % r2)
        reg_model_pred[reg_exp.best_model.id] = df["prediction"].to_numpy()

        rec_model = [r["model_id"] for r in reg_exp.recommendations if r["evaluator"] == "mae"][0]
        df = check_prediction(check, reg_pred_mae, "reg_pred_rec_mae", reg_test_x, None, workdir)
        r2 = r2_score(truth, df["prediction"])
        check(r2 > 0.9, "reg_pred_rec_mae: held-out r2 %.4f > 0.9" % r2)
        got = df["prediction"].to_numpy()
        if rec_model in reg_model_pred:
            check(
                np.allclose(reg_model_pred[rec_model], got),
                "reg_pred_rec_mae: the recommended model is the best one, same predictions",
            )
        else:
            check(
                not np.allclose(reg_model_pred[reg_exp.best_model.id], got),
                "reg_pred_rec_mae: another model than the best one, other predictions",
            )
            reg_model_pred[rec_model] = got

    check.scenario("regression: GLM, DRF, GBM with 3 folds", regression)

    def classification(exp, exp2, name, name2, target, setup_or_up, metrics, model_type,
                       pred, pred_name, test_x, truth, classes, features, metric2):
        for e, n in [(exp, name), (exp2, name2)]:
            check_experiment(
                check, e, n, model_type, metrics, setup_or_up, target, features,
                algo_names, SEED, 3,
            )
        check_best_model(check, exp, name, "logloss")
        if exp2 is not None:
            check_best_model(check, exp2, name2, metric2)
        df = check_prediction(check, pred, pred_name, test_x, classes, workdir)
        accuracy = float(np.mean(df["prediction"].astype(str).to_numpy() == truth.astype(str)))
        check(accuracy > 0.9, "%s: held-out accuracy %.3f > 0.9" % (pred_name, accuracy))

    def binary():
        classification(
            bin_exp, bin_exp_auc, "bin_exp_auto", "bin_exp_auc", "label", bin_setup,
            BINARY_METRICS, "binary classification", bin_pred, "bin_pred_best", bin_test_x,
            bin_test["label"].to_numpy(), ["0", "1"], ["x1", "x2", "x3", "segment"], "auc",
        )

    def multinomial():
        check_experiment(
            check, multi_exp, "multi_exp_auto", "multinomial classification",
            MULTINOMIAL_METRICS, multi_up, "species", ["x1", "x2", "shade"], algo_names, SEED, 3,
        )
        check_best_model(check, multi_exp, "multi_exp_auto", "logloss")
        df = check_prediction(
            check, multi_pred, "multi_pred_best", multi_test_x, ["alpha", "beta", "gamma"], workdir
        )
        truth = multi_test["species"].to_numpy()
        accuracy = float(np.mean(df["prediction"].astype(str).to_numpy() == truth))
        check(accuracy > 0.9, "multi_pred_best: held-out accuracy %.3f > 0.9" % accuracy)

    check.scenario("binary classification: a 0/1 label made categorical by setup", binary)
    check.scenario("multinomial classification: a 3-class string label", multinomial)

    def models():
        for exp, features in [
            (reg_exp, ["x1", "x2", "x3", "color"]),
            (bin_exp, ["x1", "x2", "x3", "segment"]),
            (multi_exp, ["x1", "x2", "shade"]),
        ]:
            imp = exp.best_model.importances
            check(
                isinstance(imp, dict) and len(imp) > 0,
                "%s: best_model.importances is a non-empty dict" % exp.name,
                repr(imp),
            )
            check(
                set(imp) <= set(features) and all(is_number(v) for v in imp.values()),
                "%s: importances are numbers keyed by feature names" % exp.name,
                "%r (features %r)" % (imp, features),
            )

    check.scenario("Model endpoint: importances", models)

    # --- stage 3: predict with a model chosen by id (known only after training)
    def predict_by_id():
        check(reg_exp.status == "done", "reg_exp_auto is done, its models are known")
        other = [m for m in reg_exp.models if m != reg_exp.best_model.id][0]
        pred = keep(
            client.predict(
                PredictInput(
                    data=reg_test_up,
                    experiment=reg_exp,
                    select_model="model_id",
                    select_opt=other,
                    keep_columns=["id"],
                ),
                name="reg_pred_model_id",
            )
        )
        run_stage("stage 3 (a prediction by model id)")
        df = check_prediction(check, pred, "reg_pred_model_id", reg_test_x, None, workdir)
        r2 = r2_score(reg_test["target"].to_numpy(), df["prediction"])
        check(r2 > 0.5, "reg_pred_model_id (%s): held-out r2 %.4f > 0.5"
              % (reg_exp.attributes[other]["algo"], r2))
        got = df["prediction"].to_numpy()
        check(
            not np.allclose(got, reg_model_pred[reg_exp.best_model.id]),
            "reg_pred_model_id: differs from the best model's predictions (another model)",
        )
        if other in reg_model_pred:
            check(
                np.allclose(got, reg_model_pred[other]),
                "reg_pred_model_id: same as the recommendation's run of that model",
            )

    check.scenario("predict with select_model='model_id'", predict_by_id)

    # --- stage 4: stop a long training once the server runs it
    stopped = {}

    def stop():
        big_up = keep(client.upload(file=open_csv(big_path), name="stop_train"))
        long_exp = keep(
            client.train(
                TrainInput(
                    data=big_up, target="y", algos=[Algo.GBM, Algo.DRF], nfold=10, seed=SEED
                ),
                name="stop_exp",
            )
        )
        stopped["job"] = long_exp
        seen = {}

        async def stop_when_running():
            # the SDK's documented pattern (jupyter_jobs_handle_example): a coroutine on
            # the SDK's loop that waits for the job, then stops it
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if long_exp.status in ("done", "fail", "invalid"):
                    seen["early"] = long_exp.status
                    return
                if long_exp.status == "running" and long_exp.task.id is not None:
                    task = server.get("/v2/tasks/%s" % long_exp.task.id)
                    if task.get("status") == "running":
                        seen["progress"] = task.get("progress")
                        client.stop_jobs([long_exp])
                        seen["stopped_at"] = time.monotonic() - started
                        return
                await asyncio.sleep(0.5)
            seen["early"] = "never running within 120 s"

        stopper = core.Context.LOOP.create_task(stop_when_running())
        run_stage("stage 4 (a long training: %d rows, GBM+DRF, 10 folds)" % len(big))
        if not stopper.done():
            if long_exp.is_done():  # it notices within half a second
                core.Context.LOOP.run_until_complete(stopper)
            else:  # client.run() failed (--keep-going)
                stopper.cancel()
                core.Context.LOOP.run_until_complete(
                    asyncio.gather(stopper, return_exceptions=True)
                )
                seen["early"] = "not stopped: client.run() failed"
        if not stopper.cancelled():
            stopper.result()
        check(
            "early" not in seen,
            "stop_exp: stopped while the server ran it (progress %r)" % seen.get("progress"),
            "the job was %s before it could be stopped%s"
            % (
                seen.get("early"),
                "; make the stop data bigger" if seen.get("early") == "done" else "",
            ),
        )
        check(long_exp.status == "fail", "stop_exp: job status fail", repr(long_exp.status))
        check(long_exp.name == "stop_exp", "stop_exp: the job keeps its name", repr(long_exp.name))
        task = server.get("/v2/tasks/%s" % long_exp.task.id)
        check(
            task.get("status") == "fail" and task.get("progress_message") == "stopped",
            "stop_exp: the server's task is fail, progress_message 'stopped'",
            "status %r progress_message %r" % (task.get("status"), task.get("progress_message")),
        )
        time.sleep(4)
        task = server.get("/v2/tasks/%s" % long_exp.task.id)
        check(
            task.get("status") == "fail" and not task.get("result"),
            "stop_exp: still fail with no result 4 s later",
            "status %r" % task.get("status"),
        )
        check(long_exp.models is None, "stop_exp: no experiment result reached the job", repr(long_exp.models))
        # informational: whether the worker was freed
        for _ in range(20):
            status = server.get("/v2/worker/status")
            if status.get("running") == 0:
                break
            time.sleep(0.5)
        print("   (worker status after the stop: %r)" % status, flush=True)
        check_upload(check, big_up, "stop_train", big, "stop_train.csv", set())

    check.scenario("stop: a running training", stop)

    def jobs_status():
        table = client.get_jobs_status()
        names = list(table["Job"])
        check(
            sorted(names) == sorted(my_jobs),
            "get_jobs_status() lists every job under the name given to it",
            "%r vs %r" % (sorted(names), sorted(my_jobs)),
        )
        statuses = dict(zip(table["Job"], table["status"]))
        want = {n: ("fail" if n == "stop_exp" else "done") for n in my_jobs}
        check(
            statuses == want,
            "get_jobs_status(): every job done except the stopped one (fail)",
            repr({n: s for n, s in statuses.items() if s != want.get(n)}),
        )
        failed = client.get_jobs_status(status=["fail"])
        check(list(failed["Job"]) == ["stop_exp"], "get_jobs_status(status=['fail'])", repr(list(failed["Job"])))

    check.scenario("job status", jobs_status)

    for handle in files:
        handle.close()
    stamp("done")
    finish(check)


if __name__ == "__main__":
    main()
