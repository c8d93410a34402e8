//! Text of the `show ip mobile ...` answers, in the style of the router's samples (seeds 000
//! and 002).
//!
//! Conventions, where the seeds leave a choice:
//!
//! * Indentation of the lines under a title is four spaces (seed 000); lines end without
//!   trailing blanks (the router's `Src Addr 68.0.0.31, ` becomes `Src Addr 68.0.0.31,`).
//! * Durations are `hh:mm:ss`; an infinite lifetime (65535) is `INFINITE`:
//!   `Lifetime granted INFINITE (65535), remaining INFINITE`.
//! * SPIs are hexadecimal, as in the configuration (`spi 300` is 0x300). Binding SA lines add
//!   the decimal value as seed 000 does: `SPI 333 (decimal 819)`.
//! * Keys are hidden (`Key <hidden, 16 bytes>`) unless `--show-keys`; then the hexadecimal
//!   key, preceded by the ASCII form in quotes when it was configured with `key ascii`
//!   (`Key 'oldkey' 6f6c646b6579`).
//! * Times (last accepted, last violation) are the router's `MM/DD/YY hh:mm:ss`, in UTC.
//! * A binding registered with an NAI is titled by the NAI (`user@realm:`), followed by a
//!   `Home addr A` line, as in the visitor list of seed 000.
//! * The visitor list reproduces seed 000's samples exactly: a visitor registered with an
//!   NAI is titled by the NAI indented and without colon, then `Home addr A`; the tunnel line
//!   has commas (`Tunnel100 src 68.0.0.31, dest 66.0.0.5, reverse-allowed`); `Session
//!   identifier ID` comes last. Without a known MAC address the first line is `Interface IF`.
//! * The pending table (`Mobile Pending List:`), the summaries, the "Foreign Agent
//!   Registrations:" lines beyond the router's, `show ip mobile node` and
//!   `show ip mobile dataplane` are ours, in the same style (absent values `-none-`).

use mip_control::views::*;
use mip_control::PeerKind;
use std::fmt::Write;
use std::net::Ipv4Addr;

/// Indentation of the lines of an entry.
const IND: &str = "    ";

