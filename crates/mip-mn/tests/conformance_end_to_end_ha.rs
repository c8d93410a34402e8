//! The mobile node against a real home agent core (`mip-ha`, configured through `mip-config` in
//! the router's language), in virtual time: register co-located, renew, move to a foreign
//! agent (a relay written here), return home and deregister; code-133 resynchronisation with
//! a skewed clock (RFC 5944 §5.7.1) and nonces (§5.7.2).

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime};

use common::*;
use mip_ha::HomeAgent;
use mip_mn::{ColocatedAddress, DataPlaneRequest, Event, MobileNode, NodeState, RequestKind};
use mip_security::ReplayProtection;
use mip_wire::icmp::AdvertisementFlags as F;

fn home_agent(replay: &str) -> HomeAgent {
    let text = format!(
        "router mobile\n\
         ip mobile home-agent\n\
         ip mobile host 10.1.1.5 interface eth0\n\
         ip mobile secure host 10.1.1.5 spi 100 key hex {KEY} {replay}\n"
    );
    let cfg = mip_config::parse_ios(&text, "ha.ios").unwrap_or_else(|e| panic!("{e}"));
    HomeAgent::new(&cfg, &[ha()])
}

/// The mobile node, a home agent, and (when present) a foreign agent that relays requests and
/// replies unchanged. The mobile node's clock is `skew_secs` behind the home agent's (ahead
/// when negative).
struct Net {
    mn: MobileNode,
    ha: HomeAgent,
    skew_secs: i64,
    /// Everything the mobile node did, in order.
    log: Vec<(SystemTime, Out)>,
}

impl Net {
    fn new(mn: MobileNode, ha: HomeAgent, skew_secs: i64) -> Net {
        Net {
            mn,
            ha,
            skew_secs,
            log: Vec::new(),
        }
    }

    /// The mobile node's clock at home agent time `t`.
    fn mn_time(&self, t: SystemTime) -> SystemTime {
        if self.skew_secs >= 0 {
            t - Duration::from_secs(self.skew_secs as u64)
        } else {
            t + Duration::from_secs(self.skew_secs.unsigned_abs())
        }
    }

    fn ha_time(&self, t: SystemTime) -> SystemTime {
        if self.skew_secs >= 0 {
            t + Duration::from_secs(self.skew_secs as u64)
        } else {
            t - Duration::from_secs(self.skew_secs.unsigned_abs())
        }
    }

    /// Carries what the mobile node sent (at home agent time `t`) to the home agent, directly
    /// or through the relaying foreign agent, and the replies back, until nothing moves.
    fn exchange(&mut self, t: SystemTime) {
        let mn_t = self.mn_time(t);
        for _ in 0..20 {
            let out = drain(&mut self.mn);
            let quiet = out.transmit.is_empty();
            let transmits = out.transmit.clone();
            self.log.push((t, out));
            if quiet {
                return;
            }
            for tx in transmits {
                // Through a foreign agent: the agent relays from its own address.
                let via_fa = *tx.destination.ip() != ha();
                let source = if via_fa {
                    SocketAddrV4::new(*tx.destination.ip(), 434)
                } else {
                    SocketAddrV4::new(tx.source, 434)
                };
                self.ha.handle_request(t, source, ha(), &tx.payload);
                while self.ha.poll_store().is_some() {}
                while self.ha.poll_dataplane().is_some() {}
                while let Some(reply) = self.ha.poll_transmit() {
                    assert_eq!(reply.destination, source);
                    let from = if via_fa {
                        source
                    } else {
                        SocketAddrV4::new(reply.source, 434)
                    };
                    self.mn.handle_reply(mn_t, from, &reply.payload);
                }
            }
        }
        panic!("endless exchange");
    }

