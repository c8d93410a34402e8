//! `mip-lab iperf`: iperf3 throughput cn → the mobile node's home address: TCP (twice: with
//! the offloads veth allows, which let 64 KB frames cross every link whole, and with the
//! links' segmentation offloads off, MTU-sized frames as physical links carry them), and UDP
//! with 1400-byte and 64-byte datagrams (unlimited rate, packets per second). On the plain
//! path (no Mobile IP; with `--at fa1|fa2|coloc` through plain host routes) this is the
//! baseline of the data-plane benchmark; with `--mip` the agents are started (hook:
//! [`crate::agents::start_agents`]) and traffic away from home goes through the home agent's
//! tunnel.

use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::agents::{self, AgentOpts, AgentsOutcome};
use crate::engines::{AgentsLoad, Watch, Watched};
use crate::guard::{self, LabGuard};
use crate::plan::{Lab, Node, Place, IPERF_PORT, MN_HOME};
use crate::proc::Proc;
use crate::topology::{self, LinkMode, Mode};

/// Options of `mip-lab iperf`.
#[derive(Clone, Debug)]
pub struct IperfOpts {
    /// Seconds per test.
    pub seconds: u32,
    /// Where the mobile node is during the tests.
    pub at: Place,
    /// Through Mobile IP (agents started) instead of plain routing.
    pub mip: bool,
    /// Agents hook options.
    pub agents: AgentOpts,
}

/// One TCP test.
#[derive(Clone, Debug, Serialize)]
pub struct TcpResult {
    /// Sender's throughput, bit/s.
    pub sent_bps: f64,
    /// Receiver's throughput, bit/s.
    pub received_bps: f64,
    /// Retransmissions.
    pub retransmits: u64,
    /// What the tunnel engines did (Mobile IP path away from home).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engines: Option<AgentsLoad>,
}

/// One UDP test.
#[derive(Clone, Debug, Serialize)]
pub struct UdpResult {
    /// Datagram payload size.
    pub datagram_bytes: u32,
    /// Datagrams sent per second.
    pub sent_pps: f64,
    /// Datagrams received per second.
    pub received_pps: f64,
    /// Received payload throughput, bit/s.
    pub received_bps: f64,
    /// Loss, percent.
    pub lost_percent: f64,
    /// What the tunnel engines did (Mobile IP path away from home).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engines: Option<AgentsLoad>,
}

/// The result (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct IperfReport {
    /// "plain" or "mobile-ip".
    pub path: &'static str,
    /// Where the mobile node was.
    pub at: Place,
    /// Seconds per test.
    pub seconds: u32,
    /// TCP, with the offloads veth allows (64 KB frames cross the links whole).
    pub tcp: TcpResult,
    /// TCP with MTU-sized frames on every link (segmentation offloads off on each veth), as
    /// physical links carry them; `None` when `ethtool` is missing.
    pub tcp_wire: Option<TcpResult>,
    /// UDP, 1400-byte datagrams.
    pub udp_1400: UdpResult,
    /// UDP, 64-byte datagrams.
    pub udp_64: UdpResult,
}

impl IperfReport {
    /// As text.
    pub fn text(&self) -> String {
        let mbps = |b: f64| b / 1e6;
        let mut s = format!(
            "iperf3 cn -> {MN_HOME} ({} path, mobile node at {}, {} s per test)\n",
            self.path, self.at, self.seconds
        );
        for (name, t) in [
            ("TCP", Some(&self.tcp)),
            ("TCP 1500 B", self.tcp_wire.as_ref()),
        ] {
            let Some(t) = t else { continue };
            s.push_str(&format!(
                "  {name:<14} {:>10.1} Mbit/s received ({:.1} sent, {} retransmits)\n",
                mbps(t.received_bps),
                mbps(t.sent_bps),
                t.retransmits
            ));
            if let Some(e) = &t.engines {
                s.push_str(&e.text("    "));
            }
        }
        for u in [&self.udp_1400, &self.udp_64] {
            s.push_str(&format!(
                "  UDP {:>4} B     {:>10.0} pkt/s received, {:.0} pkt/s sent, {:.1} Mbit/s, {:.1}% lost\n",
                u.datagram_bytes,
                u.received_pps,
                u.sent_pps,
                mbps(u.received_bps),
                u.lost_percent
            ));
            if let Some(e) = &u.engines {
                s.push_str(&e.text("    "));
            }
        }
        s
    }
}

