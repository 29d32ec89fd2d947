#!/usr/bin/env python3
"""Clustering through the real Decanter AI Core SDK (1.1.11, unchanged): upload three
well separated blobs, `client.train_cluster(TrainClusterInput(...))`, read the
`ExperimentCluster` and its best model, predict on fresh points from the same blobs
and check every point lands in its own blob's cluster; bad requests (k larger than the
rows, k = 0, an unknown feature) end as `invalid` tasks with a message naming the
field while the other jobs of the same `client.run()` succeed.

Run by tests/decanter_sdk.rs (`cargo test --release --test decanter_sdk cluster`).
"""
import math
import re

import numpy as np
import pandas as pd

from decanter.core.core_api import PredictInput, TrainClusterInput

from sdkcheck import Checks, Server, arguments, connect, finish, is_number, run_stage

SEED = 20240611
CENTERS = [(0.0, 0.0), (10.0, 0.0), (5.0, 9.0)]
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def blobs(rng, per, first_id):
    """`per` points around each center (sd 0.6), shuffled; `zone` is the blob's number
    (a numerical column, retyped to categorical by one experiment); `blob` the truth."""
    parts = []
    for b, (cx, cy) in enumerate(CENTERS):
        parts.append(
            pd.DataFrame(
                {
                    "x1": cx + rng.normal(0.0, 0.6, per),
                    "x2": cy + rng.normal(0.0, 0.6, per),
                    "zone": b,
                    "blob": b,
                }
            )
        )
    frame = pd.concat(parts).sample(frac=1.0, random_state=int(rng.integers(1 << 30)))
    frame = frame.reset_index(drop=True)
    frame.insert(0, "id", np.arange(first_id, first_id + len(frame)))
    return frame


def bijection(clusters, truth):
    """True when `clusters` equals `truth` up to a renaming (one cluster per blob)."""
    forward, backward = {}, {}
    for c, t in zip(clusters, truth):
        if forward.setdefault(t, c) != c or backward.setdefault(c, t) != t:
            return False
    return len(forward) == len(set(truth))


def message_of(job):
    """The server's progress_message for the job's task (as the SDK last read it)."""
    response = job.task.response if isinstance(job.task.response, dict) else {}
    return response.get("progress_message", "")