/// `hh:mm:ss` (hours may exceed 99).
pub fn hms(secs: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The router's date: `MM/DD/YY hh:mm:ss` (UTC).
pub fn router_time(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let tod = secs % 86_400;
    format!("{:02}/{:02}/{:02} {}", m, d, y.rem_euclid(100), hms(tod))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn lifetime_granted(secs: u32) -> String {
    if secs == INFINITE_LIFETIME {
        format!("INFINITE ({secs})")
    } else {
        format!("{} ({secs})", hms(u64::from(secs)))
    }
}

fn remaining(secs: Option<u64>) -> String {
    secs.map_or_else(|| "INFINITE".to_string(), hms)
}

fn prefix(network: Ipv4Addr, prefix_len: u8) -> String {
    format!("{network}/{prefix_len}")
}

fn home_link(h: &HomeLinkView) -> String {
    match h {
        HomeLinkView::Interface { name } => format!("Home link on interface {name}"),
        HomeLinkView::VirtualNetwork {
            network,
            prefix_len,
        } => format!(
            "Home link on virtual network {}",
            prefix(*network, *prefix_len)
        ),
    }
}

fn allowed_lifetime(secs: u32, default: bool) -> String {
    let src = if default { "Default" } else { "Group" };
    if secs == INFINITE_LIFETIME {
        format!("Allowed lifetime INFINITE ({secs}/{src})")
    } else {
        format!("Allowed lifetime {} ({secs}/{src})", hms(u64::from(secs)))
    }
}

fn replay_text(r: &ReplayView, compact: bool) -> String {
    match r {
        // Seed 002 (`secure`) writes "+/- 7", seed 000 (binding SA lines) "+/-255".
        ReplayView::Timestamp { window_secs } if compact => format!("Timestamp +/-{window_secs}"),
        ReplayView::Timestamp { window_secs } => format!("Timestamp +/- {window_secs}"),
        ReplayView::Nonce => "Nonce".to_string(),
    }
}

fn hidden_key(len: usize) -> String {
    format!("Key <hidden, {len} bytes>")
}

fn last_time(ms: Option<u64>) -> String {
    match ms {
        Some(ms) if ms > 0 => router_time(ms),
        _ => "-never-".to_string(),
    }
}

/// The router's name for a reply code (`Last code`).
pub fn code_text(code: u8) -> String {
    mip_wire::codes::ReplyCode::from(code).name().to_string()
}

fn none_dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-none-")
}

fn enabled(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

// ---------------------------------------------------------------------------------------

/// `show ip mobile binding ...`.
pub fn binding_list(v: &BindingList) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Mobility Binding List:");
    let _ = writeln!(s, "Total {}", v.total);
    for b in &v.bindings {
        binding(&mut s, b);
    }
    s
}

fn binding(s: &mut String, b: &BindingView) {
    match &b.nai {
        Some(nai) => {
            let _ = writeln!(s, "{nai}:");
            let _ = writeln!(s, "{IND}Home addr {}", b.home_address);
        }
        None => {
            let _ = writeln!(s, "{}:", b.home_address);
        }
    }
    let _ = writeln!(
        s,
        "{IND}Care-of Addr {}, Src Addr {},",
        b.care_of_address, b.source_address
    );
    let _ = writeln!(
        s,
        "{IND}Lifetime granted {}, remaining {}",
        lifetime_granted(b.lifetime_granted),
        remaining(b.remaining_secs)
    );
    let _ = writeln!(
        s,
        "{IND}Flags {}, Identification {},",
        b.flags_text, b.identification_text
    );
    let _ = writeln!(
        s,
        "{IND}{} src {} dest {} {}",
        b.tunnel.name,
        b.tunnel.source,
        b.tunnel.destination,
        if b.reverse_allowed {
            "reverse-allowed"
        } else {
            "reverse-off"
        }
    );
    let _ = writeln!(s, "{IND}{}", routing_options(&b.routing_options));
    if !b.service_options.is_empty() {
        let _ = writeln!(s, "{IND}Service Options:");
        for o in &b.service_options {
            let _ = writeln!(s, "{IND}  {o}");
        }
    }
    for (i, n) in b.mobile_networks.iter().enumerate() {
        let title = if i == 0 {
            "Mobile Networks: "
        } else {
            "                 "
        };
        let _ = writeln!(
            s,
            "{IND}{title}{}/{} ({})",
            n.network,
            n.mask,
            if n.dynamic { 'D' } else { 'S' }
        );
    }
    if let Some(id) = &b.session_id {
        let _ = writeln!(s, "{IND}Session identifier {id}");
    }
    for sa in &b.security_associations {
        let _ = writeln!(
            s,
            "{IND}SPI {:X} (decimal {}) {}, {}, {}, {}",
            sa.spi,
            sa.spi,
            sa.algorithm.text(),
            sa.mode.text(),
            replay_text(&sa.replay, true),
            sa.kind.text()
        );
        match &sa.key {
            Some(k) => {
                let _ = writeln!(s, "{IND}Key {k}");
            }
            None => {
                let _ = writeln!(s, "{IND}{}", hidden_key(sa.key_len));
            }
        }
    }
}

/// `Routing Options - (G)GRE`, or `Routing Options` when none.
pub fn routing_options(opts: &[RoutingOption]) -> String {
    if opts.is_empty() {
        return "Routing Options".to_string();
    }
    let mut o = opts.to_vec();
    o.sort();
    o.dedup();
    let items: Vec<String> = o
        .iter()
        .map(|r| format!("({}){}", r.letter(), r.name()))
        .collect();
    format!("Routing Options - {}", items.join(" "))
}

/// `show ip mobile binding summary`.
pub fn binding_summary(v: &BindingSummary) -> String {
    format!(
        "Mobility Binding List:\nTotal {}\n{IND}Mobile nodes {}, NAI {}, Reverse tunnels {}, Tunnels {}\n",
        v.total, v.mobile_nodes, v.with_nai, v.reverse_tunnels, v.tunnels
    )
}

/// `show ip mobile traffic`: the lines of seed 002 in its order, then the extra counters.
pub fn traffic(t: &TrafficView) -> String {
    let mut s = String::new();
    let mut l = |line: String| {
        s.push_str(&line);
        s.push('\n');
    };
    l("IP Mobility traffic:".into());
    l("Advertisements:".into());
    l(format!(
        "{IND}Solicitations received {}",
        t.solicitations_received
    ));
    l(format!(
        "{IND}Advertisements sent {}, response to solicitation {}",
        t.advertisements_sent, t.advertisements_response_to_solicitation
    ));
    l("Home Agent Registrations:".into());
    l(format!(
        "{IND}Register {}, Deregister {} requests",
        t.register_requests, t.deregister_requests
    ));
    l(format!(
        "{IND}Register {}, Deregister {} replied",
        t.register_replied, t.deregister_replied
    ));
    l(format!(
        "{IND}Accepted {}, No simultaneous bindings {}",
        t.accepted, t.no_simultaneous_bindings
    ));
    l(format!("{IND}Denied {}, Ignored {}", t.denied, t.ignored));
    l(format!(
        "{IND}Unspecified {}, Unknown HA {}",
        t.unspecified, t.unknown_ha
    ));
    l(format!(
        "{IND}Administrative prohibited {}, No resource {}",
        t.administratively_prohibited, t.no_resource
    ));
    l(format!(
        "{IND}Authentication failed MN {}, FA {}",
        t.auth_failed_mn, t.auth_failed_fa
    ));
    l(format!(
        "{IND}Bad identification {}, Bad request form {}",
        t.bad_identification, t.bad_request_form
    ));
    // Beyond the seed's sample (which ends in ".."): the router's later lines, then ours.
    l(format!(
        "{IND}Unavailable encap {}, reverse tunnel {}",
        t.encapsulation_unavailable, t.reverse_tunnel_unavailable
    ));
    l(format!(
        "{IND}Reverse tunnel mandatory {}",
        t.reverse_tunnel_mandatory
    ));
    l(format!(
        "{IND}Too many bindings {}, CVSE not understood {}",
        t.too_many_bindings, t.cvse_not_understood
    ));
    l(format!(
        "{IND}Ignored: service disabled {}, malformed {}",
        t.ignored_service_disabled, t.ignored_malformed
    ));
    l(format!(
        "{IND}Ignored: unknown extension {}, no security association {}",
        t.ignored_unknown_extension, t.ignored_no_security_association
    ));
    l(format!(
        "{IND}Gratuitous {}, Proxy {} ARPs sent",
        t.gratuitous_arps, t.proxy_arps
    ));
    l(format!(
        "{IND}Bindings expired {}, cleared {}",
        t.bindings_expired, t.bindings_cleared
    ));
    if let Some(fa) = &t.foreign_agent {
        fa_traffic(&mut s, fa);
    }
    s
}

/// The "Foreign Agent Registrations:" section of `show ip mobile traffic`: the router's lines
/// first (seed 002 cuts its sample before them; `mip_fa::Counters` is named after them), then
/// the core's extra counters.
fn fa_traffic(s: &mut String, f: &FaTrafficView) {
    let mut l = |line: String| {
        s.push_str(&line);
        s.push('\n');
    };
    l("Foreign Agent Registrations:".into());
    l(format!(
        "{IND}Request in {}, Forwarded {}, Denied {}, Ignored {}",
        f.requests_in, f.requests_forwarded, f.requests_denied, f.requests_ignored
    ));
    l(format!(
        "{IND}Unspecified {}, HA unreachable {}",
        f.unspecified, f.ha_unreachable
    ));
    l(format!(
        "{IND}Administrative prohibited {}, No resource {}",
        f.administratively_prohibited, f.no_resource
    ));
    l(format!(
        "{IND}Bad lifetime {}, Bad request form {}",
        f.bad_lifetime, f.bad_request_form
    ));
    l(format!(
        "{IND}Unsupported encapsulation {}, Unsupported reverse tunnel {}",
        f.unsupported_encapsulation, f.unsupported_reverse_tunnel
    ));
    l(format!(
        "{IND}Reply in {}, Forwarded {}, Bad {}, Ignored {}",
        f.replies_in, f.replies_forwarded, f.replies_bad, f.replies_ignored
    ));
    l(format!(
        "{IND}Authentication failed MN {}, HA {}",
        f.auth_failed_mn, f.auth_failed_ha
    ));
    l(format!(
        "{IND}Unknown challenge {}, Missing challenge {}, Stale challenge {}",
        f.unknown_challenge, f.missing_challenge, f.stale_challenge
    ));
    // Beyond the router's lines: the core's.
    l(format!(
        "{IND}Reverse tunnel mandatory {}, Invalid care-of address {}",
        f.reverse_tunnel_mandatory, f.invalid_care_of_address
    ));
    l(format!(
        "{IND}Registration timeout {}, Unsupported delivery style {}",
        f.registration_timeout, f.unsupported_delivery_style
    ));
    l(format!(
        "{IND}Missing home agent {}, NAI {}, home address {}",
        f.missing_home_agent, f.missing_nai, f.missing_home_address
    ));
    l(format!(
        "{IND}CVSE not understood {}, Deregister requests in {}",
        f.cvse_not_understood, f.deregister_requests_in
    ));
    l(format!(
        "{IND}Ignored: service disabled {}, interface {}, malformed {}",
        f.ignored_service_disabled, f.ignored_interface, f.ignored_malformed
    ));
    l(format!(
        "{IND}Ignored: unknown extension {}, other messages {}",
        f.ignored_unknown_extension, f.other_messages_ignored
    ));
    l(format!(
        "{IND}Replies without pending request {}, Solicitations ignored {}",
        f.replies_no_pending, f.solicitations_ignored
    ));
    l(format!(
        "{IND}Visitors added {}, deregistered {}, expired {}, cleared {}",
        f.visitors_added, f.visitors_deregistered, f.visitors_expired, f.visitors_cleared
    ));
}

fn host_counter_lines(s: &mut String, c: &HostCountersView) {
    let _ = writeln!(
        s,
        "{IND}Accepted {}, Last time {}",
        c.accepted,
        last_time(c.last_accepted_ms)
    );
    let _ = writeln!(
        s,
        "{IND}Denied {}, Last time {}",
        c.denied,
        last_time(c.last_denied_ms)
    );
    match c.last_code {
        Some(code) => {
            let _ = writeln!(s, "{IND}Last code '{}' ({code})", code_text(code));
        }
        None => {
            let _ = writeln!(s, "{IND}Last code -never- (0)");
        }
    }
    let _ = writeln!(s, "{IND}Total violations {}", c.violations);
}

/// `show ip mobile host [A]`.
pub fn host_list(v: &HostList) -> String {
    let mut s = String::new();
    for h in &v.hosts {
        let _ = writeln!(s, "{}:", h.home_address);
        if let Some(nai) = &h.nai {
            let _ = writeln!(s, "{IND}NAI {nai}");
        }
        let _ = writeln!(
            s,
            "{IND}{}",
            allowed_lifetime(h.allowed_lifetime, h.lifetime_is_default)
        );
        let _ = writeln!(
            s,
            "{IND}Roaming status {}, {}",
            if h.registered {
                "-Registered-"
            } else {
                "-Unregistered-"
            },
            home_link(&h.home_link)
        );
        host_counter_lines(&mut s, &h.counters);
    }
    s
}

/// `show ip mobile host counters [A]`.
pub fn host_counters(v: &HostCountersList) -> String {
    let mut s = String::new();
    for h in &v.hosts {
        let _ = writeln!(s, "{}:", h.home_address);
        host_counter_lines(&mut s, &h.counters);
    }
    s
}

/// `show ip mobile host group`.
pub fn host_groups(v: &HostGroupList) -> String {
    let mut s = String::new();
    for g in &v.groups {
        match (&g.nai, g.lower, g.upper) {
            (Some(nai), _, _) => {
                let _ = writeln!(s, "nai {nai}:");
                match (g.lower, &g.pool) {
                    (Some(a), _) => {
                        let _ = writeln!(s, "{IND}Home address {a}");
                    }
                    (None, Some(p)) => {
                        let _ = writeln!(s, "{IND}Home addresses from pool {p}");
                    }
                    (None, None) => {}
                }
            }
            (None, Some(lo), Some(hi)) if lo != hi => {
                let _ = writeln!(s, "{lo} - {hi}:");
            }
            (None, Some(lo), _) => {
                let _ = writeln!(s, "{lo}:");
            }
            (None, None, _) => {
                let _ = writeln!(s, "-unknown-:");
            }
        }
        let _ = writeln!(
            s,
            "{IND}{}, Care-of ACL {}",
            home_link(&g.home_link),
            none_dash(&g.care_of_access)
        );
        let sa = match g.sa_source {
            SaSourceView::Local => "Security associations on router",
            SaSourceView::Aaa => "Security associations on AAA server",
            SaSourceView::AaaLoadSa => "Security associations on AAA server, load-sa",
        };
        let _ = writeln!(
            s,
            "{IND}{sa}, {}",
            allowed_lifetime(g.allowed_lifetime, g.lifetime_is_default)
        );
    }
    s
}

/// Header of `show ip mobile secure`.
pub const SECURE_HEADER: &str = "Security Associations (algorithm,mode,replay protection,key):";

fn sa_title(a: &SecureView) -> String {
    match (&a.nai, a.address, a.upper) {
        (Some(nai), _, _) => nai.clone(),
        (None, Some(lo), Some(hi)) if lo != hi => format!("{lo} - {hi}"),
        (None, Some(lo), _) => lo.to_string(),
        (None, None, _) => "-unknown-".to_string(),
    }
}

fn spi_text(a: &SecureView) -> String {
    if a.inbound_spi == a.outbound_spi {
        format!("SPI {:X}", a.inbound_spi)
    } else {
        format!(
            "Inbound SPI {:X}, Outbound SPI {:X}",
            a.inbound_spi, a.outbound_spi
        )
    }
}

/// `show ip mobile secure KIND ...` (full form) or its `summary`.
pub fn secure_list(v: &SecureList, summary: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{SECURE_HEADER}");
    if summary {
        let _ = writeln!(s, "Total {} {}", v.total, peer_plural(v.peer));
        for a in &v.associations {
            let _ = writeln!(
                s,
                "{}: {}, {}, {}, {}",
                sa_title(a),
                spi_text(a),
                a.algorithm.text(),
                a.mode.text(),
                replay_text(&a.replay, false)
            );
        }
        return s;
    }
    for a in &v.associations {
        let _ = writeln!(s, "{}:", sa_title(a));
        let _ = writeln!(
            s,
            "{IND}{}, {}, {}, {},",
            spi_text(a),
            a.algorithm.text(),
            a.mode.text(),
            replay_text(&a.replay, false)
        );
        let key = match (&a.key, &a.key_ascii) {
            (Some(hex), Some(ascii)) => format!("Key '{ascii}' {hex}"),
            (Some(hex), None) => format!("Key {hex}"),
            (None, _) => hidden_key(a.key_len),
        };
        let _ = writeln!(s, "{IND}{key}");
    }
    s
}

fn peer_plural(p: PeerKind) -> &'static str {
    match p {
        PeerKind::Host => "hosts",
        PeerKind::Visitor => "visitors",
        PeerKind::ForeignAgent => "foreign agents",
        PeerKind::HomeAgent => "home agents",
    }
}

