//! The home agent and the foreign agent, both real `mipd` processes with the real data plane
//! (`--dataplane tun`), in network namespaces, with a scripted mobile node (root required):
//!
//! ```text
//!  C 10.0.1.2 --c0/h0-- HA 10.0.1.1 | 10.0.2.1 --h1/f0-- FA 10.0.2.2 | 10.20.0.1 --fv/m0-- M
//!                       home link hh 10.10.0.1/24 (HA address)          visitor link, care-of
//! ```
//!
//! M holds only its home address 10.10.0.10/32 and a default route to the foreign agent. It
//! solicits (the foreign agent answers with an advertisement, TTL 1, F flag, care-of address),
//! gets a denial straight from the foreign agent (lifetime too long: 69, delivered to its MAC
//! without any visitor entry), registers with a reverse tunnel through the foreign agent
//! (relayed with FA-HA authentication, accepted by the home agent), and then a TCP session from
//! C to the home address runs through HA tunnel → FA → visitor link and back through the
//! reverse tunnel; the home agent is killed (-9) and restarted, and the session works again
//! from what its store kept. `show ip mobile visitor`, `... pending`, `show ip mobile tunnel` and
//! `show ip mobile traffic` through the foreign agent's control socket; the kernel state
//! (permanent neighbour, host route, reverse-tunnel rule) checked with `ip`. Deregistration
//! through the foreign agent removes the visitor, its kernel entries and the tunnel, and the
//! home agent's binding and host route; an operator's `clear ip mobile visitor` too. Both
//! daemons stop cleanly and leave their `--dataplane-log` JSON lines.

mod netns;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use mip_control::{ClearVisitor, Request, Response, VisitorFilter};
use mip_security::{ntp, Algorithm, Key, ReplayProtection, SecurityAssociation};
use mip_wire::extension::{append_auth_extension, AuthKind};
use mip_wire::icmp::{AdvertisementExtension, AgentAdvertisement, AgentSolicitation};
use mip_wire::registration::{RegistrationReplyPacket, RegistrationRequest, RequestFlags};
use serde_json::Value;

use netns::{require_root, veth, Netns};

const MN_KEY: &str = "6d69702d746573742d6d6e2d68612d31";
const FA_HA_KEY: &str = "6d69702d746573742d66612d68612d31";
const HOME: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 10);
const HA: Ipv4Addr = Ipv4Addr::new(10, 10, 0, 1);
const COA: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 1);
const C: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);

/// A `mipd` in a namespace.
struct Mipd {
    child: Option<Child>,
    ns: String,
    role: String,
    dir: PathBuf,
    socket: PathBuf,
    log: PathBuf,
}

impl Mipd {
    fn start(ns: &Netns, role: &str, dir: &Path, config: &str) -> Mipd {
        let d = dir.join(role);
        std::fs::create_dir_all(&d).unwrap();
        let cfg = d.join("mipd.toml");
        std::fs::write(&cfg, config).unwrap();
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut m = Mipd {
            child: None,
            ns: ns.0.clone(),
            role: role.into(),
            socket: d.join("mipd.sock"),
            log: d.join("mipd.log"),
            dir: d,
        };
        m.launch();
        m
    }

