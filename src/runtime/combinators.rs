//! Waiting on several futures at once: [`join_all`], [`join!`](crate::join), [`select`],
//! and giving way with [`yield_now`]. None of them spawns: the futures run inside the
//! task that awaits the combinator.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

/// Gives the loop a turn: the task is queued behind every task that is ready now.
///
/// # Examples
/// ```
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async { taskloop::yield_now().await });
/// ```
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// A future's output once it has one: the building block of [`join_all`] and
/// [`join!`](crate::join).
#[doc(hidden)]
#[derive(Debug)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Pending(Pin<Box<F>>),
    /// Finished; the output waits to be taken.
    Done(Option<F::Output>),
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future that has not been polled yet.
    pub fn new(fut: F) -> Self {
        MaybeDone::Pending(Box::pin(fut))
    }

    /// Polls the future if it is still running; `true` once it has an output.
    pub fn poll_done(&mut self, cx: &mut Context<'_>) -> bool {
        if let MaybeDone::Pending(fut) = self {
            match fut.as_mut().poll(cx) {
                Poll::Ready(v) => *self = MaybeDone::Done(Some(v)),
                Poll::Pending => return false,
            }
        }
        true
    }

    /// Takes the output.
    ///
    /// # Panics
    /// If there is no output (not finished, or already taken).
    pub fn take(&mut self) -> F::Output {
        match self {
            MaybeDone::Done(v) => v.take().expect("MaybeDone output taken twice"),
            MaybeDone::Pending(_) => panic!("MaybeDone::take before the future finished"),
        }
    }
}

/// Awaits every future of `iter` concurrently (in this task) and returns their outputs
/// in input order.
///
/// # Examples
/// ```
/// let rt = taskloop::Runtime::new().unwrap();
/// let out = rt.block_on(taskloop::join_all((1..=3).map(|i| async move { i * 10 })));
/// assert_eq!(out, vec![10, 20, 30]);
/// ```
pub async fn join_all<I>(iter: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut futs: Vec<MaybeDone<I::Item>> = iter.into_iter().map(MaybeDone::new).collect();
    let mut first_pending = 0;
    poll_fn(|cx| {
        // Outputs complete in any order; skip the finished prefix cheaply.
        while first_pending < futs.len() && futs[first_pending].poll_done(cx) {
            first_pending += 1;
        }
        let mut all_done = first_pending == futs.len();
        for f in &mut futs[first_pending..] {
            all_done &= f.poll_done(cx);
        }
        if all_done {
            Poll::Ready(futs.iter_mut().map(MaybeDone::take).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Either of two values: the output of [`select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future finished first.
    Left(A),
    /// The second future finished first.
    Right(B),
}

/// Awaits whichever of `a` and `b` finishes first; the other is dropped (cancelled).
/// If both are ready at the same poll, `a` wins.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use taskloop::Either;
/// let rt = taskloop::Runtime::new().unwrap();
/// let winner = rt.block_on(taskloop::select(
///     async { 1 },
///     taskloop::sleep(Duration::from_secs(60)),
/// ));
/// assert_eq!(winner, Either::Left(1));
/// ```
pub async fn select<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        b.as_mut().poll(cx).map(Either::Right)
    })
    .await
}

/// Awaits several futures concurrently (in the current task) and evaluates to a tuple of
/// their outputs, in order. Use it inside `async` code; it awaits for you.
///
/// # Examples
/// ```
/// let rt = taskloop::Runtime::new().unwrap();
/// let (a, b, c) = rt.block_on(async {
///     taskloop::join!(async { 1 }, async { "two" }, async { 3.0 })
/// });
/// assert_eq!((a, b, c), (1, "two", 3.0));
/// ```
#[macro_export]
macro_rules! join {
    ($($fut:expr),+ $(,)?) => {
        $crate::__join_impl!([] $($fut,)+)
    };
}

/// Binds each future to its own hygienic `fut` name, then polls them all.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_impl {
    ([$($bound:ident)*] $head:expr, $($rest:expr,)*) => {{
        let mut fut = $crate::__private::MaybeDone::new($head);
        $crate::__join_impl!([$($bound)* fut] $($rest,)*)
    }};
    ([$($bound:ident)*]) => {
        ::std::future::poll_fn(|cx| {
            let mut all_done = true;
            $( all_done &= $bound.poll_done(cx); )*
            if all_done {
                ::std::task::Poll::Ready(($($bound.take(),)*))
            } else {
                ::std::task::Poll::Pending
            }
        })
        .await
    };
}
