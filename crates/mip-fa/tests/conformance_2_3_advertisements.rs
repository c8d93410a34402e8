//! RFC 5944 §2.1–2.3 (and RFC 1256 §5.1): agent advertisements and answers to solicitations.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use mip_fa::{FaOptions, ALL_SYSTEMS};
use mip_wire::icmp::{AgentAdvertisement, AgentSolicitation, MobilityAgentAdvertisement};

fn parse(a: &mip_fa::Advertisement) -> AgentAdvertisement {
    AgentAdvertisement::parse(&a.payload).expect("advertisement parses with a valid checksum")
}

fn mobility(a: &mip_fa::Advertisement) -> MobilityAgentAdvertisement {
    parse(a)
        .mobility_agent()
        .cloned()
        .expect("mobility extension")
}

fn solicitation() -> Vec<u8> {
    AgentSolicitation::default().to_bytes()
}

/// Runs the lab for `secs` and returns every advertisement with the time it went out.
fn collect(lab: &mut Lab, secs: u64) -> Vec<(std::time::SystemTime, mip_fa::Advertisement)> {
    let mut out = Vec::new();
    let end = lab.now + Duration::from_secs(secs);
    while let Some(t) = lab.fa.poll_timeout() {
        if t > end {
            break;
        }
        lab.now = t.max(lab.now);
        lab.fa.handle_timeout(lab.now);
        for a in lab.advertisements() {
            out.push((lab.now, a));
        }
    }
    lab.now = end;
    out
}

#[test]
fn periodic_advertisements_fall_between_min_and_max_interval() {
    // Seed 002's example: maxadvertinterval 10, minadvertinterval 7.
    let mut lab = Lab::new(&config(""));
    let sent = collect(&mut lab, 3600);
    assert!(
        sent.len() >= 350,
        "{} advertisements in an hour",
        sent.len()
    );
    let mut gaps = Vec::new();
    for w in sent.windows(2) {
        let gap = w[1].0.duration_since(w[0].0).unwrap();
        assert!(
            gap >= Duration::from_secs(7) && gap <= Duration::from_secs(10),
            "gap {gap:?}"
        );
        gaps.push(gap);
    }
    // Random, not fixed: the gaps differ.
    gaps.sort();
    assert!(gaps.first() != gaps.last());
    for (_, a) in &sent {
        assert_eq!(a.interface, "eth1");
        assert_eq!(a.destination, ALL_SYSTEMS);
        assert_eq!(a.source, FA_LINK);
        assert_eq!(a.ttl, 1);
        assert!(!a.solicited);
    }
    assert_eq!(lab.fa.counters().advertisements_sent, sent.len() as u64);
}

#[test]
fn the_first_three_advertisements_come_within_16_seconds() {
    // RFC 1256 §5.1 MAX_INITIAL_ADVERT_INTERVAL with the default 450..600 s interval.
    let cfg = mip_config::parse_ios(
        &BASE
            .replace(" ip irdp maxadvertinterval 10\n", "")
            .replace(" ip irdp minadvertinterval 7\n", ""),
        "t.ios",
    )
    .unwrap();
    let mut lab = Lab::new(&cfg);
    let start = lab.now;
    let sent = collect(&mut lab, 2000);
    let times: Vec<_> = sent.iter().map(|(t, _)| *t).collect();
    assert!(times[0].duration_since(start).unwrap() <= Duration::from_secs(16));
    for w in times.windows(2).take(2) {
        assert!(w[1].duration_since(w[0]).unwrap() <= Duration::from_secs(16));
    }
    let fourth = times[3].duration_since(times[2]).unwrap();
    assert!(fourth >= Duration::from_secs(450) && fourth <= Duration::from_secs(600));
}

#[test]
fn sequence_numbers_start_at_zero_and_wrap_to_256() {
    let mut lab = Lab::new(&config(""));
    let mut seqs = Vec::new();
    // 0xffff + a few advertisements: answer solicitations 120 ms apart (fast, not rate
    // limited).
    for _ in 0..0x1_0003u32 {
        lab.now += Duration::from_millis(120);
        lab.fa
            .handle_solicitation(lab.now, "eth1", FA_LINK, &solicitation());
        for a in lab.advertisements() {
            seqs.push(mobility(&a).sequence);
        }
    }
    assert_eq!(seqs[0], 0);
    assert_eq!(seqs[1], 1);
    let at = seqs.iter().position(|&s| s == 0xffff).unwrap();
    assert_eq!(
        seqs[at + 1],
        256,
        "after 0xffff comes 256 (RFC 5944 §2.3.2)"
    );
    assert_eq!(seqs[at + 2], 257);
}

