//! # taskloop
//!
//! A hand-rolled, single-threaded event loop that runs many dependent tasks at once
//! while blocking work runs on a small worker pool.
//!
//! ## Why
//! Data scientists chain jobs: process the training data (A) and the forecast data (B),
//! which are independent, then train a model (C), which needs both. Written plainly,
//! A, B and C run one after another. taskloop runs A and B together and starts C the
//! moment both finish.
//!
//! ## How it works
//! One thread runs the loop. Tasks are futures kept in a slab; a task's waker names its
//! slab slot, and waking it puts the slot on a ready queue. The loop polls ready tasks,
//! then sleeps in mio's `Poll` until I/O is ready, a timer is due, or another thread
//! interrupts it through the one `mio::Waker`: blocking jobs run on worker threads and
//! their completions come back over a channel that wakes the waiting task. See the
//! `design/` folder for the full walk-through.
//!
//! ## Layers
//! Each layer is usable without the next.
//! - The runtime ([`Runtime`]): executor, timers ([`sleep`], [`interval`]), blocking
//!   pool, [`JoinSet`], [`select!`], a [`Handle`] for other threads, [`sync`] (channels,
//!   `Mutex`, `Semaphore`, `Notify`), [`net`] (TCP, UDP, Unix sockets) and [`io`]
//!   (`AsyncRead`/`AsyncWrite`, `BufReader`). Names and semantics follow tokio's.
//! - [`flow`]: a graph of named jobs with dependencies, for users who never write async.
//! - `automl` (features `client` and `server`): a client for the AutoML job API whose
//!   upload, setup, train and predict calls are flow jobs, and the bundled server that
//!   implements the API, with its own machine-learning engine.
//! - `ray` (feature `ray`): flow jobs that run on a Ray cluster through its Jobs API.
//!
//! ## Features
//! Cargo features select the layers; each pulls only its own dependencies. The crate
//! counts below are every crate compiled besides taskloop, as `cargo tree` lists them on
//! Linux.
//! - *(none)*: `default-features = false` builds the runtime and the flow on `mio`,
//!   `slab` and `crossbeam-channel` alone (6 crates). This is the build for embedding.
//! - `timerfd`: sub-millisecond timers that wait inside the reactor (a Linux `timerfd`
//!   through `rustix`, which wraps the system calls safely) instead of napping the loop
//!   thread; without it, or off Linux, the loop naps (9 crates alone).
//! - `client`: the AutoML client (`ureq`, `serde_json`, `base64`; 19 crates).
//! - `server`: the bundled AutoML server and (with `signal`) the `automl-server` program (`httparse`,
//!   `serde_json`, `base64`; 13 crates).
//! - `automl`: both.
//! - `tls`: HTTPS for the client, rustls through ureq, verifying with the platform's
//!   roots or a given CA file (33 crates with `automl`).
//! - `signal`: `taskloop::signal` (`ctrl_c()`, SIGINT and SIGTERM as futures), through
//!   `signal-hook`, which owns the signal handler (the one piece of `unsafe` involved).
//! - `futures-io`: `futures_io::AsyncRead`/`AsyncWrite` for the sockets, so crates of the
//!   `futures` ecosystem (copy, codecs, compression adapters) work on them.
//! - `ray`: flow jobs on a Ray cluster through its Jobs API (`ureq`, `serde_json`;
//!   19 crates alone).
//!
//! The default is all of them (40 crates), for the demo and the README's commands.
//!
//! ```toml
//! [dependencies]
//! taskloop = { version = "0.1", default-features = false }   # runtime and flow only
//! taskloop = { version = "0.1", default-features = false, features = ["signal"] }
//! ```
//!
//! ## Example: A and B at once, then C
//! ```
//! let rt = taskloop::Runtime::new().unwrap();
//! let c = rt.block_on(async {
//!     let a = taskloop::spawn_blocking(|| (0..1_000u64).sum::<u64>());
//!     let b = taskloop::spawn_blocking(|| (0..2_000u64).sum::<u64>());
//!     let (a, b) = taskloop::join!(a, b);
//!     a.unwrap() + b.unwrap()
//! });
//! assert_eq!(c, 499_500 + 1_999_000);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![doc(test(attr(deny(warnings))))]

#[cfg(any(feature = "client", feature = "server"))]
pub mod automl;
pub mod flow;
#[cfg(feature = "ray")]
pub mod ray;
#[cfg(any(feature = "client", feature = "ray"))]
pub(crate) mod rest;
pub(crate) mod runtime;

pub use runtime::io;
pub use runtime::net;
#[cfg(all(unix, feature = "signal"))]
pub use runtime::signal;
pub use runtime::sync;
pub use runtime::{
    interval, interval_at, join_all, select, sleep, sleep_until, spawn, spawn_blocking, timeout,
    yield_now, Builder, Either, Elapsed, Handle, Interval, JoinError, JoinHandle, JoinSet,
    MissedTickBehavior, RemoteJoinHandle, Runtime, Sleep, SpawnError,
};

#[doc(hidden)]
pub mod __private {
    pub use crate::runtime::select::start_index as select_start;
    pub use crate::runtime::MaybeDone;
}
