//! The [`select!`](crate::select!) macro: wait for the first of any number of futures.
//!
//! The macro pins every branch's future in the current task and polls them in turn from
//! one `poll_fn`; the task's waker is shared by all, so whichever future is woken wakes
//! the task, and the next poll looks at every branch again. Without `biased;` the polling
//! starts at a branch chosen by a per-thread xorshift generator, so a branch that is
//! always ready cannot starve the others.

use std::cell::Cell;

thread_local! {
    static XORSHIFT: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) };
}

/// A start index in `0..n` for an unbiased `select!` (xorshift64, per thread).
#[doc(hidden)]
pub fn start_index(n: usize) -> usize {
    let x = XORSHIFT.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        x
    });
    (x % n.max(1) as u64) as usize
}

/// Waits on several futures at once and runs the handler of the first to complete whose
/// output matches its pattern. Use it inside `async` code.
///
/// ```text
/// taskloop::select! {
///     biased;                          // optional: poll branches in written order
///     pattern = future => handler,     // any number of branches
///     pattern = future, if cond => handler,
///     else => handler,                 // optional: when every branch is disabled
/// }
/// ```
///
/// - Each `future` expression is evaluated once, up front (anything `IntoFuture`). A
///   branch whose `if cond` is false is disabled: its future is still created but never
///   polled.
/// - Without `biased;`, each poll starts at a random branch (fairness); with it, branches
///   are polled top to bottom.
/// - When a future completes, its output is matched against `pattern`. If it does not
///   match, that branch is disabled and the others go on. If it matches, **every other
///   future is dropped**, then the handler runs with the pattern's bindings; the value
///   of the handler is the value of the `select!`.
/// - If every branch is disabled, the `else` handler runs; without `else` that panics.
///
/// **Losers are cancelled.** A losing future is dropped in whatever state it was in, as
/// in tokio: whether that loses data is the caller's concern. In this crate
/// `mpsc::Receiver::recv`, a `oneshot::Receiver`, `Notify::notified`, `Semaphore` and
/// `Mutex` acquires, `JoinSet::join_next`, `Interval::tick`, `TcpListener::accept`,
/// `read` on sockets and `sleep` are cancel-safe (dropping them loses nothing);
/// `read_exact`, `write_all`, `BufReader::read_line` and a bounded `Sender::send` (its
/// value is dropped with it) are not. To keep a future across loop iterations, pin it
/// outside the loop and pass `&mut fut`.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use taskloop::sync::mpsc;
/// let rt = taskloop::Runtime::new().unwrap();
/// rt.block_on(async {
///     let (tx1, mut rx1) = mpsc::unbounded_channel();
///     let (tx2, mut rx2) = mpsc::unbounded_channel();
///     tx1.send("a").unwrap();
///     tx2.send("b").unwrap();
///     drop((tx1, tx2));
///     let mut got = Vec::new();
///     loop {
///         taskloop::select! {
///             Some(v) = rx1.recv() => got.push(v),
///             Some(v) = rx2.recv() => got.push(v),
///             else => break, // both returned `None`: both branches disabled
///         }
///     }
///     got.sort();
///     assert_eq!(got, ["a", "b"]);
///
///     // A timeout: the losing `recv` is dropped, which loses nothing.
///     let (_tx, mut rx) = mpsc::channel::<u8>(1);
///     let outcome = taskloop::select! {
///         v = rx.recv() => format!("got {v:?}"),
///         _ = taskloop::sleep(Duration::from_millis(5)) => "timed out".to_string(),
///     };
///     assert_eq!(outcome, "timed out");
/// });
/// ```
#[macro_export]
macro_rules! select {
    (biased; $($branches:tt)+) => {
        $crate::__select_impl!(@parse [true] [] [] $($branches)+)
    };
    ($($branches:tt)+) => {
        $crate::__select_impl!(@parse [false] [] [] $($branches)+)
    };
}