/// `show ip mobile violation`: one block per address (the router's per-host summary: count,
/// and the details of the latest), mobile hosts first, then foreign agents (a home agent's
/// log), then home agents (a foreign agent's log).
pub fn violations(v: &ViolationList) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Security Violation Log:");
    for (kind, title) in [
        (0, "Mobile Hosts:"),
        (1, "Foreign Agents:"),
        (2, "Home Agents:"),
    ] {
        let kind_of = |e: &ViolationView| {
            if e.foreign_agent {
                1
            } else if e.home_agent {
                2
            } else {
                0
            }
        };
        // (address, nai) -> (count, latest)
        let mut groups: Vec<(Ipv4Addr, u64, &ViolationView)> = Vec::new();
        for e in v.violations.iter().filter(|e| kind_of(e) == kind) {
            match groups.iter_mut().find(|g| g.0 == e.address) {
                Some(g) => {
                    g.1 += 1;
                    if e.time_ms >= g.2.time_ms {
                        g.2 = e;
                    }
                }
                None => groups.push((e.address, 1, e)),
            }
        }
        if groups.is_empty() {
            continue;
        }
        groups.sort_by_key(|g| g.0);
        let _ = writeln!(s, "{title}");
        for (addr, n, last) in groups {
            match &last.nai {
                Some(nai) => {
                    let _ = writeln!(s, "{nai} ({addr}):");
                }
                None => {
                    let _ = writeln!(s, "{addr}:");
                }
            }
            let _ = writeln!(
                s,
                "{IND}Violations: {n}, Last time: {}",
                router_time(last.time_ms)
            );
            let _ = writeln!(
                s,
                "{IND}SPI: {:X}, Identification: {}",
                last.spi, last.identification_text
            );
            let _ = writeln!(s, "{IND}Security Violation reason: {}", last.reason.text());
        }
    }
    s
}

