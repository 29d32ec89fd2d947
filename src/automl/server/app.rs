//! What happens to a request once it has been read: a large body prepared in the parse
//! pool, injected faults, authentication, routing, idempotency, and the handler.

use std::cell::RefCell;
use std::sync::Arc;

use super::auth::Credentials;
use super::budget::MemoryBudget;
use super::config::{Limits, ServerConfig};
use super::documents::DocumentCache;
use super::error::ApiError;
use super::faults::{Fault, FaultInjector};
use super::handlers;
use super::http::{Head, Request};
use super::idempotency::{self, Fingerprint, IdempotencyCache, Lookup};
use super::offload::Offload;
use super::prepare::prepare;
use super::response::Response;
use super::router::{self, Route};
use super::state::Shared;

/// How to answer a request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Send this response.
    Send(Response),
    /// Close the connection without answering (injected fault).
    Drop,
}

/// The server as the loop thread sees it: the shared state plus what only the loop
/// touches (the fault generator and the idempotency cache).
#[derive(Debug)]
pub(crate) struct App {
    shared: Arc<Shared>,
    credentials: Credentials,
    limits: Limits,
    faults: RefCell<FaultInjector>,
    idempotency: RefCell<IdempotencyCache>,
    budget: MemoryBudget,
    offload: Offload,
    docs: DocumentCache,
}

impl App {
    pub(crate) fn new(config: &ServerConfig, shared: Arc<Shared>) -> App {
        App {
            shared,
            credentials: Credentials::new(&config.user, &config.password),
            limits: config.limits.clone(),
            faults: RefCell::new(FaultInjector::new(config.faults.clone())),
            idempotency: RefCell::new(IdempotencyCache::default()),
            budget: MemoryBudget::new(super::memory::body_share(
                config.limits.max_memory,
                config.limits.max_buffered_bytes,
            )),
            offload: Offload::default(),
            docs: DocumentCache::default(),
        }
    }

    /// The budget every buffered body and queued upload reserves its bytes from.
    pub(crate) fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// The request limits.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Answers one request: prepares a large body in the parse pool (see
    /// [`prepare`]), waits the injected latency, maybe injects a fault (see
    /// [`Faults`](super::Faults)), then handles it.
    pub(crate) async fn respond(&self, request: Request) -> Reply {
        self.shared.lock().stats.requests += 1;
        let limit = self.limits.max_buffered_bytes;
        let request = match prepare(request, &self.offload, &self.budget, limit).await {
            Ok(request) => request,
            Err(err) => return Reply::Send(Response::error(&err)),
        };
        let latency = self.faults.borrow().latency();
        if !latency.is_zero() {
            crate::sleep(latency).await;
        }
        let fault = self.faults.borrow_mut().draw();
        match fault {
            Fault::Drop => {
                self.shared.lock().stats.faults_dropped += 1;
                Reply::Drop
            }
            Fault::DropAnswer => {
                let _ = self.handle(request).await;
                self.shared.lock().stats.faults_dropped += 1;
                Reply::Drop
            }
            Fault::Unavailable => {
                self.shared.lock().stats.faults_503 += 1;
                let err = ApiError::Unavailable("overloaded (injected fault)".into());
                Reply::Send(Response::error(&err))
            }
            Fault::None => {
                let answer = self.handle(request).await;
                Reply::Send(answer.unwrap_or_else(|e| Response::error(&e)))
            }
        }
    }

    /// Whether a request head carries the accepted credentials. The connection asks
    /// this as soon as the head is read, before it reads (or invites, with
    /// `100 Continue`) a body, so an unauthenticated client cannot make the server
    /// buffer one.
    pub(crate) fn authorized(&self, head: &Head) -> bool {
        self.accepts(head.header("authorization"))
    }

    /// Whether an `Authorization` value carries the accepted credentials (asked by the
    /// connection as soon as that line of a head has arrived).
    pub(crate) fn accepts(&self, authorization: Option<&str>) -> bool {
        self.credentials.accepts(authorization)
    }

    async fn handle(&self, request: Request) -> Result<Response, ApiError> {
        if !self.authorized(&request.head) {
            return Err(ApiError::Unauthorized);
        }
        let path = request.head.path.clone();
        let route = router::route(&request.head.method, &path)?;
        let key = request.head.header("idempotency-key").map(str::to_owned);
        match key {
            Some(key) if request.head.method == "POST" => {
                self.idempotent(&key, route, request).await
            }
            _ => handlers::handle(&self.shared, &self.offload, &self.docs, route, request).await,
        }
    }

    /// Handles a POST with an `Idempotency-Key`: replays the first answer to the same
    /// request, refuses a different request with `409`.
    async fn idempotent(
        &self,
        key: &str,
        route: Route<'_>,
        request: Request,
    ) -> Result<Response, ApiError> {
        idempotency::check_key(key)?;
        let head = &request.head;
        let print = request.pre.print.unwrap_or_else(|| {
            Fingerprint::of(&head.method, &head.path, &head.query, &request.body)
        });
        let seen = self.idempotency.borrow().lookup(key, print);
        match seen {
            Lookup::Replay(response) => return Ok(response),
            Lookup::Conflict => {
                return Err(ApiError::Conflict(
                    "Idempotency-Key was already used for a different request".into(),
                ))
            }
            Lookup::Miss => {}
        }
        let response =
            handlers::handle(&self.shared, &self.offload, &self.docs, route, request).await?;
        self.idempotency.borrow_mut().record(key, print, &response);
        Ok(response)
    }
}
