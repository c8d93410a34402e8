//! Replay protection of registrations through the 64-bit Identification field
//! (RFC 5944 §5.7; §5.7.1 timestamps, §5.7.2 nonces). No clock and no random number
//! generator here: the current time (NTP format, see [`crate::ntp`]) and fresh random values
//! are parameters.
//!
//! Home agent, per mobile node, keeps a [`ReplayState`]. For each authenticated request:
//! 1. [`ReplayProtection::check_request`] says whether the identification is acceptable, or
//!    why not ([`ReplayError`], logged as a security violation and answered with code 133);
//! 2. [`ReplayProtection::reply_identification`] gives the reply's Identification and
//!    updates the state.
//!
//! Mobile node: [`next_identification`] (timestamps, with a [`ClockOffset`] learnt from a
//! code-133 reply by [`ClockOffset::from_rejection`]) or [`nonce_request_identification`]
//! with the nonce taken by [`ha_nonce_from_reply`]; replies are matched to requests by
//! [`reply_matches_request`].

use core::fmt;

use crate::ntp;
use crate::sa::ReplayProtection;

/// Reply code for a rejected identification: "registration Identification mismatch"
/// (RFC 5944 §3.4).
pub const IDENTIFICATION_MISMATCH: u8 = 133;

/// Per-mobile-node replay state kept by the home agent (one per security association in use
/// with that mobile node). Plain data: store it with the binding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReplayState {
    /// Timestamps: Identification of the last accepted request (§5.7.1: a new one "MUST be
    /// greater than all previously accepted timestamps").
    pub last_accepted: Option<u64>,
    /// Nonces: the nonce this home agent last gave the mobile node (high-order 32 bits of its
    /// last reply), which the next request must carry (§5.7.2).
    pub issued_nonce: Option<u32>,
}

/// Why a request's Identification was refused. Every variant is answered with code 133
/// ([`ReplayError::reply_code`]) and is a security violation for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// Timestamps: the identification is more than the window away from the home agent's
    /// clock.
    OutsideWindow {
        /// Identification minus the home agent's time, NTP units (2^-32 s); positive when
        /// the mobile node's clock is ahead.
        skew: i64,
        /// Tolerance in force, seconds.
        window_secs: u32,
    },
    /// Timestamps: the identification is not greater than the last accepted one (a replay,
    /// a reordered duplicate, or a mobile node whose clock went backwards).
    NotIncreasing {
        /// The identification of the last accepted request.
        last_accepted: u64,
    },
    /// Nonces: the high-order 32 bits are not the nonce the home agent last issued.
    NonceMismatch {
        /// The nonce issued in the last reply.
        expected: u32,
        /// The high-order 32 bits of the request's identification.
        received: u32,
    },
    /// Nonces: no nonce was issued to this mobile node yet (its first request).
    NoNonceIssued {
        /// The high-order 32 bits of the request's identification.
        received: u32,
    },
}

impl ReplayError {
    /// The reply code for every replay failure: 133, identification mismatch.
    #[must_use]
    pub fn reply_code(&self) -> u8 {
        IDENTIFICATION_MISMATCH
    }

    /// Short reason for the violation log and counters.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            ReplayError::OutsideWindow { .. } => "identification outside timestamp window",
            ReplayError::NotIncreasing { .. } => "identification not increasing",
            ReplayError::NonceMismatch { .. } => "identification nonce mismatch",
            ReplayError::NoNonceIssued { .. } => "identification nonce not yet issued",
        }
    }
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReplayError::OutsideWindow { skew, window_secs } => write!(
                f,
                "{}: {:+.3} s from home agent clock (window +/- {} s)",
                self.reason(),
                skew as f64 / ntp::ONE_SECOND as f64,
                window_secs
            ),
            ReplayError::NotIncreasing { last_accepted } => write!(
                f,
                "{}: last accepted {:08X}.{:08X}",
                self.reason(),
                ntp::seconds(last_accepted),
                ntp::fraction(last_accepted)
            ),
            ReplayError::NonceMismatch { expected, received } => write!(
                f,
                "{}: expected {expected:08X}, received {received:08X}",
                self.reason()
            ),
            ReplayError::NoNonceIssued { received } => {
                write!(f, "{}: received {received:08X}", self.reason())
            }
        }
    }
}

impl std::error::Error for ReplayError {}

