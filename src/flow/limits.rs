//! The limits a job may count against besides the flow-wide cap: the blocking pool's,
//! and the user's named limits. They are different kinds of key, so no name a user
//! picks can stand for the pool.

use std::collections::HashMap;
use std::rc::Rc;

/// One limit a job counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum LimitKey {
    /// The blocking pool: one slot per worker, so that a blocking job is "running" only
    /// while a worker really runs it (and its timeout does not tick while it waits in
    /// the pool's queue). Every blocking job counts against it.
    Pool,
    /// A limit defined with [`Flow::limit`](super::Flow::limit).
    Named(Rc<str>),
}

/// How many jobs each limit lets run at once.
#[derive(Debug)]
pub(crate) struct Limits {
    /// The pool's size: the number of blocking workers.
    pool: usize,
    /// The user's named limits.
    named: HashMap<Rc<str>, usize>,
}

impl Limits {
    /// A pool of `pool` workers and no named limit.
    pub(crate) fn new(pool: usize) -> Limits {
        Limits {
            pool,
            named: HashMap::new(),
        }
    }

    /// Defines (or redefines) the named limit `name`.
    pub(crate) fn define(&mut self, name: &str, max: usize) {
        self.named.insert(Rc::from(name), max);
    }

    /// How many jobs `key` lets run at once; `None` for a name never defined.
    pub(crate) fn max(&self, key: &LimitKey) -> Option<usize> {
        match key {
            LimitKey::Pool => Some(self.pool),
            LimitKey::Named(name) => self.named.get(name).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_name_reaches_the_pool_limit() {
        let mut limits = Limits::new(4);
        limits.define("taskloop:blocking-pool", 1);
        assert_eq!(limits.max(&LimitKey::Pool), Some(4));
        let same_name = LimitKey::Named(Rc::from("taskloop:blocking-pool"));
        assert_eq!(limits.max(&same_name), Some(1));
        assert_ne!(same_name, LimitKey::Pool);
    }

    #[test]
    fn undefined_names_have_no_maximum_and_redefining_replaces() {
        let mut limits = Limits::new(2);
        let gpu = LimitKey::Named(Rc::from("gpu"));
        assert_eq!(limits.max(&gpu), None);
        limits.define("gpu", 3);
        limits.define("gpu", 1);
        assert_eq!(limits.max(&gpu), Some(1));
    }
}
