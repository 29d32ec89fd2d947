"""The endpoints beside the task flow, driven through the real SDK's public classes:
Model.download() and Model.download_by_id() write the portable model document (checked
here by scoring with it in plain Python, following design/06's "Model download format"),
Worker().get_count(), CoreAPI().get_data_list() and get_tasks_list(),
CoreAPI().batch_predict(), DataUpload.get('schema'), and prediction files whose
probability columns are named by the class labels and that carry the target column.

    python endpoints.py --host http://127.0.0.1:PORT --user U --password P --workdir DIR
"""
import csv
import json
import math
import os

import numpy as np
import pandas as pd

from decanter.core.core_api import CoreAPI, Model, PredictInput, SetupInput, TrainInput, Worker
from decanter.core.enums.algorithms import Algo

from sdkcheck import Checks, Server, SdkErrors, arguments, connect, finish, run_stage

SEED = 20261207
ALGOS = [Algo.GLM, Algo.DRF, Algo.GBM, Algo.StackedEnsemble]


# ------------------------------------------------------------------------------ data


def binary_frame(rng, n):
    segment = rng.choice(["a", "b"], size=n)
    x1, x2 = rng.normal(0.0, 1.0, n), rng.normal(0.0, 1.0, n)
    score = 2.5 * x1 - 2.0 * x2 + np.where(segment == "a", 1.0, -1.0)
    label = (score + rng.normal(0.0, 0.3, n) > 0).astype(int)
    x1[::9] = np.nan  # missing values: the encoder's missing indicator
    return pd.DataFrame({"x1": x1, "x2": x2, "segment": segment, "label": label})


def regression_frame(rng, n):
    color = rng.choice(["red", "green", "blue"], size=n)
    x1, x2 = rng.uniform(0.0, 10.0, n), rng.normal(0.0, 3.0, n)
    effect = pd.Series(color).map({"red": 0.0, "green": 8.0, "blue": -6.0}).to_numpy()
    target = 60.0 + 3.0 * x1 - 2.0 * x2 + effect + rng.normal(0.0, 1.0, n)
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "target": np.round(target, 4)})


def multinomial_frame(rng, n):
    names = np.array(["alpha", "beta", "gamma"])
    centers = np.array([[0.0, 0.0], [5.0, 0.0], [2.5, 4.5]])
    k = rng.integers(0, 3, n)
    xy = centers[k] + rng.normal(0.0, 0.9, (n, 2))
    return pd.DataFrame({"x1": xy[:, 0], "x2": xy[:, 1], "species": names[k]})


def raw_rows(path):
    """The rows of a CSV file as dicts of the cells' text (no type guessing)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------- scoring with a downloaded model


def encode(model, row):
    """One row (column -> text) encoded as design/06 describes."""
    x = []
    for f in model["features"]:
        raw = row.get(f["name"])
        missing = raw is None or raw == ""
        if f["type"] == "numerical":
            x.append(0.0 if missing else (float(raw) - f["mean"]) / f["scale"])
            if f["missing_indicator"]:
                x.append(1.0 if missing else 0.0)
        elif f["type"] == "raw":
            x.append(math.nan if missing else float(raw))
        elif f["type"] == "codes":
            levels = f["levels"]
            x.append(math.nan if missing else float(levels.index(raw) if raw in levels else len(levels)))
        else:
            hot = [0.0] * (len(f["levels"]) + (1 if f["missing_slot"] else 0))
            if missing and f["missing_slot"]:
                hot[-1] = 1.0
            elif not missing and raw in f["levels"]:
                hot[f["levels"].index(raw)] = 1.0
            x.extend(hot)
    return x


def goes_left(node, v):
    """Whether a split node sends the encoded value v left (design/06)."""
    if math.isnan(v):
        return node.get("missing_left", True)
    if "levels" in node:
        return node["other_left"] if v >= 254 else int(v) in node["levels"]
    return v <= node["cut"]


def leaf(tree, x):
    node = tree["nodes"][0]
    while "value" not in node:
        j = node["feature"]
        v = x[j] if j < len(x) else math.nan
        node = tree["nodes"][node["left"] if goes_left(node, v) else node["right"]]
    return node["value"]


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def softmax(scores):
    top = max(scores)
    e = [math.exp(s - top) for s in scores]
    total = sum(e)
    return [v / total for v in e]


def link(name, scores):
    """A value (regression) or the class probabilities."""
    if name in ("identity", "squared"):
        return scores[0]
    if name == "logistic":
        p = sigmoid(scores[0])
        return [1.0 - p, p]
    return softmax(scores)


def score(model, x):
    engine = model["engine"]
    if engine["kind"] == "glm":
        etas = [b[0] + sum(bj * xj for bj, xj in zip(b[1:], x)) for b in engine["coefficients"]]
        return link(engine["link"], etas)
    if engine["kind"] == "drf":
        sums = [0.0] * engine["outputs"]
        for tree in engine["trees"]:
            sums = [s + v for s, v in zip(sums, leaf(tree, x))]
        sums = [s / len(engine["trees"]) for s in sums]
        return sums if engine["classifier"] else sums[0]
    scores = list(engine["init"])
    for trees in engine["rounds"]:
        for k, tree in enumerate(trees):
            scores[k] += leaf(tree, x)
    return link(engine["loss"], scores)


def score_row(model, row):
    """A model document's value or class probabilities for one row; a stacked
    ensemble blends its bases' (design/06)."""
    if model["algo"] != "StackedEnsemble":
        return score(model, encode(model, row))
    outs = [score_row(base, row) for base in model["bases"]]
    blend = model["blend"]
    if blend["kind"] == "values":
        total = blend["intercept"]
        for w, out in zip(blend["weights"], outs):
            total += w * out
        return total
    mixed = [0.0] * len(outs[0])
    for w, out in zip(blend["weights"], outs):
        mixed = [m + w * p for m, p in zip(mixed, out)]
    return mixed