#[test]
fn flags_and_fields_of_a_plain_foreign_agent() {
    let mut lab = Lab::new(&config(""));
    lab.advance(Duration::from_secs(10));
    let adv = lab.advertisements();
    assert!(!adv.is_empty());
    let p = parse(&adv[0]);
    let m = p.mobility_agent().unwrap();
    assert!(m.flags.foreign_agent);
    assert!(!m.flags.registration_required);
    assert!(!m.flags.busy);
    assert!(!m.flags.home_agent);
    assert!(!m.flags.reverse_tunnelling);
    assert!(m.flags.minimal_encapsulation && m.flags.gre_encapsulation);
    assert!(!m.flags.reserved_r && !m.flags.udp_tunnelling && !m.flags.revocation);
    assert_eq!(m.registration_lifetime, 3600);
    assert_eq!(m.care_of_addresses, vec![COA]);
    assert_eq!(p.lifetime, 30, "holdtime defaults to 3 x maxadvertinterval");
    assert_eq!(p.router_addresses.len(), 1);
    assert_eq!(p.router_addresses[0].address, FA_LINK);
    assert_eq!(p.prefix_lengths(), None);
    assert_eq!(p.fa_challenge(), None);
}

#[test]
fn r_t_and_prefix_lengths_follow_the_configuration() {
    let cfg = config_with_interface_lines(
        "",
        " registration-required reverse-tunnel\n ip mobile prefix-length",
    );
    let mut lab = Lab::new(&cfg);
    lab.advance(Duration::from_secs(10));
    let adv = lab.advertisements();
    let p = parse(&adv[0]);
    let m = p.mobility_agent().unwrap();
    assert!(m.flags.registration_required);
    assert!(m.flags.reverse_tunnelling);
    assert_eq!(p.prefix_lengths(), Some(&[8u8][..]));
}

#[test]
fn global_reverse_tunnel_sets_t_and_options_clear_m_and_g() {
    let cfg = config("ip mobile foreign-agent reverse-tunnel\n");
    let mut opts = FaOptions::default();
    opts.encapsulations.gre = false;
    opts.encapsulations.minimal = false;
    let mut lab = Lab::with_options(&cfg, opts);
    lab.advance(Duration::from_secs(10));
    let m = mobility(&lab.advertisements()[0]);
    assert!(m.flags.reverse_tunnelling);
    assert!(!m.flags.minimal_encapsulation && !m.flags.gre_encapsulation);
}

#[test]
fn busy_when_the_visitor_limit_is_reached() {
    let cfg = config_with_interface_lines("", " limit 1");
    let mut lab = Lab::new(&cfg);
    lab.advance(Duration::from_secs(10));
    assert!(!mobility(&lab.advertisements()[0]).flags.busy);
    // One visitor registers.
    let relayed = relay(&mut lab, &Req::new(1));
    lab.ha_sends(&ha_reply(&relayed.payload, 0, 600, None));
    assert_eq!(lab.fa.visitor_count(), 1);
    lab.transmits();
    lab.advance(Duration::from_secs(10));
    assert!(mobility(&lab.advertisements()[0]).flags.busy);
    assert!(lab.fa.interfaces()[1].advertisement_flags & 0x4000 != 0);
}

#[test]
fn home_agent_flag_on_a_home_link() {
    let cfg = config("ip mobile home-agent\nip mobile host 67.0.0.100 67.0.0.110 interface eth1\n");
    let mut lab = Lab::new(&cfg);
    lab.advance(Duration::from_secs(10));
    let m = mobility(&lab.advertisements()[0]);
    assert!(m.flags.home_agent && m.flags.foreign_agent);
}

#[test]
fn only_care_of_addresses_of_up_interfaces_are_advertised() {
    let cfg = mip_config::parse_ios(
        &format!(
            "{BASE}ip mobile foreign-agent care-of eth2\ninterface eth2\n ip address 69.0.0.1 255.0.0.0\n"
        ),
        "t.ios",
    )
    .unwrap();
    let mut ifs = interfaces();
    ifs.push(mip_fa::FaInterface {
        name: "eth2".into(),
        address: Ipv4Addr::new(69, 0, 0, 1),
        prefix_len: 8,
        up: false,
        link_layer: [2, 0, 0, 0, 0, 3],
    });
    let mut fa = mip_fa::ForeignAgent::new(&cfg, ifs);
    let mut lab = Lab {
        fa: {
            fa.handle_timeout(t0());
            fa
        },
        now: t0(),
    };
    lab.advance(Duration::from_secs(10));
    assert_eq!(
        mobility(&lab.advertisements()[0]).care_of_addresses,
        vec![COA]
    );
    assert!(lab.fa.set_interface_up("eth2", true));
    lab.advance(Duration::from_secs(10));
    assert_eq!(
        mobility(&lab.advertisements()[0]).care_of_addresses,
        vec![COA, Ipv4Addr::new(69, 0, 0, 1)]
    );
    assert!(lab.fa.set_interface_up("eth0", false));
    lab.advance(Duration::from_secs(10));
    assert_eq!(
        mobility(&lab.advertisements()[0]).care_of_addresses,
        vec![Ipv4Addr::new(69, 0, 0, 1)]
    );
}

#[test]
fn no_care_of_address_up_means_no_foreign_agent_advertisement() {
    let mut lab = Lab::new(&config(""));
    lab.fa.set_interface_up("eth0", false);
    assert!(!lab.fa.service_enabled());
    lab.advance(Duration::from_secs(60));
    assert!(lab.advertisements().is_empty());
    assert_eq!(lab.fa.poll_timeout(), None);
    // Back up: advertising resumes.
    lab.fa.set_interface_up("eth0", true);
    lab.advance(Duration::from_secs(16));
    assert!(!lab.advertisements().is_empty());
}

