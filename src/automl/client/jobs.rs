//! Remote jobs: upload, train and predict, declared into a [`Flow`] as async jobs.
//!
//! Each job submits its task (with an `Idempotency-Key`, so a submit retried after a
//! lost answer never starts a second task), then polls `GET /v2/tasks/{id}` on loop
//! timers with a growing interval, feeding the task's progress to the flow's observers.
//! A waiting job holds no thread; only the HTTP exchanges themselves borrow a worker.
//! If the job is cancelled or times out while its task runs, the task is stopped with
//! `PUT /v2/tasks/{id}/stop`.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::context::Context;
use super::error::AutomlError;
use super::http::{Request, Transport, Watch};
use super::inputs::{PredictInput, SetupInput, TrainInput};
use super::predictions::Predictions;
use super::retry::final_when_down;
use super::source::CsvSource;
use super::types::{data_info, experiment, text, DataInfo, Experiment};
use crate::flow::{Flow, Job};

impl Context {
    /// Declares an upload job: sends `source` to `POST /v2/upload` as a multipart form
    /// (with its length when it is known) and waits for the server to parse it. The job's
    /// result describes the data set on the server.
    ///
    /// # Examples
    /// ```
    /// # use taskloop::automl::{serve, Context, ServerConfig};
    /// # let server = serve(ServerConfig::new("me", "secret"))?;
    /// # let ctx = Context::connect(&server.url(), "me", "secret")?;
    /// use taskloop::automl::CsvSource;
    /// use taskloop::flow::Flow;
    ///
    /// let mut flow = Flow::new();
    /// let data = ctx.upload(&mut flow, "upload", CsvSource::text("prices.csv", "area,price\n50,100\n70,140\n"));
    /// flow.run();
    /// let info = data.result()?;
    /// assert_eq!((info.name.as_str(), info.rows, info.columns.len()), ("prices.csv", 2, 2));
    /// assert_eq!(info.columns[0].data_type, "numerical");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upload(
        &self,
        flow: &mut Flow,
        name: impl Into<String>,
        source: CsvSource,
    ) -> Job<DataInfo> {
        let ctx = self.clone();
        final_when_down(flow.try_job_async(name, (), move |()| {
            let (ctx, source) = (ctx.clone(), source.clone());
            async move {
                let task = ctx
                    .submit(Request::post_csv("/v2/upload", source, ctx.new_key()))
                    .await?;
                Ok(data_info(&ctx.await_task(&task, "upload").await?)?)
            }
        }))
    }

    /// Declares a setup job: once `input.data` is on the server, `POST /v2/tasks/setup`
    /// makes a new data set with the given columns retyped (for example a 0/1 target
    /// made categorical, so that training classifies instead of regressing). The
    /// original data set is unchanged.
    ///
    /// # Examples
    /// ```
    /// # use taskloop::automl::{serve, Context, ServerConfig};
    /// # let server = serve(ServerConfig::new("me", "secret"))?;
    /// # let ctx = Context::connect(&server.url(), "me", "secret")?;
    /// use taskloop::automl::{CsvSource, SetupInput};
    /// use taskloop::flow::Flow;
    ///
    /// let mut flow = Flow::new();
    /// let raw = ctx.upload(&mut flow, "upload", CsvSource::text("t.csv", "x,churned\n1,0\n2,1\n"));
    /// let typed = ctx.setup(&mut flow, "setup", SetupInput::new(&raw).column("churned", "categorical"));
    /// flow.run();
    /// assert_eq!(raw.result()?.columns[1].data_type, "numerical");
    /// assert_eq!(typed.result()?.columns[1].data_type, "categorical");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn setup(
        &self,
        flow: &mut Flow,
        name: impl Into<String>,
        input: SetupInput<'_>,
    ) -> Job<DataInfo> {
        let ctx = self.clone();
        let columns = input.columns_json();
        final_when_down(
            flow.try_job_async(name, input.data, move |data: Arc<DataInfo>| {
                let ctx = ctx.clone();
                let body = serde_json::json!({
                    "data_id": data.id,
                    "data_source": {"uri": data.uri, "format": "csv"},
                    "data_columns": columns,
                });
                async move {
                    let request = Request::post_json("/v2/tasks/setup", &body, ctx.new_key());
                    let task = ctx.submit(request).await?;
                    Ok(data_info(&ctx.await_task(&task, "setup").await?)?)
                }
            }),
        )
    }

    /// Declares a train job; it starts when `input.data` is uploaded. The result is the
    /// experiment: every model with its cross-validated scores, and the server's
    /// recommendation per metric.
    ///
    /// # Examples
    /// ```
    /// # use taskloop::automl::{serve, Context, ServerConfig};
    /// # let server = serve(ServerConfig::new("me", "secret"))?;
    /// # let ctx = Context::connect(&server.url(), "me", "secret")?;
    /// use taskloop::automl::{CsvSource, TrainInput};
    /// use taskloop::flow::Flow;
    ///
    /// let rows = (0..50).map(|i| vec![i.to_string(), (3 * i).to_string()]);
    /// let mut flow = Flow::new();
    /// let data = ctx.upload(&mut flow, "upload", CsvSource::rows("t.csv", &["x", "y"], rows));
    /// let spec = TrainInput::new(&data, "y").algos(["GLM", "GBM"]).nfold(3).seed(7);
    /// let exp = ctx.train(&mut flow, "train", spec);
    /// flow.run();
    /// let exp = exp.result()?;
    /// assert_eq!(exp.model_type, "regression");
    /// // Each algorithm's defaults, then the ten models the default budget of a small
    /// // data set searches (GLM penalties and GBM settings in turn).
    /// assert_eq!(exp.models.len(), 12);
    /// assert_eq!(exp.best_model("r2").unwrap().algo, "GLM"); // y is linear in x
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn train(
        &self,
        flow: &mut Flow,
        name: impl Into<String>,
        input: TrainInput<'_>,
    ) -> Job<Experiment> {
        let ctx = self.clone();
        let template = input.body("");
        final_when_down(
            flow.try_job_async(name, input.data, move |data: Arc<DataInfo>| {
                let ctx = ctx.clone();
                let mut body = template.clone();
                body["train_data_id"] = Value::from(data.id.as_str());
                async move {
                    let key = ctx.new_key();
                    let task = ctx
                        .submit(Request::post_json("/v2/tasks/train", &body, key))
                        .await?;
                    Ok(experiment(&ctx.await_task(&task, "train").await?)?)
                }
            }),
        )
    }

    /// Declares a predict job; it starts when both its data and its experiment are done,
    /// and uses the model `input.model` chooses (by default the best by `auto`).
    ///
    /// # Examples
    /// ```
    /// # use taskloop::automl::{serve, Context, ServerConfig};
    /// # let server = serve(ServerConfig::new("me", "secret"))?;
    /// # let ctx = Context::connect(&server.url(), "me", "secret")?;
    /// use taskloop::automl::{CsvSource, ModelChoice, PredictInput, TrainInput};
    /// use taskloop::flow::Flow;
    ///
    /// let rows = (0..50).map(|i| vec![i.to_string(), (3 * i).to_string()]);
    /// let mut flow = Flow::new();
    /// let data = ctx.upload(&mut flow, "upload", CsvSource::rows("t.csv", &["x", "y"], rows));
    /// let exp = ctx.train(&mut flow, "train", TrainInput::new(&data, "y").algos(["GLM", "DRF"]).nfold(2));
    /// let by_mae = PredictInput::new(&data, &exp).model(ModelChoice::Best("mae".into()));
    /// let pred = ctx.predict(&mut flow, "predict", by_mae);
    /// flow.run();
    /// let exp = exp.result()?;
    /// assert_eq!(pred.result()?.model_id, exp.best_model("mae").unwrap().id);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn predict(
        &self,
        flow: &mut Flow,
        name: impl Into<String>,
        input: PredictInput<'_>,
    ) -> Job<Predictions> {
        let ctx = self.clone();
        let (choice, keep, threshold) = (
            input.model.clone(),
            input.keep_columns.clone(),
            input.threshold,
        );
        final_when_down(flow.try_job_async(name, (input.data, input.experiment), move |(data, exp)| {
            let ctx = ctx.clone();
            let model = choice.pick(&exp);
            let body = serde_json::json!({"data_id": data.id, "keep_columns": keep, "threshold": threshold});
            async move {
                let model_id = model?;
                let mut body = body;
                body["model_id"] = Value::from(model_id.as_str());
                let task = ctx.submit(Request::post_json("/v2/tasks/predict", &body, ctx.new_key())).await?;
                let data_id = predictions(&ctx.await_task(&task, "predict").await?)?;
                Ok(Predictions { data_id, model_id, ctx })
            }
        }))
    }

    async fn get(&self, path: &str) -> Result<Value, AutomlError> {
        self.inner.transport.call(Request::get(path)).await
    }

    /// Submits a task; returns its id. If the job is abandoned (cancelled, timed out)
    /// while the submit is under way, the task it creates is stopped: by the worker that
    /// receives the answer, or by the guard if the answer came but was never read.
    async fn submit(&self, req: Request) -> Result<String, AutomlError> {
        let record = Arc::new(SubmitRecord::default());
        let guard = SubmitGuard {
            record: record.clone(),
            transport: self.inner.transport.clone(),
        };
        let watch: Arc<dyn Watch> = record.clone();
        let answer = self.inner.transport.call_watched(req, Some(watch)).await;
        *record.lock() = Submitted::Read;
        drop(guard);
        text(&answer?, "_id")
    }

    /// Polls task `id` until it ends; returns its `result`.
    ///
    /// The task must be the `kind` of task this job submitted: a server that restarted
    /// (and forgot the task, or handed its id to another) gives a clear error, never
    /// someone else's result.
    async fn await_task(&self, id: &str, kind: &str) -> Result<Value, AutomlError> {
        let mut guard = StopOnDrop {
            ctx: self.clone(),
            task: id.to_string(),
            armed: true,
        };
        let poll = self.inner.poll;
        let mut wait = poll.initial;
        loop {
            crate::sleep(wait).await;
            let task = match self.get(&format!("/v2/tasks/{id}")).await {
                Err(AutomlError::Rejected { status: 404, .. }) => {
                    guard.armed = false;
                    return Err(AutomlError::TaskGone {
                        task: id.to_string(),
                    });
                }
                answer => answer?,
            };
            if let Err(e) = check_kind(id, kind, &task) {
                guard.armed = false; // not our task: never stop someone else's
                return Err(e);
            }
            if let Some(outcome) = task_outcome(id, &task) {
                guard.armed = false;
                return outcome;
            }
            wait = wait.mul_f64(poll.factor.max(1.0)).min(poll.max);
        }
    }
}

