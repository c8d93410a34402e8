//! RFC 3012 §3 (foreign agent challenges): the challenge in advertisements, 104, 105, 106,
//! and a fresh challenge in replies to the mobile node.

mod common;

use std::time::Duration;

use common::*;
use mip_fa::{ChallengeOptions, FaOptions};
use mip_wire::extension::Extension;
use mip_wire::icmp::{AgentAdvertisement, AgentSolicitation};
use mip_wire::registration::RegistrationReply;

fn lab() -> Lab {
    let opts = FaOptions {
        challenge: Some(ChallengeOptions {
            length: 8,
            window: 2,
        }),
        ..FaOptions::default()
    };
    Lab::with_options(&config(""), opts)
}

/// Solicits and returns the challenge of the answer.
fn challenge(lab: &mut Lab) -> Vec<u8> {
    lab.now += Duration::from_secs(1);
    lab.fa.handle_solicitation(
        lab.now,
        "eth1",
        FA_LINK,
        &AgentSolicitation::default().to_bytes(),
    );
    let a = lab.advertisements().pop().unwrap();
    AgentAdvertisement::parse(&a.payload)
        .unwrap()
        .fa_challenge()
        .unwrap()
        .to_vec()
}

fn with_challenge(ident: u64, c: &[u8]) -> Req {
    let mut req = Req::new(ident);
    req.after = vec![Extension::MnFaChallenge(c.to_vec())];
    req
}

#[test]
fn every_advertisement_carries_a_fresh_challenge() {
    let mut lab = lab();
    let a = challenge(&mut lab);
    let b = challenge(&mut lab);
    assert_eq!(a.len(), 8);
    assert_ne!(a, b);
}

#[test]
fn a_current_challenge_is_accepted_once() {
    let mut lab = lab();
    let c = challenge(&mut lab);
    let t = relay(&mut lab, &with_challenge(1, &c));
    // The challenge follows MN-HA: it is for the foreign agent and not relayed.
    assert_eq!(t.payload, Req::new(1).bytes());
    // Used: stale.
    lab.expect_denial(&with_challenge(2, &c).bytes(), 106);
}

#[test]
fn codes_104_105_106() {
    let mut lab = lab();
    lab.expect_denial(&Req::new(1).bytes(), 105);
    lab.expect_denial(&with_challenge(2, b"not-ours").bytes(), 104);
    let old = challenge(&mut lab);
    challenge(&mut lab);
    challenge(&mut lab);
    // Two newer ones issued (and the denials above issued more): outside the window of 2.
    lab.expect_denial(&with_challenge(3, &old).bytes(), 106);
    let c = lab.fa.counters();
    assert_eq!(
        (c.missing_challenge, c.unknown_challenge, c.stale_challenge),
        (1, 1, 1)
    );
}

#[test]
fn replies_to_the_mobile_node_carry_a_new_challenge() {
    let mut lab = lab();
    let r = lab.expect_denial(&Req::new(1).bytes(), 105);
    let fresh = r
        .extensions
        .iter()
        .find_map(|e| match e {
            Extension::MnFaChallenge(c) => Some(c.clone()),
            _ => None,
        })
        .expect("a challenge in the reply");
    // ... which the mobile node may use next.
    let t = relay(&mut lab, &with_challenge(2, &fresh));
    lab.ha_sends(&ha_reply(&t.payload, 0, 600, None));
    let out = lab.transmits();
    let reply = RegistrationReply::from_bytes(&out[0].payload).unwrap();
    assert_eq!(u8::from(reply.code), 0);
    assert!(reply
        .extensions
        .iter()
        .any(|e| matches!(e, Extension::MnFaChallenge(c) if c != &fresh)));
}