/// Home agent, timestamps (§5.7.1): `request_id` must be within ±`window_secs` of `now`
/// (inclusive) and strictly greater than `state.last_accepted`. Does not change the state.
///
/// # Errors
/// [`ReplayError::OutsideWindow`] (checked first) or [`ReplayError::NotIncreasing`].
pub fn check_timestamp(
    state: &ReplayState,
    request_id: u64,
    now: u64,
    window_secs: u32,
) -> Result<(), ReplayError> {
    let skew = ntp::diff(request_id, now);
    let window = u128::from(window_secs) << 32;
    if u128::from(skew.unsigned_abs()) > window {
        return Err(ReplayError::OutsideWindow { skew, window_secs });
    }
    if let Some(last_accepted) = state.last_accepted {
        if !ntp::is_after(request_id, last_accepted) {
            return Err(ReplayError::NotIncreasing { last_accepted });
        }
    }
    Ok(())
}

/// Home agent, timestamps: the reply's Identification (§5.7.1). A valid request's
/// identification is copied whole; for an invalid one (code 133) the low-order 32 bits are
/// copied and the high-order 32 bits are the home agent's time of day (seconds of `now`), from
/// which the mobile node resynchronises.
#[must_use]
pub fn timestamp_reply_identification(request_id: u64, now: u64, valid: bool) -> u64 {
    if valid {
        request_id
    } else {
        ntp::from_parts(ntp::seconds(now), ntp::fraction(request_id))
    }
}

/// Home agent, nonces (§5.7.2): the high-order 32 bits of `request_id` must be the nonce last
/// issued to this mobile node. Does not change the state.
///
/// # Errors
/// [`ReplayError::NoNonceIssued`] or [`ReplayError::NonceMismatch`].
pub fn check_nonce(state: &ReplayState, request_id: u64) -> Result<(), ReplayError> {
    let received = ntp::seconds(request_id);
    match state.issued_nonce {
        None => Err(ReplayError::NoNonceIssued { received }),
        Some(expected) if expected != received => {
            Err(ReplayError::NonceMismatch { expected, received })
        }
        Some(_) => Ok(()),
    }
}

/// Home agent, nonces: the reply's Identification: the fresh home-agent nonce in the
/// high-order 32 bits, the mobile node's low-order 32 bits copied (§5.7.2). The same for an
/// accepted request and a code-133 rejection.
#[must_use]
pub fn nonce_reply_identification(request_id: u64, fresh_nonce: u32) -> u64 {
    ntp::from_parts(fresh_nonce, ntp::fraction(request_id))
}

impl ReplayProtection {
    /// Home agent: is `request_id` acceptable for this mobile node? Call only for requests
    /// whose authentication extension verified. Does not change the state; see
    /// [`ReplayProtection::reply_identification`].
    ///
    /// # Errors
    /// A [`ReplayError`] naming the violation; the reply code is 133.
    pub fn check_request(
        &self,
        state: &ReplayState,
        request_id: u64,
        now: u64,
    ) -> Result<(), ReplayError> {
        match *self {
            ReplayProtection::Timestamp { window_secs } => {
                check_timestamp(state, request_id, now, window_secs)
            }
            ReplayProtection::Nonce => check_nonce(state, request_id),
        }
    }

    /// Home agent: the Identification for the reply to an authenticated request, updating
    /// `state`. `identification_valid` is whether [`ReplayProtection::check_request`] passed
    /// (the request may still be refused for another reason, with another code).
    ///
    /// - Timestamps: valid → copied whole and remembered as the last accepted; invalid →
    ///   home agent seconds in the high half, request's low half (code 133 resync).
    /// - Nonces: `fresh_nonce` (a new random number from the caller) in the high half, the
    ///   request's low half; `fresh_nonce` is remembered as the nonce the next request must
    ///   carry. `now` is unused.
    ///
    /// For a request that failed authentication, do not call this (an unauthenticated sender
    /// must not move the state); echo the request's identification instead.
    #[must_use]
    pub fn reply_identification(
        &self,
        state: &mut ReplayState,
        request_id: u64,
        identification_valid: bool,
        now: u64,
        fresh_nonce: u32,
    ) -> u64 {
        match self {
            ReplayProtection::Timestamp { .. } => {
                if identification_valid {
                    state.last_accepted = Some(request_id);
                }
                timestamp_reply_identification(request_id, now, identification_valid)
            }
            ReplayProtection::Nonce => {
                state.issued_nonce = Some(fresh_nonce);
                nonce_reply_identification(request_id, fresh_nonce)
            }
        }
    }
}

