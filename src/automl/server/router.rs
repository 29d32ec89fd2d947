//! Which endpoint a method and path name.

use super::error::ApiError;

/// An endpoint of the contract, with the id it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// `GET /v2/worker/status`.
    WorkerStatus,
    /// `POST /v2/upload`.
    Upload,
    /// `POST /v2/tasks/train`.
    Train,
    /// `POST /v2/tasks/predict`.
    Predict,
    /// `GET /v2/tasks/{id}`.
    Task(&'a str),
    /// `PUT /v2/tasks/{id}/stop`.
    StopTask(&'a str),
    /// `GET /v2/experiments/{id}`.
    Experiment(&'a str),
    /// `GET /v2/data/{id}/file`.
    DataFile(&'a str),
}

/// The endpoint for `method` and `path`.
///
/// # Errors
/// `404` for a path no endpoint has, `405` for a known path with another method.
pub(crate) fn route<'a>(method: &str, path: &'a str) -> Result<Route<'a>, ApiError> {
    let not_found = || ApiError::NotFound("no such endpoint".into());
    let rest = path.strip_prefix("/v2/").ok_or_else(not_found)?;
    let segments: Vec<&str> = rest.split('/').collect();
    let (route, allowed) = match segments.as_slice() {
        ["worker", "status"] => (Route::WorkerStatus, "GET"),
        ["upload"] => (Route::Upload, "POST"),
        ["tasks", "train"] => (Route::Train, "POST"),
        ["tasks", "predict"] => (Route::Predict, "POST"),
        ["tasks", id] if !id.is_empty() => (Route::Task(id), "GET"),
        ["tasks", id, "stop"] if !id.is_empty() => (Route::StopTask(id), "PUT"),
        ["experiments", id] if !id.is_empty() => (Route::Experiment(id), "GET"),
        ["data", id, "file"] if !id.is_empty() => (Route::DataFile(id), "GET"),
        _ => return Err(not_found()),
    };
    if method != allowed {
        return Err(ApiError::MethodNotAllowed(allowed));
    }
    Ok(route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_every_endpoint() {
        assert_eq!(route("GET", "/v2/worker/status"), Ok(Route::WorkerStatus));
        assert_eq!(route("POST", "/v2/upload"), Ok(Route::Upload));
        assert_eq!(route("POST", "/v2/tasks/train"), Ok(Route::Train));
        assert_eq!(route("POST", "/v2/tasks/predict"), Ok(Route::Predict));
        assert_eq!(route("GET", "/v2/tasks/t1"), Ok(Route::Task("t1")));
        assert_eq!(route("PUT", "/v2/tasks/t1/stop"), Ok(Route::StopTask("t1")));
        assert_eq!(
            route("GET", "/v2/experiments/e"),
            Ok(Route::Experiment("e"))
        );
        assert_eq!(route("GET", "/v2/data/d/file"), Ok(Route::DataFile("d")));
    }

    #[test]
    fn unknown_paths_and_wrong_methods() {
        for path in [
            "/",
            "/v2",
            "/v2/",
            "/v2/tasks/",
            "/v2/data/d",
            "/v2/upload/x",
            "/v1/upload",
        ] {
            assert_eq!(route("GET", path).unwrap_err().status(), 404, "{path}");
        }
        assert_eq!(
            route("GET", "/v2/upload"),
            Err(ApiError::MethodNotAllowed("POST"))
        );
        assert_eq!(route("GET", "/v2/tasks/train").unwrap_err().status(), 405);
        assert_eq!(route("DELETE", "/v2/tasks/t1").unwrap_err().status(), 405);
    }
}
