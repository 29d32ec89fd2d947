//! `Idempotency-Key`: a repeated POST with the same key and the same request gets the
//! first answer again; the same key with a different request is a conflict.
//!
//! The cache remembers a fingerprint of each request (a 128-bit hash of its method,
//! path, query and body) and the answer it got. Only successful answers are kept: a
//! refused request created nothing, so running it again is harmless. The oldest keys
//! are forgotten once [`CAPACITY`] are held.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use super::error::ApiError;
use super::response::Response;

/// Most keys remembered.
pub(crate) const CAPACITY: usize = 10_000;

/// Longest key accepted, in bytes.
const MAX_KEY_BYTES: usize = 128;

/// A request's identity for idempotency purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint(u64, u64);

impl Fingerprint {
    /// The fingerprint of a request.
    pub(crate) fn of(method: &str, path: &str, query: &str, body: &[u8]) -> Fingerprint {
        let hash = |salt: u8| {
            let mut h = DefaultHasher::new();
            (salt, method, path, query, body).hash(&mut h);
            h.finish()
        };
        Fingerprint(hash(0), hash(1))
    }
}

/// What the cache knows about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Never seen: handle the request.
    Miss,
    /// Seen with the same request: send this answer again.
    Replay(Response),
    /// Seen with a different request.
    Conflict,
}

/// Keys and the answers they got (loop thread only).
#[derive(Debug, Default)]
pub(crate) struct IdempotencyCache {
    entries: HashMap<String, (Fingerprint, Response)>,
    order: VecDeque<String>,
}

/// Checks a key's length.
///
/// # Errors
/// `400` for an empty key or one over 128 bytes.
pub(crate) fn check_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(ApiError::bad(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok(())
}

impl IdempotencyCache {
    /// Looks `key` up for a request with fingerprint `print`.
    pub(crate) fn lookup(&self, key: &str, print: Fingerprint) -> Lookup {
        match self.entries.get(key) {
            None => Lookup::Miss,
            Some((seen, response)) if *seen == print => Lookup::Replay(response.clone()),
            Some(_) => Lookup::Conflict,
        }
    }

    /// Remembers the answer to a request; unsuccessful answers are not kept.
    pub(crate) fn record(&mut self, key: &str, print: Fingerprint, response: &Response) {
        if !response.is_success() || self.entries.contains_key(key) {
            return;
        }
        if self.order.len() == CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
        self.order.push_back(key.to_owned());
        self.entries
            .insert(key.to_owned(), (print, response.clone()));
    }

    /// Number of keys held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, id: &str) -> Response {
        Response::json(status, &json!({ "_id": id }))
    }

    #[test]
    fn same_request_replays_and_different_request_conflicts() {
        let mut cache = IdempotencyCache::default();
        let a = Fingerprint::of("POST", "/v2/tasks/train", "", b"{\"x\":1}");
        let b = Fingerprint::of("POST", "/v2/tasks/train", "", b"{\"x\":2}");
        assert_ne!(a, b);
        assert_eq!(cache.lookup("k", a), Lookup::Miss);
        cache.record("k", a, &answer(200, "task-1"));
        assert_eq!(cache.lookup("k", a), Lookup::Replay(answer(200, "task-1")));
        assert_eq!(cache.lookup("k", b), Lookup::Conflict);
        assert_eq!(cache.lookup("other", b), Lookup::Miss);
    }

    #[test]
    fn path_and_query_are_part_of_the_request() {
        let body = b"a,b\n1,2\n";
        let plain = Fingerprint::of("POST", "/v2/upload", "", body);
        assert_ne!(plain, Fingerprint::of("POST", "/v2/upload", "name=x", body));
        assert_ne!(plain, Fingerprint::of("POST", "/v2/tasks/train", "", body));
    }

    #[test]
    fn failures_are_not_remembered_and_the_oldest_keys_go_first() {
        let mut cache = IdempotencyCache::default();
        let print = Fingerprint::of("POST", "/", "", b"");
        cache.record("bad", print, &answer(404, "x"));
        assert_eq!(cache.lookup("bad", print), Lookup::Miss);
        for i in 0..=CAPACITY {
            cache.record(&i.to_string(), print, &answer(200, "t"));
        }
        assert_eq!(cache.len(), CAPACITY);
        assert_eq!(cache.lookup("0", print), Lookup::Miss);
        assert!(matches!(cache.lookup("1", print), Lookup::Replay(_)));
    }

    #[test]
    fn key_length_is_checked() {
        assert!(check_key("k").is_ok());
        assert!(check_key(&"k".repeat(128)).is_ok());
        assert_eq!(check_key(&"k".repeat(129)).unwrap_err().status(), 400);
        assert_eq!(check_key("").unwrap_err().status(), 400);
    }
}