fn encap_name(e: EncapsulationView) -> &'static str {
    match e {
        EncapsulationView::IpIp => "IPIP",
        EncapsulationView::Gre => "GRE",
        EncapsulationView::Minimal => "MinIP",
    }
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => "-none-".to_string(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `show ip mobile globals`.
pub fn globals(g: &GlobalsView) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "IP Mobility global information:");
    let _ = writeln!(s);
    if g.home_agent_enabled {
        let _ = writeln!(s, "Home Agent");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{IND}Registration lifetime: {} ({} secs)",
            if g.lifetime_secs == INFINITE_LIFETIME {
                "INFINITE".to_string()
            } else {
                hms(u64::from(g.lifetime_secs))
            },
            g.lifetime_secs
        );
        let _ = writeln!(s, "{IND}Broadcast {}", enabled(g.broadcast));
        let _ = writeln!(s, "{IND}Replay protection time: {} secs", g.replay_secs);
        let _ = writeln!(
            s,
            "{IND}Reverse tunnel {}{}",
            enabled(g.reverse_tunnel),
            if g.reverse_tunnel_mandatory {
                ", mandatory"
            } else {
                ""
            }
        );
        let _ = writeln!(s, "{IND}ICMP Unreachable {}", enabled(g.icmp_unreachable));
        for a in &g.home_agent_addresses {
            let _ = writeln!(s, "{IND}Address {a}");
        }
        if !g.virtual_networks.is_empty() {
            let _ = writeln!(s, "{IND}Virtual networks");
            for n in &g.virtual_networks {
                let _ = writeln!(s, "{IND}{IND}{}", prefix(n.network, n.prefix_len));
            }
        }
        let _ = writeln!(
            s,
            "{IND}Roam access list {}, Care-of access list {}",
            none_dash(&g.roam_access),
            none_dash(&g.care_of_access)
        );
        if g.simultaneous_bindings > 1 {
            let _ = writeln!(
                s,
                "{IND}Simultaneous bindings up to {}",
                g.simultaneous_bindings
            );
        } else {
            let _ = writeln!(s, "{IND}Simultaneous bindings not supported");
        }
        match g.max_bindings {
            Some(n) => {
                let _ = writeln!(s, "{IND}Binding limit {n}");
            }
            None => {
                let _ = writeln!(s, "{IND}Binding limit -none-");
            }
        }
        if let Some(r) = &g.redundancy_group {
            let _ = writeln!(s, "{IND}Redundancy group {r}");
        }
        let _ = writeln!(
            s,
            "{IND}Host groups {}, Bindings {}, Tunnels {}",
            g.host_groups, g.bindings, g.tunnels
        );
    } else {
        let _ = writeln!(s, "Home Agent is not enabled");
    }
    let _ = writeln!(s);
    if g.foreign_agent_enabled {
        let _ = writeln!(s, "Foreign Agent");
        let _ = writeln!(s);
        let coa: Vec<&str> = g.care_of_interfaces.iter().map(String::as_str).collect();
        let _ = writeln!(
            s,
            "{IND}Care-of interfaces: {}",
            if coa.is_empty() {
                "-none-".to_string()
            } else {
                coa.join(", ")
            }
        );
    } else if g.care_of_interfaces.is_empty() {
        let _ = writeln!(s, "Foreign Agent is not enabled, no care-of address");
    } else {
        let _ = writeln!(s, "Foreign Agent is not enabled");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{} interfaces providing service",
        g.interfaces_providing_service
    );
    let encaps: Vec<&str> = if g.encapsulations.is_empty() {
        vec!["IPIP"]
    } else {
        g.encapsulations.iter().map(|e| encap_name(*e)).collect()
    };
    let _ = writeln!(s, "Encapsulations supported: {}", join_and(&encaps));
    s
}

