//! Timers as data: one ordered set of (deadline, key), each key at most once.

use std::collections::{BTreeSet, HashMap};

/// What a timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TimerKey {
    /// The next periodic advertisement on interface `i`.
    Advert(usize),
    /// A solicited advertisement held back by the rate limit on interface `i`.
    Solicited(usize),
    /// A pending request's `reg-wait` timer.
    Pending(u64),
    /// A visitor's lifetime (by home address).
    Visitor(u32),
}

/// Deadlines in ms since the Unix epoch.
#[derive(Default, Debug)]
pub(crate) struct Timers {
    by_deadline: BTreeSet<(u64, TimerKey)>,
    deadline_of: HashMap<TimerKey, u64>,
}

impl Timers {
    /// Sets (or moves) the timer `key` to `at`.
    pub(crate) fn set(&mut self, key: TimerKey, at: u64) {
        if let Some(old) = self.deadline_of.insert(key, at) {
            self.by_deadline.remove(&(old, key));
        }
        self.by_deadline.insert((at, key));
    }

    /// Cancels the timer `key`, if set.
    pub(crate) fn cancel(&mut self, key: TimerKey) {
        if let Some(old) = self.deadline_of.remove(&key) {
            self.by_deadline.remove(&(old, key));
        }
    }

    /// True when `key` is set.
    pub(crate) fn is_set(&self, key: TimerKey) -> bool {
        self.deadline_of.contains_key(&key)
    }

    /// The deadline of `key`.
    pub(crate) fn deadline(&self, key: TimerKey) -> Option<u64> {
        self.deadline_of.get(&key).copied()
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<u64> {
        self.by_deadline.first().map(|&(at, _)| at)
    }

    /// Removes and returns the earliest timer due at `now`.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<(u64, TimerKey)> {
        let &(at, key) = self.by_deadline.first()?;
        if at > now {
            return None;
        }
        self.by_deadline.remove(&(at, key));
        self.deadline_of.remove(&key);
        Some((at, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_move_cancel_pop() {
        let mut t = Timers::default();
        t.set(TimerKey::Pending(1), 50);
        t.set(TimerKey::Visitor(7), 10);
        t.set(TimerKey::Visitor(7), 70);
        assert_eq!(t.next(), Some(50));
        assert_eq!(t.pop_due(49), None);
        assert_eq!(t.pop_due(50), Some((50, TimerKey::Pending(1))));
        t.cancel(TimerKey::Visitor(7));
        assert_eq!(t.next(), None);
        assert!(!t.is_set(TimerKey::Visitor(7)));
    }
}
