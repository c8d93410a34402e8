//! `mipd --role mobile-node`, the real binary, in network namespaces against the real home
//! agent (`mipd --role home-agent --dataplane tun`), reachable directly (root required):
//!
//! ```text
//!   MN  mn0 ------------- g0  GW/HA  10.40.0.1/24 (the co-located network's router)
//!       10.10.0.10/24 at start        10.10.0.1/32 on lo (home agent address; not answered
//!       (home address; the lab's      by ARP on g0, arp_ignore=1), virtual home network
//!       start configuration)          10.10.0.0/24
//! ```
//!
//! * The mobile node finds out where it is (an ARP probe of the router answers), configures
//!   its static co-located care-of address 10.40.0.10/24 and registers straight with the home
//!   agent: accepted; `show ip mobile node` over the control socket says so; the kernel state
//!   is the documented one (home address /32 on mn0 and on the TUN device, care-of address
//!   and default route on mn0).
//! * A TCP session from the home agent's namespace to the home address runs through the home
//!   agent's tunnel and the mobile node's decapsulation, and back through the reverse tunnel
//!   (T, RFC 3024).
//! * Carrier down and up on the link (the peer end goes down/up): a solicitation (ICMP 10,
//!   TTL 1, to 224.0.0.2) is on the wire within 100 ms of the link coming back, seen by an
//!   `AF_PACKET` capture on g0; the node registers again; the TCP session still works.
//! * SIGTERM: deregistration (the home agent's binding is gone), exit 0, care-of address,
//!   TUN device and control socket removed.
//!
//! Also, without root: a broken configuration is refused with exit 2, naming file and key.

mod netns;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mip_control::{BindingFilter, Request, Response};
use serde_json::Value;

use netns::{require_root, sh, Netns};

const KEY: &str = "6d69702d746573742d6d6e2d68612d31";
const HOME: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 10);

/// A `mipd` in a namespace.
struct Mipd {
    child: Option<Child>,
    socket: PathBuf,
    log: PathBuf,
}

