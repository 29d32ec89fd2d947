//! The `signal` feature: SIGTERM and SIGINT sent to this very process wake the tasks
//! waiting for them, and the process does not die. Every signal is raised only after a
//! handler for it is installed (creating the `Signal` installs it, synchronously).
#![cfg(feature = "signal")]

mod util;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::low_level::raise;
use taskloop::signal::{ctrl_c, Signal};
use util::{rt, watchdog};

// One test function: the handlers are process-wide, so the steps must not interleave
// with another test's in the same process.
#[test]
fn sigterm_and_ctrl_c_arrive_as_futures_and_the_process_survives() {
    watchdog(|| {
        rt().block_on(async {
            // SIGTERM raised before anyone awaits is kept, and deliveries coalesce.
            let mut term = Signal::terminate().unwrap();
            raise(SIGTERM).unwrap();
            raise(SIGTERM).unwrap();
            assert_eq!(term.recv().await, Some(()));
            let again = taskloop::timeout(std::time::Duration::from_millis(20), term.recv());
            assert!(
                again.await.is_err(),
                "two deliveries before a recv count as one"
            );

            // A task parked in recv is woken by a later delivery.
            let waiter = taskloop::spawn(async move { term.recv().await });
            taskloop::yield_now().await;
            assert!(!waiter.is_finished());
            raise(SIGTERM).unwrap();
            assert_eq!(waiter.await.unwrap(), Some(()));

            // ctrl_c: keep one SIGINT handler installed throughout, so that raising it
            // can never hit the default action, then let `ctrl_c()` register too.
            let _keep = Signal::interrupt().unwrap();
            let ctrl_c = taskloop::spawn(ctrl_c());
            for _ in 0..3 {
                taskloop::yield_now().await; // its first poll installs its handler
            }
            raise(SIGINT).unwrap();
            ctrl_c.await.unwrap().unwrap();
        })
    });
}