/// Mobile node (and foreign agent): does this reply answer that request? Both styles keep the
/// low-order 32 bits of the request's Identification in the reply (RFC 5944 §3.6.1.2, §5.7),
/// and a reply that does not match is silently discarded.
#[must_use]
pub fn reply_matches_request(request_id: u64, reply_id: u64) -> bool {
    ntp::fraction(request_id) == ntp::fraction(reply_id)
}

/// Mobile node, timestamps: what to add to the mobile node's own clock to get the home
/// agent's, in NTP units (2^-32 s).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClockOffset(i64);

impl ClockOffset {
    /// No correction.
    pub const ZERO: ClockOffset = ClockOffset(0);

    /// An offset of whole seconds.
    #[must_use]
    pub fn from_secs(secs: i32) -> ClockOffset {
        ClockOffset(i64::from(secs) * ntp::ONE_SECOND)
    }

    /// An offset in NTP units.
    #[must_use]
    pub fn from_ntp_units(units: i64) -> ClockOffset {
        ClockOffset(units)
    }

    /// The offset in NTP units.
    #[must_use]
    pub fn as_ntp_units(self) -> i64 {
        self.0
    }

    /// The offset in seconds.
    #[must_use]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / ntp::ONE_SECOND as f64
    }

    /// `now` (mobile node clock) corrected to the home agent's clock.
    #[must_use]
    pub fn apply(self, now: u64) -> u64 {
        ntp::add(now, self.0)
    }

    /// From a code-133 reply to a timestamp-protected request (§5.7.1): the home agent put
    /// its time of day (seconds) in the high-order 32 bits. `now` is the mobile node's own,
    /// uncorrected clock when the reply arrived. The home agent's time is taken as the middle
    /// of the second it reported, so the error is at most half a second plus the one-way
    /// delay.
    ///
    /// `None` when the reply's low-order 32 bits differ from the request's: the RFC requires
    /// that check before the high-order bits are used.
    #[must_use]
    pub fn from_rejection(request_id: u64, reply_id: u64, now: u64) -> Option<ClockOffset> {
        if !reply_matches_request(request_id, reply_id) {
            return None;
        }
        let home_agent_time = ntp::from_parts(ntp::seconds(reply_id), 0x8000_0000);
        Some(ClockOffset(ntp::diff(home_agent_time, now)))
    }
}

/// Mobile node, timestamps: the Identification for the next request: the mobile node's clock
/// `now` corrected by `offset`, and always strictly greater than `last_sent` (if the clock
/// has not moved on, or went backwards, `last_sent + 1`).
#[must_use]
pub fn next_identification(now: u64, offset: ClockOffset, last_sent: Option<u64>) -> u64 {
    let candidate = offset.apply(now);
    match last_sent {
        Some(last) if !ntp::is_after(candidate, last) => last.wrapping_add(1),
        _ => candidate,
    }
}

/// Mobile node, nonces (§5.7.2): the Identification for a request: the home agent's nonce
/// from its last reply in the high-order 32 bits (0 before the first reply; the home agent
/// then answers 133 with a nonce), and a new random number `mn_nonce` from the caller in the
/// low-order 32 bits.
#[must_use]
pub fn nonce_request_identification(ha_nonce: Option<u32>, mn_nonce: u32) -> u64 {
    ntp::from_parts(ha_nonce.unwrap_or(0), mn_nonce)
}

