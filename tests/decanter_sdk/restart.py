"""A restart through the real Decanter AI Core SDK (1.1.11, unchanged): what one
automl-server made with `--data-dir DIR` the SDK reads back, equal, from the next server
on DIR, and a training that was running when the first server stopped reads `fail`.

Run twice by tests/decanter_sdk.rs, the server stopped with SIGTERM and started again on
the same directory in between:

    python restart.py --phase make ...   upload a CSV (numbers, a category, blanks) and
        held-out rows, train (GLM, DRF, GBM), predict with the best model, download every
        model; write what the SDK saw to restart_state.json in the work directory; start
        a long training and leave it running
    python restart.py --phase read ...   read every id back with the SDK's by-id calls
        and compare with restart_state.json; predict again with the restored model;
        check the interrupted training's task; train a new experiment

    (common arguments: --host http://127.0.0.1:PORT --user U --password P --workdir DIR)
"""
import hashlib
import json
import math
import os
import time

import numpy as np
import pandas as pd

from decanter.core.core_api import CoreAPI, Model, PredictInput, TrainInput
from decanter.core.enums.algorithms import Algo
from decanter.core.extra import CoreStatus
from decanter.core.extra.utils import check_response
from decanter.core.jobs import DataUpload, Experiment
from decanter.core.jobs.task import TrainTask

from sdkcheck import Checks, SdkErrors, arguments, connect, finish, run_stage

SEED = 20261208
ALGOS = [Algo.GLM, Algo.DRF, Algo.GBM]
STATE = "restart_state.json"
RESTARTED = "the server restarted during this task"
# What an Experiment job shows of its experiment (the SDK's documented attributes).
EXPERIMENT_FIELDS = [
    "id", "features", "train_data_id", "target", "test_base_id", "models",
    "hyperparameters", "attributes", "recommendations", "options", "created_at",
    "updated_at", "completed_at",
]


# ------------------------------------------------------------------------------ data


def churn_frame(rng, n):
    """A yes/no label from two numbers and a category; blanks in a number and in the
    category (the encoders' missing values)."""
    plan = rng.choice(["basic", "plus", "pro"], size=n).astype(object)
    x1, x2 = rng.normal(0.0, 1.0, n), rng.uniform(0.0, 10.0, n)
    effect = pd.Series(plan).map({"basic": 1.0, "plus": 0.0, "pro": -1.5}).to_numpy()
    score = 2.0 * x1 - 0.4 * (x2 - 5.0) + effect + rng.normal(0.0, 0.5, n)
    x1[::7] = np.nan
    plan[3::11] = None
    label = np.where(score > 0, "yes", "no")
    return pd.DataFrame({"x1": np.round(x1, 6), "x2": np.round(x2, 6), "plan": plan, "label": label})


def long_frame(rng, n):
    """Rows enough that GBM and DRF with 10 folds run for a long while."""
    frame = pd.DataFrame({"f%d" % i: np.round(rng.normal(0.0, 1.0, n), 5) for i in range(12)})
    frame["y"] = np.round(frame["f0"] * 3.0 - frame["f1"] * frame["f2"] + rng.normal(0, 1, n), 5)
    return frame


# ----------------------------------------------------------------------- comparisons


def plain(value):
    """numpy scalars as Python values and NaN as None, so that values compare and
    serialise the same way in both phases."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def frame_doc(df):
    """A DataFrame's columns, dtypes and cells, as plain values."""
    return {
        "columns": [str(c) for c in df.columns],
        "dtypes": [str(t) for t in df.dtypes],
        "data": plain(df.astype(object).values.tolist()),
    }


def first_difference(got, want, path="$"):
    """Where two plain values first differ, in words (None when equal)."""
    if isinstance(want, dict) and isinstance(got, dict):
        if list(got) != list(want):
            return "%s: keys %r, want %r" % (path, list(got), list(want))
        for key in want:
            found = first_difference(got[key], want[key], "%s.%s" % (path, key))
            if found:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            return "%s: %d items, want %d" % (path, len(got), len(want))
        for i, (g, w) in enumerate(zip(got, want)):
            found = first_difference(g, w, "%s[%d]" % (path, i))
            if found:
                return found
        return None
    if got != want or type(got) is not type(want):
        return "%s: %r, want %r" % (path, got, want)
    return None