/// `show ip mobile tunnel`.
pub fn tunnels(v: &TunnelList) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Mobile Tunnels:");
    let _ = writeln!(s, "Total mobile ip tunnels {}", v.total);
    for t in &v.tunnels {
        let _ = writeln!(s, "{}:", t.name);
        let _ = writeln!(s, "{IND}src {}, dest {}", t.source, t.destination);
        let encap = match t.encapsulation {
            EncapsulationView::IpIp => "IP/IP",
            EncapsulationView::Gre => "GRE/IP",
            EncapsulationView::Minimal => "MIN/IP",
        };
        let _ = writeln!(
            s,
            "{IND}encap {encap}, mode {}, tunnel-users {}",
            if t.reverse_allowed {
                "reverse-allowed"
            } else {
                "reverse-off"
            },
            t.users
        );
        if let Some(mtu) = t.mtu {
            let _ = writeln!(s, "{IND}IP MTU {mtu} bytes");
        }
        if let Some(i) = &t.interface {
            let _ = writeln!(s, "{IND}outbound interface {i}");
        }
        let _ = writeln!(
            s,
            "{IND}{} created",
            if t.created_by_home_agent { "HA" } else { "FA" }
        );
        let _ = writeln!(
            s,
            "{IND}{} packets input, {} bytes, {} drops",
            t.packets_in, t.bytes_in, t.drops_in
        );
        let _ = writeln!(
            s,
            "{IND}{} packets output, {} bytes",
            t.packets_out, t.bytes_out
        );
    }
    s
}

// ---------------------------------------------------------------------------------------
// Foreign agent: show ip mobile visitor
// ---------------------------------------------------------------------------------------