fn f(v: &Value, path: &[&str]) -> Option<f64> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    v.as_f64()
}

/// Parses iperf3's `-J` output of a TCP test.
pub fn parse_tcp(j: &Value) -> Result<TcpResult, String> {
    Ok(TcpResult {
        sent_bps: f(j, &["end", "sum_sent", "bits_per_second"]).ok_or("no end.sum_sent")?,
        received_bps: f(j, &["end", "sum_received", "bits_per_second"])
            .ok_or("no end.sum_received")?,
        retransmits: f(j, &["end", "sum_sent", "retransmits"]).unwrap_or(0.0) as u64,
        engines: None,
    })
}

/// Parses iperf3's `-J` output of a UDP test.
pub fn parse_udp(j: &Value, len: u32) -> Result<UdpResult, String> {
    let sent_pkts = f(j, &["end", "sum_sent", "packets"])
        .or_else(|| f(j, &["end", "sum", "packets"]))
        .ok_or("no end.sum_sent.packets")?;
    let secs = f(j, &["end", "sum_sent", "seconds"])
        .or_else(|| f(j, &["end", "sum", "seconds"]))
        .ok_or("no seconds")?
        .max(1e-9);
    let rsum = if j["end"].get("sum_received").is_some() {
        "sum_received"
    } else {
        "sum"
    };
    let total = f(j, &["end", rsum, "packets"]).unwrap_or(sent_pkts);
    let lost = f(j, &["end", rsum, "lost_packets"]).unwrap_or(0.0);
    let rsecs = f(j, &["end", rsum, "seconds"]).unwrap_or(secs).max(1e-9);
    let received = (total - lost).max(0.0);
    Ok(UdpResult {
        datagram_bytes: len,
        sent_pps: sent_pkts / secs,
        received_pps: received / rsecs,
        received_bps: received * f64::from(len) * 8.0 / rsecs,
        lost_percent: f(j, &["end", rsum, "lost_percent"]).unwrap_or(0.0),
        engines: None,
    })
}

fn client(lab: &Lab, args: &[String], seconds: u32) -> Result<Value, String> {
    let mut last_err = String::new();
    for _ in 0..5 {
        if guard::stop_requested() {
            return Err("interrupted".into());
        }
        let mut all = vec![
            "-c".to_string(),
            MN_HOME.to_string(),
            "-p".into(),
            IPERF_PORT.to_string(),
            "-t".into(),
            seconds.to_string(),
            "-J".into(),
        ];
        all.extend_from_slice(args);
        let mut p = Proc::spawn(
            "iperf3 client",
            &lab.ns(Node::Cn),
            &"iperf3".into(),
            &all,
            Stdio::null(),
        )?;
        p.close_stdin();
        p.finish(Duration::from_secs(u64::from(seconds) + 15));
        let text = p.lines().join("\n");
        match serde_json::from_str::<Value>(&text) {
            Ok(j) if j.get("error").is_none() => return Ok(j),
            Ok(j) => last_err = j["error"].as_str().unwrap_or("?").to_string(),
            Err(e) => last_err = format!("unreadable iperf3 output: {e}"),
        }
        // The server may still be starting or finishing the previous test.
        guard::sleep(Duration::from_millis(300));
    }
    Err(format!("iperf3 {}: {last_err}", args.join(" ")))
}