    /// Runs both cores' timers up to home agent time `until`.
    fn run(&mut self, until: SystemTime) {
        for _ in 0..100_000 {
            let mn_next = self.mn.poll_timeout().map(|d| self.ha_time(d));
            let ha_next = self.ha.poll_timeout();
            let next = match (mn_next, ha_next) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(x) => x,
                    None => return,
                },
            };
            if next > until {
                return;
            }
            if ha_next == Some(next) {
                self.ha.handle_timeout(next);
                while self.ha.poll_store().is_some() {}
                while self.ha.poll_dataplane().is_some() {}
            }
            if mn_next == Some(next) {
                let t = self.mn_time(next);
                self.mn.handle_timeout(t);
            }
            self.exchange(next);
        }
        panic!("timers do not advance");
    }

    fn events(&self) -> Vec<Event> {
        self.log
            .iter()
            .flat_map(|(_, o)| o.events.clone())
            .collect()
    }

    fn dataplane(&self) -> Vec<DataPlaneRequest> {
        self.log
            .iter()
            .flat_map(|(_, o)| o.dataplane.clone())
            .collect()
    }

    fn binding_care_of(&self, t: SystemTime) -> Option<Ipv4Addr> {
        let b = self.ha.bindings(t);
        assert!(b.len() <= 1, "{b:?}");
        b.first().map(|b| b.care_of_address)
    }
}

/// Register co-located, renew at 80 %, move to a foreign agent that requires registration,
/// come home and deregister — the home agent's binding follows every step.
#[test]
fn register_renew_move_and_return_home() {
    let mut c = colocated_config();
    c.flags.reverse_tunnel = true;
    c.flags.gre = true;
    let mut net = Net::new(node_with(c), home_agent(""), 0);

    // 1. Co-located care-of address from DHCP.
    net.mn.link_changed(at(0), IF, true, Some(coloc()));
    net.exchange(at(0));
    assert_eq!(net.mn.state(), NodeState::Registered);
    assert_eq!(net.binding_care_of(at(0)), Some(coloc().address));
    let b = &net.ha.bindings(at(0))[0];
    assert!(b.direct_to_mobile_node && b.reverse_tunnel);
    assert_eq!(b.lifetime_granted, 1800);
    assert!(net.dataplane().contains(&DataPlaneRequest::UseColocated {
        interface: IF.into(),
        home_address: home(),
        care_of_address: coloc().address,
        gateway: coloc().gateway,
        home_agent: ha(),
        encapsulation: mip_wire::codes::Encapsulation::Gre,
        reverse_tunnel: true,
    }));

    // 2. Renewal at 1440 s; the binding never lapses.
    net.run(at(1500));
    assert!(net.events().iter().any(|e| matches!(
        e,
        Event::Registered {
            kind: RequestKind::Renewal,
            ..
        }
    )));
    assert_eq!(net.ha.bindings(at(1500))[0].remaining_secs, Some(1740));
    assert_eq!(
        net.mn.snapshot(at(1500)).lifetime_remaining_secs,
        Some(1740)
    );

    // 3. A foreign agent with R appears on the link: registration through it.
    let fa = a("203.0.113.1");
    let adv = Adv::fa(fa).flags(F::R | F::F | F::T).lifetime(1800);
    net.mn.handle_advertisement(at(1600), IF, fa, &adv.bytes());
    net.exchange(at(1600));
    assert_eq!(net.binding_care_of(at(1600)), Some(fa));
    assert_eq!(net.mn.snapshot(at(1600)).foreign_agent, Some(fa));
    assert_eq!(net.mn.state(), NodeState::Registered);
    assert!(matches!(
        net.dataplane().last(),
        Some(DataPlaneRequest::UseForeignAgent { foreign_agent, reverse_tunnel: true, .. }) if *foreign_agent == fa
    ));

    // 4. Home: DHCP gives a home address on the link.
    net.mn.link_changed(
        at(1700),
        IF,
        true,
        Some(ColocatedAddress::new(home(), 24, Some(ha()))),
    );
    net.exchange(at(1700));
    assert_eq!(net.ha.binding_count(), 0);
    assert_eq!(net.mn.state(), NodeState::AtHome);
    assert!(matches!(
        net.dataplane().last(),
        Some(DataPlaneRequest::AtHome {
            gratuitous_arp: true,
            ..
        })
    ));
    assert!(net
        .events()
        .iter()
        .any(|e| matches!(e, Event::Deregistered)));
    let counters = net.ha.counters();
    assert_eq!(counters.deregister_requests, 1);
    assert_eq!(counters.accepted, 4);
    assert_eq!(counters.denied, 0);
    // Nothing more happens at home.
    let before = net.mn.counters().requests_sent;
    net.run(at(10_000));
    assert_eq!(net.mn.counters().requests_sent, before);
}

