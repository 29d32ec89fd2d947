//! Getting a large request ready off the loop thread, before its handler runs.
//!
//! A body over [`LARGE_BODY`] bytes goes to the parse pool ([`Offload`]) for whatever
//! its handler would otherwise do with it on the loop: a JSON endpoint's body is parsed
//! (its tree's estimated size, [`json_cost::tree_bytes`], reserved in the memory budget
//! first), an upload form is scanned for its `csv` file field, and a POST with an
//! `Idempotency-Key` has its body hashed. The results travel in [`Prepared`]; handlers
//! use them when present and do the (small) work themselves otherwise.

use serde_json::{Map, Value};

use super::batch;
use super::budget::{MemoryBudget, Reservation};
use super::error::ApiError;
use super::handlers;
use super::http::{Head, Request};
use super::idempotency::Fingerprint;
use super::json;
use super::json_cost;
use super::multipart::{self, Part};
use super::offload::{Offload, LARGE_BODY};
use super::router::{self, Route};

/// What the pool worked out for a request (all `None` for a small body).
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// The body as a JSON object.
    pub(crate) json: Option<Map<String, Value>>,
    /// The parsed tree's estimated bytes in the memory budget; the caller keeps this
    /// until the handler is done with the tree.
    pub(crate) tree: Option<Reservation>,
    /// An upload form's `csv` file field.
    pub(crate) form_file: Option<Part>,
    /// The fingerprint for the request's `Idempotency-Key`.
    pub(crate) print: Option<Fingerprint>,
}

/// What a large body needs before its handler can run.
enum Work {
    /// Parse it as a JSON object.
    Json,
    /// Find the `csv` field of a form with this boundary.
    Form(String),
    /// Nothing (the handler does not read the body, or refuses it by its size).
    Nothing,
}

/// Prepares `request` in the pool if its body is large; `budget` is the server's
/// memory budget, of `limit` bytes.
///
/// # Errors
/// `400` for a body that is not the JSON object or the form it should be; `413` for
/// a JSON body whose tree could never fit in the budget, a form with too many parts;
/// `503` when the budget cannot hold the tree now or the pool stays busy.
pub(crate) async fn prepare(
    request: Request,
    offload: &Offload,
    budget: &MemoryBudget,
    limit: usize,
) -> Result<Request, ApiError> {
    if request.body.len() <= LARGE_BODY {
        return Ok(request);
    }
    let keyed = request.head.method == "POST" && request.head.header("idempotency-key").is_some();
    let work = work_for(&request.head, request.body.len());
    if !keyed && matches!(work, Work::Nothing) {
        return Ok(request);
    }
    let budget = budget.clone();
    let job = move || {
        let mut request = request;
        if keyed {
            let head = &request.head;
            let print = Fingerprint::of(&head.method, &head.path, &head.query, &request.body);
            request.pre.print = Some(print);
        }
        match work {
            Work::Json => {
                let (map, tree) = parse_counted(&request.body, &budget, limit)?;
                request.pre.json = Some(map);
                request.pre.tree = Some(tree);
            }
            Work::Form(boundary) => {
                let part = multipart::file_field(&request.body, &boundary, "csv")?;
                request.pre.form_file = Some(part);
            }
            Work::Nothing => {}
        }
        Ok(request)
    };
    offload.run("reading request bodies", job).await?
}

/// What the handler of `head`'s endpoint would do with a body of `len` bytes.
fn work_for(head: &Head, len: usize) -> Work {
    let Ok(route) = router::route(&head.method, &head.path) else {
        return Work::Nothing;
    };
    match route {
        _ if handlers::json_endpoint(route).is_some() => Work::Json,
        Route::BatchPredict(_) if len <= batch::MAX_BODY_BYTES => Work::Json,
        Route::Upload => {
            let content_type = head.header("content-type").unwrap_or("");
            match multipart::form_boundary(content_type) {
                Some(Ok(boundary)) => Work::Form(boundary),
                _ => Work::Nothing,
            }
        }
        _ => Work::Nothing,
    }
}

/// Parses `body` as a JSON object once the budget holds the tree it will build.
fn parse_counted(
    body: &[u8],
    budget: &MemoryBudget,
    limit: usize,
) -> Result<(Map<String, Value>, Reservation), ApiError> {
    let need = json_cost::tree_bytes(body);
    let mib = |n: usize| n.div_ceil(1024 * 1024);
    if need.saturating_add(body.len()) > limit {
        return Err(ApiError::TooLarge(format!(
            "this JSON body ({} bytes) would take about {} MiB of memory once parsed, more \
             than the server's memory budget of {} MiB; send a smaller body",
            body.len(),
            mib(need),
            mib(limit)
        )));
    }
    let mut tree = budget.reservation();
    if !tree.grow_to(need) {
        return Err(ApiError::Unavailable(format!(
            "parsing this JSON body needs about {} MiB of memory that the server's budget \
             ({} MiB) cannot spare now; retry later",
            mib(need),
            mib(limit)
        )));
    }
    Ok((json::object(body)?, tree))
}