/// The title of a visitor or pending entry: `A:`, or (seed 000, registered with an NAI) the
/// NAI indented, without colon, then `Home addr A`.
fn visitor_title(s: &mut String, nai: &Option<String>, home: Ipv4Addr) {
    match nai {
        Some(nai) => {
            let _ = writeln!(s, "{IND}{nai}");
            let _ = writeln!(s, "{IND}Home addr {home}");
        }
        None => {
            let _ = writeln!(s, "{home}:");
        }
    }
}

fn interface_mac(s: &mut String, interface: &str, mac: &Option<String>) {
    match mac {
        Some(m) => {
            let _ = writeln!(s, "{IND}Interface {interface}, MAC addr {m}");
        }
        None => {
            let _ = writeln!(s, "{IND}Interface {interface}");
        }
    }
}

/// `show ip mobile visitor [A | nai NAI [session-id ID]]`, as seed 000's samples.
pub fn visitor_list(v: &VisitorList) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Mobile Visitor List:");
    let _ = writeln!(s, "Total {}", v.total);
    for e in &v.visitors {
        visitor_title(&mut s, &e.nai, e.home_address);
        interface_mac(&mut s, &e.interface, &e.mac_address);
        let _ = writeln!(
            s,
            "{IND}IP src {}, dest {}, UDP src port {}",
            e.source_address, e.destination_address, e.source_port
        );
        let _ = writeln!(
            s,
            "{IND}HA addr {}, Identification {}",
            e.home_agent, e.identification_text
        );
        let _ = writeln!(
            s,
            "{IND}Lifetime {} Remaining {}",
            lifetime_granted(e.lifetime_granted),
            remaining(e.remaining_secs)
        );
        let _ = writeln!(
            s,
            "{IND}{} src {}, dest {}, {}",
            e.tunnel.name,
            e.tunnel.source,
            e.tunnel.destination,
            if e.reverse_allowed {
                "reverse-allowed"
            } else {
                "reverse-off"
            }
        );
        let _ = writeln!(s, "{IND}{}", routing_options(&e.routing_options));
        if let Some(id) = &e.session_id {
            let _ = writeln!(s, "{IND}Session identifier {id}");
        }
    }
    s
}

/// `show ip mobile visitor pending [A]`: the visitor layout, with the lifetime asked, the time
/// left before the request times out, and the care-of address and flags of the request.
pub fn pending_list(v: &PendingList) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Mobile Pending List:");
    let _ = writeln!(s, "Total {}", v.total);
    for e in &v.pending {
        visitor_title(&mut s, &e.nai, e.home_address);
        interface_mac(&mut s, &e.interface, &e.mac_address);
        let _ = writeln!(
            s,
            "{IND}IP src {}, dest {}, UDP src port {}",
            e.source_address, e.destination_address, e.source_port
        );
        let _ = writeln!(
            s,
            "{IND}HA addr {}, Identification {}",
            e.home_agent, e.identification_text
        );
        let _ = writeln!(
            s,
            "{IND}Lifetime requested {} Remaining {}",
            lifetime_granted(e.lifetime_requested),
            hms(e.remaining_secs)
        );
        let flags = if e.flags_text.is_empty() {
            format!("{:02X}", e.flags)
        } else {
            e.flags_text.clone()
        };
        let _ = writeln!(s, "{IND}Care-of addr {}, Flags {flags}", e.care_of_address);
        if let Some(id) = &e.session_id {
            let _ = writeln!(s, "{IND}Session identifier {id}");
        }
    }
    s
}

fn interface_counts(s: &mut String, items: &[InterfaceCountView], what: &str) {
    for i in items {
        let plural = if i.count == 1 { "" } else { "s" };
        match i.limit {
            Some(n) => {
                let _ = writeln!(
                    s,
                    "{IND}{}: {} {what}{plural}, limit {n}",
                    i.interface, i.count
                );
            }
            None => {
                let _ = writeln!(s, "{IND}{}: {} {what}{plural}", i.interface, i.count);
            }
        }
    }
}

/// `show ip mobile visitor summary`.
pub fn visitor_summary(v: &VisitorSummary) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Mobile Visitor List:");
    let _ = writeln!(s, "Total {}", v.total);
    let _ = writeln!(
        s,
        "{IND}NAI {}, Reverse tunnels {}, Tunnels {}, Pending {}",
        v.with_nai, v.reverse_tunnels, v.tunnels, v.pending
    );
    interface_counts(&mut s, &v.interfaces, "visitor");
    s
}

/// `show ip mobile visitor pending summary`.
pub fn pending_summary(v: &PendingSummary) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Mobile Pending List:");
    let _ = writeln!(s, "Total {}", v.total);
    let _ = writeln!(
        s,
        "{IND}Mobile nodes {}, NAI {}, Deregister {}",
        v.mobile_nodes, v.with_nai, v.deregistrations
    );
    interface_counts(&mut s, &v.interfaces, "request");
    s
}

// ---------------------------------------------------------------------------------------
// Mobile node: show ip mobile node
// ---------------------------------------------------------------------------------------

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-none-".to_string(), |x| x.to_string())
}

fn lifetime_opt(v: Option<u32>) -> String {
    v.map_or_else(|| "-none-".to_string(), lifetime_granted)
}

