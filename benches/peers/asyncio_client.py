#!/usr/bin/env python3
"""The asyncio peer of `cargo run --release --bin client`: the Decanter SDK's approach
(asyncio, blocking HTTP calls through `run_in_executor`, `asyncio.sleep` polling), stdlib
only, doing the same work as the taskloop client against the same server.

    python3 asyncio_client.py URL USER PASSWORD TRAIN.csv FORECAST.csv N

Per pipeline: upload TRAIN and FORECAST -> train GLM (3 folds) on TRAIN -> predict
FORECAST with the best model (smallest cross-validated deviance) -> read the
predictions CSV; every task is polled every 0.2 s. The CSVs are read before the clock
starts. Prints one line: `RESULT cpu_s=... wall_s=... requests=...`.
"""
import asyncio
import base64
import http.client
import json
import resource
import sys
import threading
import time
import urllib.parse
import uuid

POLL = 0.2
FEATURES = ["hour", "temp", "humidity", "workingday", "season"]


class Http:
    """One keep-alive connection per executor thread, as requests.Session would keep."""

    def __init__(self, url, user, password):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.auth = "Basic " + token
        self.local = threading.local()
        self.requests = 0

    def call(self, method, path, body=None, content_type=None, raw=False):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port)
        headers = {"Authorization": self.auth, "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
            headers["Idempotency-Key"] = uuid.uuid4().hex
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.requests += 1
        if resp.status in (429, 503):
            return Busy
        if resp.status // 100 != 2:
            raise RuntimeError("%s %s: %d %s" % (method, path, resp.status, data[:200]))
        return data if raw else json.loads(data)


class Busy:
    """The server refused the request for now (429/503): try again after a back-off."""


async def call(http_, *args, **kw):
    delay = 0.05
    while True:
        answer = await asyncio.get_running_loop().run_in_executor(
            None, lambda: http_.call(*args, **kw))
        if answer is not Busy:
            return answer
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def await_task(http_, task_id):
    while True:
        await asyncio.sleep(POLL)
        task = await call(http_, "GET", "/v2/tasks/%s" % task_id)
        if task["status"] == "done":
            return task["result"]
        if task["status"] not in ("pending", "running"):
            raise RuntimeError("task %s: %s" % (task_id, task))


async def upload(http_, name, csv):
    boundary = uuid.uuid4().hex
    body = (
        ("--%s\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"%s\"\r\n"
         "Content-Type: text/csv\r\n\r\n" % (boundary, name)).encode()
        + csv + ("\r\n--%s--\r\n" % boundary).encode()
    )
    task = await call(http_, "POST", "/v2/upload", body,
                      "multipart/form-data; boundary=" + boundary)
    return await await_task(http_, task["_id"])


async def submit(http_, path, body):
    task = await call(http_, "POST", path, json.dumps(body).encode(), "application/json")
    return await await_task(http_, task["_id"])


def best_model(exp):
    scores = [(exp["attributes"][m]["cv_averages"].get("deviance", float("inf")), m)
              for m in exp["models"]]
    return min(scores)[1]


async def pipeline(http_, i, train_csv, forecast_csv):
    train, forecast = await asyncio.gather(
        upload(http_, "train-%d" % i, train_csv), upload(http_, "forecast-%d" % i, forecast_csv))
    exp = await submit(http_, "/v2/tasks/train", {
        "train_data_id": train["_id"], "target": "rentals", "evaluator": "auto",
        "algos": ["GLM"], "nfold": 3, "seed": i, "features": FEATURES})
    pred = await submit(http_, "/v2/tasks/predict", {
        "data_id": forecast["_id"], "model_id": best_model(exp), "keep_columns": ["id"]})
    return await call(http_, "GET", "/v2/data/%s/file" % pred["_id"], raw=True)


async def main(http_, n, train_csv, forecast_csv):
    out = await asyncio.gather(*(pipeline(http_, i, train_csv, forecast_csv) for i in range(n)))
    assert all(len(csv) > 0 for csv in out)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


if __name__ == "__main__":
    url, user, password, train_path, forecast_path, n = sys.argv[1:7]
    with open(train_path, "rb") as f:
        train_csv = f.read()
    with open(forecast_path, "rb") as f:
        forecast_csv = f.read()
    http_ = Http(url, user, password)
    cpu0, t0 = cpu(), time.monotonic()
    asyncio.run(main(http_, int(n), train_csv, forecast_csv))
    wall, used = time.monotonic() - t0, cpu() - cpu0
    print("RESULT cpu_s=%.4f wall_s=%.4f requests=%d" % (used, wall, http_.requests), flush=True)
