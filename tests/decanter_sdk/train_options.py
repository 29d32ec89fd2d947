#!/usr/bin/env python3
"""Every TrainInput option of the real Decanter SDK (1.1.11, unchanged) is honoured by
automl-server as design/06 documents it, or refused in words: each honoured option is
shown to change the result the documented way, each refused one to end its job with a
message naming it, while the other jobs of the same client.run() succeed.

Run by tests/decanter_sdk.rs; by hand:

    python train_options.py --host http://127.0.0.1:PORT --user U --password P --workdir DIR
"""
import os

import numpy as np
import pandas as pd

from decanter.core.core_api.model import Model
from decanter.core.core_api import PredictInput, SetupInput, TrainInput
from decanter.core.enums.algorithms import Algo

from sdkcheck import Checks, SdkErrors, arguments, connect, finish, run_stage

SEED = 424242


def coded_frame(rng, n):
    """`y` depends on a numeric code through a table no line follows."""
    effect = np.array([10.0, -5.0, 20.0, 0.0, -15.0])
    code = rng.integers(1, 6, n)
    y = effect[code - 1] + rng.normal(0.0, 0.1, n)
    return pd.DataFrame({"code": code, "noise": rng.normal(0.0, 1.0, n), "y": np.round(y, 4)})


def imbalanced_frame(rng, n):
    """About 8 % of class "b", with a weak signal in x."""
    x = rng.normal(0.0, 1.0, n)
    p = 0.06 + 0.05 * np.maximum(x, 0.0)
    label = np.where(rng.uniform(0.0, 1.0, n) < p, "b", "a")
    return pd.DataFrame({"x": x, "z": rng.normal(0.0, 1.0, n), "label": label})


def trend_frame(rng, n):
    """`y = 2 t + noise` over days t = 1..n: only a model that extrapolates forecasts it."""
    t = np.arange(1, n + 1)
    return pd.DataFrame({"t": t, "x": rng.normal(0.0, 1.0, n), "y": 2.0 * t + rng.normal(0.0, 1.0, n)})


def big_frame(rng, n):
    cols = {"f%d" % i: rng.normal(0.0, 1.0, n) for i in range(10)}
    frame = pd.DataFrame(cols)
    frame["y"] = frame["f0"] * 3.0 - frame["f1"] * frame["f2"] + rng.normal(0, 1, n)
    return frame


def message(job):
    """The server's progress_message for a job's task (why it failed)."""
    response = job.task.response
    return response.get("progress_message", "") if isinstance(response, dict) else ""


def cv(exp, metric):
    return [exp.attributes[m]["cv_averages"][metric] for m in exp.models]


