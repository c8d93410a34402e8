//! NTP-format time, as carried in the 64-bit Identification field (RFC 5944 §5.7.1:
//! "formatted as specified by the Network Time Protocol"): 32 bits of seconds since
//! 1900-01-01 00:00 UTC, then 32 bits of binary fraction of a second.
//!
//! Nothing here reads the clock; callers pass `SystemTime` values in. Differences use serial
//! arithmetic on the full 64 bits, so they stay correct across the 2036 era rollover as long
//! as the two times are within 68 years of each other.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch).
pub const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

/// One second in NTP units (2^-32 s).
pub const ONE_SECOND: i64 = 1 << 32;

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// An NTP timestamp from its seconds and fraction halves.
#[must_use]
pub fn from_parts(seconds: u32, fraction: u32) -> u64 {
    (u64::from(seconds) << 32) | u64::from(fraction)
}

/// The seconds half (high-order 32 bits).
#[must_use]
pub fn seconds(ntp: u64) -> u32 {
    (ntp >> 32) as u32
}

/// The fraction half (low-order 32 bits).
#[must_use]
pub fn fraction(ntp: u64) -> u32 {
    ntp as u32
}

/// NTP timestamp of `t`. The fraction is truncated (never rounded up); times after the 2036
/// rollover wrap into era 1, as NTP does.
#[must_use]
pub fn from_system_time(t: SystemTime) -> u64 {
    let unix_nanos: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    let ntp_nanos = unix_nanos + i128::from(NTP_UNIX_OFFSET_SECS) * NANOS_PER_SEC;
    let secs = ntp_nanos.div_euclid(NANOS_PER_SEC);
    let sub_nanos = ntp_nanos.rem_euclid(NANOS_PER_SEC);
    // sub_nanos < 10^9, so the fraction is < 2^32.
    let frac = ((sub_nanos << 32) / NANOS_PER_SEC) as u64;
    let secs32 = secs.rem_euclid(1 << 32) as u64;
    (secs32 << 32) | frac
}

/// The `SystemTime` of an NTP timestamp. Following RFC 4330 §3, a seconds value with the top
/// bit set is in era 0 (1968-2036, counted from 1900) and one with it clear is in era 1
/// (2036-2104, counted from 2036-02-07 06:28:16 UTC). Exact inverse of [`from_system_time`]
/// for times in that range.
#[must_use]
pub fn to_system_time(ntp: u64) -> SystemTime {
    let secs32 = i64::from(seconds(ntp));
    let era_secs = if secs32 & 0x8000_0000 != 0 {
        secs32
    } else {
        secs32 + (1_i64 << 32)
    };
    let unix_secs = era_secs - NTP_UNIX_OFFSET_SECS as i64;
    // Round the fraction up so that from_system_time(to_system_time(x)) == x.
    let nanos = ((u128::from(fraction(ntp)) * 1_000_000_000).div_ceil(1 << 32)) as u32;
    let whole = if unix_secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(unix_secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(unix_secs.unsigned_abs())
    };
    whole + Duration::from_nanos(u64::from(nanos))
}

/// `a - b` in NTP units (2^-32 s), by serial arithmetic: correct when the true difference is
/// within ±68 years, including across an era rollover.
#[must_use]
pub fn diff(a: u64, b: u64) -> i64 {
    a.wrapping_sub(b) as i64
}

/// `a - b` in seconds, as a float (for logs and skew reports).
#[must_use]
pub fn diff_secs_f64(a: u64, b: u64) -> f64 {
    diff(a, b) as f64 / ONE_SECOND as f64
}

/// `a - b` in whole seconds, truncated toward zero.
#[must_use]
pub fn diff_secs(a: u64, b: u64) -> i64 {
    diff(a, b) / ONE_SECOND
}

/// True when `a` is strictly later than `b` (serial arithmetic, see [`diff`]).
#[must_use]
pub fn is_after(a: u64, b: u64) -> bool {
    diff(a, b) > 0
}

/// `t` moved by `delta` NTP units (wrapping).
#[must_use]
pub fn add(t: u64, delta: i64) -> u64 {
    t.wrapping_add(delta as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch_is_0x83aa7e80() {
        assert_eq!(from_system_time(UNIX_EPOCH), 0x83AA_7E80_0000_0000);
        assert_eq!(to_system_time(0x83AA_7E80_0000_0000), UNIX_EPOCH);
        assert_eq!(seconds(from_system_time(UNIX_EPOCH)), 2_208_988_800);
    }

    #[test]
    fn known_dates() {
        // 2000-01-01 00:00:00 UTC = Unix 946684800 = NTP 3155673600 (0xBC17C200).
        let y2k = UNIX_EPOCH + Duration::from_secs(946_684_800);
        assert_eq!(from_system_time(y2k), 0xBC17_C200_0000_0000);
        // Half a second is fraction 0x80000000.
        let t = y2k + Duration::from_millis(500);
        assert_eq!(from_system_time(t), 0xBC17_C200_8000_0000);
        assert_eq!(to_system_time(0xBC17_C200_8000_0000), t);
        // The identification in seed 000 (`BC1C2A04.EA42659C`) is from 2000-01-04.
        let seed = to_system_time(0xBC1C_2A04_EA42_659C);
        let unix = seed.duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(unix, 0xBC1C_2A04 - NTP_UNIX_OFFSET_SECS);
    }

    #[test]
    fn era_rollover() {
        // 2036-02-07 06:28:16 UTC is NTP seconds 2^32, i.e. 0 in era 1.
        let rollover = UNIX_EPOCH + Duration::from_secs((1 << 32) - NTP_UNIX_OFFSET_SECS);
        assert_eq!(from_system_time(rollover), 0);
        assert_eq!(to_system_time(0), rollover);
        let before = rollover - Duration::from_secs(1);
        assert_eq!(from_system_time(before), 0xFFFF_FFFF_0000_0000);
        assert_eq!(diff(0, 0xFFFF_FFFF_0000_0000), ONE_SECOND);
        assert!(is_after(0, 0xFFFF_FFFF_0000_0000));
        assert!(!is_after(0xFFFF_FFFF_0000_0000, 0));
        assert_eq!(diff_secs(0x0000_0002_0000_0000, 0xFFFF_FFFF_0000_0000), 3);
    }

    #[test]
    fn round_trip_is_exact_to_the_nanosecond() {
        let base = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for nanos in [0, 1, 2, 3, 999, 123_456_789, 500_000_000, 999_999_999] {
            let t = base + Duration::from_nanos(nanos);
            assert_eq!(to_system_time(from_system_time(t)), t, "{nanos}");
        }
    }

    #[test]
    fn before_unix_epoch() {
        let t = UNIX_EPOCH - Duration::from_millis(1500);
        let n = from_system_time(t);
        assert_eq!(seconds(n), 0x83AA_7E80 - 2);
        assert_eq!(fraction(n), 0x8000_0000);
        assert_eq!(to_system_time(n), t);
    }

    #[test]
    fn differences() {
        let a = from_parts(100, 0);
        let b = from_parts(93, 0);
        assert_eq!(diff(a, b), 7 * ONE_SECOND);
        assert_eq!(diff(b, a), -7 * ONE_SECOND);
        assert_eq!(diff_secs(a, b), 7);
        assert!((diff_secs_f64(from_parts(1, 0x4000_0000), from_parts(0, 0)) - 1.25).abs() < 1e-9);
        assert_eq!(add(a, -7 * ONE_SECOND), b);
        assert_eq!(add(0, -1), u64::MAX);
    }
}
