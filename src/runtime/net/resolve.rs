//! Host name resolution on the blocking pool: [`ToSocketAddrs`] and [`lookup_host`].
//!
//! `std`'s resolver (`getaddrinfo`) blocks, sometimes for seconds. An address that is
//! already numeric (`"127.0.0.1:80"`, a `SocketAddr`) is parsed on the spot; anything
//! else is looked up by a blocking job, so the loop keeps running meanwhile. This is
//! what tokio's `lookup_host` does.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// What resolving an address takes.
#[doc(hidden)]
#[derive(Debug)]
pub enum Resolve {
    /// Numeric: no lookup needed.
    Done(io::Result<Vec<SocketAddr>>),
    /// A `host:port` for the blocking resolver.
    Lookup(String),
}

mod sealed {
    /// Keeps [`ToSocketAddrs`](super::ToSocketAddrs) implemented only here.
    pub trait Sealed {
        #[doc(hidden)]
        fn to_resolve(&self) -> super::Resolve;
    }
}

/// Addresses the runtime can connect to: a `SocketAddr`, `(ip, port)`, `"host:port"`,
/// `("host", port)`, or a slice of `SocketAddr`s. Like `std::net::ToSocketAddrs`, but a
/// host name is resolved on the blocking pool instead of the calling (loop) thread.
pub trait ToSocketAddrs: sealed::Sealed {}

macro_rules! numeric {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {
            fn to_resolve(&self) -> Resolve {
                Resolve::Done(Ok(vec![SocketAddr::from(*self)]))
            }
        }
        impl ToSocketAddrs for $t {}
    )*};
}

numeric!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl sealed::Sealed for str {
    fn to_resolve(&self) -> Resolve {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Resolve::Done(Ok(vec![addr])),
            Err(_) => Resolve::Lookup(self.to_string()),
        }
    }
}
impl ToSocketAddrs for str {}

impl sealed::Sealed for (&str, u16) {
    fn to_resolve(&self) -> Resolve {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Resolve::Done(Ok(vec![SocketAddr::new(ip, self.1)])),
            Err(_) => Resolve::Lookup(format!("{}:{}", self.0, self.1)),
        }
    }
}
impl ToSocketAddrs for (&str, u16) {}

impl sealed::Sealed for (String, u16) {
    fn to_resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).to_resolve()
    }
}
impl ToSocketAddrs for (String, u16) {}

impl sealed::Sealed for String {
    fn to_resolve(&self) -> Resolve {
        self.as_str().to_resolve()
    }
}
impl ToSocketAddrs for String {}

impl sealed::Sealed for [SocketAddr] {
    fn to_resolve(&self) -> Resolve {
        Resolve::Done(Ok(self.to_vec()))
    }
}
impl ToSocketAddrs for [SocketAddr] {}

impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn to_resolve(&self) -> Resolve {
        (**self).to_resolve()
    }
}
impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

/// Resolves `addr`, on the blocking pool if it names a host.
pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    match addr.to_resolve() {
        Resolve::Done(result) => result,
        Resolve::Lookup(host) => {
            let job = crate::spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&host).map(Vec::from_iter)
            });
            job.await.map_err(io::Error::other)?
        }
    }
}

/// Resolves a `"host:port"` (or any [`ToSocketAddrs`]) to its addresses; a host name is
/// looked up on the blocking pool.
///
/// # Errors
/// As the system resolver reports (unknown host, say).
///
/// # Panics
/// Outside a runtime, when a lookup is needed.
///
/// # Examples
/// ```
/// let rt = taskloop::Runtime::new().unwrap();
/// let addrs: Vec<_> = rt
///     .block_on(taskloop::net::lookup_host("localhost:8080"))
///     .unwrap()
///     .collect();
/// assert!(addrs.iter().all(|a| a.port() == 8080 && a.ip().is_loopback()));
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(&host).await?.into_iter())
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;
    use super::*;

    #[test]
    fn numeric_addresses_are_parsed_and_names_go_to_the_resolver() {
        assert!(matches!("127.0.0.1:80".to_resolve(), Resolve::Done(Ok(v)) if v.len() == 1));
        assert!(matches!(("::1", 80).to_resolve(), Resolve::Done(Ok(_))));
        assert!(matches!("localhost:80".to_resolve(), Resolve::Lookup(h) if h == "localhost:80"));
        assert!(matches!(
            ("example.invalid", 1).to_resolve(),
            Resolve::Lookup(_)
        ));
    }
}
