#!/usr/bin/env python3
"""Drives the real Decanter AI Core SDK through datetime columns and time-series
forecasting against the bundled automl-server: setup of a datetime column (and a refused
one of mixed formats), TrainTSInput.get_ts_algorithms(), client.train_ts() and
client.predict_ts() with forecasts checked against the known series, and bad requests
that fail with their message while a good job of the same run succeeds.

Run by tests/decanter_sdk.rs; by hand:

    python timeseries.py --host http://127.0.0.1:PORT --user U --password P --workdir DIR
"""
import os

import numpy as np
import pandas as pd

from decanter.core.core_api import PredictInput, PredictTSInput, SetupInput, TrainInput, TrainTSInput
from decanter.core.enums.evaluators import Evaluator

from sdkcheck import Checks, SdkErrors, Server, arguments, connect, finish, run_stage

START = pd.Timestamp("2022-01-03")  # a Monday
DAYS = 140
HORIZON = 7
WEEK = [0.0, 6.0, 9.0, 4.0, -3.0, -8.0, -8.0]  # Monday first
STORES = ["north", "south"]


def truth(store, day):
    """The noiseless sales of `store` (0 or 1) on day `day` after START."""
    return 100.0 + 50.0 * store + 0.5 * day + WEEK[day % 7]


def series_frame(rng):
    rows = []
    for day in range(DAYS):
        for s, name in enumerate(STORES):
            date = (START + pd.Timedelta(days=day)).strftime("%Y-%m-%d")
            rows.append({"day": date, "store": name, "sales": round(truth(s, day) + rng.normal(0, 0.3), 3)})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)


def ts_input(data, **changes):
    settings = dict(
        data=data,
        target="sales",
        datetime_column="day",
        forecast_horizon=HORIZON,
        gap=0,
        algorithms=["GLM", "GBM"],
        time_groups=["store"],
        max_window_for_feature_derivation=14,
        time_unit="day",
        evaluator=Evaluator.mse,
        seed=7,
        nfold=3,
        max_model=4,
        max_iteration=2,
        generation_size=2,
    )
    settings.update(changes)
    return TrainTSInput(**settings)