def main():
    args = arguments(__doc__.splitlines()[0])
    check = Checks(args.keep_going)
    server = Server(args.host, args.user, args.password)
    client = connect(args, check)
    rng = np.random.default_rng(SEED)
    train = blobs(rng, 50, 1)
    test = blobs(rng, 20, 1001)
    tiny = train.head(5)

    train_up = client.upload(file=train.drop(columns=["blob"]), name="blobs_train")
    test_up = client.upload(file=test.drop(columns=["blob"]), name="blobs_test")
    tiny_up = client.upload(file=tiny.drop(columns=["blob"]), name="blobs_tiny")
    exp = client.train_cluster(
        TrainClusterInput(data=train_up, features=["x1", "x2"], k=3, seed=SEED),
        name="blobs_k3",
    )
    pred = client.predict(
        PredictInput(data=test_up, experiment=exp, keep_columns=["id"]), name="blobs_pred"
    )
    default_k = client.train_cluster(
        TrainClusterInput(data=train_up, features=["x1", "x2"], seed=SEED), name="default_k"
    )
    typed = client.train_cluster(
        TrainClusterInput(
            data=train_up,
            features=["zone"],
            feature_types=[{"id": "zone", "data_type": "categorical"}],
            k=3,
            seed=SEED,
        ),
        name="zone_categorical",
    )
    bad_k = client.train_cluster(TrainClusterInput(data=tiny_up, k=10), name="bad_k_over_rows")
    bad_zero = client.train_cluster(TrainClusterInput(data=tiny_up, k=0), name="bad_k_zero")
    bad_feature = client.train_cluster(
        TrainClusterInput(data=train_up, features=["x1", "ghost"], k=2), name="bad_feature"
    )
    run_stage(client, check, "cluster_train, predict and bad requests in one run()")

    def experiment():
        check(exp.status == "done", "blobs_k3: status done", "status %r" % exp.status)
        check(OBJECT_ID.match(exp.id or "") is not None, "blobs_k3: experiment id", repr(exp.id))
        hyper = exp.hyperparameters or {}
        check(
            hyper.get("model_type") == "clustering" and hyper.get("k") == 3
            and hyper.get("seed") == SEED,
            "blobs_k3: hyperparameters model_type clustering, k 3, the seed",
            repr(hyper),
        )
        check(exp.features == ["x1", "x2"], "blobs_k3: features", repr(exp.features))
        check(exp.train_data_id == train_up.id, "blobs_k3: train_data_id", repr(exp.train_data_id))
        check(
            isinstance(exp.models, list) and len(exp.models) == 1
            and exp.best_model.id == exp.models[0],
            "blobs_k3: one model, the SDK picked it as best (by tot_withinss)",
            "%r best %r" % (exp.models, exp.best_model.id),
        )
        cv = exp.attributes[exp.models[0]]["cv_averages"]
        attrs = exp.best_model.attributes or {}
        check(
            is_number(cv.get("tot_withinss")) and cv["tot_withinss"] == attrs.get("tot_withinss"),
            "blobs_k3: cv_averages.tot_withinss is the model's tot_withinss",
            "%r vs %r" % (cv, attrs.get("tot_withinss")),
        )
        check(
            sorted(attrs.get("size", [])) == [50, 50, 50],
            "blobs_k3: cluster sizes 50, 50, 50",
            repr(attrs.get("size")),
        )
        check(
            attrs["tot_withinss"] < 0.05 * attrs["totss"]
            and math.isclose(attrs["betweenss"] + attrs["tot_withinss"], attrs["totss"]),
            "blobs_k3: within-cluster sum of squares is small, betweenss + withinss = totss",
            repr({k: attrs.get(k) for k in ("tot_withinss", "betweenss", "totss")}),
        )
        centers = attrs.get("centers", [])
        matched = sorted(
            min(range(3), key=lambda b: math.dist(CENTERS[b], (c["x1"], c["x2"])))
            for c in centers
        )
        near = all(
            min(math.dist(t, (c["x1"], c["x2"])) for c in centers) < 0.5 for t in CENTERS
        )
        check(
            matched == [0, 1, 2] and near,
            "blobs_k3: one center within 0.5 of each true blob center",
            repr(centers),
        )

    check.scenario("ExperimentCluster and its model", experiment)

    def prediction():
        check(pred.status == "done", "blobs_pred: status done", "status %r" % pred.status)
        df = pred.show_df()
        check(list(df.columns) == ["id", "cluster"], "blobs_pred: columns id, cluster", repr(list(df.columns)))
        check(len(df) == len(test), "blobs_pred: one row per test point", len(df))
        truth = dict(zip(test["id"], test["blob"]))
        clusters = [int(c) for c in df["cluster"]]
        check(set(clusters) <= {0, 1, 2}, "blobs_pred: clusters are 0, 1, 2", repr(set(clusters)))
        check(
            bijection(clusters, [truth[i] for i in df["id"]]),
            "blobs_pred: every fresh point is in its own blob's cluster (up to renaming)",
        )
        # the fresh points go where the training points of the same blob went
        centers = exp.best_model.attributes["centers"]
        far = [
            (cluster, blob)
            for cluster, blob in zip(clusters, [truth[i] for i in df["id"]])
            if math.dist(CENTERS[blob], (centers[cluster]["x1"], centers[cluster]["x2"])) >= 0.5
        ]
        check(not far, "blobs_pred: each point's cluster has its own blob's center", repr(far[:5]))

    check.scenario("predict with the cluster model", prediction)

    def others():
        hyper = default_k.hyperparameters or {}
        check(
            default_k.status == "done" and hyper.get("k") == 8,
            "default_k: no k given, the documented default 8",
            "status %r hyperparameters %r" % (default_k.status, hyper),
        )
        check(typed.status == "done", "zone_categorical: status done", typed.status)
        encoded = (typed.best_model.attributes or {}).get("encoded_columns")
        check(
            encoded == ["zone.0", "zone.1", "zone.2"],
            "zone_categorical: feature_types made the numerical zone one-hot",
            repr(encoded),
        )
        sizes = sorted((typed.best_model.attributes or {}).get("size", []))
        check(
            sizes == [50, 50, 50] and typed.best_model.attributes["tot_withinss"] == 0,
            "zone_categorical: one cluster per zone",
            repr(typed.best_model.attributes),
        )

    check.scenario("default k and feature_types", others)

    def bad_requests():
        for job, words in [
            (bad_k, ["k is 10", "only 5 rows"]),
            (bad_zero, ["k must be at least 1, not 0"]),
            (bad_feature, ["features", "'ghost'"]),
        ]:
            message = message_of(job)
            check(
                job.status == "invalid" and all(w in message for w in words),
                "%s: invalid, the message names the field (%s)" % (job.name, message),
                "status %r message %r" % (job.status, message),
            )
            task = server.get("/v2/tasks/%s" % job.task.id)
            check(
                task.get("type") == "cluster_train" and task.get("status") == "invalid",
                "%s: the server's task is a cluster_train, invalid" % job.name,
                repr(task),
            )
            check(job.models is None, "%s: no experiment reached the job" % job.name, repr(job.models))
        table = client.get_jobs_status()
        statuses = dict(zip(table["Job"], table["status"]))
        bad = {"bad_k_over_rows", "bad_k_zero", "bad_feature"}
        want = {n: ("invalid" if n in bad else "done") for n in statuses}
        check(
            statuses == want and len(statuses) == 10,
            "get_jobs_status(): every other job of the run is done",
            repr(statuses),
        )
        check(server.get("/v2/worker/status").get("status") == "ok", "the server still serves")

    check.scenario("bad requests end invalid, naming the field", bad_requests)
    finish(check)


if __name__ == "__main__":
    main()
