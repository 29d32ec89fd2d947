//! The few calls the durability benchmark makes, over one blocking ureq agent: submit a
//! task, wait for tasks to end, read a document. Times come from the server's own task
//! documents (`created_at`, `started_at`, `finished_at`, and the result's `created_at`,
//! stamped when the job's product was named, before it was written and stored), in
//! seconds since the epoch as `f64`, the same clock as [`unix_now`] on this machine.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::Value;

use super::server::{PASSWORD, USER};
use super::BoxError;

/// Seconds since the epoch, as the server stamps its documents.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One server's API.
#[derive(Debug)]
pub struct Api {
    agent: ureq::Agent,
    url: String,
    auth: String,
}

/// A submitted task: its id and when the client started sending its request.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub id: String,
    pub sent_at: f64,
    /// The submit's round trip (request written, answer read).
    pub round_trip: Duration,
}

/// An ended task's times, in seconds since the epoch.
#[derive(Debug, Clone)]
pub struct Ended {
    pub sent_at: f64,
    pub started_at: f64,
    /// When the job's product was named (the result document's `created_at`): the job's
    /// work is done, its writing and storing start.
    pub made_at: f64,
    pub finished_at: f64,
    /// The task's result document.
    pub result: Value,
}

impl Ended {
    /// Submit (client) to done (server).
    pub fn latency(&self) -> f64 {
        self.finished_at - self.sent_at
    }

    /// From the product named to the task done: writing its files (with a data
    /// directory), committing its rows and storing it.
    pub fn store_time(&self) -> f64 {
        self.finished_at - self.made_at
    }

    /// The result's id.
    pub fn result_id(&self) -> String {
        self.result["_id"].as_str().unwrap_or_default().to_owned()
    }
}

impl Api {
    /// The API of the server at `url` (the benchmark's credentials).
    pub fn new(url: &str) -> Api {
        let credentials = format!("{USER}:{PASSWORD}");
        Api {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
            url: url.to_owned(),
            auth: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
        }
    }

    /// `POST path` with `body`; the task's id.
    ///
    /// # Errors
    /// Any status but 200, or an answer without `_id`.
    pub fn submit(&self, path: &str, body: &[u8], csv: bool) -> Result<Submitted, BoxError> {
        let kind = if csv { "text/csv" } else { "application/json" };
        let sent_at = unix_now();
        let begun = Instant::now();
        let mut answer = self
            .agent
            .post(format!("{}{path}", self.url))
            .header("Authorization", &self.auth)
            .content_type(kind)
            .send(body)?;
        let status = answer.status().as_u16();
        let text = answer.body_mut().read_to_string()?;
        let round_trip = begun.elapsed();
        if status != 200 {
            return Err(format!("POST {path}: {status} {text}").into());
        }
        let id = serde_json::from_str::<Value>(&text)?["_id"]
            .as_str()
            .ok_or_else(|| format!("POST {path}: no _id in {text}"))?
            .to_owned();
        Ok(Submitted {
            id,
            sent_at,
            round_trip,
        })
    }

    /// `GET path`: the status and the JSON answer (`Null` if it is not JSON).
    ///
    /// # Errors
    /// The exchange failed.
    pub fn get(&self, path: &str) -> Result<(u16, Value), BoxError> {
        let mut answer = self
            .agent
            .get(format!("{}{path}", self.url))
            .header("Authorization", &self.auth)
            .call()?;
        let status = answer.status().as_u16();
        let text = answer.body_mut().read_to_string()?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Waits for every task of `tasks` to end, polling each unfinished one, then
    /// sleeping `every` between rounds; their times, in the order given.
    ///
    /// # Errors
    /// A task ended other than `done`, or a poll failed.
    pub fn wait(&self, tasks: &[Submitted], every: Duration) -> Result<Vec<Ended>, BoxError> {
        let mut ended: Vec<Option<Ended>> = vec![None; tasks.len()];
        loop {
            let mut open = 0;
            for (task, slot) in tasks.iter().zip(&mut ended) {
                if slot.is_none() {
                    *slot = self.ended(task)?;
                    open += usize::from(slot.is_none());
                }
            }
            if open == 0 {
                return Ok(ended.into_iter().flatten().collect());
            }
            std::thread::sleep(every);
        }
    }

    /// Task `task`'s times once it is done; `None` while it is pending or running.
    fn ended(&self, task: &Submitted) -> Result<Option<Ended>, BoxError> {
        let (_, doc) = self.get(&format!("/v2/tasks/{}", task.id))?;
        match doc["status"].as_str() {
            Some("pending" | "running") => return Ok(None),
            Some("done") => {}
            _ => return Err(format!("task {} ended so: {doc}", task.id).into()),
        }
        let time = |v: &Value| v.as_f64().ok_or_else(|| format!("no time in {doc}"));
        Ok(Some(Ended {
            sent_at: task.sent_at,
            started_at: time(&doc["started_at"])?,
            made_at: time(&doc["result"]["created_at"])?,
            finished_at: time(&doc["finished_at"])?,
            result: doc["result"].clone(),
        }))
    }

    /// Submits `path` with `body` and waits for it, polling every millisecond.
    ///
    /// # Errors
    /// As [`submit`](Self::submit) and [`wait`](Self::wait).
    pub fn run(&self, path: &str, body: &[u8], csv: bool) -> Result<Ended, BoxError> {
        let task = self.submit(path, body, csv)?;
        let mut ended = self.wait(&[task], Duration::from_millis(1))?;
        Ok(ended.remove(0))
    }
}
