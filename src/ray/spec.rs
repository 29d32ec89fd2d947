//! [`JobSpec`]: what a Ray job runs, in the terms of Ray's `POST /api/jobs/`.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::error::RayError;

/// What a Ray job runs: the fields of Ray's job submission (`ray job submit`,
/// `JobSubmissionClient.submit_job`) except the submission id, which taskloop chooses.
///
/// The entrypoint is a shell command run on the cluster (by default on the head node);
/// `env_var` and `runtime_env_json` make its `runtime_env`; the `entrypoint_*` fields
/// reserve resources for it, so that Ray queues the job until they are free.
///
/// `Debug` shows the names of the environment variables, never their values (they
/// often carry secrets).
///
/// # Examples
/// ```
/// use taskloop::ray::JobSpec;
///
/// let spec = JobSpec::new("python train.py --epochs 3")
///     .env_var("DATA", "/data/train.parquet")
///     .runtime_env_json("pip", r#"["scikit-learn"]"#)
///     .num_cpus(2.0)
///     .memory(4 << 30)
///     .resource("accelerator_slot", 1.0)
///     .metadata("owner", "ann");
/// assert_eq!(spec.entrypoint(), "python train.py --epochs 3");
/// assert!(!format!("{spec:?}").contains("/data/train.parquet"));
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct JobSpec {
    entrypoint: String,
    env_vars: BTreeMap<String, String>,
    runtime_env: BTreeMap<String, String>,
    num_cpus: Option<f64>,
    num_gpus: Option<f64>,
    memory: Option<u64>,
    resources: BTreeMap<String, f64>,
    metadata: BTreeMap<String, String>,
}

impl JobSpec {
    /// A job that runs the shell command `entrypoint`.
    pub fn new(entrypoint: impl Into<String>) -> JobSpec {
        JobSpec {
            entrypoint: entrypoint.into(),
            ..JobSpec::default()
        }
    }

    /// The shell command.
    pub fn entrypoint(&self) -> &str {
        &self.entrypoint
    }

    /// Sets an environment variable of the entrypoint (`runtime_env.env_vars`).
    pub fn env_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env_vars.insert(name.into(), value.into());
        self
    }

    /// Sets another `runtime_env` field from its JSON text, as Ray documents it (say
    /// `"pip"` to `["requests"]`, or `"working_dir"` to a remote URI in quotes). The text
    /// is checked when the job is submitted: if it is not JSON, or `field` is
    /// `env_vars` (use [`env_var`](JobSpec::env_var)), the job fails with
    /// [`RayError::InvalidSpec`].
    pub fn runtime_env_json(mut self, field: impl Into<String>, json: impl Into<String>) -> Self {
        self.runtime_env.insert(field.into(), json.into());
        self
    }

    /// CPUs reserved for the entrypoint (`entrypoint_num_cpus`).
    pub fn num_cpus(mut self, cpus: f64) -> Self {
        self.num_cpus = Some(cpus);
        self
    }

    /// GPUs reserved for the entrypoint (`entrypoint_num_gpus`).
    pub fn num_gpus(mut self, gpus: f64) -> Self {
        self.num_gpus = Some(gpus);
        self
    }

    /// Memory reserved for the entrypoint, in bytes (`entrypoint_memory`).
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = Some(bytes);
        self
    }

    /// Reserves `amount` of the custom resource `name` (`entrypoint_resources`). Ray
    /// accepts a job asking for a resource that no node has, and keeps it `PENDING` for
    /// ever: give such jobs a [`timeout`](crate::flow::Job::timeout).
    pub fn resource(mut self, name: impl Into<String>, amount: f64) -> Self {
        self.resources.insert(name.into(), amount);
        self
    }

    /// Adds a metadata entry, shown by Ray with the job.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The body of `POST /api/jobs/` for this spec under `submission_id`.
    pub(crate) fn to_json(&self, submission_id: &str) -> Result<Value, RayError> {
        let mut body = Map::new();
        body.insert("entrypoint".into(), self.entrypoint.clone().into());
        body.insert("submission_id".into(), submission_id.into());
        if let Some(env) = self.runtime_env_value()? {
            body.insert("runtime_env".into(), env);
        }
        let number = |n: f64| serde_json::Number::from_f64(n).map(Value::Number);
        if let Some(cpus) = self.num_cpus.and_then(number) {
            body.insert("entrypoint_num_cpus".into(), cpus);
        }
        if let Some(gpus) = self.num_gpus.and_then(number) {
            body.insert("entrypoint_num_gpus".into(), gpus);
        }
        if let Some(bytes) = self.memory {
            body.insert("entrypoint_memory".into(), bytes.into());
        }
        if !self.resources.is_empty() {
            let resources = self.resources.iter();
            let resources = resources.filter_map(|(k, v)| Some((k.clone(), number(*v)?)));
            body.insert("entrypoint_resources".into(), resources.collect());
        }
        if !self.metadata.is_empty() {
            let metadata = self.metadata.iter();
            let metadata = metadata.map(|(k, v)| (k.clone(), Value::from(v.as_str())));
            body.insert("metadata".into(), metadata.collect());
        }
        Ok(Value::Object(body))
    }

    fn runtime_env_value(&self) -> Result<Option<Value>, RayError> {
        let mut env = Map::new();
        for (field, text) in &self.runtime_env {
            if field == "env_vars" {
                return Err(RayError::InvalidSpec {
                    message: "set `env_vars` with JobSpec::env_var".into(),
                });
            }
            let value = serde_json::from_str(text).map_err(|e| RayError::InvalidSpec {
                message: format!("runtime_env field `{field}` is not JSON: {e}"),
            })?;
            env.insert(field.clone(), value);
        }
        if !self.env_vars.is_empty() {
            let vars = self.env_vars.iter();
            let vars = vars.map(|(k, v)| (k.clone(), Value::from(v.as_str())));
            env.insert("env_vars".into(), vars.collect());
        }
        Ok((!env.is_empty()).then_some(Value::Object(env)))
    }
}

