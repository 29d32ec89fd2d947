//! `GET /v2/models/{id}/download` (the SDK's `Model.download()` and
//! `Model.download_by_id()`, which write the answer's bytes to a file as they are): the
//! model as a portable JSON document ([`TrainedModel::to_portable`]), which
//! [`TrainedModel::from_portable`] loads and scores with, bit for bit like the server.
//!
//! The document is built on the loop thread when asked for; it is a few hundred KiB
//! for the usual model (a forest of deep trees on a large data set is the big case).

use std::sync::Arc;

use super::error::ApiError;
use super::response::{Body, Response};
use super::state::Shared;
use super::store::ServedModel;
use crate::automl::ml::TrainedModel;

/// The supervised model (GLM, DRF, GBM) behind `served`, or `None` for the kinds of
/// model that have no portable form.
pub(crate) fn supervised(served: ServedModel) -> Option<Arc<TrainedModel>> {
    match served {
        ServedModel::Supervised(model) => Some(model),
        ServedModel::Cluster(_) | ServedModel::Forecast(_) => None,
    }
}

/// The stored supervised model `id`.
///
/// # Errors
/// `404` for an unknown id, `400` (naming the model and what `what` is) for a model of
/// another kind.
pub(crate) fn supervised_model(
    shared: &Arc<Shared>,
    id: &str,
    what: &str,
) -> Result<Arc<TrainedModel>, ApiError> {
    let shown: String = id.chars().take(64).collect();
    let served = shared.lock().store.model(id);
    let served = served.ok_or_else(|| ApiError::NotFound(format!("no model with id '{shown}'")))?;
    supervised(served).ok_or_else(|| {
        ApiError::bad(format!(
            "model '{shown}' is not a GLM, DRF, GBM or StackedEnsemble model of a train experiment, \
             so it cannot {what}"
        ))
    })
}

/// `GET /v2/models/{id}/download`.
pub(crate) fn download(shared: &Arc<Shared>, id: &str) -> Result<Response, ApiError> {
    let model = supervised_model(shared, id, "be downloaded")?;
    // Ids of stored models are 24 hex digits: safe in a header.
    let name = format!("attachment; filename=\"{id}.json\"");
    Ok(Response {
        status: 200,
        content_type: "application/json",
        headers: vec![("Content-Disposition", name)],
        body: Body::Owned(model.to_portable()),
    })
}