/// `show ip mobile node` (product-defined, in the style of the binding list): a `Mobile Node:`
/// block (state, addresses, attachment, registration), `Counters:`, then `Agents Heard:`
/// (one block per agent, `A (current):` for the one in use). Absent values are `-none-`.
pub fn node(n: &NodeView) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Mobile Node:");
    let _ = writeln!(s, "{IND}State {}", n.state.text());
    let _ = writeln!(
        s,
        "{IND}Home addr {}, HA addr {}",
        n.home_address, n.home_agent
    );
    if let Some(nai) = &n.nai {
        let _ = writeln!(s, "{IND}NAI {nai}");
    }
    let _ = writeln!(
        s,
        "{IND}Interface {}, Attachment {}",
        opt(&n.interface),
        n.attachment.map_or("-none-", AttachmentView::text)
    );
    let _ = writeln!(
        s,
        "{IND}FA addr {}, Care-of addr {}",
        opt(&n.agent_address),
        opt(&n.care_of_address)
    );
    let _ = writeln!(
        s,
        "{IND}Flags {}, Lifetime requested {}",
        opt(&n.flags_text),
        lifetime_opt(n.lifetime_requested)
    );
    let left = match (n.lifetime_granted, n.remaining_secs) {
        (Some(INFINITE_LIFETIME), _) => "INFINITE".to_string(),
        (_, Some(r)) => hms(r),
        (_, None) => "-none-".to_string(),
    };
    let _ = writeln!(
        s,
        "{IND}Lifetime granted {}, remaining {left}, renewal in {}",
        lifetime_opt(n.lifetime_granted),
        n.renewal_in_secs.map_or_else(|| "-none-".to_string(), hms)
    );
    let last = match (n.last_reply_code, &n.last_reply_name) {
        (Some(c), Some(name)) => format!("'{name}' ({c})"),
        (Some(c), None) => format!("'{}' ({c})", code_text(c)),
        (None, _) => "-none-".to_string(),
    };
    let _ = writeln!(
        s,
        "{IND}Last reply {last}, Retransmissions {}",
        n.retransmissions
    );
    if n.clock_offset_ms != 0 {
        let sign = if n.clock_offset_ms < 0 { "-" } else { "" };
        let ms = n.clock_offset_ms.unsigned_abs();
        let _ = writeln!(
            s,
            "{IND}Clock offset {sign}{}.{:03} secs",
            ms / 1000,
            ms % 1000
        );
    }
    let c = &n.counters;
    let _ = writeln!(s, "Counters:");
    let _ = writeln!(
        s,
        "{IND}Requests sent {}, Retransmissions {}, Deregister {}",
        c.requests_sent, c.retransmissions, c.deregistrations_sent
    );
    let _ = writeln!(
        s,
        "{IND}Replies received {}, Accepted {}, Deregister accepted {}",
        c.replies_received, c.registrations_accepted, c.deregistrations_accepted
    );
    let _ = writeln!(
        s,
        "{IND}Denied by FA {}, by HA {}, Identification resync {}",
        c.denied_by_foreign_agent, c.denied_by_home_agent, c.identification_resyncs
    );
    let _ = writeln!(
        s,
        "{IND}Replies dropped: malformed {}, unexpected {}, identification {}",
        c.replies_malformed, c.replies_unexpected, c.replies_identification_mismatch
    );
    let _ = writeln!(
        s,
        "{IND}Replies dropped: other MN {}, authentication {}, unknown extension {}",
        c.replies_wrong_mobile_node, c.replies_failed_authentication, c.replies_unknown_extension
    );
    let _ = writeln!(
        s,
        "{IND}No reply {}, Bindings expired {}, Moves {}",
        c.no_reply, c.bindings_expired, c.moves
    );
    let _ = writeln!(
        s,
        "{IND}Advertisements received {}, ignored {}, Solicitations sent {}",
        c.advertisements_received, c.advertisements_ignored, c.solicitations_sent
    );
    let _ = writeln!(
        s,
        "{IND}Agent reboots {}, Agents lost {}",
        c.agent_reboots, c.agents_lost
    );
    let _ = writeln!(s, "Agents Heard:");
    let _ = writeln!(s, "Total {}", n.agents.len());
    for a in &n.agents {
        if a.current {
            let _ = writeln!(s, "{} (current):", a.address);
        } else {
            let _ = writeln!(s, "{}:", a.address);
        }
        let _ = writeln!(
            s,
            "{IND}Interface {}, Flags {}, Sequence {}",
            a.interface, a.flags_text, a.sequence
        );
        let _ = writeln!(
            s,
            "{IND}Lifetime {} ({}) Remaining {}, heard {} ago",
            hms(u64::from(a.advertisement_lifetime)),
            a.advertisement_lifetime,
            hms(a.expires_in_secs),
            hms(a.last_heard_secs_ago)
        );
        let _ = writeln!(
            s,
            "{IND}Registration lifetime {}",
            lifetime_granted(a.registration_lifetime)
        );
        if !a.care_of_addresses.is_empty() {
            let coa: Vec<String> = a.care_of_addresses.iter().map(|c| c.to_string()).collect();
            let _ = writeln!(s, "{IND}Care-of addr {}", coa.join(", "));
        }
        if !a.prefixes.is_empty() {
            let _ = writeln!(s, "{IND}Prefixes {}", a.prefixes.join(", "));
        }
    }
    s
}

// ---------------------------------------------------------------------------------------
// Every role: show ip mobile dataplane
// ---------------------------------------------------------------------------------------