def same(check, what, got, want):
    """Checks that `got` equals `want` (both made plain), key order included."""
    found = first_difference(plain(got), plain(want))
    check(found is None, what, found)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def file_hash(path):
    with open(path, "rb") as f:
        return sha256(f.read())


def model_view(model):
    """What a Model object shows: its attributes but the bound API calls."""
    return {k: v for k, v in vars(model).items() if not callable(v)}


def label(model):
    """`GLM 4f2a9c`: a model's algorithm and the end of its id, for the check lines."""
    return "%s %s" % (model["name"], model["id"][-6:])


def experiment_view(exp):
    return {field: getattr(exp, field) for field in EXPERIMENT_FIELDS}


def data_view(job):
    """A data set as the SDK shows it: the server's document and the file's text."""
    return {"doc": job.result, "text": job.show()}


def tasks_page():
    resp = CoreAPI().get_tasks_list()
    return check_response(resp).json()


def data_page():
    return check_response(CoreAPI().get_data_list()).json()


# ----------------------------------------------------------------------- phase make


def make(args, check, client, errors):
    workdir = os.path.abspath(args.workdir)
    rng = np.random.default_rng(SEED)
    frame = churn_frame(rng, 400)
    train, test = frame.iloc[:300], frame.iloc[300:].reset_index(drop=True)
    test = test.drop(columns=["label"])
    test.insert(0, "id", np.arange(1, len(test) + 1))
    paths = {name: os.path.join(workdir, "%s.csv" % name) for name in ("train", "test", "long")}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    long_frame(rng, 40000).to_csv(paths["long"], index=False)

    handles = {name: open(path, "rb") for name, path in paths.items()}
    ups = {name: client.upload(file=handles[name], name=name) for name in paths}
    exp = client.train(
        TrainInput(data=ups["train"], target="label", algos=ALGOS, nfold=3, seed=7, max_model=4),
        name="churn_exp",
    )
    pred = client.predict(
        PredictInput(data=ups["test"], experiment=exp, keep_columns=["id"]), name="churn_pred"
    )
    run_stage(client, check, "uploads, a training and a prediction", errors)
    for handle in handles.values():
        handle.close()
    state = {}

    def what_the_sdk_saw():
        for name in ("train", "test"):
            with open(paths[name]) as f:
                text = f.read()
            check(ups[name].status == "done", "%s: uploaded" % name, ups[name].status)
            check(ups[name].show() == text, "%s: DataUpload.show() is the CSV as uploaded" % name)
        check(exp.status == "done" and pred.status == "done", "training and prediction done",
              "%s, %s" % (exp.status, pred.status))
        best = exp.best_model
        check(best.id in exp.models and len(exp.models) >= len(ALGOS),
              "churn_exp: %d models, the best one among them" % len(exp.models), repr(exp.models))
        df = pred.show_df()
        check(list(df.columns) == ["id", "prediction", "no", "yes"] and len(df) == len(test),
              "churn_pred: id, prediction and a probability per class, a row per test row",
              repr(list(df.columns)))
        downloads = {}
        for model_id in exp.models:
            path = os.path.join(workdir, "before_%s.json" % model_id)
            Model.download_by_id(model_id, path)
            downloads[model_id] = file_hash(path)
        best.download(os.path.join(workdir, "before_best.json"))
        check(file_hash(os.path.join(workdir, "before_best.json")) == downloads[best.id],
              "Model.download() and Model.download_by_id() write the same bytes")
        state.update({
            "data": {name: {"id": ups[name].id, **data_view(ups[name])} for name in ("train", "test")},
            "long_data": ups["long"].id,
            "experiment": experiment_view(exp),
            "experiment_doc": exp.result,
            "best_model": model_view(best),
            "models": {m: model_view(Model.create(exp.id, m)) for m in exp.models},
            "prediction": {"id": pred.id, **data_view(pred), "frame": frame_doc(df)},
            "downloads": downloads,
        })

    check.scenario("what the SDK saw before the restart", what_the_sdk_saw)

    def start_long_training():
        # TrainTask is what client.train() runs: it posts the training and returns
        # without waiting (the Job that would wait for it is never made).
        task = TrainTask(
            TrainInput(data=ups["long"], target="y", algos=[Algo.GBM, Algo.DRF], nfold=10, seed=7),
            name="long_train",
        )
        task.run()
        check(task.id is not None, "long_train: TrainTask.run() posted it", repr(task.response))
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            status = check_response(CoreAPI().get_tasks_by_id(task.id)).json()["status"]
            if status != "pending":
                break
            time.sleep(0.2)
        check(status == "running", "long_train: running", repr(status))
        state["long_task"] = task.id
        state["tasks"] = tasks_page()
        state["data_list"] = data_page()
        long_doc = [t for t in state["tasks"]["items"] if t["_id"] == task.id]
        check(len(long_doc) == 1 and long_doc[0]["status"] == "running",
              "get_tasks_list(): long_train running, just before the server stops", repr(long_doc))
        with open(os.path.join(workdir, STATE), "w") as f:
            json.dump(plain(state), f)

    check.scenario("a long training left running", start_long_training)