/// RFC 5944 §5.7.1: the mobile node's clock is 1000 s behind (and then ahead): the first
/// request gets 133 with the home agent's time; the node resynchronises and its next request,
/// sent at once, is accepted; later renewals too.
#[test]
fn code_133_resynchronisation_with_a_real_home_agent() {
    for skew in [1000i64, -1000, 30, -8] {
        let mut net = Net::new(node_with(colocated_config()), home_agent(""), skew);
        let t0 = net.mn_time(at(0));
        net.mn.link_changed(t0, IF, true, Some(coloc()));
        net.exchange(at(0));
        assert_eq!(net.mn.state(), NodeState::Registered, "skew {skew}");
        let events = net.events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::ClockResynchronised { .. })),
            "skew {skew}: {events:#?}"
        );
        let offset = net.mn.clock_offset().as_secs_f64();
        assert!(
            (offset - skew as f64).abs() < 1.0,
            "skew {skew}: offset {offset}"
        );
        assert_eq!(net.ha.counters().bad_identification, 1);
        assert_eq!(net.ha.counters().accepted, 1);
        assert_eq!(net.mn.counters().identification_resyncs, 1);
        // Renewals keep being accepted.
        net.run(at(5000));
        assert_eq!(net.ha.counters().bad_identification, 1, "skew {skew}");
        assert!(net.ha.counters().accepted >= 4, "skew {skew}");
        assert_eq!(net.binding_care_of(at(5000)), Some(coloc().address));
    }
}

/// Within the window (±7 s) no resynchronisation is needed.
#[test]
fn small_skew_needs_no_resynchronisation() {
    let mut net = Net::new(node_with(colocated_config()), home_agent(""), 5);
    net.mn
        .link_changed(net.mn_time(at(0)), IF, true, Some(coloc()));
    net.exchange(at(0));
    assert_eq!(net.mn.state(), NodeState::Registered);
    assert_eq!(net.mn.counters().identification_resyncs, 0);
}

/// RFC 5944 §5.7.2: nonces. The first request carries no nonce, the home agent answers 133
/// with one, the node retries at once with it and is accepted; every renewal carries the
/// nonce of the previous reply.
#[test]
fn nonces_with_a_real_home_agent() {
    let mut c = colocated_config();
    c.security_association.replay = ReplayProtection::Nonce;
    let mut net = Net::new(node_with(c), home_agent("replay nonce"), 0);
    net.mn.link_changed(at(0), IF, true, Some(coloc()));
    net.exchange(at(0));
    assert_eq!(net.mn.state(), NodeState::Registered);
    assert_eq!(net.ha.counters().bad_identification, 1);
    net.run(at(6000));
    assert_eq!(net.ha.counters().bad_identification, 1);
    assert!(net.ha.counters().accepted >= 4);
}

/// A home agent that knows another key: every reply fails authentication at the node (and the
/// home agent denies with 131): the node never believes it is registered.
#[test]
fn wrong_key_never_registers() {
    let text = "router mobile\nip mobile home-agent\nip mobile host 10.1.1.5 interface eth0\n\
                ip mobile secure host 10.1.1.5 spi 100 key hex 00112233445566778899aabbccddeeff\n";
    let cfg = mip_config::parse_ios(text, "ha.ios").unwrap();
    let mut net = Net::new(
        node_with(colocated_config()),
        HomeAgent::new(&cfg, &[ha()]),
        0,
    );
    net.mn.link_changed(at(0), IF, true, Some(coloc()));
    net.exchange(at(0));
    net.run(at(200));
    assert_ne!(net.mn.state(), NodeState::Registered);
    assert!(net.mn.counters().replies_failed_authentication >= 1);
    assert_eq!(net.mn.counters().registrations_accepted, 0);
    assert!(net.ha.counters().auth_failed_mn >= 1);
}

