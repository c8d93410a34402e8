//! The foreign agent and mobile node views fit the cores' data: a real `mip_mn::MobileNode`
//! registers through a real `mip_fa::ForeignAgent` with a real `mip_ha::HomeAgent`, all in
//! virtual time (advertisement, solicitation, request relayed, reply relayed). The visitor is
//! seed 000's sample (20.0.0.1 on Ethernet1/2, MAC 0060.837b.95ec, HA 66.0.0.5, lifetime
//! 30000, reverse tunnel) but for the identification, which the mobile node makes from the
//! clock and its random generator.
//!
//! The conversions below are the reference for `mipd` (snapshot → view); the daemon uses the
//! same ones from `mip_control::convert` (cargo features `fa` and `mn`), and the tests check
//! that both agree.

use mip_control::convert;
use mip_control::views::*;
use mip_control::VisitorFilter;
use mip_fa::{FaInterface, FaOptions, ForeignAgent, PendingSnapshot, VisitorSnapshot};
use mip_ha::{HaPolicy, HomeAgent};
use mip_mn::{MnHaSecurity, MobileNode, MobileNodeConfig};
use mip_security::{Key, SecurityAssociation};
use mipctl::show;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------
// Reference conversions (what mipd does)
// ---------------------------------------------------------------------------------------

/// The router's flag letters, upper case when set (as `mip_ha::snapshot::flags_text`).
fn flags_text(flags: u8) -> String {
    [
        (0x80, 'S'),
        (0x40, 'B'),
        (0x20, 'D'),
        (0x10, 'M'),
        (0x08, 'G'),
        (0x04, 'V'),
        (0x02, 'T'),
    ]
    .iter()
    .map(|&(bit, c)| {
        if flags & bit != 0 {
            c
        } else {
            c.to_ascii_lowercase()
        }
    })
    .collect()
}

/// A visitor. The core's `routing_options` letters (`"T"`, `"BG"`) map one to one onto
/// [`RoutingOption`]; the tunnel is named by the daemon (the core does not name tunnels).
fn visitor_view(v: &VisitorSnapshot, tunnel_name: &str) -> VisitorView {
    let routing_options = v
        .routing_options
        .chars()
        .filter_map(|c| match c {
            'S' => Some(RoutingOption::SimultaneousBindings),
            'B' => Some(RoutingOption::Broadcast),
            'D' => Some(RoutingOption::DirectToMobileNode),
            'M' => Some(RoutingOption::MinimalEncapsulation),
            'G' => Some(RoutingOption::Gre),
            'T' => Some(RoutingOption::ReverseTunnel),
            _ => None,
        })
        .collect();
    VisitorView {
        home_address: v.home_address,
        nai: v.nai.clone(),
        session_id: v.session_id.clone(),
        interface: v.interface.clone(),
        mac_address: v.mac_text.clone(),
        source_address: *v.source.ip(),
        destination_address: v.destination,
        source_port: v.source.port(),
        home_agent: v.home_agent,
        care_of_address: v.care_of_address,
        identification: v.identification,
        identification_text: v.identification_text.clone(),
        lifetime_granted: u32::from(v.lifetime_granted),
        remaining_secs: v.remaining_secs,
        tunnel: TunnelRefView {
            name: tunnel_name.to_string(),
            source: v.tunnel_source,
            destination: v.tunnel_destination,
        },
        reverse_allowed: v.reverse_tunnel,
        flags: v.flags,
        flags_text: flags_text(v.flags),
        routing_options,
        encapsulation: EncapsulationView::from_protocol(u8::from(v.encapsulation))
            .unwrap_or(EncapsulationView::IpIp),
    }
}

/// A pending request.
fn pending_view(p: &PendingSnapshot) -> PendingView {
    PendingView {
        home_address: p.home_address,
        nai: p.nai.clone(),
        session_id: p.session_id.clone(),
        interface: p.interface.clone(),
        mac_address: p.mac_text.clone(),
        source_address: *p.source.ip(),
        destination_address: p.destination,
        source_port: p.source.port(),
        home_agent: p.home_agent,
        care_of_address: p.care_of_address,
        identification: p.identification,
        identification_text: p.identification_text.clone(),
        lifetime_requested: u32::from(p.lifetime_requested),
        remaining_secs: p.remaining_secs,
        flags: p.flags,
        flags_text: flags_text(p.flags),
    }
}

