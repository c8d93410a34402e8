//! Building, moving and removing the lab.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::plan::{
    is_lab_namespace, Lab, Node, Place, FA1_BB, FA2_BB, LINKS, MN_HOME, MN_IF, MN_PORT, ROUTES,
};
use crate::proc::self_exe;
use crate::sh::{self, ip, ip_batch, mono_ns, Error};

/// Directory of the state files (`<id>.json`).
pub const STATE_DIR: &str = "/run/mip-lab";

/// How the mobile node is reached away from home.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Mobile IP: a move changes only the link; the agents do the rest.
    MobileIp,
    /// Harness self-test without Mobile IP: each move also installs plain host routes for the
    /// home address (rtr, the foreign agent) and the mobile node's default route.
    NoMip,
}

/// What `up` records for later `move` and `status` calls.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    /// Run id.
    pub id: String,
    /// Routing mode.
    pub mode: Mode,
    /// Where the mobile node was put last.
    pub place: Place,
}

fn state_path(lab: &Lab) -> PathBuf {
    PathBuf::from(STATE_DIR).join(format!("{}.json", lab.id()))
}

/// Reads a lab's state file.
pub fn load_state(lab: &Lab) -> Option<State> {
    let text = std::fs::read_to_string(state_path(lab)).ok()?;
    serde_json::from_str(&text).ok()
}

fn save_state(lab: &Lab, st: &State) -> Result<(), Error> {
    std::fs::create_dir_all(STATE_DIR).map_err(|e| format!("{STATE_DIR}: {e}"))?;
    let text = serde_json::to_string_pretty(st).expect("state serializes");
    std::fs::write(state_path(lab), text).map_err(|e| format!("state file: {e}"))
}

/// The lab's namespaces that exist now.
pub fn existing_namespaces(lab: &Lab) -> Vec<String> {
    let prefix = lab.ns_prefix();
    sh::netns_list()
        .into_iter()
        .filter(|n| n.starts_with(&prefix) && is_lab_namespace(n))
        .collect()
}

/// Whether every namespace of the lab exists.
pub fn is_up(lab: &Lab) -> bool {
    let have = existing_namespaces(lab);
    Node::ALL.iter().all(|&n| have.contains(&lab.ns(n)))
}

fn sysctls(node: Node) -> Vec<&'static str> {
    // A leading '?' marks a key that may not exist (IPv6 can be absent).
    let mut v = vec![
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.default.rp_filter=0",
        "?net.ipv6.conf.all.disable_ipv6=1",
        "?net.ipv6.conf.default.disable_ipv6=1",
    ];
    if node.forwards() {
        v.extend([
            "net.ipv4.ip_forward=1",
            "net.ipv4.conf.all.send_redirects=0",
            "net.ipv4.conf.default.send_redirects=0",
        ]);
    }
    v
}

/// `mip-lab _sysctl KEY=VALUE...`: writes /proc/sys in the current namespace.
pub fn write_sysctls(kvs: &[String]) -> Result<(), Error> {
    for kv in kvs {
        let (optional, kv) = match kv.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, kv.as_str()),
        };
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("bad sysctl {kv:?}"))?;
        let path = format!("/proc/sys/{}", k.replace('.', "/"));
        match std::fs::write(&path, v) {
            Ok(()) => {}
            Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{path}: {e}")),
        }
    }
    Ok(())
}