/// Checks that a polled task is the kind of task that was submitted.
fn check_kind(id: &str, kind: &str, task: &Value) -> Result<(), AutomlError> {
    match task["type"].as_str() {
        Some(found) if found == kind => Ok(()),
        found => Err(AutomlError::protocol(format!(
            "task {id} is {}, not the {kind} task this job submitted \
             (did the server restart?); its result is not used",
            found.map_or_else(
                || "of no type".to_string(),
                |t| {
                    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    };
                    format!("{article} {t} task")
                }
            )
        ))),
    }
}

/// The data id of a predict task's result, once it has the shape of predictions: a
/// data set with a `prediction` column.
fn predictions(result: &Value) -> Result<String, AutomlError> {
    let info = data_info(result)?;
    if !info.columns.iter().any(|c| c.id == "prediction") {
        return Err(AutomlError::protocol(format!(
            "the predict task's result {} has no 'prediction' column; it is not predictions",
            info.id
        )));
    }
    Ok(info.id)
}

/// Reads a task answer: `None` while it runs (after reporting its progress).
fn task_outcome(id: &str, task: &Value) -> Option<Result<Value, AutomlError>> {
    let Some(status) = task["status"].as_str() else {
        return Some(Err(AutomlError::protocol(format!(
            "task {id} has no status: {task}"
        ))));
    };
    let message = task["progress_message"].as_str().unwrap_or_default();
    let failed = |message: &str| AutomlError::TaskFailed {
        task: id.to_string(),
        status: status.to_string(),
        message: message.to_string(),
    };
    match status {
        "pending" | "running" => {
            // The server's words, kept apart from the flow's own statuses: a job the
            // flow runs may be queued on the server.
            let shown = match (status, message) {
                ("pending", _) => "queued on the server",
                (_, "") => "running on the server",
                (_, message) => message,
            };
            crate::flow::progress(task["progress"].as_f64().unwrap_or(0.0), shown);
            None
        }
        "done" if task["result"].is_object() => {
            crate::flow::progress(1.0, "done");
            Some(Ok(task["result"].clone()))
        }
        "done" => Some(Err(failed("the task is done but has no result"))),
        "fail" | "invalid" => Some(Err(failed(message))),
        other => Some(Err(AutomlError::protocol(format!(
            "task {id} has unknown status '{other}'"
        )))),
    }
}