/// The foreign agent's counters: same field names as the view, so JSON converts them.
fn fa_traffic_view(c: &mip_fa::Counters) -> FaTrafficView {
    serde_json::from_value(serde_json::to_value(c).unwrap()).unwrap()
}

/// The mobile node's state: the view has the core's fields, renamed where the view is more
/// general (`foreign_agent` → `agent_address`, `flags` → `flags_text`,
/// `lifetime_remaining_secs` → `remaining_secs`), the enums with the same spellings, the
/// clock offset in milliseconds.
fn node_view(s: &mip_mn::Snapshot) -> NodeView {
    fn spelled<T: serde::de::DeserializeOwned>(v: impl serde::Serialize) -> T {
        serde_json::from_value(serde_json::to_value(v).unwrap()).unwrap()
    }
    NodeView {
        state: spelled(s.state),
        home_address: s.home_address,
        home_agent: s.home_agent,
        nai: s.nai.clone(),
        interface: s.interface.clone(),
        attachment: s.attachment.map(spelled),
        agent_address: s.foreign_agent,
        care_of_address: s.care_of_address,
        flags_text: s.flags.clone(),
        lifetime_requested: s.lifetime_requested.map(u32::from),
        lifetime_granted: s.lifetime_granted.map(u32::from),
        remaining_secs: s.lifetime_remaining_secs,
        renewal_in_secs: s.renewal_in_secs,
        last_reply_code: s.last_reply_code,
        last_reply_name: s.last_reply_name.clone(),
        retransmissions: s.retransmissions,
        clock_offset_ms: (s.clock_offset_secs * 1000.0).round() as i64,
        counters: spelled(s.counters),
        agents: s
            .agents
            .iter()
            .map(|a| HeardAgentView {
                interface: a.interface.clone(),
                address: a.address,
                flags_text: a.flags.clone(),
                sequence: a.sequence,
                advertisement_lifetime: u32::from(a.advertisement_lifetime),
                expires_in_secs: a.expires_in_secs,
                last_heard_secs_ago: a.last_heard_secs_ago,
                registration_lifetime: u32::from(a.registration_lifetime),
                care_of_addresses: a.care_of_addresses.clone(),
                prefixes: a.prefixes.clone(),
                current: a.current,
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------
// The world: mobile node, foreign agent, home agent, one virtual clock
// ---------------------------------------------------------------------------------------

fn a(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

const MN_MAC: [u8; 6] = [0x00, 0x60, 0x83, 0x7b, 0x95, 0xec];
const FA_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x12];
const MN_HA_KEY: &str = "12345678123456781234567812345678";
/// The foreign agent's link (seed 000: requests to 67.0.0.31) and care-of interface
/// (68.0.0.31).
const FA_LINK_IF: &str = "Ethernet1/2";
const FA_COA_IF: &str = "Ethernet0/0";

const FA_CONFIG: &str = "\
interface Ethernet0/0
 ip address 68.0.0.31 255.0.0.0
interface Ethernet1/2
 ip address 67.0.0.31 255.0.0.0
 ip irdp
 ip irdp maxadvertinterval 10
 ip irdp minadvertinterval 7
 ip mobile foreign-service reverse-tunnel
 ip mobile registration-lifetime 36000
!
router mobile
!
ip mobile foreign-agent care-of Ethernet0/0
";

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

struct World {
    now: SystemTime,
    fa: ForeignAgent,
    mn: MobileNode,
    ha: HomeAgent,
    /// While set, the home agent's replies wait here (to see the pending table).
    hold_replies: Option<Vec<mip_ha::Transmit>>,
}

impl World {
    fn new() -> World {
        let config = mip_config::parse_ios(FA_CONFIG, "fa.ios").unwrap();
        let fa = ForeignAgent::with_options(
            &config,
            vec![
                FaInterface {
                    name: FA_COA_IF.into(),
                    address: a("68.0.0.31"),
                    prefix_len: 8,
                    up: true,
                    link_layer: [2, 0, 0, 0, 0, 0x11],
                },
                FaInterface {
                    name: FA_LINK_IF.into(),
                    address: a("67.0.0.31"),
                    prefix_len: 8,
                    up: true,
                    link_layer: FA_MAC,
                },
            ],
            FaOptions::default(),
        );
        let sa = SecurityAssociation::with_defaults(0x100, Key::from_hex(MN_HA_KEY).unwrap());
        let policy = HaPolicy::default()
            .host_group_on_virtual_network(
                a("20.0.0.1"),
                a("20.0.0.10"),
                a("20.0.0.0"),
                a("255.0.0.0"),
            )
            .mobile_node_sa(a("20.0.0.1"), a("20.0.0.10"), sa);
        let ha = HomeAgent::with_policy(policy, &[a("66.0.0.5")]);
        let mut mn_config = MobileNodeConfig::new(
            a("20.0.0.1"),
            a("66.0.0.5"),
            "20.0.0.0/8".parse().unwrap(),
            MnHaSecurity::new(0x100, Key::from_hex(MN_HA_KEY).unwrap()),
            vec!["eth0".into()],
        );
        mn_config.lifetime = 30000;
        mn_config.flags.reverse_tunnel = true;
        mn_config.solicitation.jitter_percent = 0;
        let mn = MobileNode::new(mn_config, *b"seed-for-tests!!").unwrap();
        World {
            now: t0(),
            fa,
            mn,
            ha,
            hold_replies: None,
        }
    }

    /// The mobile node's link comes up (it solicits), the agents start.
    fn start(mut self) -> World {
        let now = self.now;
        self.mn.link_changed(now, "eth0", true, None);
        self.pump();
        self.timeouts();
        self
    }

    /// Delivers every queued output until nothing moves.
    fn pump(&mut self) {
        let now = self.now;
        for _ in 0..1000 {
            let mut moved = false;
            while self.fa.poll_dataplane().is_some() {}
            while let Some(t) = self.fa.poll_transmit() {
                moved = true;
                if t.interface.is_some() {
                    // A reply relayed to the mobile node on its link.
                    self.mn.handle_reply(now, t.source, &t.payload);
                } else {
                    // A request relayed to the home agent.
                    self.ha
                        .handle_request(now, t.source, *t.destination.ip(), &t.payload);
                }
            }
            while let Some(adv) = self.fa.poll_advertisement() {
                moved = true;
                if adv.interface == FA_LINK_IF {
                    self.mn.handle_advertisement_from(
                        now,
                        "eth0",
                        adv.source,
                        Some(FA_MAC),
                        &adv.payload,
                    );
                }
            }
            while self.ha.poll_store().is_some() {}
            while self.ha.poll_dataplane().is_some() {}
            while let Some(t) = self.ha.poll_transmit() {
                moved = true;
                match &mut self.hold_replies {
                    Some(held) => held.push(t),
                    None => self.fa.handle_udp(
                        now,
                        Some(FA_COA_IF),
                        SocketAddrV4::new(t.source, 434),
                        *t.destination.ip(),
                        None,
                        &t.payload,
                    ),
                }
            }
            while self.mn.poll_dataplane().is_some() {}
            while self.mn.poll_event().is_some() {}
            while let Some(t) = self.mn.poll_transmit() {
                moved = true;
                self.fa.handle_udp(
                    now,
                    Some(FA_LINK_IF),
                    SocketAddrV4::new(t.source, 434),
                    *t.destination.ip(),
                    Some(MN_MAC),
                    &t.payload,
                );
            }
            while let Some(s) = self.mn.poll_solicitation() {
                moved = true;
                self.fa
                    .handle_solicitation(now, FA_LINK_IF, a("20.0.0.1"), &s.payload);
            }
            if !moved {
                return;
            }
        }
        panic!("the world does not settle");
    }

    fn next_deadline(&mut self) -> Option<SystemTime> {
        [
            self.fa.poll_timeout(),
            self.mn.poll_timeout(),
            self.ha.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs the timers due now.
    fn timeouts(&mut self) {
        let now = self.now;
        if self.fa.poll_timeout().is_some_and(|t| t <= now) {
            self.fa.handle_timeout(now);
        }
        if self.mn.poll_timeout().is_some_and(|t| t <= now) {
            self.mn.handle_timeout(now);
        }
        if self.ha.poll_timeout().is_some_and(|t| t <= now) {
            self.ha.handle_timeout(now);
        }
        self.pump();
    }

    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..100_000 {
            match self.next_deadline() {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.timeouts();
                }
                _ => {
                    self.now = end;
                    self.timeouts();
                    return;
                }
            }
        }
        panic!("timers do not settle");
    }

    fn release_replies(&mut self) {
        let now = self.now;
        for t in self.hold_replies.take().unwrap_or_default() {
            self.fa.handle_udp(
                now,
                Some(FA_COA_IF),
                SocketAddrV4::new(t.source, 434),
                *t.destination.ip(),
                None,
                &t.payload,
            );
        }
        self.pump();
    }
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn seed000_visitor_from_a_real_registration() {
    let mut w = World::new().start();
    w.advance(Duration::from_secs(1));
    assert_eq!(w.fa.visitor_count(), 1, "registered through the FA");
    // 44 seconds later, as in seed 000 (08:20:00 granted, 08:19:16 remaining).
    w.advance(Duration::from_secs(44));
    let snaps = w.fa.visitors(w.now);
    let list = VisitorList {
        total: snaps.len() as u64,
        visitors: snaps.iter().map(|v| visitor_view(v, "Tunnel100")).collect(),
    };
    // The daemon's conversion agrees with the reference.
    assert_eq!(
        convert::fa::visitor_list(&snaps, |_| "Tunnel100".into()),
        list
    );
    let v = &list.visitors[0];
    let remaining = v.remaining_secs.unwrap();
    assert!((29954..=29956).contains(&remaining), "{remaining}");
    let expected = format!(
        "\
Mobile Visitor List:
Total 1
20.0.0.1:
    Interface Ethernet1/2, MAC addr 0060.837b.95ec
    IP src 20.0.0.1, dest 67.0.0.31, UDP src port 434
    HA addr 66.0.0.5, Identification {}
    Lifetime 08:20:00 (30000) Remaining {}
    Tunnel100 src 68.0.0.31, dest 66.0.0.5, reverse-allowed
    Routing Options - (T)Reverse-tunnel
",
        v.identification_text,
        show::hms(remaining)
    );
    assert_eq!(show::visitor_list(&list), expected);
    // The identification is the mobile node's timestamp (RFC 5944 §5.7.1): NTP seconds.
    let ntp_secs = 1_700_000_000 + mip_security::ntp::NTP_UNIX_OFFSET_SECS;
    assert!(((v.identification >> 32) as i64 - ntp_secs as i64).abs() <= 2);
    assert_eq!(v.flags_text, "sbdmgvT");
    // Through JSON, as the console gets it.
    let json = serde_json::to_string(&list).unwrap();
    assert_eq!(serde_json::from_str::<VisitorList>(&json).unwrap(), list);

    // Filters, and the summary.
    let f = VisitorFilter::Address {
        address: a("20.0.0.1"),
    };
    assert!(snaps.iter().all(|s| convert::fa::visitor_matches(s, &f)));
    let f = VisitorFilter::Address {
        address: a("20.0.0.2"),
    };
    assert!(!snaps.iter().any(|s| convert::fa::visitor_matches(s, &f)));
    let summary = convert::fa::visitor_summary(&snaps, w.fa.pending_count(), &w.fa.interfaces());
    assert_eq!(
        show::visitor_summary(&summary),
        "\
Mobile Visitor List:
Total 1
    NAI 0, Reverse tunnels 1, Tunnels 1, Pending 0
    Ethernet1/2: 1 visitor
"
    );
}

#[test]
fn pending_request_from_a_real_registration() {
    let mut w = World::new();
    w.hold_replies = Some(Vec::new());
    let mut w = w.start();
    assert_eq!(w.fa.pending_count(), 1);
    // Half a second later (before the mobile node retransmits with a new identification).
    w.advance(Duration::from_millis(500));
    let snaps = w.fa.pending(w.now);
    let list = PendingList {
        total: snaps.len() as u64,
        pending: snaps.iter().map(pending_view).collect(),
    };
    assert_eq!(convert::fa::pending_list(&snaps, None), list);
    assert_eq!(
        convert::fa::pending_list(&snaps, Some(a("20.0.0.9"))).total,
        0
    );
    let p = &list.pending[0];
    let text = show::pending_list(&list);
    let expected = format!(
        "\
Mobile Pending List:
Total 1
20.0.0.1:
    Interface Ethernet1/2, MAC addr 0060.837b.95ec
    IP src 20.0.0.1, dest 67.0.0.31, UDP src port 434
    HA addr 66.0.0.5, Identification {}
    Lifetime requested 08:20:00 (30000) Remaining {}
    Care-of addr 68.0.0.31, Flags sbdmgvT
",
        p.identification_text,
        show::hms(p.remaining_secs)
    );
    assert_eq!(text, expected);
    // reg-wait is 15 s by default.
    assert_eq!(p.remaining_secs, 14, "{text}");
    let ps = convert::fa::pending_summary(&snaps, &w.fa.interfaces());
    assert_eq!(
        show::pending_summary(&ps),
        "\
Mobile Pending List:
Total 1
    Mobile nodes 1, NAI 0, Deregister 0
    Ethernet1/2: 1 request
"
    );
    // The mobile node retransmits (a new identification, a new entry), oldest first.
    w.advance(Duration::from_secs(3));
    let later = convert::fa::pending_list(&w.fa.pending(w.now), Some(a("20.0.0.1")));
    assert!(later.total >= 2, "{later:?}");
    assert_eq!(later.pending[0].identification, p.identification);
    // The replies come: the requests leave the table, the visitor appears.
    w.release_replies();
    assert_eq!(w.fa.pending_count(), 0);
    assert_eq!(w.fa.visitor_count(), 1);
}

#[test]
fn traffic_with_the_foreign_agent_section() {
    let mut w = World::new().start();
    w.advance(Duration::from_secs(30));
    let c = *w.fa.counters();
    let fa = fa_traffic_view(&c);
    assert_eq!(convert::fa::fa_traffic_view(&c), fa);
    assert_eq!(fa.requests_in, 1);
    assert_eq!(fa.requests_forwarded, 1);
    assert_eq!(fa.replies_in, 1);
    assert_eq!(fa.replies_forwarded, 1);
    assert_eq!(fa.visitors_added, 1);
    assert!(fa.solicitations_received >= 1);
    assert!(fa.advertisements_response_to_solicitation >= 1);

    // A foreign agent only: the home agent part is zero.
    let t = convert::fa::traffic_view(None, &c);
    let text = show::traffic(&t);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[2],
        format!("    Solicitations received {}", fa.solicitations_received)
    );
    assert_eq!(
        lines[3],
        format!(
            "    Advertisements sent {}, response to solicitation {}",
            fa.advertisements_sent, fa.advertisements_response_to_solicitation
        )
    );
    let at = lines
        .iter()
        .position(|l| *l == "Foreign Agent Registrations:")
        .expect("FA section");
    assert_eq!(
        &lines[at + 1..at + 9],
        &[
            "    Request in 1, Forwarded 1, Denied 0, Ignored 0",
            "    Unspecified 0, HA unreachable 0",
            "    Administrative prohibited 0, No resource 0",
            "    Bad lifetime 0, Bad request form 0",
            "    Unsupported encapsulation 0, Unsupported reverse tunnel 0",
            "    Reply in 1, Forwarded 1, Bad 0, Ignored 0",
            "    Authentication failed MN 0, HA 0",
            "    Unknown challenge 0, Missing challenge 0, Stale challenge 0",
        ]
    );
    assert!(text.ends_with("    Visitors added 1, deregistered 0, expired 0, cleared 0\n"));

    // With a home agent in the same daemon: its counters, plus the FA's advertisements.
    let ha_part = TrafficView {
        advertisements_sent: 2,
        accepted: 5,
        ..TrafficView::default()
    };
    let both = convert::fa::traffic_view(Some(ha_part), &c);
    assert_eq!(both.accepted, 5);
    assert_eq!(both.advertisements_sent, 2 + fa.advertisements_sent);
    // Old daemons (no foreign agent) still parse, and print no FA section.
    let mut j = serde_json::to_value(&both).unwrap();
    j.as_object_mut().unwrap().remove("foreign_agent");
    let old: TrafficView = serde_json::from_value(j).unwrap();
    assert!(!show::traffic(&old).contains("Foreign Agent"));
}

#[test]
fn node_view_from_a_real_mobile_node() {
    let mut w = World::new().start();
    w.advance(Duration::from_secs(60));
    let snap = w.mn.snapshot(w.now);
    let view = node_view(&snap);
    assert_eq!(convert::mn::node_view(&snap), view);
    assert_eq!(view.state, NodeStateView::Registered);
    assert_eq!(view.attachment, Some(AttachmentView::ForeignAgent));
    assert_eq!(view.agent_address, Some(a("67.0.0.31")));
    assert_eq!(view.care_of_address, Some(a("68.0.0.31")));
    assert_eq!(view.lifetime_granted, Some(30000));
    assert_eq!(view.last_reply_code, Some(0));
    let text = show::node(&view);
    let remaining = view.remaining_secs.unwrap();
    let renewal = view.renewal_in_secs.unwrap();
    let agent = &view.agents[0];
    let expected = format!(
        "\
Mobile Node:
    State registered
    Home addr 20.0.0.1, HA addr 66.0.0.5
    Interface eth0, Attachment foreign agent
    FA addr 67.0.0.31, Care-of addr 68.0.0.31
    Flags {}, Lifetime requested 08:20:00 (30000)
    Lifetime granted 08:20:00 (30000), remaining {}, renewal in {}
    Last reply '{}' (0), Retransmissions 0
Counters:
    Requests sent 1, Retransmissions 0, Deregister 0
    Replies received 1, Accepted 1, Deregister accepted 0
    Denied by FA 0, by HA 0, Identification resync 0
    Replies dropped: malformed 0, unexpected 0, identification 0
    Replies dropped: other MN 0, authentication 0, unknown extension 0
    No reply 0, Bindings expired 0, Moves {}
    Advertisements received {}, ignored 0, Solicitations sent {}
    Agent reboots 0, Agents lost 0
Agents Heard:
Total 1
67.0.0.31 (current):
    Interface eth0, Flags {}, Sequence {}
    Lifetime {} ({}) Remaining {}, heard {} ago
    Registration lifetime 10:00:00 (36000)
    Care-of addr 68.0.0.31
{}",
        view.flags_text.as_deref().unwrap(),
        show::hms(remaining),
        show::hms(renewal),
        view.last_reply_name.as_deref().unwrap(),
        view.counters.moves,
        view.counters.advertisements_received,
        view.counters.solicitations_sent,
        agent.flags_text,
        agent.sequence,
        show::hms(u64::from(agent.advertisement_lifetime)),
        agent.advertisement_lifetime,
        show::hms(agent.expires_in_secs),
        show::hms(agent.last_heard_secs_ago),
        if agent.prefixes.is_empty() {
            String::new()
        } else {
            format!("    Prefixes {}\n", agent.prefixes.join(", "))
        }
    );
    assert_eq!(text, expected, "\n{text}");
    assert!((30000 - 61..=30000 - 59).contains(&remaining), "{text}");
    assert!(agent.flags_text.contains('F') && agent.flags_text.contains('T'));
    assert!(view.counters.solicitations_sent >= 1);
    // Through JSON.
    let json = serde_json::to_string(&view).unwrap();
    assert_eq!(serde_json::from_str::<NodeView>(&json).unwrap(), view);
}

#[test]
fn foreign_agent_violations_are_listed_under_home_agents() {
    let v = mip_fa::Violation {
        address: a("66.0.0.5"),
        nai: None,
        home_agent: true,
        time_ms: 1_018_724_668_000,
        spi: 0x200,
        identification: 0xB751_0E60_6443_6B38,
        code: 68,
        reason: mip_fa::ViolationReason::BadAuthenticator,
    };
    let list = convert::fa::violation_list(1, [&v]);
    assert_eq!(list.violations[0].identification_text, "B7510E60.64436B38");
    assert_eq!(
        show::violations(&list),
        "\
Security Violation Log:
Home Agents:
66.0.0.5:
    Violations: 1, Last time: 04/13/02 19:04:28
    SPI: 200, Identification: B7510E60.64436B38
    Security Violation reason: Bad authenticator
"
    );
}
