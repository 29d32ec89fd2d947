//! The list endpoints and the worker count: `GET /data` and `GET /v2/data`, `GET /tasks`
//! and `GET /v2/tasks` (the SDK's `CoreAPI().get_data_list()` and `get_tasks_list()`),
//! and `GET /v2/worker/count` (`Worker().get_count()`); also the `schema` of a data
//! document.
//!
//! A list is paged with the query parameters `offset` (default 0) and `limit` (default
//! [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]) and answers
//! `{"total": n, "offset": o, "limit": l, "items": [...]}`: the documents, newest first,
//! exactly as `GET /v2/data/{id}` or `GET /v2/tasks/{id}` answers them.

use std::sync::Arc;

use serde_json::{json, Value};

use super::documents::DocumentCache;
use super::error::ApiError;
use super::http::query_param;
use super::offload::Offload;
use super::response::Response;
use super::state::Shared;
use crate::automl::ml::{ColumnData, Frame};

/// Items per page when `limit` is not given.
pub(crate) const DEFAULT_LIMIT: usize = 50;
/// Most items per page.
pub(crate) const MAX_LIMIT: usize = 500;

/// Which items of a list to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    offset: usize,
    limit: usize,
}

impl Page {
    /// The page the query string asks for.
    ///
    /// # Errors
    /// `400` naming the parameter when `offset` is not a non-negative integer or
    /// `limit` is not an integer from 1 to [`MAX_LIMIT`].
    pub(crate) fn from_query(query: &str) -> Result<Page, ApiError> {
        let offset = match query_param(query, "offset") {
            None => 0,
            Some(text) => text.parse::<usize>().map_err(|_| {
                ApiError::bad(format!(
                    "query parameter 'offset' must be a non-negative integer, not '{}'",
                    shown(&text)
                ))
            })?,
        };
        let limit = match query_param(query, "limit") {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| {
                    ApiError::bad(format!(
                        "query parameter 'limit' must be an integer from 1 to {MAX_LIMIT}, \
                         not '{}'",
                        shown(&text)
                    ))
                })?,
        };
        Ok(Page { offset, limit })
    }

    /// The answer for `all` (newest first), with `doc` making each item's document.
    fn answer<T>(self, all: &[T], doc: impl Fn(&T) -> Value) -> Response {
        let items: Vec<Value> = all
            .iter()
            .skip(self.offset)
            .take(self.limit)
            .map(doc)
            .collect();
        Response::json(
            200,
            &json!({
                "total": all.len(),
                "offset": self.offset,
                "limit": self.limit,
                "items": items,
            }),
        )
    }
}

/// A query value as shown in an error: at most 32 characters.
fn shown(text: &str) -> String {
    text.chars().take(32).collect()
}

/// `GET /data`, `GET /v2/data`: the data documents, newest first. The page is put
/// together off the loop when its documents are large (see [`DocumentCache::page`]).
pub(crate) async fn data_list(
    shared: &Arc<Shared>,
    docs_cache: &DocumentCache,
    offload: &Offload,
    query: &str,
) -> Result<Response, ApiError> {
    let page = Page::from_query(query)?;
    let (total, docs) = {
        let state = shared.lock();
        let all = state.store.data_docs_newest_first();
        let docs = all.iter().skip(page.offset).take(page.limit);
        (all.len(), docs.map(|d| Arc::clone(d)).collect())
    };
    let head = (total, page.offset, page.limit);
    docs_cache.page(head, docs, offload).await
}

/// `GET /tasks`, `GET /v2/tasks`: the task documents, newest first.
pub(crate) fn task_list(shared: &Arc<Shared>, query: &str) -> Result<Response, ApiError> {
    let page = Page::from_query(query)?;
    let state = shared.lock();
    let tasks = state.tasks.newest_first();
    Ok(page.answer(&tasks, |t| t.to_list_json()))
}

/// `GET /v2/worker/count`: how many workers there are and what they are doing. Every
/// task type runs on the same pool, so there is one count.
pub(crate) fn worker_count(shared: &Arc<Shared>) -> Response {
    let (running, pending) = {
        let state = shared.lock();
        (state.tasks.running(), state.tasks.pending())
    };
    let workers = shared.workers;
    Response::json(
        200,
        &json!({
            "count": workers,
            "busy": running.min(workers),
            "idle": workers.saturating_sub(running),
            "pending": pending,
        }),
    )
}

/// A data document's `schema`, shaped as the real service's:
/// `{"size": rows, "columns": [{"id", "data_type", "metadata": {"dtype"}}]}`, with
/// `dtype` `double` for numerical columns and `string` for categorical ones.
pub(crate) fn schema(frame: &Frame) -> Value {
    let columns: Vec<Value> = frame
        .columns()
        .iter()
        .map(|c| {
            let dtype = match c.data {
                ColumnData::Numerical(_) => "double",
                ColumnData::Categorical { .. } => "string",
                ColumnData::Datetime { .. } => "datetime",
            };
            json!({
                "id": c.name,
                "data_type": c.data_type().as_str(),
                "metadata": { "dtype": dtype },
            })
        })
        .collect();
    json!({ "size": frame.rows(), "columns": columns })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_default_cap_and_refuse_bad_numbers() {
        let page = |q: &str| Page::from_query(q);
        assert_eq!(
            page(""),
            Ok(Page {
                offset: 0,
                limit: DEFAULT_LIMIT
            })
        );
        assert_eq!(
            page("offset=3&limit=2"),
            Ok(Page {
                offset: 3,
                limit: 2
            })
        );
        assert_eq!(
            page("limit=500"),
            Ok(Page {
                offset: 0,
                limit: 500
            })
        );
        for bad in [
            "limit=0",
            "limit=501",
            "limit=-1",
            "limit=x",
            "offset=-2",
            "offset=1.5",
        ] {
            let err = page(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            let name = bad.split('=').next().unwrap();
            assert!(err.to_string().contains(&format!("'{name}'")), "{err}");
        }
    }

    #[test]
    fn a_page_is_a_slice_with_the_total() {
        let page = Page::from_query("offset=1&limit=2").unwrap();
        let response = page.answer(&[1, 2, 3, 4], |n| json!(n));
        let doc: Value = serde_json::from_slice(&response.body.as_slice()).unwrap();
        assert_eq!(
            doc,
            json!({"total": 4, "offset": 1, "limit": 2, "items": [2, 3]})
        );
        let beyond = Page::from_query("offset=9")
            .unwrap()
            .answer(&[1], |n| json!(n));
        let doc: Value = serde_json::from_slice(&beyond.body.as_slice()).unwrap();
        assert_eq!(doc["items"], json!([]));
    }
}