/// What became of a submit, as seen by the worker that got the answer and by the job.
#[derive(Debug, Default)]
enum Submitted {
    /// No answer with a task id yet.
    #[default]
    Waiting,
    /// The job stopped waiting before an answer came: the worker stops the task.
    Abandoned,
    /// An answer named this task; the job has not read it yet.
    Answered(String),
    /// The job read the answer (and watches the task from now on).
    Read,
}

#[derive(Debug, Default)]
struct SubmitRecord(Mutex<Submitted>);

impl SubmitRecord {
    fn lock(&self) -> std::sync::MutexGuard<'_, Submitted> {
        crate::runtime::lock(&self.0)
    }
}

impl Watch for SubmitRecord {
    fn answered(&self, transport: &Transport, result: &Result<Value, AutomlError>) {
        let Some(id) = result.as_ref().ok().and_then(|v| text(v, "_id").ok()) else {
            return;
        };
        let mut state = self.lock();
        if matches!(*state, Submitted::Abandoned) {
            drop(state);
            let _ = transport.call_blocking(&stop_request(&id));
        } else {
            *state = Submitted::Answered(id);
        }
    }
}

/// On the job's side of a submit: when dropped unread, makes sure the task is stopped.
struct SubmitGuard {
    record: Arc<SubmitRecord>,
    transport: Arc<Transport>,
}

