//! What the wake protocol is built from, swapped for loom's models in the loom tests.
//!
//! `shared.rs` and `task.rs` take their atomic flags, their mutexes and the loop's waker
//! from here. In every ordinary build these are `std`'s types and `mio::Waker`,
//! re-exported unchanged, so this module costs nothing. In the crate's unit tests built
//! with `RUSTFLAGS="--cfg loom"` they are the `loom` crate's instrumented copies instead,
//! and the model tests in `wake_model.rs` run the real protocol code over every
//! interleaving of its threads (design chapter 3, "Checking the contract with loom").
//! loom is a dev-dependency, so only test builds can name it: the switch is
//! `cfg(all(test, loom))`, as in tokio's `loom` module, which is the pattern here.
//!
//! Only the cross-thread half of the runtime goes through here; the rest keeps `std`.
//! loom's types work only inside a `loom::model`, so that test build is good for the
//! model tests and nothing else (run it filtered to `wake_model`).

#[cfg(not(all(test, loom)))]
pub(crate) use mio::Waker as LoopWaker;
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{atomic::AtomicBool, Mutex, MutexGuard};

#[cfg(all(test, loom))]
pub(crate) use ::loom::sync::{atomic::AtomicBool, Mutex, MutexGuard};
#[cfg(all(test, loom))]
pub(crate) use model::LoopWaker;

#[cfg(all(test, loom))]
mod model {
    use std::io;

    use ::loom::sync::{Condvar, Mutex};

    /// loom's stand-in for the `mio::Waker` and the `Poll` it interrupts: the waker's
    /// eventfd reduced to one "event pending" flag.
    ///
    /// [`wake`](LoopWaker::wake) sets the flag; any number of wakes before the loop next
    /// polls make one event, as they do with the eventfd. [`poll`](LoopWaker::poll) is
    /// the loop's `Poll::poll`: it takes the event, and when the loop sleeps without a
    /// timeout it first blocks until there is one. A loop blocked here with no thread
    /// left to wake it is a lost wake, and loom reports it as a deadlock.
    #[derive(Debug, Default)]
    pub(crate) struct LoopWaker {
        event: Mutex<bool>,
        woken: Condvar,
    }

    impl LoopWaker {
        /// `mio::Waker::new`'s signature, so that the reactor compiles unchanged in the
        /// loom build (no model builds a reactor).
        pub(crate) fn new(_: &mio::Registry, _: mio::Token) -> io::Result<LoopWaker> {
            Ok(LoopWaker::default())
        }

        /// `mio::Waker::wake`: the loop's next (or current) poll returns with an event.
        pub(crate) fn wake(&self) -> io::Result<()> {
            *self.event.lock().unwrap() = true;
            self.woken.notify_one();
            Ok(())
        }

        /// `Poll::poll` with no timeout (`block`) or a zero one: waits for the waker's
        /// event if `block`, and takes it if there is one.
        pub(crate) fn poll(&self, block: bool) {
            let mut event = self.event.lock().unwrap();
            while block && !*event {
                event = self.woken.wait(event).unwrap();
            }
            *event = false;
        }
    }
}