impl Mipd {
    fn start(ns: &Netns, role: &str, dir: &Path, config: &str, extra: &[&str]) -> Mipd {
        let d = dir.join(role);
        std::fs::create_dir_all(&d).unwrap();
        let cfg = d.join("mipd.toml");
        std::fs::write(&cfg, config).unwrap();
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
        let log = d.join("mipd.log");
        let socket = d.join("mipd.sock");
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.0, env!("CARGO_BIN_EXE_mipd")])
            .args(["--role", role, "--config"])
            .arg(&cfg)
            .arg("--state-dir")
            .arg(d.join("state"))
            .arg("--control-socket")
            .arg(&socket)
            .args(["--log-level", "debug"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        let mut m = Mipd {
            child: Some(child),
            socket,
            log,
        };
        let until = Instant::now() + Duration::from_secs(20);
        while !m.socket.exists() {
            if let Some(st) = m.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("mipd {role} exited at start ({st}):\n{}", m.log_text());
            }
            assert!(
                Instant::now() < until,
                "mipd {role} did not come up:\n{}",
                m.log_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        m
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn control(&self, req: &Request) -> Response {
        let mut s = UnixStream::connect(&self.socket).expect("control socket");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut line = serde_json::to_vec(req).unwrap();
        line.push(b'\n');
        s.write_all(&line).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        serde_json::from_str(out.trim_end()).unwrap()
    }

    fn show(&self, req: &Request) -> Value {
        let r = self.control(req);
        assert!(r.ok, "{req:?}: {:?}\n{}", r.error, self.log_text());
        r.data.unwrap_or(Value::Null)
    }

    /// Waits until `show ip mobile node` satisfies `ok`; returns the view.
    fn wait_node(&self, what: &str, within: Duration, ok: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + within;
        loop {
            let v = self.show(&Request::ShowNode);
            if ok(&v) {
                return v;
            }
            assert!(
                Instant::now() < until,
                "{what}: not within {within:?}; last view {v:#}\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM; the exit status must be 0.
    fn stop(&mut self) {
        let mut c = self.child.take().unwrap();
        // The child is `ip netns exec`, which execs mipd: same pid.
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = c.try_wait().unwrap() {
                assert!(st.success(), "exit {st}:\n{}", self.log_text());
                return;
            }
            assert!(
                Instant::now() < until,
                "mipd did not stop:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mipd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn ha_config() -> String {
    format!(
        r#"
mobile_ip = true
virtual_networks = ["10.10.0.0/24"]

[home_agent]
enabled = true
lifetime = 600
reverse_tunnel = true

[[host_group]]
lower = "10.10.0.10"
virtual_network = "10.10.0.0/24"
sa_source = "local"

[[security_association]]
peer = "host"
address = "10.10.0.10"
spi = 0x100
key_hex = "{KEY}"
algorithm = "hmac-md5"
replay = "timestamp"
"#
    )
}

fn mn_config() -> String {
    format!(
        r#"
home_address = "10.10.0.10"
home_agent = "10.10.0.1"
home_network = "10.10.0.0/24"
lifetime = 600
interfaces = ["mn0"]

[security_association]
spi = 0x100
key_hex = "{KEY}"
algorithm = "hmac-md5"
replay = "timestamp"

[flags]
reverse_tunnel = true

[colocated]
mode = "static"
address = "10.40.0.10/24"
gateway = "10.40.0.1"
interface = "mn0"
"#
    )
}

/// An `AF_PACKET` capture of every IPv4 frame on `ifindex` (in the calling thread's
/// namespace), non-blocking.
fn capture(ifindex: u32) -> OwnedFd {
    // SAFETY: plain socket(2) call, checked.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            i32::from(0x0800u16.to_be()),
        )
    };
    assert!(fd >= 0, "AF_PACKET socket");
    // SAFETY: fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_ll is plain data.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = 0x0800u16.to_be();
    sa.sll_ifindex = ifindex as i32;
    // SAFETY: valid sockaddr_ll of the given length.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "bind AF_PACKET");
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 20_000,
    };
    // SAFETY: valid timeval of the given length.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
    fd
}

/// A solicitation in an IPv4 packet: (TTL, destination).
fn solicitation(p: &[u8]) -> Option<(u8, Ipv4Addr)> {
    if p.len() < 28 || p[0] >> 4 != 4 || p[9] != 1 {
        return None;
    }
    let ihl = usize::from(p[0] & 0xf) * 4;
    (p.get(ihl) == Some(&10)).then(|| (p[8], Ipv4Addr::new(p[16], p[17], p[18], p[19])))
}

fn ifindex(ns: &Netns, name: &str) -> u32 {
    ns.exec(&format!("cat /sys/class/net/{name}/ifindex"))
        .trim()
        .parse()
        .unwrap()
}

/// A TCP connection from `source` to the home address, port 5001 (5 s timeout).
fn connect_from(source: Ipv4Addr) -> std::io::Result<TcpStream> {
    // SAFETY: plain socket(2) call, checked.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let sin = |a: Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(a).to_be(),
        },
        sin_zero: [0; 8],
    };
    let local = sin(source, 0);
    // SAFETY: valid sockaddr_in of the given length.
    if unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&local as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    } != 0
    {
        return Err(std::io::Error::last_os_error());
    }
    let tv = libc::timeval {
        tv_sec: 5,
        tv_usec: 0,
    };
    // SAFETY: valid timeval of the given length (SO_SNDTIMEO bounds connect(2)).
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
    }
    let remote = sin(HOME, 5001);
    // SAFETY: valid sockaddr_in of the given length.
    if unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&remote as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    } != 0
    {
        return Err(std::io::Error::last_os_error());
    }
    Ok(TcpStream::from(fd))
}

/// One TCP exchange: the client in `from` (bound to 10.99.0.1) connects to the home address,
/// sends `msg`, reads it back from the echo server the mobile node runs.
fn tcp_round_trip(from: &Netns, msg: &'static [u8]) -> Result<(), String> {
    from.spawn(move || {
        let mut s = connect_from(Ipv4Addr::new(10, 99, 0, 1))
            .map_err(|e| format!("connect to the home address: {e}"))?;
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(msg).map_err(|e| e.to_string())?;
        let mut back = vec![0u8; msg.len()];
        s.read_exact(&mut back).map_err(|e| format!("echo: {e}"))?;
        if back != msg {
            return Err("echo differs".into());
        }
        Ok(())
    })
    .join()
    .unwrap()
}