impl Drop for SubmitGuard {
    fn drop(&mut self) {
        let mut state = self.record.lock();
        match std::mem::replace(&mut *state, Submitted::Abandoned) {
            Submitted::Answered(id) => stop_in_background(self.transport.clone(), id),
            Submitted::Read => *state = Submitted::Read,
            Submitted::Waiting | Submitted::Abandoned => {}
        }
    }
}

fn stop_request(task: &str) -> Request {
    Request::put(format!("/v2/tasks/{task}/stop"))
}

/// Sends `PUT /v2/tasks/{id}/stop` without waiting for it.
fn stop_in_background(transport: Arc<Transport>, task: String) {
    crate::runtime::spawn_blocking_detached(move || {
        let _ = transport.call_blocking(&stop_request(&task));
    });
}

/// Stops the remote task if the job is dropped (cancelled, timed out) before it ended.
struct StopOnDrop {
    ctx: Context,
    task: String,
    armed: bool,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if self.armed {
            stop_in_background(
                self.ctx.inner.transport.clone(),
                std::mem::take(&mut self.task),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_of_another_type_is_an_error_not_a_result() {
        let upload =
            serde_json::json!({"type": "upload", "status": "done", "result": {"_id": "d"}});
        assert!(check_kind("t", "upload", &upload).is_ok());
        let err = check_kind("t", "predict", &upload).unwrap_err().to_string();
        assert!(
            err.contains("is an upload task, not the predict task"),
            "{err}"
        );
        assert!(check_kind("t", "predict", &serde_json::json!({"status": "done"})).is_err());
    }

    #[test]
    fn predictions_need_a_prediction_column() {
        let data = |col: &str| {
            serde_json::json!({"_id": "d", "name": "n", "uri": "u", "rows": 1,
                "columns": [{"id": col, "data_type": "numerical"}]})
        };
        assert_eq!(predictions(&data("prediction")).unwrap(), "d");
        let err = predictions(&data("secret_col")).unwrap_err().to_string();
        assert!(err.contains("no 'prediction' column"), "{err}");
    }

    #[test]
    fn task_states_follow_the_contract() {
        let t = |v: Value| task_outcome("t1", &v);
        assert!(t(serde_json::json!({"status": "running", "progress": 0.5})).is_none());
        assert!(
            t(serde_json::json!({"status": "done", "result": {"_id": "d"}}))
                .unwrap()
                .is_ok()
        );
        let err = t(serde_json::json!({"status": "done", "result": null}))
            .unwrap()
            .unwrap_err();
        assert!(matches!(err, AutomlError::TaskFailed { .. }));
        let err = t(serde_json::json!({"status": "invalid", "progress_message": "no column y"}))
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("no column y"));
        assert!(t(serde_json::json!({"status": "weird"})).unwrap().is_err());
    }
}