#[test]
fn no_irdp_means_no_advertisements() {
    let cfg = mip_config::parse_ios(&BASE.replace(" ip irdp\n", ""), "t.ios").unwrap();
    let mut lab = Lab::new(&cfg);
    lab.advance(Duration::from_secs(60));
    assert!(lab.advertisements().is_empty());
    lab.fa
        .handle_solicitation(lab.now, "eth1", FA_LINK, &solicitation());
    assert!(lab.advertisements().is_empty());
    assert_eq!(lab.fa.counters().solicitations_ignored, 1);
}

#[test]
fn broadcast_destination_by_option() {
    let opts = FaOptions {
        advertisement_destination: Ipv4Addr::BROADCAST,
        ..FaOptions::default()
    };
    let mut lab = Lab::with_options(&config(""), opts);
    lab.advance(Duration::from_secs(10));
    assert_eq!(lab.advertisements()[0].destination, Ipv4Addr::BROADCAST);
}

#[test]
fn a_solicitation_is_answered_at_once() {
    let mut lab = Lab::new(&config(""));
    // From a neighbour on the link: unicast.
    let neighbour = Ipv4Addr::new(67, 0, 0, 40);
    lab.fa
        .handle_solicitation(lab.now, "eth1", neighbour, &solicitation());
    let a = lab.advertisements();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].destination, neighbour);
    assert!(a[0].solicited);
    assert_eq!(a[0].ttl, 1);
    assert_eq!(mobility(&a[0]).care_of_addresses, vec![COA]);
    // From 0.0.0.0 and from a home address off the link: all-systems on that link.
    lab.now += Duration::from_secs(1);
    lab.fa
        .handle_solicitation(lab.now, "eth1", Ipv4Addr::UNSPECIFIED, &solicitation());
    lab.now += Duration::from_secs(1);
    lab.fa
        .handle_solicitation(lab.now, "eth1", MN, &solicitation());
    let a = lab.advertisements();
    assert_eq!(a.len(), 2);
    assert!(a
        .iter()
        .all(|a| a.destination == ALL_SYSTEMS && a.interface == "eth1"));
    let c = lab.fa.counters();
    assert_eq!(c.solicitations_received, 3);
    assert_eq!(c.advertisements_response_to_solicitation, 3);
}

#[test]
fn solicitations_inside_100_ms_are_answered_together() {
    let mut lab = Lab::new(&config(""));
    lab.fa.handle_solicitation(
        lab.now,
        "eth1",
        Ipv4Addr::new(67, 0, 0, 40),
        &solicitation(),
    );
    for ms in [10, 20, 30] {
        lab.fa.handle_solicitation(
            lab.now + Duration::from_millis(ms),
            "eth1",
            Ipv4Addr::new(67, 0, 0, 41),
            &solicitation(),
        );
    }
    assert_eq!(lab.advertisements().len(), 1);
    let start = lab.now;
    assert_eq!(
        lab.fa.poll_timeout(),
        Some(start + Duration::from_millis(100))
    );
    lab.advance(Duration::from_millis(100));
    let a = lab.advertisements();
    assert_eq!(a.len(), 1, "one multicast answers the three held back");
    assert_eq!(a[0].destination, ALL_SYSTEMS);
    assert!(a[0].solicited);
}

#[test]
fn bad_solicitations_are_ignored() {
    let mut lab = Lab::new(&config(""));
    let mut bad = solicitation();
    bad[2] ^= 0xff; // checksum
    lab.fa.handle_solicitation(lab.now, "eth1", FA_LINK, &bad);
    let mut code = AgentSolicitation {
        code: 1,
        ..AgentSolicitation::default()
    }
    .to_bytes();
    lab.fa.handle_solicitation(lab.now, "eth1", FA_LINK, &code);
    code.truncate(4);
    lab.fa.handle_solicitation(lab.now, "eth1", FA_LINK, &code);
    // Not a foreign-service interface.
    lab.fa
        .handle_solicitation(lab.now, "eth0", COA, &solicitation());
    lab.fa
        .handle_solicitation(lab.now, "nope", COA, &solicitation());
    assert!(lab.advertisements().is_empty());
    assert_eq!(lab.fa.counters().solicitations_ignored, 5);
}

#[test]
fn reconfiguration_keeps_the_sequence_and_applies_new_settings() {
    let mut lab = Lab::new(&config(""));
    lab.advance(Duration::from_secs(10));
    let first = mobility(&lab.advertisements()[0]).sequence;
    lab.fa
        .reconfigure(&config_with_interface_lines("", " registration-required"));
    lab.advance(Duration::from_secs(10));
    let m = mobility(&lab.advertisements()[0]);
    assert!(m.flags.registration_required);
    assert!(m.sequence > first);
    // `no router mobile`: nothing advertised.
    lab.fa.reconfigure(&mip_config::Config::default());
    lab.advance(Duration::from_secs(30));
    assert!(lab.advertisements().is_empty());
}
