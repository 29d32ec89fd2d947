//! Name resolution for the client's agent: each `host:port` is looked up once and the
//! addresses are reused for a short while.
//!
//! ureq resolves the URL's host on **every** request, before it looks for an idle
//! pooled connection, and its default resolver runs each lookup on a **new thread**
//! whenever a timeout applies (ours always does: `timeout_global`), so that it can give
//! up on a slow DNS server. With keep-alive connections reused, that was one thread
//! created and torn down per HTTP request (`strace -f -c` counted a `clone3` per
//! request). A request runs on a blocking-pool worker already, so the cost was pure
//! overhead: the cache below keeps the lookup (with its timeout thread) to once per
//! [`TTL`] per server.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a lookup's addresses are reused. Short enough that a server moving to a new
/// address is followed within seconds; long enough that a busy client looks up its
/// server a few times a minute instead of once per request.
pub(crate) const TTL: Duration = Duration::from_secs(10);

/// ureq's [`DefaultResolver`] behind a one-entry cache (a context talks to one server).
#[derive(Default)]
pub(crate) struct CachingResolver {
    inner: DefaultResolver,
    last: Mutex<Option<Entry>>,
}

struct Entry {
    authority: String,
    at: Instant,
    addrs: ResolvedSocketAddrs,
}

impl fmt::Debug for CachingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingResolver").finish_non_exhaustive()
    }
}

impl CachingResolver {
    fn cached(&self, authority: &str) -> Option<ResolvedSocketAddrs> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.as_ref()
            .filter(|e| e.authority == authority && e.at.elapsed() < TTL)
            .map(|e| e.addrs.clone())
    }
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        // The scheme is part of the key: it decides the default port.
        let authority = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map_or("", |a| a.as_str())
        );
        if let Some(addrs) = self.cached(&authority) {
            return Ok(addrs);
        }
        // Looked up without holding the lock; two concurrent misses both look up.
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Entry {
            authority,
            at: Instant::now(),
            addrs: addrs.clone(),
        });
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_is_reused_for_the_same_server_only() {
        let resolver = CachingResolver::default();
        let config = ureq::Agent::config_builder().build();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::NotHappening,
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        };
        let first: Uri = "http://127.0.0.1:8080/v2/a".parse().unwrap();
        let addrs = resolver.resolve(&first, &config, timeout).unwrap();
        assert_eq!(addrs[0], "127.0.0.1:8080".parse().unwrap());
        assert!(resolver.cached("http://127.0.0.1:8080").is_some());
        let other: Uri = "http://127.0.0.2:9090/v2/a".parse().unwrap();
        let addrs = resolver.resolve(&other, &config, timeout).unwrap();
        assert_eq!(addrs[0], "127.0.0.2:9090".parse().unwrap());
        assert!(resolver.cached("http://127.0.0.1:8080").is_none());
    }
}
