//! RFC 5944 §5.7 (replay protection) at the mobile node: resynchronisation on 133 from the
//! home agent's time in the reply, its limits, and what is not trusted. The end-to-end cases
//! with a real home agent are in `conformance_end_to_end_ha.rs`.

mod common;

use common::*;
use mip_mn::{DiscardReason, Event, MAX_RESYNCS_IN_A_ROW};
use mip_security::ntp;

/// The home agent's seconds are in the high-order half of a 133 reply; the node's next
/// request, sent at once, is stamped with the home agent's time.
#[test]
fn resync_takes_the_home_agents_time() {
    let mut n = node_with(colocated_config());
    n.link_changed(at(0), IF, true, Some(coloc()));
    let req = drain(&mut n).request();
    assert_eq!(req.identification, ntp::from_system_time(at(0)));
    // The home agent's clock says 0 + 3600 s.
    let ha_secs = ntp::seconds(ntp::from_system_time(at(3600)));
    let reply_id = ntp::from_parts(ha_secs, ntp::fraction(req.identification));
    n.handle_reply(
        at(0),
        from_ha(),
        &reply_with_id(&req, 133, 0, reply_id, Some(&sa())),
    );
    let out = drain(&mut n);
    assert!(out.has_event(|e| matches!(e, Event::ClockResynchronised { offset_ms } if (*offset_ms - 3_600_500).abs() < 2)));
    assert!(out.has_event(|e| matches!(
        e,
        Event::Denied {
            code: 133,
            retry_in_ms: 0,
            ..
        }
    )));
    let next = out.request();
    let skew = ntp::diff_secs_f64(next.identification, ntp::from_system_time(at(3600)));
    assert!(skew.abs() <= 1.0, "{skew}");
    assert!((n.snapshot(at(0)).clock_offset_secs - 3600.5).abs() < 0.01);
}

/// A 133 that does not authenticate is ignored (it could move the clock anywhere).
#[test]
fn unauthenticated_133_is_ignored() {
    let mut n = node_with(colocated_config());
    n.link_changed(at(0), IF, true, Some(coloc()));
    let req = drain(&mut n).request();
    let reply_id = ntp::from_parts(1, ntp::fraction(req.identification));
    n.handle_reply(
        at(0),
        from_ha(),
        &reply_with_id(&req, 133, 0, reply_id, None),
    );
    let out = drain(&mut n);
    assert!(out.has_event(|e| matches!(
        e,
        Event::ReplyDiscarded {
            reason: DiscardReason::Authentication
        }
    )));
    assert!(out.transmit.is_empty());
    assert_eq!(n.clock_offset().as_ntp_units(), 0);
}

/// A home agent answering 133 again and again: the node retries at once only a few times in
/// a row, then backs off like for any denial.
#[test]
fn repeated_133_backs_off() {
    let mut n = node_with(colocated_config());
    n.link_changed(at(0), IF, true, Some(coloc()));
    let mut req = drain(&mut n).request();
    for i in 0..=MAX_RESYNCS_IN_A_ROW {
        let reply_id = ntp::from_parts(0x1234_0000 + i, ntp::fraction(req.identification));
        n.handle_reply(
            at(0),
            from_ha(),
            &reply_with_id(&req, 133, 0, reply_id, Some(&sa())),
        );
        let out = drain(&mut n);
        if i < MAX_RESYNCS_IN_A_ROW {
            req = out.request();
        } else {
            assert!(out.transmit.is_empty());
            assert!(out.has_event(|e| matches!(
                e,
                Event::Denied {
                    code: 133,
                    retry_in_ms: 2000,
                    ..
                }
            )));
        }
    }
    assert_eq!(
        n.counters().identification_resyncs,
        u64::from(MAX_RESYNCS_IN_A_ROW) + 1
    );
}