def feature_kinds(model):
    """Feature name -> encoding type, over a stacked ensemble's bases too."""
    if model["algo"] == "StackedEnsemble":
        kinds = {}
        for base in model["bases"]:
            kinds.update(feature_kinds(base))
        return kinds
    return {f["name"]: f["type"] for f in model["features"]}


def predict(model, row, threshold=0.5):
    """(prediction, probabilities or None) for one row."""
    out = score_row(model, row)
    if not model["classes"]:
        return out, None
    if len(out) == 2:
        best = 1 if out[1] >= threshold else 0
    else:
        best = max(range(len(out)), key=lambda k: (out[k], -k))
    return model["classes"][best], out


def close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# ---------------------------------------------------------------------------- script


def main():
    args = arguments(__doc__)
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    check = Checks(args.keep_going)
    server = Server(args.host, args.user, args.password)
    errors = SdkErrors()
    rng = np.random.default_rng(SEED)

    paths = {}
    frames = {
        "bin": binary_frame(rng, 300),
        "reg": regression_frame(rng, 300),
        "multi": multinomial_frame(rng, 300),
    }
    targets = {"bin": "label", "reg": "target", "multi": "species"}
    for name, frame in frames.items():
        train, test = frame.iloc[:220], frame.iloc[220:].reset_index(drop=True)
        paths[name] = os.path.join(workdir, "%s_train.csv" % name)
        train.to_csv(paths[name], index=False)
        test = test.copy()
        test.insert(0, "id", np.arange(1, len(test) + 1))
        if name == "multi":  # the held-out features only: no target column comes back
            test = test.drop(columns=["species"])
        paths[name + "_test"] = os.path.join(workdir, "%s_test.csv" % name)
        test.to_csv(paths[name + "_test"], index=False)

    client = connect(args, check)
    files = []

    def upload(key):
        handle = open(paths[key], "rb")
        files.append(handle)
        return client.upload(file=handle, name=key)

    ups = {key: upload(key) for key in paths}
    run_stage(client, check, "stage 1 (uploads)", errors)

    bin_setup = client.setup(
        SetupInput(data=ups["bin"], data_columns=[{"id": "label", "data_type": "categorical"}]),
        name="bin_setup",
    )
    train_data = {"bin": bin_setup, "reg": ups["reg"], "multi": ups["multi"]}
    exps = {
        name: client.train(
            TrainInput(data=train_data[name], target=targets[name], algos=ALGOS, nfold=2, seed=7, max_model=3),
            name="%s_exp" % name,
        )
        for name in frames
    }
    preds = {
        name: client.predict(
            PredictInput(data=ups[name + "_test"], experiment=exps[name], keep_columns=["id"]),
            name="%s_pred" % name,
        )
        for name in frames
    }
    run_stage(client, check, "stage 2 (setup, 3 trainings, 3 predictions)", errors)

    def schema():
        for key, job in list(ups.items()) + [("bin_setup", bin_setup), ("bin_pred", preds["bin"])]:
            got = job.get("schema")
            columns = job.get("columns")
            check(
                isinstance(got, dict) and got.get("size") == job.get("rows"),
                "%s: get('schema') has size == rows" % key,
                repr(got)[:200],
            )
            pairs = [(c["id"], c["data_type"]) for c in got.get("columns", [])]
            check(
                pairs == [(c["id"], c["data_type"]) for c in columns],
                "%s: schema columns match columns (name -> data type)" % key,
                repr(pairs),
            )
            dtypes = {c["id"]: c.get("metadata", {}).get("dtype") for c in got["columns"]}
            want = {c["id"]: "double" if c["data_type"] == "numerical" else "string" for c in columns}
            check(dtypes == want, "%s: schema dtypes double/string" % key, repr(dtypes))

    check.scenario("DataUpload.get('schema')", schema)

    def prediction_columns():
        bin_cols = list(preds["bin"].show_df().columns)
        check(
            bin_cols == ["id", "label", "prediction", "0", "1"],
            "bin_pred: id, the target, prediction, then one column per class label",
            repr(bin_cols),
        )
        multi_cols = list(preds["multi"].show_df().columns)
        check(
            multi_cols == ["id", "prediction", "alpha", "beta", "gamma"],
            "multi_pred: no target in the data, so id, prediction, then the class labels",
            repr(multi_cols),
        )
        reg_cols = list(preds["reg"].show_df().columns)
        check(reg_cols == ["id", "target", "prediction"], "reg_pred: id, target, prediction", repr(reg_cols))
        check(
            not any(str(c).startswith("prob_") for c in bin_cols + multi_cols),
            "no prob_<class> columns",
        )

    check.scenario("prediction files name classes by label and carry the target", prediction_columns)

    downloaded = {}

    def download():
        for name, exp in exps.items():
            best = exp.best_model
            path = os.path.join(workdir, "%s_best.json" % name)
            best.download(path)
            check(os.path.getsize(path) > 0, "%s: Model.download(path) wrote the file" % name)
            with open(path, "rb") as f:
                raw = f.read()
            doc = json.loads(raw)
            check(
                doc.get("format") == "taskloop-model" and doc.get("version") == 2,
                "%s: a taskloop-model document, version 2" % name,
                repr({k: doc.get(k) for k in ("format", "version")}),
            )
            check(doc.get("target") == targets[name], "%s: the document names the target" % name)
            for model_id in exp.models:
                other = os.path.join(workdir, "%s_%s.json" % (name, model_id))
                Model.download_by_id(model_id, other)
                with open(other, "rb") as f:
                    downloaded[model_id] = json.load(f)
            check(
                len(exp.models) == 4 and downloaded[best.id] == doc,
                "%s: Model.download_by_id wrote each model; the best one as download() did" % name,
            )
            algos = sorted(downloaded[m]["algo"] for m in exp.models)
            check(
                algos == ["DRF", "GBM", "GLM", "StackedEnsemble"],
                "%s: one document per algorithm" % name,
                repr(algos),
            )

    check.scenario("Model.download and Model.download_by_id", download)

    def scored_by_the_document():
        for name, exp in exps.items():
            doc = downloaded[exp.best_model.id]
            df = preds[name].show_df()
            rows = raw_rows(paths[name + "_test"])
            worst = 0.0
            same_labels = True
            for i, row in enumerate(rows):
                label, probs = predict(doc, row)
                if probs is None:
                    worst = max(worst, abs(label - float(df["prediction"][i])))
                else:
                    same_labels &= str(label) == str(df["prediction"][i])
                    for k, cls in enumerate(doc["classes"]):
                        worst = max(worst, abs(probs[k] - float(df[cls][i])))
            check(
                same_labels and worst <= 1e-9,
                "%s: the downloaded %s scores the test rows like the prediction file"
                % (name, doc["algo"]),
                "largest difference %g, labels equal: %s" % (worst, same_labels),
            )

    check.scenario("a downloaded model scores outside the server", scored_by_the_document)

    def every_algorithm_outside_the_server():
        """Each downloaded model (GLM, DRF, GBM, StackedEnsemble) scores the test rows as the server's
        batch_predict does for that model."""
        api = CoreAPI()
        for name, exp in exps.items():
            rows = raw_rows(paths[name + "_test"])
            for model_id in exp.models:
                doc = downloaded[model_id]
                kinds = feature_kinds(doc)
                records = [
                    {k: (float(v) if kinds[k] in ("numerical", "raw") else v)
                     for k, v in row.items() if k in kinds and v != ""}
                    for row in rows
                ]
                answers = api.batch_predict(model_id, featuresList=records).json()
                worst, same = 0.0, True
                for row, answer in zip(rows, answers):
                    label, probs = predict(doc, row)
                    result = answer["result"]
                    if probs is None:
                        worst = max(worst, abs(label - result["prediction"]))
                    else:
                        same &= str(label) == str(result["prediction"])
                        for k, cls in enumerate(doc["classes"]):
                            worst = max(worst, abs(probs[k] - result[cls]))
                check(
                    len(answers) == len(rows) and same and worst <= 1e-9,
                    "%s: the downloaded %s scores like the server's batch_predict" % (name, doc["algo"]),
                    "largest difference %g, labels equal: %s" % (worst, same),
                )

    check.scenario("every algorithm scores outside the server", every_algorithm_outside_the_server)

    def worker_count():
        resp = Worker().get_count()
        check(resp.status_code == 200, "Worker().get_count(): 200", resp.text)
        doc = resp.json()
        check(
            isinstance(doc.get("count"), int) and doc["count"] >= 1
            and doc["busy"] + doc["idle"] == doc["count"],
            "Worker().get_count(): count >= 1 = busy + idle",
            repr(doc),
        )

    check.scenario("Worker().get_count()", worker_count)

    def lists():
        api = CoreAPI()
        resp = api.get_data_list()
        check(resp.status_code == 200, "get_data_list(): 200", resp.text[:200])
        page = resp.json()
        mine = {job.id for job in list(ups.values()) + [bin_setup] + list(preds.values())}
        ids = [d["_id"] for d in page["items"]]
        check(
            page["total"] == len(mine) and set(ids) == mine,
            "get_data_list(): every data set (uploads, setup, predictions), with the total",
            "total %r, %d items" % (page["total"], len(ids)),
        )
        times = [d["created_at"] for d in page["items"]]
        check(times == sorted(times, reverse=True), "get_data_list(): newest first")
        check(
            page["items"][0] == server.get("/v2/data/%s" % ids[0]),
            "get_data_list(): an item is the data document",
        )
        resp = api.get_tasks_list()
        check(resp.status_code == 200, "get_tasks_list(): 200", resp.text[:200])
        tasks = resp.json()
        check(
            tasks["total"] == 6 + 1 + 3 + 3 and len(tasks["items"]) == tasks["total"],
            "get_tasks_list(): 6 uploads, a setup, 3 trainings, 3 predictions",
            repr(tasks["total"]),
        )
        kinds = sorted({t["type"] for t in tasks["items"]})
        check(kinds == ["predict", "setup", "train", "upload"], "get_tasks_list(): each task type", repr(kinds))
        check(
            tasks["items"][0]["type"] == "predict" and tasks["items"][-1]["type"] == "upload",
            "get_tasks_list(): newest first",
        )
        second = server.get("/v2/tasks?offset=1&limit=2")
        check(
            [t["_id"] for t in second["items"]] == [t["_id"] for t in tasks["items"][1:3]],
            "/v2/tasks?offset=1&limit=2 is the next page",
        )

    check.scenario("CoreAPI().get_data_list() and get_tasks_list()", lists)

    def batch_predict():
        api = CoreAPI()
        rows = raw_rows(paths["bin_test"])
        records = []
        for row in rows:
            record = {"x2": float(row["x2"]), "segment": row["segment"]}
            if row["x1"] != "":
                record["x1"] = float(row["x1"])
            records.append(record)
        best = exps["bin"].best_model.id
        resp = api.batch_predict(best, featuresList=records, threshold=0.5)
        check(resp.status_code == 200, "batch_predict: 200", resp.text[:300])
        answers = resp.json()
        df = preds["bin"].show_df()
        ok = len(answers) == len(records)
        worst = 0.0
        for i, answer in enumerate(answers):
            ok &= answer.get("index") == i and answer.get("predict_status") == "success"
            result = answer.get("result", {})
            ok &= str(result.get("prediction")) == str(df["prediction"][i])
            for cls in ("0", "1"):
                worst = max(worst, abs(result.get(cls, -1.0) - float(df[cls][i])))
                ok &= result.get(cls) == answer.get("probabilities", {}).get(cls)
        check(
            ok and worst <= 1e-9,
            "batch_predict: one answer per record, as the prediction file scores it",
            "largest difference %g; first answer %r" % (worst, answers[:1]),
        )
        reg_model = exps["reg"].best_model.id
        answers = api.batch_predict(reg_model, featuresList=[{"x1": 5.0, "x2": 0.0, "color": "red"}, "oops"]).json()
        check(
            answers[0]["predict_status"] == "success" and abs(answers[0]["result"]["prediction"] - 75.0) < 3.0,
            "batch_predict: a regression record gets its value (60 + 3 * 5 = 75)",
            repr(answers[0]),
        )
        check(
            answers[1]["predict_status"] == "fail" and "object" in answers[1].get("error", ""),
            "batch_predict: a record that is not an object fails alone",
            repr(answers[1]),
        )
        too_many = api.batch_predict(best, featuresList=[{}] * 1001)
        check(too_many.status_code == 413, "batch_predict: 1001 records answer 413", too_many.text)

    check.scenario("CoreAPI().batch_predict()", batch_predict)

    for handle in files:
        handle.close()
    finish(check)


if __name__ == "__main__":
    main()