/// Runs the measurements. Uses the lab `lab` if it is up, else builds it and tears it down.
pub fn iperf(lab: &Lab, o: &IperfOpts) -> Result<IperfReport, String> {
    let existing = topology::is_up(lab) && topology::load_state(lab).is_some();
    let _guard = if existing {
        None
    } else {
        let g = LabGuard::new(lab);
        topology::up(lab, if o.mip { Mode::MobileIp } else { Mode::NoMip })?;
        Some(g)
    };
    let mode = topology::load_state(lab)
        .map(|s| s.mode)
        .unwrap_or(Mode::NoMip);
    if o.mip && mode != Mode::MobileIp {
        return Err(format!(
            "lab {} was brought up with --no-mip; --mip needs a lab in Mobile IP mode",
            lab.id()
        ));
    }
    let running = if o.mip {
        match agents::start_agents(lab, &o.agents)? {
            AgentsOutcome::Started(a) => Some(a),
            AgentsOutcome::Skipped(why) => {
                return Err(format!(
                    "--mip: the Mobile IP agents could not be started: {why}"
                ))
            }
        }
    } else {
        None
    };
    if topology::current_place(lab)? != o.at {
        topology::move_to(lab, o.at, mode)?;
        guard::sleep(Duration::from_millis(if o.mip { 3000 } else { 200 }));
    }
    let server = Proc::spawn(
        "iperf3 server",
        &lab.ns(Node::Mn),
        &"iperf3".into(),
        &[
            "-s".into(),
            "-B".into(),
            MN_HOME.to_string(),
            "-p".into(),
            IPERF_PORT.to_string(),
            "--forceflush".into(),
        ],
        Stdio::null(),
    )?;
    server.wait_line(&["Server listening", "-----"], Duration::from_secs(3));
    let secs = o.seconds.max(1);
    // The engines to watch: the home agent's, and the decapsulating one at the care-of address.
    let far = match o.at {
        Place::Fa1 => Some(Node::Fa1),
        Place::Fa2 => Some(Node::Fa2),
        Place::Coloc => Some(Node::Mn),
        Place::Home => None,
    };
    let watched = running.as_ref().zip(far).and_then(|(a, far)| {
        let w = |n: Node| {
            a.pid(n).map(|pid| Watched {
                ns: lab.ns(n),
                pid,
                socket: a.socket(n),
            })
        };
        Some((w(Node::Ha)?, w(far)?))
    });
    let watch = || watched.clone().map(|(ha, far)| Watch::start(ha, far));
    let tcp_test = || -> Result<TcpResult, String> {
        let w = watch();
        let mut t = parse_tcp(&client(lab, &[], secs)?)?;
        t.engines = w.map(Watch::finish);
        Ok(t)
    };
    let tcp = tcp_test()?;
    // The same with MTU-sized frames on every link; offloads back on whatever happens.
    let tcp_wire = match topology::set_links(lab, LinkMode::Mtu) {
        Ok(()) => {
            let r = tcp_test();
            topology::set_links(lab, LinkMode::Veth)?;
            Some(r?)
        }
        Err(e) => {
            eprintln!("mip-lab: TCP with 1500-byte frames skipped: {e}");
            let _ = topology::set_links(lab, LinkMode::Veth);
            None
        }
    };
    let udp = |len: u32| -> Result<UdpResult, String> {
        let w = watch();
        let j = client(
            lab,
            &[
                "-u".into(),
                "-b".into(),
                "0".into(),
                "-l".into(),
                len.to_string(),
            ],
            secs,
        )?;
        let mut u = parse_udp(&j, len)?;
        u.engines = w.map(Watch::finish);
        Ok(u)
    };
    let udp_1400 = udp(1400)?;
    let udp_64 = udp(64)?;
    drop(server);
    Ok(IperfReport {
        path: if o.mip { "mobile-ip" } else { "plain" },
        at: o.at,
        seconds: secs,
        tcp,
        tcp_wire,
        udp_1400,
        udp_64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iperf3_json() {
        let udp: Value = serde_json::from_str(
            r#"{"end":{"sum":{"seconds":1.0,"packets":1000,"lost_packets":10,"lost_percent":1.0},
              "sum_sent":{"seconds":1.0,"packets":1100},
              "sum_received":{"seconds":1.0,"packets":1000,"lost_packets":100,"lost_percent":10.0}}}"#,
        )
        .unwrap();
        let u = parse_udp(&udp, 64).unwrap();
        assert_eq!(u.sent_pps, 1100.0);
        assert_eq!(u.received_pps, 900.0);
        assert_eq!(u.received_bps, 900.0 * 64.0 * 8.0);
        assert_eq!(u.lost_percent, 10.0);
        let tcp: Value = serde_json::from_str(
            r#"{"end":{"sum_sent":{"bits_per_second":2e9,"retransmits":3},
              "sum_received":{"bits_per_second":1.9e9}}}"#,
        )
        .unwrap();
        let t = parse_tcp(&tcp).unwrap();
        assert_eq!((t.sent_bps, t.received_bps, t.retransmits), (2e9, 1.9e9, 3));
    }
}