# ----------------------------------------------------------------------- phase read


def experiment_by_id(exp_id, train_data):
    """Experiment.create(exp_id), the SDK's way to read an experiment by id. In 1.1.11
    its body calls `cls(train_input=None)`, whose __init__ reads `train_input.data`:
    AttributeError after the GET succeeded, whatever the server answers. Then this
    does what Experiment.create's body does, the one constructor argument filled in."""
    try:
        return Experiment.create(exp_id, name="restored_exp")
    except AttributeError as err:
        if "'NoneType' object has no attribute 'data'" not in str(err):
            raise
        print("   (SDK 1.1.11: Experiment.create() fails in its own constructor call: %s;"
              " doing its steps with a TrainInput)" % err, flush=True)
    doc = check_response(CoreAPI().get_experiments_by_id(exp_id)).json()
    algos = [attr["algo"] for attr in doc["attributes"].values()]
    exp = Experiment(TrainInput(data=train_data, target=doc["target"], algos=algos))
    exp.update_result(doc)
    exp.status = CoreStatus.DONE
    exp.name = "restored_exp"
    return exp


def read(args, check, client, errors):
    workdir = os.path.abspath(args.workdir)
    with open(os.path.join(workdir, STATE)) as f:
        state = json.load(f)
    restored = {}

    def tasks():
        page = tasks_page()
        long_id = state["long_task"]
        before = {t["_id"]: t for t in state["tasks"]["items"]}
        after = {t["_id"]: t for t in page["items"]}
        check(page["total"] == state["tasks"]["total"] and list(after) == list(before),
              "get_tasks_list(): the same %d tasks, in the same order" % len(before),
              "total %r, ids %r" % (page["total"], list(after)))
        same(check, "get_tasks_list(): every finished task as before",
             {i: t for i, t in after.items() if i != long_id},
             {i: t for i, t in before.items() if i != long_id})
        for doc, how in [(after[long_id], "get_tasks_list()"),
                         (check_response(CoreAPI().get_tasks_by_id(long_id)).json(),
                          "get_tasks_by_id()")]:
            check(doc["status"] == "fail" and doc.get("progress_message") == RESTARTED,
                  "%s: the interrupted long_train is fail, %r" % (how, RESTARTED),
                  "status %r progress_message %r" % (doc["status"], doc.get("progress_message")))
            check(not doc.get("result"), "%s: long_train has no result" % how, repr(doc.get("result")))

    check.scenario("the task table", tasks)

    def data():
        same(check, "get_data_list(): the same page", data_page(), state["data_list"])
        for name in ("train", "test"):
            want = state["data"][name]
            job = DataUpload.create(want["id"], name=name)
            restored[name] = job
            same(check, "DataUpload.create(%s): the same document" % name, job.result, want["doc"])
            same(check, "DataUpload.create(%s): columns and rows" % name,
                 [job.columns, job.rows], [want["doc"]["columns"], want["doc"]["rows"]])
            check(job.show() == want["text"], "DataUpload.create(%s).show(): the same file" % name)
            path = os.path.join(workdir, "after_%s.csv" % name)
            job.download_csv(path)
            with open(path) as f:
                check(f.read() == want["text"], "%s: download_csv() writes the same file" % name)

    check.scenario("data sets", data)

    def prediction():
        want = state["prediction"]
        job = DataUpload.create(want["id"], name="churn_pred")  # a prediction is a data set
        same(check, "prediction: the same document", job.result, want["doc"])
        check(job.show() == want["text"], "prediction: show() is the same file")
        same(check, "prediction: show_df() is the same frame", frame_doc(job.show_df()), want["frame"])

    check.scenario("the prediction", prediction)

    def experiment():
        want = state["experiment"]
        doc = check_response(CoreAPI().get_experiments_by_id(want["id"])).json()
        same(check, "get_experiments_by_id(): the same document", doc, state["experiment_doc"])
        exp = experiment_by_id(want["id"], restored["train"])
        restored["exp"] = exp
        same(check, "the restored Experiment's attributes", experiment_view(exp), want)
        for model_id, model in state["models"].items():
            same(check, "Model.create(%s): the same model" % label(model),
                 model_view(Model.create(want["id"], model_id)), model)
        best = state["best_model"]
        same(check, "Model.create(best): the best model as before",
             model_view(Model.create(want["id"], best["id"])), best)
        for model_id, digest in state["downloads"].items():
            path = os.path.join(workdir, "after_%s.json" % model_id)
            Model.download_by_id(model_id, path)
            check(file_hash(path) == digest,
                  "Model.download_by_id(%s): the same bytes" % label(state["models"][model_id]))
        path = os.path.join(workdir, "after_best.json")
        Model.create(want["id"], best["id"]).download(path)
        check(file_hash(path) == state["downloads"][best["id"]], "Model.download(): the same bytes")

    check.scenario("the experiment, its models and their downloads", experiment)

    def predict_again():
        best = state["best_model"]["id"]
        pred = client.predict(
            PredictInput(data=restored["test"], experiment=restored["exp"], select_model="model_id",
                         select_opt=best, keep_columns=["id"]),
            name="churn_pred_again",
        )
        run_stage(client, check, "a prediction with the restored model", errors)
        check(pred.status == "done", "churn_pred_again: done", pred.status)
        check(pred.id != state["prediction"]["id"], "churn_pred_again: a new data set", pred.id)
        check(pred.show() == state["prediction"]["text"],
              "churn_pred_again: the same file as the prediction before the restart")
        same(check, "churn_pred_again: show_df() the same frame",
             frame_doc(pred.show_df()), state["prediction"]["frame"])

    check.scenario("predict again with the restored model", predict_again)

    def train_anew():
        exp = client.train(
            TrainInput(data=restored["train"], target="label", algos=[Algo.GLM, Algo.GBM],
                       nfold=2, seed=11, max_model=2),
            name="after_restart_exp",
        )
        run_stage(client, check, "a new training after the restart", errors)
        check(exp.status == "done" and exp.id != state["experiment"]["id"],
              "after_restart_exp: done, a new experiment", "%s %r" % (exp.status, exp.id))
        check(exp.best_model.id in (exp.models or []) and exp.train_data_id == restored["train"].id,
              "after_restart_exp: trained on the restored data, its best model among its models",
              repr(exp.models))
        page = tasks_page()
        check(page["total"] == state["tasks"]["total"] + 2,
              "get_tasks_list(): the two new tasks added", repr(page["total"]))

    check.scenario("the restarted server keeps working", train_anew)


def main():
    args = arguments(
        __doc__.splitlines()[0],
        lambda parser: parser.add_argument("--phase", choices=["make", "read"], required=True),
    )
    check = Checks(args.keep_going)
    errors = SdkErrors()
    client = connect(args, check)
    (make if args.phase == "make" else read)(args, check, client, errors)
    finish(check)


if __name__ == "__main__":
    main()