/// Builds the lab (removing leftovers of the same id first). The mobile node starts at home
/// with its home address and a default route through the home agent.
pub fn up(lab: &Lab, mode: Mode) -> Result<Duration, Error> {
    let t0 = Instant::now();
    down(lab)?;
    // Record first, so `down --all` and `status` know about a half-built lab.
    save_state(
        lab,
        &State {
            id: lab.id().into(),
            mode,
            place: Place::Home,
        },
    )?;
    let adds: Vec<String> = Node::ALL
        .iter()
        .map(|&n| format!("netns add {}", lab.ns(n)))
        .collect();
    ip_batch(None, &adds)?;

    // Sysctls before any interface exists, so the `default` values apply to all of them.
    let exe = self_exe();
    let mut children = Vec::new();
    for node in Node::ALL {
        let mut cmd = sh::netns_command(&lab.ns(node), &exe);
        cmd.arg("_sysctl")
            .args(sysctls(node))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        children.push((
            node,
            cmd.spawn()
                .map_err(|e| format!("sysctl in {}: {e}", lab.ns(node)))?,
        ));
    }
    for (node, mut c) in children {
        let st = c.wait().map_err(|e| e.to_string())?;
        if !st.success() {
            return Err(format!("sysctl in {} failed: {st}", lab.ns(node)));
        }
    }

    // veth pairs, created directly inside their namespaces.
    let links: Vec<String> = LINKS
        .iter()
        .map(|l| {
            format!(
                "link add {} netns {} type veth peer name {} netns {}",
                l.a.1,
                lab.ns(l.a.0),
                l.b.1,
                lab.ns(l.b.0)
            )
        })
        .collect();
    ip_batch(None, &links)?;

    // The switch: one bridge per service link, STP off, no forwarding delay.
    let mut sw = vec!["link set lo up".to_string()];
    for p in Place::ALL {
        sw.push(format!(
            "link add {} type bridge forward_delay 0 stp_state 0 mcast_snooping 0",
            p.bridge()
        ));
        sw.push(format!("link set {} up", p.bridge()));
    }
    for l in LINKS.iter().filter(|l| l.b.0 == Node::Sw) {
        if let Some(br) = l.bridge {
            sw.push(format!("link set {} master {br}", l.b.1));
        }
        sw.push(format!("link set {} up", l.b.1));
    }
    ip_batch(Some(&lab.ns(Node::Sw)), &sw)?;

    for node in Node::ALL.into_iter().filter(|&n| n != Node::Sw) {
        let mut cmds = vec!["link set lo up".to_string()];
        for l in &LINKS {
            for (end, addr) in [(l.a, l.a_addr), (l.b, l.b_addr)] {
                if end.0 == node {
                    if let Some((a, len)) = addr {
                        cmds.push(format!("addr add {a}/{len} dev {}", end.1));
                    }
                    cmds.push(format!("link set {} up", end.1));
                }
            }
        }
        for (n, dst, gw) in ROUTES {
            if n == node {
                cmds.push(format!("route add {dst} via {gw}"));
            }
        }
        if node == Node::Mn {
            cmds.push(format!(
                "route add default via {} dev {MN_IF}",
                Place::Home.gateway()
            ));
        }
        ip_batch(Some(&lab.ns(node)), &cmds)?;
    }
    Ok(t0.elapsed())
}

/// Removes the lab: kills every process in its namespaces, deletes the namespaces (and with
/// them every link and bridge), removes the state file. Finds leftovers by name, so it also
/// cleans up after a crash.
pub fn down(lab: &Lab) -> Result<(), Error> {
    remove_namespaces(&existing_namespaces(lab))?;
    let _ = std::fs::remove_file(state_path(lab));
    Ok(())
}

