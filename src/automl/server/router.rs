//! Which endpoint a method and path name.

use super::error::ApiError;

/// An endpoint of the contract, with the id it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// `GET /v2/worker/status`.
    WorkerStatus,
    /// `GET /v2/info`.
    Info,
    /// `POST /v2/upload`.
    Upload,
    /// `POST /v2/tasks/setup`.
    Setup,
    /// `POST /v2/tasks/train`.
    Train,
    /// `POST /v2/tasks/predict`.
    Predict,
    /// `POST /v2/tasks/cluster_train`.
    ClusterTrain,
    /// `GET /v2/tasks/{id}`.
    Task(&'a str),
    /// `PUT /v2/tasks/{id}/stop`.
    StopTask(&'a str),
    /// `GET /v2/experiments/{id}`.
    Experiment(&'a str),
    /// `GET /v2/experiments/{exp}/models/{model}`.
    Model(&'a str, &'a str),
    /// `GET /v2/data/{id}` (also `GET /data/{id}`, the path the SDK's
    /// `DataUpload.create` uses).
    Data(&'a str),
    /// `GET /v2/data/{id}/file`.
    DataFile(&'a str),
    /// `DELETE /v2/data/{id}`.
    DeleteData(&'a str),
    /// `POST /v2/data/delete` with `{"data_ids": [...]}` (the SDK's batch delete).
    DeleteDataBatch,
    /// `DELETE /v2/experiments/{id}` (its models go with it).
    DeleteExperiment(&'a str),
    /// `GET /v2/data` and `GET /data`: the data documents, paged.
    DataList,
    /// `GET /v2/tasks` and `GET /tasks`: the task documents, paged.
    TaskList,
    /// `GET /v2/worker/count`.
    WorkerCount,
    /// `GET /v2/models/{id}/download`: the model as a portable document.
    DownloadModel(&'a str),
    /// `POST /v2/models/{id}/batch_predict`: records scored in the answer.
    BatchPredict(&'a str),
    /// `POST /v2/tasks/auto_ts/train`.
    AutoTsTrain,
    /// `POST /v2/tasks/auto_ts/predict`.
    AutoTsPredict,
    /// `GET /v2/auto_ts/experiments/{exp}/models/{model}` (the SDK's `MultiModel`).
    AutoTsModel(&'a str, &'a str),
}

/// The endpoint for `method` and `path`.
///
/// # Errors
/// `404` for a path no endpoint has, `405` for a known path with another method.
pub(crate) fn route<'a>(method: &str, path: &'a str) -> Result<Route<'a>, ApiError> {
    let not_found = || ApiError::NotFound("no such endpoint".into());
    let (rest, v2) = match path.strip_prefix("/v2/") {
        Some(rest) => (rest, true),
        None => (path.strip_prefix('/').ok_or_else(not_found)?, false),
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let (route, allowed) = match (v2, segments.as_slice()) {
        (false, ["data", id]) if !id.is_empty() => (Route::Data(id), "GET"),
        (false, ["data"]) => (Route::DataList, "GET"),
        (false, ["tasks"]) => (Route::TaskList, "GET"),
        (false, _) => return Err(not_found()),
        (true, segments) => v2_route(method, segments).ok_or_else(not_found)?,
    };
    if method != allowed {
        return Err(ApiError::MethodNotAllowed(allowed));
    }
    Ok(route)
}

/// The endpoint under `/v2/` with these path segments, and its method.
fn v2_route<'a>(method: &str, segments: &[&'a str]) -> Option<(Route<'a>, &'static str)> {
    let nonempty = |s: &&str| !s.is_empty();
    Some(match *segments {
        ["worker", "status"] => (Route::WorkerStatus, "GET"),
        ["worker", "count"] => (Route::WorkerCount, "GET"),
        ["data"] => (Route::DataList, "GET"),
        ["tasks"] => (Route::TaskList, "GET"),
        ["models", id, "download"] if nonempty(&id) => (Route::DownloadModel(id), "GET"),
        ["models", id, "batch_predict"] if nonempty(&id) => (Route::BatchPredict(id), "POST"),
        ["info"] => (Route::Info, "GET"),
        ["upload"] => (Route::Upload, "POST"),
        ["tasks", "setup"] => (Route::Setup, "POST"),
        ["tasks", "train"] => (Route::Train, "POST"),
        ["tasks", "predict"] => (Route::Predict, "POST"),
        ["tasks", "cluster_train"] => (Route::ClusterTrain, "POST"),
        ["tasks", "auto_ts", "train"] => (Route::AutoTsTrain, "POST"),
        ["tasks", "auto_ts", "predict"] => (Route::AutoTsPredict, "POST"),
        ["auto_ts", "experiments", exp, "models", model] if nonempty(&exp) && nonempty(&model) => {
            (Route::AutoTsModel(exp, model), "GET")
        }
        ["tasks", id] if nonempty(&id) => (Route::Task(id), "GET"),
        ["tasks", id, "stop"] if nonempty(&id) => (Route::StopTask(id), "PUT"),
        ["experiments", id] if nonempty(&id) && method == "DELETE" => {
            (Route::DeleteExperiment(id), "DELETE")
        }
        ["experiments", id] if nonempty(&id) => (Route::Experiment(id), "GET"),
        ["experiments", exp, "models", model] if nonempty(&exp) && nonempty(&model) => {
            (Route::Model(exp, model), "GET")
        }
        ["data", "delete"] if method == "POST" => (Route::DeleteDataBatch, "POST"),
        ["data", id] if nonempty(&id) && method == "DELETE" => (Route::DeleteData(id), "DELETE"),
        ["data", id] if nonempty(&id) => (Route::Data(id), "GET"),
        ["data", id, "file"] if nonempty(&id) => (Route::DataFile(id), "GET"),
        _ => return None,
    })
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
        assert_eq!(
            route("POST", "/v2/tasks/cluster_train"),
            Ok(Route::ClusterTrain)
        );
        assert_eq!(route("GET", "/v2/tasks/t1"), Ok(Route::Task("t1")));
        assert_eq!(route("PUT", "/v2/tasks/t1/stop"), Ok(Route::StopTask("t1")));
        assert_eq!(
            route("GET", "/v2/experiments/e"),
            Ok(Route::Experiment("e"))
        );
        assert_eq!(route("GET", "/v2/data/d/file"), Ok(Route::DataFile("d")));
        assert_eq!(route("GET", "/v2/info"), Ok(Route::Info));
        assert_eq!(
            route("POST", "/v2/tasks/auto_ts/train"),
            Ok(Route::AutoTsTrain)
        );
        assert_eq!(
            route("POST", "/v2/tasks/auto_ts/predict"),
            Ok(Route::AutoTsPredict)
        );
        assert_eq!(
            route("GET", "/v2/auto_ts/experiments/e/models/m"),
            Ok(Route::AutoTsModel("e", "m"))
        );
        assert_eq!(route("POST", "/v2/tasks/setup"), Ok(Route::Setup));
        assert_eq!(route("GET", "/v2/data/d"), Ok(Route::Data("d")));
        assert_eq!(route("GET", "/data/d"), Ok(Route::Data("d")));
        assert_eq!(
            route("GET", "/v2/experiments/e/models/m"),
            Ok(Route::Model("e", "m"))
        );
    }

    #[test]
    fn lists_sit_beside_the_ids_under_them() {
        for (path, list) in [
            ("/v2/data", Route::DataList),
            ("/data", Route::DataList),
            ("/v2/tasks", Route::TaskList),
            ("/tasks", Route::TaskList),
        ] {
            assert_eq!(route("GET", path), Ok(list), "{path}");
            assert_eq!(route("POST", path).unwrap_err().status(), 405, "{path}");
        }
        assert_eq!(route("GET", "/v2/tasks/t1"), Ok(Route::Task("t1")));
        assert_eq!(route("POST", "/v2/tasks/train"), Ok(Route::Train));
        assert_eq!(route("GET", "/data/d"), Ok(Route::Data("d")));
        assert_eq!(route("GET", "/v2/worker/count"), Ok(Route::WorkerCount));
        assert_eq!(
            route("GET", "/v2/models/m/download"),
            Ok(Route::DownloadModel("m"))
        );
        assert_eq!(
            route("POST", "/v2/models/m/batch_predict"),
            Ok(Route::BatchPredict("m"))
        );
        let wrong = route("GET", "/v2/models/m/batch_predict").unwrap_err();
        assert_eq!(wrong.status(), 405);
        for path in [
            "/v2/models//download",
            "/v2/models/m",
            "/tasks/t1",
            "/v2/models",
        ] {
            assert_eq!(route("GET", path).unwrap_err().status(), 404, "{path}");
        }
    }

    #[test]
    fn unknown_paths_and_wrong_methods() {
        for path in [
            "/",
            "/v2",
            "/v2/",
            "/v2/tasks/",
            "/v2/data/",
            "/v2/upload/x",
            "/v1/upload",
            "/data/d/file",
            "/data/",
            "/upload",
            "/v2/experiments/e/models/",
            "/v2/experiments/e/models",
        ] {
            assert_eq!(route("GET", path).unwrap_err().status(), 404, "{path}");
        }
        assert_eq!(
            route("GET", "/v2/upload"),
            Err(ApiError::MethodNotAllowed("POST"))
        );
        assert_eq!(route("GET", "/v2/tasks/train").unwrap_err().status(), 405);
        assert_eq!(route("GET", "/v2/tasks/setup").unwrap_err().status(), 405);
        assert_eq!(route("POST", "/data/d").unwrap_err().status(), 405);
        assert_eq!(route("DELETE", "/v2/tasks/t1").unwrap_err().status(), 405);
    }
}
