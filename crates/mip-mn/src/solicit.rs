//! Agent solicitation timing on one interface (RFC 5944 §2.4, on RFC 1256 §5.1).
//!
//! A search sends `initial_count` solicitations `initial_interval` apart (at most three, at
//! most one per second), then doubles the interval after each one up to `max_interval`. Each
//! interval is lengthened by a random part of up to `jitter_percent` ("Mobile nodes MUST
//! randomize their solicitation times"); it is never shortened, so the rate limits hold.
//! With the defaults and no jitter: solicitations at 0, 1, 2, 4, 8, 16, 32, 64, 124, 184 ... s.

use std::time::{Duration, SystemTime};

use crate::config::SolicitationConfig;

/// The solicitation state of one interface.
#[derive(Clone, Debug, Default)]
pub(crate) struct Solicitor {
    /// Searching (solicitations are due).
    active: bool,
    /// Solicitations sent in this search.
    sent: u32,
    /// When the next one is due.
    next_at: Option<SystemTime>,
}

impl Solicitor {
    /// Starts a search at the initial rate, first solicitation now. A search already running is
    /// restarted only when `restart` (a positive indication of a new link, RFC 5944 §2.4:
    /// "MUST NOT increase the rate ... unless it has received a positive indication that it
    /// has moved").
    pub fn start(&mut self, now: SystemTime, restart: bool) {
        if self.active && !restart {
            return;
        }
        self.active = true;
        self.sent = 0;
        self.next_at = Some(now);
    }

    /// Stops the search (an advertisement was heard, or the node is attached).
    pub fn stop(&mut self) {
        self.active = false;
        self.next_at = None;
    }

    pub fn next_at(&self) -> Option<SystemTime> {
        self.next_at.filter(|_| self.active)
    }

    pub fn due(&self, now: SystemTime) -> bool {
        self.next_at().is_some_and(|t| t <= now)
    }

    /// The nominal wait after the `n`th solicitation (1-based) of a search.
    pub fn nominal_interval(cfg: &SolicitationConfig, n: u32) -> Duration {
        let initial = cfg.initial_interval_ms;
        let ms = if n < cfg.initial_count.max(1) {
            initial
        } else {
            let doublings = n.saturating_sub(cfg.initial_count.max(1)).saturating_add(1);
            initial
                .saturating_mul(1u64.checked_shl(doublings.min(63)).unwrap_or(u64::MAX))
                .min(cfg.max_interval_ms)
        };
        Duration::from_millis(ms.min(cfg.max_interval_ms.max(initial)))
    }

    /// A solicitation went out now; `random` is a fresh random number for the jitter.
    pub fn sent_one(&mut self, now: SystemTime, cfg: &SolicitationConfig, random: u32) {
        self.sent = self.sent.saturating_add(1);
        let nominal = Self::nominal_interval(cfg, self.sent);
        let nominal_ms = u64::try_from(nominal.as_millis()).unwrap_or(u64::MAX);
        let extra_max = nominal_ms.saturating_mul(u64::from(cfg.jitter_percent)) / 100;
        let extra = if extra_max == 0 {
            0
        } else {
            (u64::from(random) * extra_max) >> 32
        };
        let wait = Duration::from_millis(nominal_ms.saturating_add(extra));
        self.next_at = Some(now.checked_add(wait).unwrap_or(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule() {
        let cfg = SolicitationConfig::default();
        let secs: Vec<u64> = (1..=10)
            .map(|n| Solicitor::nominal_interval(&cfg, n).as_secs())
            .collect();
        assert_eq!(secs, [1, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        let huge = Solicitor::nominal_interval(&cfg, u32::MAX);
        assert_eq!(huge.as_secs(), 60);
    }
}