def main():
    args = arguments(__doc__.splitlines()[0])
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    check = Checks(args.keep_going)
    rng = np.random.default_rng(SEED)
    client = connect(args, check)
    errors = SdkErrors()

    coded = coded_frame(rng, 500)
    imbalanced = imbalanced_frame(rng, 1500)
    trend = trend_frame(rng, 300)
    train_part, test_part = imbalanced.iloc[:1000], imbalanced.iloc[1000:]

    up_coded = client.upload(coded, name="coded")
    up_imb = client.upload(train_part, name="imbalanced_train")
    up_imb_test = client.upload(test_part, name="imbalanced_test")
    up_trend = client.upload(trend, name="trend")
    up_big = client.upload(big_frame(rng, 60000), name="big")
    gappy = pd.DataFrame({"a": [1.0, None, 3.0, 4.0], "b": ["x", "y", "z", "w"]})
    up_gappy = client.upload(gappy, name="gappy")
    run_stage(client, check, "uploads", errors)
    uploads = [up_coded, up_imb, up_imb_test, up_trend, up_big, up_gappy]
    check(all(u.is_success() for u in uploads), "uploads done")

    glm = [Algo.GLM]
    jobs = {}

    def train(name, **kwargs):
        kwargs.setdefault("algos", glm)
        kwargs.setdefault("seed", SEED)
        jobs[name] = client.train(TrainInput(**kwargs), name=name)
        return jobs[name]

    # honoured options
    plain_code = train("code_plain", data=up_coded, target="y")
    typed_code = train(
        "code_typed", data=up_coded, target="y",
        feature_types=[{"id": "code", "data_type": "categorical"}],
    )
    plain_imb = train("imb_plain", data=up_imb, target="label", test_data_id=up_imb_test.id)
    balanced = train("imb_balanced", data=up_imb, target="label", balance_class=True)
    factors = train(
        "imb_factors", data=up_imb, target="label", balance_class=True,
        sampling_factors=[1.0, 3.0], max_after_balance=2.0,
    )
    split = train(
        "trend_split", data=up_trend, target="y", algos=[Algo.GLM, Algo.DRF], max_model=2,
        ts_split_split_by="t",
        ts_split_cv=[
            {"train": {"start": 1, "end": 100}, "test": {"start": 101, "end": 150}},
            {"train": {"start": 1, "end": 150}, "test": {"start": 151, "end": 200}},
        ],
        ts_split_train={"start": 1, "end": 200},
        ts_split_test={"start": 201, "end": 300},
    )
    random_folds = train("trend_random", data=up_trend, target="y", algos=[Algo.DRF], nfold=3)
    gbm_full = train("gbm_full", data=up_coded, target="y", algos=[Algo.GBM])
    gbm_loose = train("gbm_loose", data=up_coded, target="y", algos=[Algo.GBM], tolerance=0.5)
    searched = train("gbm_search", data=up_coded, target="y", algos=[Algo.GLM, Algo.GBM], max_model=4)
    out_of_time = train("out_of_time", data=up_big, target="y", algos=[Algo.DRF], max_run_time=0.05)
    # refused options, and an algorithm this server does not train
    refused = {
        "callback": train("refuse_callback", data=up_coded, target="y", callback="http://127.0.0.1:9/done"),
        "preprocessing": train("refuse_pre", data=up_coded, target="y", preprocessing={"impute": True}),
        "apu": train("refuse_apu", data=up_coded, target="y", apu=1),
        "version": train("refuse_version", data=up_coded, target="y", version="v1"),
        "XGBoost": train("refuse_xgboost", data=up_coded, target="y", algos=[Algo.XGBoost]),
        "balance_class applies to classification only": train(
            "refuse_balance_regression", data=up_coded, target="y", balance_class=True
        ),
        "not after": train(
            "refuse_split_backwards", data=up_trend, target="y", ts_split_split_by="t",
            ts_split_cv=[{"train": {"start": 100, "end": 200}, "test": {"start": 1, "end": 50}}],
            ts_split_train={"start": 1, "end": 200},
        ),
    }
    # setup and predict fields
    def setup(name, **kwargs):
        return client.setup(SetupInput(data=up_gappy, **kwargs), name=name)

    complete = setup("setup_complete", data_columns=[{"id": "b", "data_type": "categorical", "nullable": False}])
    refused["nullable: false"] = setup(
        "refuse_nullable", data_columns=[{"id": "a", "data_type": "numerical", "nullable": False}]
    )
    refused["eda"] = setup("refuse_eda", data_columns=[{"id": "a", "data_type": "numerical"}], eda=True)
    refused["callback "] = client.predict(
        PredictInput(data=up_coded, experiment=plain_code, callback="http://127.0.0.1:9/done"),
        name="refuse_predict_callback",
    )
    pred_plain = client.predict(PredictInput(data=up_imb_test, experiment=plain_imb), name="pred_plain")
    pred_bal = client.predict(PredictInput(data=up_imb_test, experiment=balanced), name="pred_bal")
    run_stage(client, check, "trainings", errors)

    def done(job):
        return job.is_success()

    def honoured():
        r2_plain = cv(plain_code, "r2")[0]
        r2_typed = cv(typed_code, "r2")[0]
        check(r2_plain < 0.3 and r2_typed > 0.99,
              "feature_types: a numeric code marked categorical is learnt (r2 %.3f -> %.3f)" % (r2_plain, r2_typed))
        check(typed_code.options.get("feature_types") is not None, "feature_types echoed in options")

        scores = plain_imb.attributes[plain_imb.models[0]]["test_scores"]
        check(done(plain_imb) and "auc" in scores and "logloss" in scores,
              "test_data_id: the test data set is scored into test_scores", repr(scores))
        check(plain_imb.test_base_id == up_imb_test.id, "test_data_id: the experiment names it (test_base_id)")
        no_test = balanced.attributes[balanced.models[0]]["test_scores"]
        check(no_test == {}, "no test data: test_scores empty", repr(no_test))

        ll_plain, ll_bal = cv(plain_imb, "logloss")[0], cv(balanced, "logloss")[0]
        ll_fac = cv(factors, "logloss")[0]
        check(ll_bal > ll_plain and ll_fac != ll_bal,
              "balance_class / sampling_factors change the model (cv logloss %.4f, %.4f, %.4f)"
              % (ll_plain, ll_bal, ll_fac))

        def mean_prob_b(pred):
            # the probability columns are named by the class labels
            return float(pred.show_df()["b"].mean())

        before, after = mean_prob_b(pred_plain), mean_prob_b(pred_bal)
        check(before < 0.2 and after > 0.4,
              "balance_class: the minority class's mean probability rises (%.3f -> %.3f)" % (before, after))

        glm_id, drf_id = split.models
        glm_test = split.attributes[glm_id]["test_scores"]
        drf_test = split.attributes[drf_id]["test_scores"]
        check(split.hyperparameters["nfold"] == 2, "time_series_split: its 2 cv folds are the folds")
        check(glm_test.get("r2", 0) > 0.99 and drf_test["rmse"] > 10 * glm_test["rmse"],
              "time_series_split: the test range scores forward in time (GLM extrapolates, DRF cannot)",
              "%r / %r" % (glm_test, drf_test))
        rf_random = cv(random_folds, "rmse")[0]
        rf_split = split.attributes[drf_id]["cv_averages"]["rmse"]
        check(rf_random < rf_split / 3,
              "time_series_split: time-ordered folds show what random folds hide (DRF cv rmse %.2f vs %.2f)"
              % (rf_split, rf_random))

        def ntrees(exp):
            model = Model.create(exp.id, exp.models[0])
            return model.hyperparameters["ntrees"]

        check(ntrees(gbm_loose) < 20 and ntrees(gbm_loose) < ntrees(gbm_full),
              "tolerance: a loose tolerance stops boosting early (ntrees %s -> %s)" % (ntrees(gbm_full), ntrees(gbm_loose)))

        found = [Model.create(searched.id, m) for m in searched.models]
        settings = [tuple(sorted(m.hyperparameters.items())) for m in found]
        check(len(found) == 4 and [m.name for m in found] == ["GLM", "GBM", "GLM", "GBM"]
              and len(set(settings)) == 4,
              "max_model: 4 models, each algorithm's defaults then searched GLM and GBM settings in turn, each listed",
              [m.name for m in found])
        best = searched.best_model.id
        ranked = min(searched.attributes[m]["cv_averages"]["deviance"] for m in searched.models)
        check(best in searched.models and searched.attributes[best]["cv_averages"]["deviance"] == ranked,
              "max_model: the best model is the one with the best cross-validated deviance", best)

        check(out_of_time.is_fail() and "max_run_time" in message(out_of_time)
              and "no model finished" in message(out_of_time),
              "max_run_time: training that runs out of time fails in words", message(out_of_time))

    check.scenario("honoured options", honoured)

    def refusals():
        for named, job in refused.items():
            check(job.is_fail() and named.strip() in message(job),
                  "refused in words: %s (%s)" % (job.name, message(job)), job.status)
        check(done(plain_code) and done(pred_bal) and done(complete),
              "the other jobs of the same run still succeeded")

    check.scenario("refused options", refusals)
    finish(check)


if __name__ == "__main__":
    main()
