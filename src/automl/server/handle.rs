//! Starting and stopping the server: [`serve`] runs it on its own thread, inside a
//! taskloop runtime, and the [`ServerHandle`] it returns stops it.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use super::app::App;
use super::config::ServerConfig;
use super::conn::{refuse_connection, serve_connection};
use super::conns::Connections;
use super::disk::DataDir;
use super::state::Shared;
use super::store::Caps;
use super::ServerStats;
use crate::net::TcpListener;
use crate::Runtime;

/// How long the accept loop pauses after an accept error (e.g. out of descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// A running server. Dropping it (or calling [`shutdown`](ServerHandle::shutdown))
/// stops it. It is `Send`: create it on one thread and use it from another.
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<StopSignal>,
    thread: Option<thread::JoinHandle<()>>,
}

/// Starts a server with `config` on a new thread and returns once it accepts
/// connections.
///
/// The thread runs a taskloop [`Runtime`] with `config.workers` blocking threads:
/// connections are loop tasks, uploads, training and predictions run on the workers.
///
/// # Errors
/// If the address cannot be bound, or the OS refuses a thread or the runtime.
///
/// # Examples
/// ```
/// use taskloop::automl::{serve, ServerConfig};
/// let server = serve(ServerConfig::new("user", "pass")).unwrap();
/// assert!(server.url().starts_with("http://127.0.0.1:"));
/// server.shutdown();
/// ```
pub fn serve(config: ServerConfig) -> io::Result<ServerHandle> {
    let workers = config.workers.max(1);
    let limits = &config.limits;
    let memory = super::memory::shared_budget(limits.max_memory, limits.max_buffered_bytes);
    let caps = Caps {
        items: limits.max_stored_items.max(1),
        bytes: super::memory::store_cap(&memory, limits.max_stored_bytes),
    };
    let disk = match &config.data_dir {
        Some(dir) => Some(DataDir::open(dir, limits.max_disk).map_err(io::Error::other)?),
        None => None,
    };
    let shared = Shared::new(workers, config.max_running.max(1), caps, memory, disk);
    let stop = Arc::new(StopSignal::default());
    let (ready_tx, ready_rx) = mpsc::channel();
    let (thread_shared, thread_stop) = (shared.clone(), stop.clone());
    let thread = thread::Builder::new()
        .name("automl-server".into())
        .spawn(move || run(config, workers, thread_shared, thread_stop, ready_tx))?;
    match ready_rx.recv() {
        Ok(Ok(addr)) => Ok(ServerHandle {
            addr,
            shared,
            stop,
            thread: Some(thread),
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(io::Error::other(
                "the server thread ended before it started",
            ))
        }
    }
}

/// The server thread: binds, reports the address, serves until stopped.
fn run(
    config: ServerConfig,
    workers: usize,
    shared: Arc<Shared>,
    stop: Arc<StopSignal>,
    ready: mpsc::Sender<io::Result<SocketAddr>>,
) {
    let started = Runtime::builder()
        .blocking_threads(workers)
        .build()
        .and_then(|rt| {
            let listener = TcpListener::bind(config.addr.as_str())?;
            Ok((rt, listener.local_addr()?, listener))
        });
    let (rt, listener) = match started {
        Ok((rt, addr, listener)) => {
            let _ = ready.send(Ok(addr));
            (rt, listener)
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let app = Rc::new(App::new(&config, shared.clone()));
    let conns = Connections::new(config.limits.max_connections);
    rt.block_on(crate::select(
        accept_loop(listener, app, conns),
        stop.wait(),
    ));
    // Let running jobs end early; dropping the runtime closes every connection.
    shared.lock().tasks.cancel_all();
    drop(rt);
    if let Some(disk) = &shared.disk {
        disk.close();
    }
}

/// Accepts connections forever, each served by its own task, as long as the connection
/// limit admits it (else it is answered `503` and closed).
async fn accept_loop(listener: TcpListener, app: Rc<App>, conns: Rc<Connections>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let task = match conns.admit() {
                    Some(admitted) => crate::spawn(serve_connection(stream, app.clone(), admitted)),
                    None => crate::spawn(refuse_connection(stream)),
                };
                drop(task);
            }
            Err(_) => crate::sleep(ACCEPT_BACKOFF).await,
        }
    }
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's base URL, e.g. `"http://127.0.0.1:8080"`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Counters: tasks created by type, requests, injected faults, and the tasks
    /// running and pending now.
    pub fn stats(&self) -> ServerStats {
        self.shared.stats()
    }

    /// Stops accepting, closes every connection, stops running tasks, and joins the
    /// server thread. Dropping the handle does the same.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.trigger();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .field("running", &self.thread.is_some())
            .finish()
    }
}

/// A one-shot signal from any thread to the loop thread.
#[derive(Debug, Default)]
struct StopSignal {
    state: Mutex<(bool, Option<Waker>)>,
}

impl StopSignal {
    /// Raises the signal and wakes the waiting task.
    fn trigger(&self) {
        let waker = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Resolves once the signal is raised.
    async fn wait(&self) {
        poll_fn(|cx| {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.0 {
                return Poll::Ready(());
            }
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}
