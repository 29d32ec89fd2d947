//! Object ids: 24 lowercase hex digits, shaped like MongoDB's ObjectIds (the real
//! service's ids): 4 bytes of seconds since the Unix epoch, 5 bytes drawn at random
//! when the generator is made, and a 3-byte counter that starts at a random value.
//!
//! Ids never repeat within a generator, and two generators (two server runs, or the
//! task table and the store) share an id only by a 1 in 2^40 chance. A restarted server
//! therefore never hands out an id that a client still holds from the previous run, so
//! a client polling an old id gets `404`, never another client's task.

use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// Makes fresh ids.
#[derive(Debug)]
pub(crate) struct IdGen {
    random: u64,
    counter: u32,
}

impl Default for IdGen {
    fn default() -> Self {
        IdGen::new()
    }
}

impl IdGen {
    /// A generator with its own random part.
    pub(crate) fn new() -> IdGen {
        let random = random_u64();
        IdGen {
            random,
            counter: (random >> 40) as u32,
        }
    }

    /// The next id.
    pub(crate) fn next_id(&mut self) -> String {
        self.counter = self.counter.wrapping_add(1);
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!(
            "{:08x}{:010x}{:06x}",
            seconds as u32,
            self.random & 0xff_ffff_ffff,
            self.counter & 0xff_ffff
        )
    }
}

/// 64 random bits from the standard library's hash keys, which it draws from the
/// operating system (no extra dependency needed for ids).
fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.finish()
}

#[cfg(test)]
/// Whether `id` has the shape of an id (24 lowercase hex digits).
pub(crate) fn is_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_24_hex_digits_and_unique() {
        let mut gen = IdGen::new();
        let ids: HashSet<String> = (0..10_000).map(|_| gen.next_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| is_id(id)));
    }

    #[test]
    fn two_generators_differ() {
        let (mut a, mut b) = (IdGen::new(), IdGen::new());
        assert_ne!(a.next_id()[8..18], b.next_id()[8..18]);
        assert!(!is_id("task-00000001") && !is_id("ABCDEF0123456789abcdef01"));
    }
}