/// Removes the labs of every run id (`down --all`).
pub fn down_all() -> Result<Vec<String>, Error> {
    let all: Vec<String> = sh::netns_list()
        .into_iter()
        .filter(|n| is_lab_namespace(n))
        .collect();
    remove_namespaces(&all)?;
    if let Ok(rd) = std::fs::read_dir(STATE_DIR) {
        for e in rd.flatten() {
            if e.path().extension().is_some_and(|x| x == "json") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(all)
}

fn remove_namespaces(names: &[String]) -> Result<(), Error> {
    if names.is_empty() {
        return Ok(());
    }
    let pids: Vec<i32> = names.iter().flat_map(|n| sh::netns_pids(n)).collect();
    let me = std::process::id() as i32;
    let pids: Vec<i32> = pids.into_iter().filter(|&p| p != me).collect();
    sh::terminate(&pids, Duration::from_millis(1500));
    let dels: Vec<String> = names.iter().map(|n| format!("netns del {n}")).collect();
    if ip_batch(None, &dels).is_err() {
        // One at a time, so one failure does not keep the others.
        let mut errors = Vec::new();
        for n in names {
            if let Err(e) = ip(["netns", "del", n]) {
                errors.push(e);
            }
        }
        let left: Vec<String> = sh::netns_list()
            .into_iter()
            .filter(|n| names.contains(n))
            .collect();
        if !left.is_empty() {
            return Err(format!(
                "namespaces left: {}: {}",
                left.join(" "),
                errors.join("; ")
            ));
        }
    }
    Ok(())
}

/// Where the mobile node's link is attached now, read from the kernel (the master of
/// `sw:p-mn`).
pub fn current_place(lab: &Lab) -> Result<Place, Error> {
    let out = ip(["-n", &lab.ns(Node::Sw), "-o", "link", "show", MN_PORT])?;
    let master = out
        .split_whitespace()
        .skip_while(|w| *w != "master")
        .nth(1)
        .ok_or_else(|| format!("{MN_PORT} has no bridge"))?;
    Place::ALL
        .into_iter()
        .find(|p| p.bridge() == master)
        .ok_or_else(|| format!("{MN_PORT} is on unknown bridge {master}"))
}

/// What a move did and when.
#[derive(Clone, Debug, Serialize)]
pub struct MoveTiming {
    /// Old place.
    pub from: Place,
    /// New place.
    pub to: Place,
    /// CLOCK_MONOTONIC ns when the old link was taken down (the link change).
    pub t_down_ns: u64,
    /// When the mobile node's interface reported the carrier loss (operstate DOWN).
    pub t_carrier_lost_ns: Option<u64>,
    /// When the new link was up.
    pub t_up_ns: u64,
    /// `t_up - t_down`, ms.
    pub link_down_ms: f64,
}

/// Moves the mobile node's link to `to`:
/// 1. `sw:p-mn` down: the mobile node loses carrier on `mn0` (the old link ends here);
/// 2. wait (up to 1.5 s) until `mn0`'s operstate is DOWN, so the carrier loss has been
///    announced over rtnetlink (the kernel's linkwatch can hold it back up to a second; a
///    quicker down/up would be invisible to a mobile node daemon);
/// 3. `sw:p-mn` changes bridge;
/// 4. `sw:p-mn` up: carrier returns on `mn0` at the new place;
/// 5. in [`Mode::NoMip`] only: host routes for the home address in rtr and the foreign agent,
///    and the mobile node's default route, follow the move.
pub fn move_to(lab: &Lab, to: Place, mode: Mode) -> Result<MoveTiming, Error> {
    let from = current_place(lab)?;
    let sw = lab.ns(Node::Sw);
    let mn = lab.ns(Node::Mn);
    let t_down_ns = mono_ns();
    ip(["-n", &sw, "link", "set", MN_PORT, "down"])?;
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut t_carrier_lost_ns = None;
    while Instant::now() < deadline {
        let o = ip(["-n", &mn, "-o", "link", "show", MN_IF])?;
        if o.contains("state DOWN") || o.contains("state LOWERLAYERDOWN") {
            t_carrier_lost_ns = Some(mono_ns());
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    ip(["-n", &sw, "link", "set", MN_PORT, "master", to.bridge()])?;
    ip(["-n", &sw, "link", "set", MN_PORT, "up"])?;
    let t_up_ns = mono_ns();
    if mode == Mode::NoMip {
        // After the link is up: a route installed earlier would draw traffic whose first ARP
        // request dies on the dead port, and ARP retries only after a second.
        plain_routes(lab, from, to)?;
    }
    if let Some(mut st) = load_state(lab) {
        st.place = to;
        save_state(lab, &st)?;
    }
    Ok(MoveTiming {
        from,
        to,
        t_down_ns,
        t_carrier_lost_ns,
        t_up_ns,
        link_down_ms: (t_up_ns - t_down_ns) as f64 / 1e6,
    })
}

fn fa_of(p: Place) -> Option<(Node, &'static str, Ipv4Addr)> {
    match p {
        Place::Fa1 => Some((Node::Fa1, "fa1-visit", FA1_BB)),
        Place::Fa2 => Some((Node::Fa2, "fa2-visit", FA2_BB)),
        _ => None,
    }
}

/// The harness self-test's routing: the mobile node keeps its home address everywhere and
/// plain host routes follow it.
fn plain_routes(lab: &Lab, from: Place, to: Place) -> Result<(), Error> {
    let host = format!("{MN_HOME}/32");
    let rtr = lab.ns(Node::Rtr);
    if let Some((node, dev, _)) = fa_of(from) {
        if from != to {
            let _ = ip(["-n", &lab.ns(node), "route", "del", &host, "dev", dev]);
        }
    }
    match to {
        Place::Home => {
            let _ = ip(["-n", &rtr, "route", "del", &host]);
        }
        Place::Fa1 | Place::Fa2 => {
            let (node, dev, bb) = fa_of(to).expect("a foreign agent");
            ip(["-n", &lab.ns(node), "route", "replace", &host, "dev", dev])?;
            ip([
                "-n",
                &rtr,
                "route",
                "replace",
                &host,
                "via",
                &bb.to_string(),
            ])?;
        }
        Place::Coloc => {
            ip(["-n", &rtr, "route", "replace", &host, "dev", "r-coloc"])?;
        }
    }
    ip([
        "-n",
        &lab.ns(Node::Mn),
        "route",
        "replace",
        "default",
        "via",
        &to.gateway().to_string(),
        "dev",
        MN_IF,
        "onlink",
    ])?;
    Ok(())
}

/// `mip-lab status`.
#[derive(Serialize)]
pub struct Status {
    /// Run id.
    pub id: String,
    /// Whether all namespaces exist.
    pub up: bool,
    /// Namespaces that exist.
    pub namespaces: Vec<String>,
    /// Mode recorded by `up`.
    pub mode: Option<Mode>,
    /// Where the mobile node's link is (from the kernel).
    pub place: Option<Place>,
    /// Addresses on mn0.
    pub mn_addresses: Vec<String>,
    /// The mobile node's routes.
    pub mn_routes: Vec<String>,
    /// rtr's routes.
    pub rtr_routes: Vec<String>,
    /// Processes per namespace (pid and command).
    pub processes: Vec<(String, i32, String)>,
}

/// Collects the status of a lab.
pub fn status(lab: &Lab) -> Status {
    let namespaces = existing_namespaces(lab);
    let up = is_up(lab);
    let lines = |args: &[&str]| -> Vec<String> {
        ip(args)
            .map(|o| o.lines().map(|l| l.trim().to_string()).collect())
            .unwrap_or_default()
    };
    let mn = lab.ns(Node::Mn);
    let rtr = lab.ns(Node::Rtr);
    let mut processes = Vec::new();
    for ns in &namespaces {
        for pid in sh::netns_pids(ns) {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .split('\0')
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            processes.push((ns.clone(), pid, cmd));
        }
    }
    Status {
        id: lab.id().into(),
        up,
        mode: load_state(lab).map(|s| s.mode),
        place: if up { current_place(lab).ok() } else { None },
        mn_addresses: if up {
            lines(&["-n", &mn, "-4", "-o", "addr", "show", "dev", MN_IF])
                .iter()
                .filter_map(|l| {
                    l.split_whitespace()
                        .skip_while(|w| *w != "inet")
                        .nth(1)
                        .map(str::to_string)
                })
                .collect()
        } else {
            vec![]
        },
        mn_routes: if up {
            lines(&["-n", &mn, "route"])
        } else {
            vec![]
        },
        rtr_routes: if up {
            lines(&["-n", &rtr, "route"])
        } else {
            vec![]
        },
        processes,
        namespaces,
    }
}

impl Status {
    /// As text.
    pub fn text(&self) -> String {
        let mut s = format!(
            "lab {:?}: {}\n",
            self.id,
            if self.up {
                "up"
            } else if self.namespaces.is_empty() {
                "down"
            } else {
                "PARTIAL (run `mip-lab down`)"
            }
        );
        if !self.namespaces.is_empty() {
            s.push_str(&format!("  namespaces: {}\n", self.namespaces.join(" ")));
        }
        if let Some(m) = self.mode {
            s.push_str(&format!(
                "  mode: {}\n",
                match m {
                    Mode::MobileIp => "mobile-ip (moves change the link only)",
                    Mode::NoMip => "no-mip (harness self-test: plain host routes follow the MN)",
                }
            ));
        }
        if let Some(p) = self.place {
            s.push_str(&format!(
                "  mobile node at: {p} ({}, gateway {})\n",
                p.bridge(),
                p.gateway()
            ));
        }
        if !self.mn_addresses.is_empty() {
            s.push_str(&format!(
                "  mn0 addresses: {}\n",
                self.mn_addresses.join(", ")
            ));
        }
        for (title, v) in [
            ("mn routes", &self.mn_routes),
            ("rtr routes", &self.rtr_routes),
        ] {
            if !v.is_empty() {
                s.push_str(&format!("  {title}:\n"));
                for r in v {
                    s.push_str(&format!("    {r}\n"));
                }
            }
        }
        if !self.processes.is_empty() {
            s.push_str("  processes:\n");
            for (ns, pid, cmd) in &self.processes {
                s.push_str(&format!("    {ns} {pid} {cmd}\n"));
            }
        }
        s
    }
}

/// How the lab's veth links behave (see [`set_links`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkMode {
    /// veth's own: segmentation offloads on, so 64 KB frames cross the links whole.
    Veth,
    /// MTU-sized frames, as physical links carry them: segmentation offloads off
    /// (`ethtool -K DEV tso off gso off`).
    Mtu,
}

/// Sets the behaviour of every veth link of the lab.
///
/// # Errors
/// `ip` or `ethtool` failed (`ethtool` missing included).
pub fn set_links(lab: &Lab, mode: LinkMode) -> Result<(), Error> {
    let state = if mode == LinkMode::Veth { "on" } else { "off" };
    for node in Node::ALL {
        let ns = lab.ns(node);
        let out = ip(["-n", ns.as_str(), "-o", "link", "show", "type", "veth"])?;
        for name in out
            .lines()
            .filter_map(|l| l.split(':').nth(1))
            .map(|name| name.trim().split('@').next().unwrap_or("").to_string())
            .filter(|name| !name.is_empty())
        {
            sh::run(
                "ip",
                [
                    "netns", "exec", &ns, "ethtool", "-K", &name, "tso", state, "gso", state,
                ],
            )?;
        }
    }
    Ok(())
}
