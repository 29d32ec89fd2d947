//! What may cross threads: the `Send`/`Sync` bounds a user relies on, checked at compile
//! time (the test fails to build if one is lost).

use std::time::Duration;

use taskloop::sync::{mpsc, oneshot, Mutex, Notify, Semaphore};
use taskloop::{Handle, Interval, RemoteJoinHandle, Sleep, SpawnError};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

#[test]
fn handles_senders_and_locks_are_send_and_sync() {
    send_sync::<Handle>();
    send_sync::<RemoteJoinHandle<String>>();
    send_sync::<SpawnError>();
    send_sync::<mpsc::Sender<String>>();
    send_sync::<mpsc::UnboundedSender<String>>();
    send::<mpsc::Receiver<String>>();
    send::<oneshot::Sender<String>>();
    send::<oneshot::Receiver<String>>();
    send_sync::<Mutex<Vec<u8>>>();
    send::<taskloop::sync::MutexGuard<'static, Vec<u8>>>();
    send_sync::<Semaphore>();
    send_sync::<Notify>();
}

#[test]
fn timers_are_send_so_futures_for_a_handle_may_sleep() {
    send::<Sleep>();
    send::<Interval>();
    fn spawnable<F: std::future::Future + Send>(_: F) {}
    spawnable(async {
        taskloop::sleep(Duration::from_millis(1)).await;
        let m = Mutex::new(1);
        let g = m.lock().await;
        taskloop::sleep(Duration::from_millis(1)).await; // guard held across an await
        drop(g);
    });
}