/// Mobile node, nonces: the home agent's nonce (high-order 32 bits) from a reply, if the reply
/// answers this request (low-order 32 bits equal); to be used in the next request, whatever
/// the reply code.
#[must_use]
pub fn ha_nonce_from_reply(request_id: u64, reply_id: u64) -> Option<u32> {
    reply_matches_request(request_id, reply_id).then_some(ntp::seconds(reply_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ntp::{from_parts, ONE_SECOND};
    use std::time::{Duration, UNIX_EPOCH};

    const TS7: ReplayProtection = ReplayProtection::Timestamp { window_secs: 7 };

    /// A home agent clock: 2000-01-04 08:12:52 UTC (the identification of seed 000) plus a
    /// fraction.
    fn ha_now() -> u64 {
        from_parts(0xBC1C_2A04, 0x4000_0000)
    }

    #[test]
    fn window_edges_inclusive() {
        let state = ReplayState::default();
        let now = ha_now();
        for secs in [-7_i64, -3, 0, 3, 7] {
            let id = ntp::add(now, secs * ONE_SECOND);
            assert_eq!(TS7.check_request(&state, id, now), Ok(()), "{secs:+} s");
        }
        for (delta, sign) in [(7 * ONE_SECOND + 1, 1), (-7 * ONE_SECOND - 1, -1)] {
            let id = ntp::add(now, delta);
            match TS7.check_request(&state, id, now) {
                Err(ReplayError::OutsideWindow {
                    skew,
                    window_secs: 7,
                }) => {
                    assert_eq!(skew, delta);
                    assert_eq!(skew.signum(), sign);
                }
                other => panic!("{delta}: {other:?}"),
            }
        }
        // Far outside, and a wider window accepts it.
        let id = ntp::add(now, 200 * ONE_SECOND);
        assert!(TS7.check_request(&state, id, now).is_err());
        let wide = ReplayProtection::Timestamp { window_secs: 255 };
        assert_eq!(wide.check_request(&state, id, now), Ok(()));
        // The largest window does not overflow.
        let huge = ReplayProtection::Timestamp {
            window_secs: u32::MAX,
        };
        assert_eq!(huge.check_request(&state, id, now), Ok(()));
    }

    #[test]
    fn equal_or_decreasing_identifications_rejected() {
        let now = ha_now();
        let mut state = ReplayState::default();
        let first = ntp::add(now, -ONE_SECOND);
        assert_eq!(TS7.check_request(&state, first, now), Ok(()));
        assert_eq!(
            TS7.reply_identification(&mut state, first, true, now, 0),
            first
        );
        assert_eq!(state.last_accepted, Some(first));

        // The same request again (a replay), and an earlier one.
        for id in [first, first - 1, ntp::add(first, -ONE_SECOND)] {
            assert_eq!(
                TS7.check_request(&state, id, now),
                Err(ReplayError::NotIncreasing {
                    last_accepted: first
                }),
                "{id:#x}"
            );
        }
        // One unit later is fine.
        assert_eq!(TS7.check_request(&state, first + 1, now), Ok(()));
        let e = TS7.check_request(&state, first, now).unwrap_err();
        assert_eq!(e.reply_code(), 133);
        assert!(e.to_string().contains("not increasing"), "{e}");
    }

    #[test]
    fn rejection_carries_home_agent_time_and_request_low_bits() {
        let now = ha_now();
        let mut state = ReplayState::default();
        let request = from_parts(0x1234_5678, 0x9abc_def0);
        assert!(TS7.check_request(&state, request, now).is_err());
        let reply = TS7.reply_identification(&mut state, request, false, now, 0);
        assert_eq!(reply, from_parts(0xBC1C_2A04, 0x9abc_def0));
        assert_eq!(state.last_accepted, None, "a rejection is not remembered");
    }

    /// The mobile node's clock is 1000 s behind; it gets 133, learns the offset, and its next
    /// request is accepted. Then its clock steps back and identifications still increase.
    #[test]
    fn resync_round_trip() {
        let mut ha_state = ReplayState::default();
        let mut ha_clock = ha_now();
        let mut mn_clock = ntp::add(ha_clock, -1000 * ONE_SECOND);

        let req1 = next_identification(mn_clock, ClockOffset::ZERO, None);
        let err = TS7.check_request(&ha_state, req1, ha_clock).unwrap_err();
        assert!(matches!(err, ReplayError::OutsideWindow { .. }), "{err}");
        assert_eq!(err.reply_code(), IDENTIFICATION_MISMATCH);
        let reply1 = TS7.reply_identification(&mut ha_state, req1, false, ha_clock, 0);

        // 40 ms in flight.
        let flight = ONE_SECOND / 25;
        ha_clock = ntp::add(ha_clock, flight);
        mn_clock = ntp::add(mn_clock, flight);
        assert!(reply_matches_request(req1, reply1));
        let offset = ClockOffset::from_rejection(req1, reply1, mn_clock).unwrap();
        assert!((offset.as_secs_f64() - 1000.0).abs() < 1.0, "{offset:?}");

        // A reply whose low bits are not ours is not used.
        assert_eq!(
            ClockOffset::from_rejection(req1, reply1 ^ 1, mn_clock),
            None
        );

        let req2 = next_identification(mn_clock, offset, Some(req1));
        assert!(ntp::is_after(req2, req1));
        assert_eq!(TS7.check_request(&ha_state, req2, ha_clock), Ok(()));
        let reply2 = TS7.reply_identification(&mut ha_state, req2, true, ha_clock, 0);
        assert_eq!(reply2, req2);
        assert!(reply_matches_request(req2, reply2));

        // Re-registration a minute later.
        ha_clock = ntp::add(ha_clock, 60 * ONE_SECOND);
        mn_clock = ntp::add(mn_clock, 60 * ONE_SECOND);
        let req3 = next_identification(mn_clock, offset, Some(req2));
        assert_eq!(TS7.check_request(&ha_state, req3, ha_clock), Ok(()));
        let _ = TS7.reply_identification(&mut ha_state, req3, true, ha_clock, 0);

        // The mobile node's clock steps back 2 s: the next identification still increases.
        let stepped = ntp::add(mn_clock, -2 * ONE_SECOND);
        let req4 = next_identification(stepped, offset, Some(req3));
        assert_eq!(req4, req3 + 1);
        assert_eq!(TS7.check_request(&ha_state, req4, ha_clock), Ok(()));
    }

    #[test]
    fn next_identification_from_system_time() {
        let t = UNIX_EPOCH + Duration::from_secs(946_684_800);
        let id = next_identification(ntp::from_system_time(t), ClockOffset::from_secs(-5), None);
        assert_eq!(id, from_parts(0xBC17_C200 - 5, 0));
    }

    /// Three registrations with nonces (§5.7.2): the first is refused (no nonce yet) and
    /// hands one over; the next two carry the nonce of the previous reply.
    #[test]
    fn nonce_flow_three_registrations() {
        let nonce = ReplayProtection::Nonce;
        let mut ha_state = ReplayState::default();
        let mut mn_ha_nonce: Option<u32> = None;
        let ha_randoms = [0x1111_1111_u32, 0x2222_2222, 0x3333_3333, 0x4444_4444];
        let mn_randoms = [0xa0a0_a0a0_u32, 0xb0b0_b0b0, 0xc0c0_c0c0, 0xd0d0_d0d0];
        let now = ha_now(); // unused by nonces

        // 1: no nonce issued yet -> 133 with a nonce.
        let req = nonce_request_identification(mn_ha_nonce, mn_randoms[0]);
        assert_eq!(req, from_parts(0, 0xa0a0_a0a0));
        let err = nonce.check_request(&ha_state, req, now).unwrap_err();
        assert_eq!(err, ReplayError::NoNonceIssued { received: 0 });
        let reply = nonce.reply_identification(&mut ha_state, req, false, now, ha_randoms[0]);
        assert_eq!(reply, from_parts(0x1111_1111, 0xa0a0_a0a0));
        mn_ha_nonce = ha_nonce_from_reply(req, reply);
        assert_eq!(mn_ha_nonce, Some(0x1111_1111));

        // 2 and 3: accepted, each reply giving the nonce for the next.
        for i in 1..3 {
            let req = nonce_request_identification(mn_ha_nonce, mn_randoms[i]);
            assert_eq!(nonce.check_request(&ha_state, req, now), Ok(()), "{i}");
            let reply = nonce.reply_identification(&mut ha_state, req, true, now, ha_randoms[i]);
            assert!(reply_matches_request(req, reply));
            assert_eq!(ntp::seconds(reply), ha_randoms[i]);
            mn_ha_nonce = ha_nonce_from_reply(req, reply);
            assert_eq!(mn_ha_nonce, Some(ha_randoms[i]));
        }

        // Replaying the third request fails: its nonce has been superseded.
        let replay = nonce_request_identification(Some(ha_randoms[1]), mn_randoms[2]);
        assert_eq!(
            nonce.check_request(&ha_state, replay, now),
            Err(ReplayError::NonceMismatch {
                expected: ha_randoms[2],
                received: ha_randoms[1]
            })
        );
        // A reply to someone else's request gives no nonce.
        assert_eq!(ha_nonce_from_reply(replay, from_parts(5, 6)), None);
    }

    #[test]
    fn reply_matching_uses_low_order_bits() {
        let req = from_parts(0xBC1C_2A04, 0xEA42_659C);
        assert!(reply_matches_request(req, req));
        assert!(reply_matches_request(
            req,
            from_parts(0xBC1C_2B00, 0xEA42_659C)
        ));
        assert!(!reply_matches_request(
            req,
            from_parts(0xBC1C_2A04, 0xEA42_659D)
        ));
    }

    #[test]
    fn errors_name_the_violation() {
        let e = ReplayError::OutsideWindow {
            skew: -8 * ONE_SECOND,
            window_secs: 7,
        };
        let s = e.to_string();
        assert!(
            s.contains("outside") && s.contains("-8.000") && s.contains("7"),
            "{s}"
        );
        let e = ReplayError::NonceMismatch {
            expected: 1,
            received: 2,
        };
        assert_eq!(e.reply_code(), 133);
        assert!(e.to_string().contains("00000001"));
    }
}