#[test]
fn colocated_registration_link_change_and_control_socket() {
    if !require_root() {
        return;
    }
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mn = Netns::new("mn");
    let gw = Netns::new("gw");
    sh(&format!(
        "ip link add mn0 netns {} type veth peer name g0 netns {}",
        mn.0, gw.0
    ));
    gw.ip("addr add 10.40.0.1/24 dev g0");
    gw.ip("addr add 10.10.0.1/32 dev lo");
    // A correspondent address beside the home agent's (the TCP client binds to it).
    gw.ip("addr add 10.99.0.1/32 dev lo");
    // The home agent's address must not answer ARP on this link: it is not the home link.
    gw.exec("sysctl -qw net.ipv4.conf.g0.arp_ignore=1");
    gw.ip("link set g0 up");
    // The lab's start: home address with its prefix, default route via the home agent.
    mn.ip("addr add 10.10.0.10/24 dev mn0");
    mn.ip("link set mn0 up");
    mn.ip("route add default via 10.10.0.1 dev mn0");

    let mut ha = Mipd::start(
        &gw,
        "home-agent",
        dir.path(),
        &ha_config(),
        &["--dataplane", "tun"],
    );
    let mut node = Mipd::start(&mn, "mobile-node", dir.path(), &mn_config(), &[]);

    // Co-located registration, accepted.
    let v = node.wait_node("co-located registration", Duration::from_secs(10), |v| {
        v["state"] == "registered"
    });
    assert_eq!(v["attachment"], "colocated", "{v:#}");
    assert_eq!(v["care_of_address"], "10.40.0.10", "{v:#}");
    assert_eq!(v["home_address"], "10.10.0.10");
    assert_eq!(v["home_agent"], "10.10.0.1");
    assert_eq!(v["interface"], "mn0");
    assert_eq!(v["lifetime_granted"], 600);
    assert_eq!(v["last_reply_code"], 0);
    let flags = v["flags_text"].as_str().unwrap();
    assert!(flags.contains('D') && flags.contains('T'), "{v:#}");
    assert!(v["counters"]["registrations_accepted"].as_u64().unwrap() >= 1);
    let b = ha.show(&Request::ShowBinding {
        filter: BindingFilter::All,
    });
    assert!(
        b.to_string().contains("10.40.0.10"),
        "home agent binding: {b:#}"
    );

    // Kernel state of the mobile node.
    let addrs = mn.ip("-4 -o addr show");
    assert!(addrs.contains("mn0    inet 10.10.0.10/32"), "{addrs}");
    assert!(addrs.contains("mn0    inet 10.40.0.10/24"), "{addrs}");
    assert!(!addrs.contains("10.10.0.10/24"), "{addrs}");
    assert!(
        addrs
            .lines()
            .any(|l| l.contains("mipmn") && l.contains("inet 10.10.0.10/32")),
        "home address on the TUN device: {addrs}"
    );
    let rules = mn.ip("rule show");
    assert!(rules.contains("from 10.40.0.10 lookup 435"), "{rules}");
    // T: the node's own packets from its home address go back through the tunnel.
    assert!(rules.contains("from 10.10.0.10 lookup 434"), "{rules}");
    assert!(mn.ip("route show table 434").contains("default dev mipmn"));
    let routes = mn.ip("route show");
    assert!(routes.contains("default via 10.40.0.1 dev mn0"), "{routes}");

    // A TCP echo server on the home address; a session through the tunnel.
    let (ready_tx, ready_rx) = mpsc::channel();
    let _server = mn.spawn(move || {
        let l = TcpListener::bind(SocketAddrV4::new(HOME, 5001)).unwrap();
        ready_tx.send(()).unwrap();
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    ready_rx.recv().unwrap();
    tcp_round_trip(&gw, b"through the home agent's tunnel")
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", node.log_text(), ha.log_text()));

    // `show ip mobile dataplane` on the node: its engine (co-located care-of address) has the
    // tunnel and decapsulated the session; the home agent's encapsulated it.
    let dp = node.show(&Request::ShowDataplane);
    assert_eq!(dp["kind"], "tun", "{dp:#}");
    let e = &dp["engine"];
    assert!(e["tun"].as_str().unwrap().starts_with("mipmn"), "{dp:#}");
    assert_eq!(
        (e["tx_mode"].as_str(), e["tunnels"].as_u64()),
        (Some("raw"), Some(1))
    );
    assert!(e["counters"]["raw_packets"].as_u64().unwrap() > 0, "{dp:#}");
    assert!(dp["requests"].as_u64().unwrap() >= 1, "{dp:#}");
    let dp = ha.show(&Request::ShowDataplane);
    assert_eq!(
        (dp["kind"].as_str(), dp["reason"].as_str()),
        (Some("tun"), Some("--dataplane"))
    );
    assert!(
        dp["engine"]["counters"]["tun_packets"].as_u64().unwrap() > 0,
        "{dp:#}"
    );

    // Link down and up: a solicitation within 100 ms of the carrier's return.
    let accepted_before = v["counters"]["registrations_accepted"].as_u64().unwrap();
    let g0 = ifindex(&gw, "g0");
    gw.ip("link set g0 down");
    node.wait_node("detached after carrier loss", Duration::from_secs(5), |v| {
        v["attachment"].is_null()
    });
    let (start_tx, start_rx) = mpsc::channel::<()>();
    let (armed_tx, armed_rx) = mpsc::channel::<()>();
    let watcher = gw.spawn(move || {
        let fd = capture(g0);
        armed_tx.send(()).unwrap();
        start_rx.recv().unwrap();
        let t_up = Instant::now();
        let mut buf = [0u8; 2048];
        while t_up.elapsed() < Duration::from_secs(3) {
            // SAFETY: buf is valid for writes of its length.
            let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                continue;
            }
            if let Some(s) = solicitation(&buf[..n as usize]) {
                return Some((t_up.elapsed(), s));
            }
        }
        None
    });
    armed_rx.recv().unwrap();
    // The clock starts before the link comes up (the `ip` command's own time counts too).
    start_tx.send(()).unwrap();
    gw.ip("link set g0 up");
    let (after, (ttl, dst)) = watcher
        .join()
        .unwrap()
        .unwrap_or_else(|| panic!("no solicitation after link up\n{}", node.log_text()));
    eprintln!(
        "solicitation {:.1} ms after the link came up",
        after.as_secs_f64() * 1e3
    );
    assert!(
        after < Duration::from_millis(100),
        "solicitation only after {after:?}\n{}",
        node.log_text()
    );
    assert_eq!((ttl, dst), (1, Ipv4Addr::new(224, 0, 0, 2)));

    // Registered again, and the session still works.
    let v = node.wait_node("registered again", Duration::from_secs(5), |v| {
        v["state"] == "registered"
            && v["counters"]["registrations_accepted"].as_u64().unwrap() > accepted_before
    });
    assert_eq!(v["care_of_address"], "10.40.0.10");
    tcp_round_trip(&gw, b"after the link came back")
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", node.log_text(), ha.log_text()));

    // Requests of other roles get an error, not silence.
    let r = node.control(&Request::ShowTraffic);
    assert!(!r.ok && r.error.unwrap().contains("mobile node"));

    // SIGTERM: deregistration, clean exit, everything removed.
    node.stop();
    let log = node.log_text();
    assert!(log.contains("deregistration accepted"), "{log}");
    assert!(!node.socket.exists(), "control socket left behind");
    let b = ha.show(&Request::ShowBinding {
        filter: BindingFilter::All,
    });
    assert!(!b.to_string().contains("10.40.0.10"), "binding left: {b:#}");
    let addrs = mn.ip("-4 -o addr show");
    assert!(!addrs.contains("10.40.0.10"), "{addrs}");
    assert!(
        addrs.contains("inet 10.10.0.10/32"),
        "home address kept: {addrs}"
    );
    assert!(!addrs.contains("mipmn"), "TUN device left: {addrs}");
    assert!(
        !mn.ip("rule show").contains("lookup 435"),
        "source rule left"
    );
    ha.stop();
    assert!(
        t0.elapsed() < Duration::from_secs(60),
        "took {:?}",
        t0.elapsed()
    );
}

#[test]
fn broken_configuration_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mn.toml");
    std::fs::write(&cfg, mn_config().replace("lifetime = 600", "lifetime = 0")).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mipd"))
        .args(["--role", "mobile-node", "--config"])
        .arg(&cfg)
        .arg("--control-socket")
        .arg(dir.path().join("s"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mn.toml") && err.contains("lifetime"), "{err}");
    std::fs::write(&cfg, format!("{}\nbogus_key = 1\n", mn_config())).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mipd"))
        .args(["--role", "mobile-node", "--check-config", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus_key"));
    std::fs::write(&cfg, mn_config()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mipd"))
        .args(["--role", "mobile-node", "--check-config", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}