def main():
    args = arguments(__doc__.splitlines()[0])
    os.makedirs(args.workdir, exist_ok=True)
    check = Checks(args.keep_going)
    server = Server(args.host, args.user, args.password)
    rng = np.random.default_rng(20240612)
    frame = series_frame(rng)
    path = os.path.join(args.workdir, "sales.csv")
    frame.to_csv(path, index=False)
    mixed = pd.DataFrame({"when": ["2022-01-03", "2022-01-04 10:00", "2022/01/05"], "x": [1, 2, 3]})
    errors = SdkErrors()
    client = connect(args, check)
    state = {}

    def task_doc(job):
        return server.get("/v2/tasks/%s" % job.task.id)

    def setup():
        upload = client.upload(file=open(path, "rb"), name="sales")
        mixed_up = client.upload(file=mixed, name="mixed")
        dated = client.setup(SetupInput(data=upload, data_columns=[{"id": "day", "data_type": "datetime"}]))
        refused = client.setup(SetupInput(data=mixed_up, data_columns=[{"id": "when", "data_type": "datetime"}]))
        run_stage(client, check, "setup", errors)
        types = {c["id"]: c["data_type"] for c in upload.columns}
        check(types["day"] == "categorical", "upload: an ISO date column is text until setup", types)
        check(dated.is_success(), "setup: day retyped to datetime", dated.status)
        types = {c["id"]: c["data_type"] for c in dated.columns}
        check(types == {"day": "datetime", "store": "categorical", "sales": "numerical"}, "setup: the data doc types day as datetime", types)
        shown = dated.show_df()
        check(len(shown) == 2 * DAYS and set(shown.columns) == {"day", "store", "sales"}, "setup: show_df() has every row")
        doc = task_doc(refused)
        check(refused.status == "invalid" and doc["status"] == "invalid", "setup: mixed date formats end the task invalid", refused.status)
        message = doc.get("progress_message", "")
        check(
            "'when'" in message and "'2022-01-03' is YYYY-MM-DD" in message and "'2022-01-04 10:00' is YYYY-MM-DD HH:MM" in message,
            "setup: the message names the column and two values with their formats",
            message,
        )
        state["data"] = dated
        state["upload"] = upload

    def algorithms():
        algos = TrainTSInput.get_ts_algorithms()
        check(algos == ["GLM", "DRF", "GBM"], "get_ts_algorithms() lists what is trained", algos)

    def train_and_predict():
        data = state["data"]
        exp = client.train_ts(ts_input(data), select_model_by=Evaluator.mse)
        zero = client.train_ts(ts_input(data, forecast_horizon=0))
        duplicated = client.train_ts(ts_input(data, time_groups=None))
        fusion = client.train_ts(ts_input(data, train_fusion_model=True))
        # The raw upload, its day column retyped by the request itself.
        typed = client.train_ts(
            ts_input(
                state["upload"],
                feature_types=[{"id": "day", "data_type": "datetime"}],
                algorithms=["GLM"],
                max_model=1,
            )
        )
        refused = [
            (client.train_ts(ts_input(data, gap=-1)), "input_spec.gap must not be negative"),
            (client.train_ts(ts_input(data, datetime_column="when")), "no column 'when'"),
            (client.train_ts(ts_input(data, datetime_column="store")), "cannot be datetime"),
            (client.train_ts(ts_input(data, forecast_horizon=500)), "larger than the data allows"),
            (client.train_ts(ts_input(data, max_window_for_feature_derivation=135)), "too few rows for the windows"),
            (client.train_ts(ts_input(data, tolerance=0.1)), "build_spec.tolerance is not supported"),
        ]
        run_stage(client, check, "train_ts", errors)
        check(exp.is_success(), "train_ts: the good experiment is done", exp.status)
        check(typed.is_success(), "train_ts: feature_types retypes the raw upload's day column", typed.status)
        for job, words in [
            (zero, "forecast_horizon must be at least 1"),
            (duplicated, "has 2 rows at 2022-01-03"),
            (fusion, "build_spec.train_fusion_model is not supported"),
        ] + refused:
            doc = task_doc(job)
            check(job.is_fail() and doc["status"] == "invalid", "train_ts: %r fails" % words, doc["status"])
            check(words in doc.get("progress_message", ""), "train_ts: the message says %r" % words, doc.get("progress_message"))
        check(exp.hyperparameters["model_type"] == "regression", "ExperimentTS: a regression")
        check(1 <= len(exp.models) <= 4, "ExperimentTS: max_model bounds the models", exp.models)
        best = exp.best_model
        check(best.id in exp.models, "ExperimentTS: best_model is a MultiModel of the experiment", best.id)
        pipeline = best.predictionPipeline or {}
        check(pipeline.get("strategy") == "direct" and pipeline.get("forecast_horizon") == HORIZON, "MultiModel: predictionPipeline", pipeline)
        check("mse" in best.attributes["cv_averages"], "MultiModel: cv_averages", best.attributes)

        result = client.predict_ts(PredictTSInput(data=data, experiment=exp))
        bad = client.predict_ts(PredictTSInput(data=state["data"], experiment=exp, threshold_max_by="f1"))
        run_stage(client, check, "predict_ts", errors)
        check(result.is_success(), "predict_ts: done", result.status)
        check(task_doc(bad)["status"] == "invalid", "predict_ts: threshold_max_by is refused")
        df = result.show_df()
        check(list(df.columns) == ["day", "store", "prediction"], "predict_ts: columns day, store, prediction", list(df.columns))
        check(len(df) == HORIZON * len(STORES), "predict_ts: horizon rows per store", len(df))
        errors_abs, naive = [], []
        for _, row in df.iterrows():
            day = (pd.Timestamp(row["day"]) - START).days
            store = STORES.index(row["store"])
            check(DAYS <= day < DAYS + HORIZON, "forecast day %s follows the data" % row["day"])
            errors_abs.append(abs(row["prediction"] - truth(store, day)))
            naive.append(abs(truth(store, DAYS - 1) - truth(store, day)))
        mae, naive_mae = float(np.mean(errors_abs)), float(np.mean(naive))
        check(mae < 2.0, "forecasts recover trend and season (mean error %.2f)" % mae)
        check(mae < naive_mae / 3.0, "forecasts beat the last value (%.2f vs %.2f)" % (mae, naive_mae))

    def ordinary_train():
        data = state["data"]
        exp = client.train(TrainInput(data=data, target="sales", algos=["GLM"], features=["day", "store"], nfold=3))
        preds = client.predict(PredictInput(data=data, experiment=exp))
        run_stage(client, check, "train", errors)
        check(exp.is_success(), "train: a datetime feature in ordinary training", exp.status)
        importances = exp.best_model.importances or {}
        check("day" in importances and importances["day"] > 0.2, "train: the datetime column carries weight", importances)
        df = preds.show_df()
        check(len(df) == 2 * DAYS and "prediction" in df.columns, "predict: a prediction per row", list(df.columns))
        err = (df["prediction"] - data.show_df()["sales"]).abs().mean()
        check(err < 5.0, "predict: calendar features follow the trend (mean error %.2f)" % err)

    check.scenario("setup: datetime columns", setup)
    check.scenario("time-series algorithms", algorithms)
    check.scenario("auto_ts train and predict", train_and_predict)
    check.scenario("ordinary train and predict with a datetime feature", ordinary_train)
    client.close()
    finish(check)


if __name__ == "__main__":
    main()