impl fmt::Debug for JobSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobSpec")
            .field("entrypoint", &self.entrypoint)
            .field("env_vars", &self.env_vars.keys().collect::<Vec<_>>())
            .field("runtime_env", &self.runtime_env.keys().collect::<Vec<_>>())
            .field("num_cpus", &self.num_cpus)
            .field("num_gpus", &self.num_gpus)
            .field("memory", &self.memory)
            .field("resources", &self.resources)
            .field("metadata", &self.metadata)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bare_spec_sends_only_the_entrypoint_and_id() {
        let body = JobSpec::new("echo hi").to_json("tl-1").unwrap();
        assert_eq!(
            body,
            json!({"entrypoint": "echo hi", "submission_id": "tl-1"})
        );
    }

    #[test]
    fn every_field_is_sent_under_rays_name() {
        let spec = JobSpec::new("python a.py")
            .env_var("OUT", "/tmp/a.txt")
            .runtime_env_json("pip", r#"["requests"]"#)
            .num_cpus(1.5)
            .num_gpus(0.0)
            .memory(1024)
            .resource("slot", 2.0)
            .metadata("owner", "ann");
        let body = spec.to_json("tl-2").unwrap();
        assert_eq!(
            body,
            json!({
                "entrypoint": "python a.py", "submission_id": "tl-2",
                "runtime_env": {"env_vars": {"OUT": "/tmp/a.txt"}, "pip": ["requests"]},
                "entrypoint_num_cpus": 1.5, "entrypoint_num_gpus": 0.0,
                "entrypoint_memory": 1024, "entrypoint_resources": {"slot": 2.0},
                "metadata": {"owner": "ann"}
            })
        );
    }

    #[test]
    fn bad_runtime_env_json_is_an_invalid_spec() {
        let err = JobSpec::new("x")
            .runtime_env_json("pip", "[requests")
            .to_json("id")
            .unwrap_err();
        assert!(matches!(err, RayError::InvalidSpec { .. }), "{err}");
        let err = JobSpec::new("x")
            .runtime_env_json("env_vars", "{}")
            .to_json("id")
            .unwrap_err();
        assert!(err.to_string().contains("env_var"), "{err}");
    }

    #[test]
    fn debug_hides_env_values() {
        let spec = JobSpec::new("x").env_var("API_KEY", "s3cr3t-value");
        let text = format!("{spec:?}");
        assert!(
            text.contains("API_KEY") && !text.contains("s3cr3t"),
            "{text}"
        );
    }
}