/// `show ip mobile dataplane` (product-defined, in the style of `show ip mobile node`): a
/// `Mobile Data Plane:` block (kind and why, then the TUN device, queues, offloads, transmit
/// mode and tunnels), then the engine's counters by group: `Into tunnels:`, `Out of
/// tunnels:`, `Drops:`, `ICMP:`, `Broadcasts:`, `Packet transmit:` (only in packet mode; the
/// JSON form always has every counter) and `Queues:` (only with more than one). With `log`,
/// one line saying that nothing is installed.
pub fn dataplane(v: &DataplaneView) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Mobile Data Plane:");
    match &v.reason {
        Some(r) => {
            let _ = writeln!(s, "{IND}Data plane {} ({r})", v.kind.text());
        }
        None => {
            let _ = writeln!(s, "{IND}Data plane {}", v.kind.text());
        }
    }
    let Some(e) = &v.engine else {
        if v.kind == DataplaneKindView::Log {
            let recorded = v
                .requests
                .map_or_else(String::new, |n| format!(", {n} recorded"));
            let _ = writeln!(
                s,
                "{IND}Nothing is installed: requests are only recorded{recorded}"
            );
        } else {
            let _ = writeln!(s, "{IND}No tunnel engine");
        }
        if let Some(n) = &v.note {
            let _ = writeln!(s, "{IND}{n}");
        }
        return s;
    };
    let offload = match e.offload {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown",
    };
    let _ = writeln!(
        s,
        "{IND}TUN {}, queues {}, offloads {offload}",
        e.tun, e.queues
    );
    let _ = writeln!(
        s,
        "{IND}Transmit {}, tunnels {}, wake-ups {}",
        e.tx_mode.text(),
        e.tunnels,
        e.counters.wakeups
    );
    if let Some(n) = &v.note {
        let _ = writeln!(s, "{IND}{n}");
    }
    let c = &e.counters;
    let _ = writeln!(s, "Into tunnels:");
    let _ = writeln!(
        s,
        "{IND}TUN packets {}, encapsulated {}",
        c.tun_packets, e.encapsulated
    );
    let _ = writeln!(s, "Out of tunnels:");
    let _ = writeln!(
        s,
        "{IND}Raw packets {}, decapsulated {}, coalesced {}",
        c.raw_packets, e.decapsulated, c.rx_coalesced
    );
    let _ = writeln!(s, "Drops:");
    let _ = writeln!(
        s,
        "{IND}No route {}, not IPv4 {}, unknown source {}, malformed {}",
        c.no_route, c.not_ipv4, c.unknown_source, c.malformed
    );
    let _ = writeln!(
        s,
        "{IND}TUN read errors {}, raw receive errors {}",
        c.tun_read_errors, c.raw_recv_errors
    );
    let _ = writeln!(s, "ICMP:");
    let _ = writeln!(
        s,
        "{IND}Fragmentation needed sent {}, suppressed {}",
        c.icmp_sent, c.icmp_suppressed
    );
    let _ = writeln!(s, "Broadcasts:");
    let _ = writeln!(
        s,
        "{IND}Received {}, forwarded {}",
        c.broadcast_rx, c.broadcast_forwarded
    );
    let _ = writeln!(
        s,
        "{IND}Dropped: loop {}, rate limited {}, TTL {}",
        c.broadcast_loop, c.broadcast_rate_limited, c.broadcast_ttl
    );
    if e.tx_mode == TunnelTxView::Packet {
        let _ = writeln!(s, "Packet transmit:");
        let _ = writeln!(
            s,
            "{IND}Packet socket {}, raw fallback {}, raw refresh {}, send errors {}",
            c.tx_packet_socket, c.tx_raw_fallback, c.tx_raw_refresh, c.packet_send_errors
        );
        let _ = writeln!(
            s,
            "{IND}Next hop resolved {}, unresolved {}, deferred {}",
            c.nexthop_resolved, c.nexthop_unresolved, c.nexthop_deferred
        );
    }
    if e.queue_packets.len() > 1 {
        let q: Vec<String> = e
            .queue_packets
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{i}: {n}"))
            .collect();
        let _ = writeln!(s, "Queues:");
        let _ = writeln!(s, "{IND}TUN packets by queue {}", q.join(", "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_dates() {
        assert_eq!(hms(10000), "02:46:40");
        assert_eq!(hms(0), "00:00:00");
        assert_eq!(hms(400_000), "111:06:40");
        assert_eq!(router_time(0), "01/01/70 00:00:00");
        // 2002-04-13 19:04:28 UTC
        assert_eq!(router_time(1_018_724_668_000), "04/13/02 19:04:28");
        assert_eq!(router_time(951_782_400_000), "02/29/00 00:00:00");
        assert_eq!(lifetime_granted(65535), "INFINITE (65535)");
        assert_eq!(remaining(None), "INFINITE");
    }

    #[test]
    fn routing_options_in_router_order() {
        assert_eq!(
            routing_options(&[
                RoutingOption::ReverseTunnel,
                RoutingOption::DirectToMobileNode
            ]),
            "Routing Options - (D)Direct-to-MN (T)Reverse-tunnel"
        );
        assert_eq!(routing_options(&[]), "Routing Options");
        assert_eq!(join_and(&["IPIP", "GRE"]), "IPIP and GRE");
        assert_eq!(join_and(&["IPIP", "GRE", "MinIP"]), "IPIP, GRE and MinIP");
    }
}