/// The parsing and expansion behind [`select!`](crate::select!). Parses branches one at a
/// time into `(fut out index cond pat future handler)` groups; `fut` and `out` are fresh
/// hygienic names per branch, `index` is `0 + 1 + ...`.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_impl {
    // `else` (last).
    (@parse [$biased:tt] [$($done:tt)*] [$($n:tt)*] else => $else:expr $(,)?) => {
        $crate::__select_impl!(@expand [$biased] [$($done)*] [$else])
    };
    // A branch with a precondition.
    (@parse [$biased:tt] [$($done:tt)*] [$($n:tt)*]
        $p:pat = $f:expr, if $c:expr => $h:block, $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$biased]
            [$($done)* (fut out [0 $($n)*] [$c] [$p] [$f] [$h])] [$($n)* + 1] $($rest)*)
    };
    (@parse [$biased:tt] [$($done:tt)*] [$($n:tt)*]
        $p:pat = $f:expr, if $c:expr => $h:block $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$biased]
            [$($done)* (fut out [0 $($n)*] [$c] [$p] [$f] [$h])] [$($n)* + 1] $($rest)*)
    };
    (@parse [$biased:tt] [$($done:tt)*] [$($n:tt)*]
        $p:pat = $f:expr, if $c:expr => $h:expr $(, $($rest:tt)*)?) => {
        $crate::__select_impl!(@parse [$biased]
            [$($done)* (fut out [0 $($n)*] [$c] [$p] [$f] [$h])] [$($n)* + 1] $($($rest)*)?)
    };
    // A plain branch: a block handler may omit the comma.
    (@parse [$biased:tt] [$($done:tt)*] [$($n:tt)*]
        $p:pat = $f:expr => $h:block, $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$biased]
            [$($done)* (fut out [0 $($n)*] [true] [$p] [$f] [$h])] [$($n)* + 1] $($rest)*)
    };
    (@parse [$biased:tt] [$($done:tt)*] [$($n:tt)*]
        $p:pat = $f:expr => $h:block $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$biased]
            [$($done)* (fut out [0 $($n)*] [true] [$p] [$f] [$h])] [$($n)* + 1] $($rest)*)
    };
    (@parse [$biased:tt] [$($done:tt)*] [$($n:tt)*]
        $p:pat = $f:expr => $h:expr $(, $($rest:tt)*)?) => {
        $crate::__select_impl!(@parse [$biased]
            [$($done)* (fut out [0 $($n)*] [true] [$p] [$f] [$h])] [$($n)* + 1] $($($rest)*)?)
    };
    // All branches parsed, no `else`.
    (@parse [$biased:tt] [$($done:tt)*] [$($n:tt)*]) => {
        $crate::__select_impl!(@expand [$biased] [$($done)*]
            [::core::panic!("select!: every branch is disabled and there is no `else`")])
    };
    (@expand [$biased:tt]
        [$(($fut:ident $out:ident [$($i:tt)*] [$c:expr] [$p:pat] [$f:expr] [$h:expr]))*]
        [$else:expr]) => {{
        $( let mut $out = ::core::option::Option::None; )*
        let __winner: ::core::option::Option<usize> = {
            let mut __disabled = [$( !$c ),*];
            $( let mut $fut = ::core::pin::pin!(::core::future::IntoFuture::into_future($f)); )*
            let __n = __disabled.len();
            let __start = if $biased { 0 } else { $crate::__private::select_start(__n) };
            ::core::future::poll_fn(|__cx| {
                for __k in 0..__n {
                    let __at = (__start + __k) % __n;
                    $(
                        if __at == ($($i)*) && !__disabled[$($i)*] {
                            if let ::core::task::Poll::Ready(__v) =
                                ::core::future::Future::poll($fut.as_mut(), __cx)
                            {
                                #[allow(unused_variables, unused_mut, unreachable_patterns)]
                                match &__v {
                                    $p => {
                                        $out = ::core::option::Option::Some(__v);
                                        return ::core::task::Poll::Ready(
                                            ::core::option::Option::Some($($i)*));
                                    }
                                    _ => __disabled[$($i)*] = true,
                                }
                            }
                        }
                    )*
                }
                if __disabled.iter().all(|d| *d) {
                    ::core::task::Poll::Ready(::core::option::Option::None)
                } else {
                    ::core::task::Poll::Pending
                }
            })
            .await
        }; // every branch's future is dropped here, before a handler runs
        match __winner {
            $(
                ::core::option::Option::Some(__w) if __w == ($($i)*) => {
                    #[allow(unreachable_patterns)]
                    match $out.take() {
                        ::core::option::Option::Some($p) => $h,
                        _ => ::core::unreachable!("select!: the winner's output was matched"),
                    }
                }
            )*
            _ => $else,
        }
    }};
}