    /// Starts the process (again) on the same configuration, state and socket.
    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns, env!("CARGO_BIN_EXE_mipd")])
            .args(["--role", &self.role, "--config"])
            .arg(self.dir.join("mipd.toml"))
            .arg("--state-dir")
            .arg(self.dir.join("state"))
            .arg("--control-socket")
            .arg(&self.socket)
            .args(["--dataplane", "tun", "--log-level", "debug"])
            // The home agent's engine with two TUN queues (two threads).
            .args(if self.role == "home-agent" {
                &["--tunnel-queues", "2"][..]
            } else {
                &[]
            })
            .arg("--dataplane-log")
            .arg(self.dir.join("dataplane.jsonl"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let role = self.role.clone();
        let until = Instant::now() + Duration::from_secs(20);
        while self.try_control(&Request::ShowGlobals).is_err() {
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("mipd {role} exited at start ({st}):\n{}", self.log_text());
            }
            assert!(
                Instant::now() < until,
                "mipd {role} did not come up:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`, then start again: what the store kept comes back, data plane included.
    fn kill9_and_restart(&mut self) {
        let mut c = self.child.take().unwrap();
        let _ = c.kill();
        let _ = c.wait();
        self.launch();
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn try_control(&self, req: &Request) -> std::io::Result<Response> {
        let mut s = UnixStream::connect(&self.socket)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut line = serde_json::to_vec(req).unwrap();
        line.push(b'\n');
        s.write_all(&line)?;
        s.shutdown(std::net::Shutdown::Write)?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        serde_json::from_str(out.trim_end())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    fn show(&self, req: &Request) -> Value {
        let r = self.try_control(req).expect("control socket");
        assert!(r.ok, "{req:?}: {:?}\n{}", r.error, self.log_text());
        r.data.unwrap_or(Value::Null)
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

fn sa() -> SecurityAssociation {
    SecurityAssociation::new(
        0x100,
        Algorithm::HmacMd5,
        Key::from_hex(MN_KEY).unwrap(),
        ReplayProtection::default(),
    )
}

/// A Registration Request of the scripted mobile node, signed MN-HA.
fn request(flags: u8, lifetime: u16, ident: u64) -> Vec<u8> {
    let req = RegistrationRequest {
        flags: RequestFlags::from_byte(flags),
        lifetime,
        home_address: HOME,
        home_agent: HA,
        care_of_address: COA,
        identification: ident,
        extensions: Vec::new(),
    };
    let mut buf = req.to_bytes();
    let sa = sa();
    append_auth_extension(&mut buf, AuthKind::MnHa, sa.spi(), 16, |c| {
        sa.authenticator(c)
    })
    .unwrap();
    buf
}

struct Reply {
    code: u8,
    lifetime: u16,
    from: SocketAddrV4,
    authentic: bool,
}

/// Sends `req` to the foreign agent and waits for the reply on the node's socket.
fn exchange(sock: &UdpSocket, agents: [&Mipd; 2], req: &[u8]) -> Reply {
    sock.send_to(req, SocketAddrV4::new(COA, 434)).unwrap();
    let mut buf = [0u8; 2048];
    let (n, from) = sock.recv_from(&mut buf).unwrap_or_else(|e| {
        panic!(
            "no reply within 5 s ({e})\n--- home agent:\n{}\n--- foreign agent:\n{}",
            agents[0].log_text(),
            agents[1].log_text()
        )
    });
    let SocketAddr::V4(from) = from else {
        panic!("IPv6")
    };
    let p = RegistrationReplyPacket::new_checked(&buf[..n]).expect("a Registration Reply");
    let sa = sa();
    let authentic = p.auth_regions().unwrap().iter().any(|r| {
        r.kind == AuthKind::MnHa && r.spi == sa.spi() && sa.verify(r.covered, r.authenticator)
    });
    Reply {
        code: u8::from(p.code()),
        lifetime: p.lifetime(),
        from,
        authentic,
    }
}

/// The mobile node solicits; returns (TTL, advertisement) of the first answer.
fn solicit() -> (u8, AgentAdvertisement) {
    // SAFETY: plain socket(2) call, checked.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
    assert!(fd >= 0);
    // SAFETY: fresh descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 300_000,
    };
    // SAFETY: valid option value of the size passed.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        )
    };
    let sol = AgentSolicitation::default().to_bytes();
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < until, "no agent advertisement");
        // SAFETY: plain old data; all-zero is valid.
        let mut to: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        to.sin_family = libc::AF_INET as u16;
        to.sin_addr.s_addr = u32::from(Ipv4Addr::new(224, 0, 0, 2)).to_be();
        // SAFETY: live buffers of the lengths passed.
        unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                sol.as_ptr().cast(),
                sol.len(),
                0,
                (&to as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            )
        };
        let mut buf = [0u8; 1500];
        let deadline = Instant::now() + Duration::from_millis(600);
        while Instant::now() < deadline {
            // SAFETY: live buffer of the length passed.
            let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 28 {
                continue;
            }
            let p = &buf[..n as usize];
            let ihl = usize::from(p[0] & 0x0f) * 4;
            if p[ihl] == 9 {
                let adv = AgentAdvertisement::parse(&p[ihl..]).expect("valid advertisement");
                return (p[8], adv);
            }
        }
    }
}

/// 1 MiB each way between C and the mobile node's home address.
fn tcp_exchange(c: &Netns, m: &Netns, port: u16) {
    let listener = m.run(move || TcpListener::bind(SocketAddrV4::new(HOME, port)).unwrap());
    let server = std::thread::spawn(move || {
        let (mut s, peer) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 20];
        s.read_exact(&mut buf).unwrap();
        assert!(buf.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        s.write_all(&buf).unwrap();
        peer
    });
    let client = c.spawn(move || {
        let mut s = TcpStream::connect_timeout(
            &SocketAddr::V4(SocketAddrV4::new(HOME, port)),
            Duration::from_secs(5),
        )
        .expect("TCP to the home address");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let data: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        s.write_all(&data).unwrap();
        let mut back = vec![0u8; 1 << 20];
        s.read_exact(&mut back).unwrap();
        assert_eq!(back, data);
    });
    client.join().expect("client");
    let peer = server.join().expect("server");
    assert_eq!(peer.ip(), std::net::IpAddr::V4(C));
}

fn visitors(fa: &Mipd) -> Vec<Value> {
    let v = fa.show(&Request::ShowVisitor {
        filter: VisitorFilter::All,
    });
    v["visitors"].as_array().unwrap().clone()
}

fn bindings(ha: &Mipd) -> Vec<Value> {
    let v = ha.show(&Request::ShowBinding {
        filter: mip_control::BindingFilter::All,
    });
    v["bindings"].as_array().unwrap().clone()
}

fn mac_of(ns: &Netns, dev: &str) -> String {
    let out = ns.ip(&format!("-o link show {dev}"));
    let i = out.find("link/ether ").expect("ether") + "link/ether ".len();
    out[i..i + 17].to_string()
}

fn router_notation(mac: &str) -> String {
    let h: String = mac.split(':').collect();
    format!("{}.{}.{}", &h[0..4], &h[4..8], &h[8..12])
}

#[test]
fn home_agent_and_foreign_agent_deliver_to_a_visitor() {
    if !require_root() {
        return;
    }
    let started = Instant::now();
    let c = Netns::new("c");
    let ha_ns = Netns::new("ha");
    let fa_ns = Netns::new("fa");
    let m = Netns::new("m");
    let hl = Netns::new("hl");
    veth(&c, "c0", &ha_ns, "h0");
    veth(&ha_ns, "h1", &fa_ns, "f0");
    veth(&ha_ns, "hh", &hl, "hp");
    veth(&fa_ns, "fv", &m, "m0");
    c.ip("addr add 10.0.1.2/24 dev c0");
    c.ip("route add default via 10.0.1.1");
    ha_ns.ip("addr add 10.0.1.1/24 dev h0");
    ha_ns.ip("addr add 10.0.2.1/24 dev h1");
    ha_ns.ip("addr add 10.10.0.1/24 dev hh");
    ha_ns.ip("route add 10.20.0.0/24 via 10.0.2.2");
    fa_ns.ip("addr add 10.0.2.2/24 dev f0");
    fa_ns.ip("addr add 10.20.0.1/24 dev fv");
    fa_ns.ip("route add default via 10.0.2.1");
    m.ip("addr add 10.10.0.10/32 dev m0");
    m.ip("route add default via 10.20.0.1 dev m0 onlink");
    let mac_m0 = mac_of(&m, "m0");

    let tmp = tempfile::tempdir().unwrap();
    let mut ha = Mipd::start(
        &ha_ns,
        "home-agent",
        tmp.path(),
        &format!(
            r#"mobile_ip = true
[home_agent]
enabled = true
lifetime = 600
reverse_tunnel = true
[[host_group]]
lower = "10.10.0.10"
interface = "hh"
[[security_association]]
peer = "host"
address = "10.10.0.10"
spi = 0x100
key_hex = "{MN_KEY}"
algorithm = "hmac-md5"
replay = "timestamp"
[[security_association]]
peer = "foreign-agent"
address = "10.20.0.1"
spi = 0x200
key_hex = "{FA_HA_KEY}"
algorithm = "hmac-md5"
"#
        ),
    );
    let mut fa = Mipd::start(
        &fa_ns,
        "foreign-agent",
        tmp.path(),
        &format!(
            r#"mobile_ip = true
[foreign_agent]
enabled = true
care_of = ["fv"]
[[interface]]
name = "fv"
irdp = {{ enabled = true, max_advert_interval = 1, min_advert_interval = 1, holdtime = 3 }}
registration_lifetime = 600
[interface.foreign_service]
registration_required = true
reverse_tunnel = true
[[security_association]]
peer = "home-agent"
address = "10.10.0.1"
spi = 0x200
key_hex = "{FA_HA_KEY}"
algorithm = "hmac-md5"
"#
        ),
    );

    // Agent discovery: a solicitation is answered on the visitor link, TTL 1, F, care-of.
    let (ttl, adv) = m.run(solicit);
    assert_eq!(ttl, 1, "advertisements carry TTL 1");
    let mobility = adv
        .extensions
        .iter()
        .find_map(|e| match e {
            AdvertisementExtension::MobilityAgent(m) => Some(m.clone()),
            _ => None,
        })
        .expect("mobility extension");
    assert!(mobility.flags.foreign_agent && mobility.flags.registration_required);
    assert!(mobility.flags.reverse_tunnelling);
    assert_eq!(mobility.care_of_addresses, vec![COA]);

    let sock = m.run(|| {
        let s = UdpSocket::bind(SocketAddrV4::new(HOME, 434)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    });
    let mut ident = ntp::from_system_time(SystemTime::now());
    let mut next = || {
        ident += 1;
        ident
    };

    // A denial of the foreign agent's own (lifetime above the advertised 600 s): 69, sent to
    // the node's MAC although the foreign agent has no entry for it.
    let r = exchange(&sock, [&ha, &fa], &request(0x02, 700, next()));
    assert_eq!((r.code, r.lifetime), (69, 600));
    assert_eq!(r.from, SocketAddrV4::new(COA, 434));
    assert!(visitors(&fa).is_empty());

    // Registration with a reverse tunnel (T), relayed with FA-HA authentication.
    let r = exchange(&sock, [&ha, &fa], &request(0x02, 600, next()));
    assert_eq!(r.code, 0, "accepted:\n{}\n{}", ha.log_text(), fa.log_text());
    assert!(
        r.authentic,
        "the home agent's MN-HA authenticator is relayed intact"
    );
    assert_eq!(r.lifetime, 600);

    let v = visitors(&fa);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["home_address"], "10.10.0.10");
    assert_eq!(v[0]["interface"], "fv");
    assert_eq!(v[0]["mac_address"], router_notation(&mac_m0));
    assert_eq!(v[0]["home_agent"], "10.10.0.1");
    assert_eq!(v[0]["care_of_address"], "10.20.0.1");
    assert_eq!(v[0]["reverse_allowed"], true);
    let pending = fa.show(&Request::ShowVisitor {
        filter: VisitorFilter::Pending { address: None },
    });
    assert_eq!(pending["total"], 0);
    let b = bindings(&ha);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["care_of_address"], "10.20.0.1");

    let neigh = fa_ns.ip("neigh show dev fv");
    assert!(
        neigh.contains(&format!("10.10.0.10 lladdr {mac_m0} PERMANENT")),
        "{neigh}"
    );
    assert!(fa_ns.ip("route show").contains("10.10.0.10 dev fv"));
    assert!(fa_ns
        .ip("rule show")
        .contains("from 10.10.0.10 iif fv lookup 434"));
    assert!(ha_ns.ip("route show").contains("10.10.0.10 dev mipt"));
    assert!(ha_ns.ip("neigh show proxy").contains("10.10.0.10 dev hh"));

    // TCP from the correspondent to the home address: HA tunnel -> FA -> visitor link, and
    // back through the reverse tunnel.
    tcp_exchange(&c, &m, 5000);

    // The home agent dies (kill -9) and comes back: the binding is restored from its store
    // and its tunnel, host route and proxy neighbour are installed again.
    ha.kill9_and_restart();
    assert_eq!(bindings(&ha).len(), 1);
    assert!(ha_ns.ip("route show").contains("10.10.0.10 dev mipt"));
    tcp_exchange(&c, &m, 5001);

    // The home agent's tunnel carries the engine's counters (reset by the restart): the
    // correspondent's side encapsulated towards the foreign agent, the node's side
    // reverse-tunnelled back.
    let ha_tunnels = ha.show(&Request::ShowTunnel);
    assert_eq!(ha_tunnels["total"], 1, "{ha_tunnels}");
    let t = &ha_tunnels["tunnels"][0];
    assert_eq!(
        (t["source"].as_str(), t["destination"].as_str()),
        (Some("10.10.0.1"), Some("10.20.0.1"))
    );
    assert!(t["packets_out"].as_u64().unwrap() > 0, "encapsulated: {t}");
    assert!(
        t["bytes_out"].as_u64().unwrap() > 1 << 20,
        "encapsulated: {t}"
    );
    assert!(
        t["packets_in"].as_u64().unwrap() > 0,
        "reverse tunnelled: {t}"
    );

    let tunnels = fa.show(&Request::ShowTunnel);
    assert_eq!(tunnels["total"], 1, "{tunnels}");
    let t = &tunnels["tunnels"][0];
    assert_eq!(
        (t["source"].as_str(), t["destination"].as_str()),
        (Some("10.20.0.1"), Some("10.10.0.1"))
    );
    assert!(
        t["bytes_in"].as_u64().unwrap() > 1 << 20,
        "decapsulated: {t}"
    );
    assert!(
        t["bytes_out"].as_u64().unwrap() > 1 << 20,
        "reverse tunnelled: {t}"
    );
    // `show ip mobile dataplane` on both agents: the tun data plane with its engine, raw
    // transmit, one tunnel, and the traffic just carried.
    let dp = ha.show(&Request::ShowDataplane);
    assert_eq!(dp["kind"], "tun", "{dp:#}");
    let e = &dp["engine"];
    assert!(e["tun"].as_str().unwrap().starts_with("mipt"), "{dp:#}");
    assert_eq!(
        (e["tx_mode"].as_str(), e["tunnels"].as_u64()),
        (Some("raw"), Some(1))
    );
    assert_eq!(e["queues"], 2, "--tunnel-queues 2: {dp:#}");
    assert_eq!(
        e["queue_packets"].as_array().map(Vec::len),
        Some(2),
        "{dp:#}"
    );
    assert!(e["counters"]["tun_packets"].as_u64().unwrap() > 0, "{dp:#}");
    assert!(e["encapsulated"].as_u64().unwrap() > 0, "{dp:#}");
    let dp = fa.show(&Request::ShowDataplane);
    assert_eq!(dp["kind"], "tun", "{dp:#}");
    let e = &dp["engine"];
    assert!(e["tun"].as_str().unwrap().starts_with("mipfa"), "{dp:#}");
    assert_eq!(
        (e["tx_mode"].as_str(), e["tunnels"].as_u64()),
        (Some("raw"), Some(1))
    );
    assert!(e["counters"]["raw_packets"].as_u64().unwrap() > 0, "{dp:#}");
    assert!(e["decapsulated"].as_u64().unwrap() > 0, "{dp:#}");
    assert!(dp["requests"].as_u64().unwrap() >= 1, "{dp:#}");
    let traffic = fa.show(&Request::ShowTraffic);
    let fat = &traffic["foreign_agent"];
    assert_eq!(fat["requests_in"], 2);
    assert_eq!(fat["requests_forwarded"], 1);
    assert_eq!(fat["bad_lifetime"], 1);
    assert_eq!(fat["replies_forwarded"], 1);
    assert!(fat["solicitations_received"].as_u64().unwrap() >= 1);
    assert!(
        !m.ip("neigh show").contains("10.0.1.2"),
        "the node never resolves the correspondent"
    );

    // Deregistration through the foreign agent.
    let r = exchange(&sock, [&ha, &fa], &request(0x02, 0, next()));
    assert_eq!((r.code, r.lifetime), (0, 0));
    assert!(visitors(&fa).is_empty());
    assert!(bindings(&ha).is_empty());
    assert!(!fa_ns.ip("neigh show dev fv").contains("10.10.0.10"));
    assert!(!fa_ns.ip("route show").contains("10.10.0.10"));
    assert!(!fa_ns.ip("rule show").contains("10.10.0.10"));
    assert_eq!(fa.show(&Request::ShowTunnel)["total"], 0);
    assert!(!ha_ns.ip("route show").contains("10.10.0.10"));
    assert!(!ha_ns.ip("neigh show proxy").contains("10.10.0.10"));

    // Registered again, then cleared by the operator: the entries go too.
    let r = exchange(&sock, [&ha, &fa], &request(0x00, 600, next()));
    assert_eq!(r.code, 0);
    assert!(fa_ns.ip("route show").contains("10.10.0.10 dev fv"));
    let cleared = fa.show(&Request::ClearVisitor {
        selector: ClearVisitor::Address { address: HOME },
    });
    assert_eq!(cleared["cleared"], 1);
    assert!(!fa_ns.ip("route show").contains("10.10.0.10"));
    let r = ha
        .try_control(&Request::ShowVisitor {
            filter: VisitorFilter::All,
        })
        .unwrap();
    assert!(!r.ok, "a home agent has no visitors: {r:?}");

    fa.stop();
    ha.stop();
    let fa_requests = std::fs::read_to_string(fa.dir.join("dataplane.jsonl")).unwrap();
    let kinds: Vec<String> = fa_requests
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["ok"], true, "{l}");
            v["request"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .clone()
        })
        .collect();
    assert_eq!(
        kinds,
        ["AddVisitor", "RemoveVisitor", "AddVisitor", "RemoveVisitor"],
        "the foreign agent's data-plane log"
    );
    let ha_requests = std::fs::read_to_string(ha.dir.join("dataplane.jsonl")).unwrap();
    assert!(ha_requests.contains("add_tunnel") || ha_requests.contains("AddTunnel"));
    assert!(!fa_ns.ip("link show").contains("mipfa"), "TUN device gone");
    drop(hl);
    eprintln!(
        "namespace test done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