/// Through a foreign agent relay end to end, with the lifetime capped by the agent.
#[test]
fn via_foreign_agent_end_to_end() {
    let mut net = Net::new(node(), home_agent(""), 0);
    net.mn.link_changed(at(0), IF, true, None);
    net.exchange(at(0));
    let adv = Adv::fa(fa1()).lifetime(1800).reg_lifetime(300);
    net.mn.handle_advertisement(at(1), IF, fa1(), &adv.bytes());
    net.exchange(at(1));
    assert_eq!(net.binding_care_of(at(1)), Some(fa1()));
    assert_eq!(net.ha.bindings(at(1))[0].lifetime_granted, 300);
    // Renewals every 240 s, the agent advertising every 600 s.
    for t in (600..3000).step_by(600) {
        net.run(at(t));
        net.mn.handle_advertisement(at(t), IF, fa1(), &adv.bytes());
        net.exchange(at(t));
    }
    net.run(at(3000));
    assert_eq!(net.binding_care_of(at(3000)), Some(fa1()));
    // Registered at 1 s, renewed at 241, 481, ... 2881 s.
    assert_eq!(net.ha.counters().accepted, 1 + 12);
    assert_eq!(net.ha.counters().denied, 0);

    // Another network (§2.4.2.2: a different prefix): the binding follows.
    let adv2 = Adv::fa(fa2()).lifetime(1800);
    net.mn
        .handle_advertisement(at(3001), IF, fa2(), &adv2.bytes());
    net.exchange(at(3001));
    assert_eq!(net.binding_care_of(at(3001)), Some(fa2()));
    assert_eq!(net.ha.bindings(at(3001))[0].lifetime_granted, 600);

    // Home again, told by the home agent's advertisement.
    net.mn.link_changed(at(3100), IF, true, None);
    net.exchange(at(3100));
    net.mn
        .handle_advertisement(at(3101), IF, ha(), &Adv::ha().lifetime(1800).bytes());
    net.exchange(at(3101));
    assert_eq!(net.ha.binding_count(), 0);
    assert_eq!(net.mn.state(), NodeState::AtHome);
    assert_eq!(net.mn.counters().moves, 2);
}

/// RFC 2794: a mobile node known by its NAI, with no home address: the home agent assigns one
/// in the reply; the node uses it from then on (renewals, data plane).
#[test]
fn nai_home_address_assigned() {
    let text = format!(
        "router mobile\nip mobile home-agent\n\
         ip mobile host nai mn@example.net address 10.1.1.77 interface eth0\n\
         ip mobile secure host nai mn@example.net spi 100 key hex {KEY}\n"
    );
    let cfg = mip_config::parse_ios(&text, "ha.ios").unwrap_or_else(|e| panic!("{e}"));
    let mut c = colocated_config();
    c.home_address = Ipv4Addr::UNSPECIFIED;
    c.nai = Some("mn@example.net".into());
    let mut net = Net::new(node_with(c), HomeAgent::new(&cfg, &[ha()]), 0);
    net.mn.link_changed(at(0), IF, true, Some(coloc()));
    net.exchange(at(0));
    assert_eq!(net.mn.state(), NodeState::Registered);
    assert_eq!(net.mn.home_address(), a("10.1.1.77"));
    assert!(matches!(
        net.dataplane().last(),
        Some(DataPlaneRequest::UseColocated { home_address, .. }) if *home_address == a("10.1.1.77")
    ));
    net.run(at(4000));
    assert_eq!(net.ha.counters().denied, 0);
    assert!(net.ha.counters().accepted >= 3);
    assert_eq!(net.ha.bindings(at(4000))[0].home_address, a("10.1.1.77"));
}
