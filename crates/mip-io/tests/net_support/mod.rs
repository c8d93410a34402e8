//! Shared helpers of the `net_*` tests: network namespaces (torn down on drop), threads that
//! run inside one, `ip` commands, an ICMP pinger, a wire capture.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// True when the test may run; prints the loud skip line otherwise (panics under CI).
pub fn require_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("network-namespace tests need root, and CI is set");
    }
    eprintln!("*** SKIPPED (needs root) ***");
    false
}

/// Runs a shell command; panics with its output unless it succeeds. Returns stdout.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("spawn sh");
    assert!(
        out.status.success(),
        "command failed: {cmd}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = format!(
            "mipio-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        sh(&format!("ip netns add {name}"));
        let ns = Netns { name };
        ns.ip("link set lo up");
        ns
    }

    /// `ip -n NS ARGS`.
    pub fn ip(&self, args: &str) -> String {
        sh(&format!("ip -n {} {args}", self.name))
    }

    /// A command inside the namespace.
    pub fn exec(&self, cmd: &str) -> String {
        sh(&format!("ip netns exec {} {cmd}", self.name))
    }

    pub fn sysctl(&self, key: &str, value: &str) {
        self.exec(&format!("sysctl -qw {key}={value}"));
    }

    /// Moves the calling thread into the namespace.
    pub fn enter(&self) {
        let path = std::ffi::CString::new(format!("/run/netns/{}", self.name)).unwrap();
        // SAFETY: valid NUL-terminated path.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        assert!(fd >= 0, "open netns {}", self.name);
        // SAFETY: fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: setns on a namespace descriptor; affects only this thread.
        let r = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(
            r,
            0,
            "setns {}: {}",
            self.name,
            std::io::Error::last_os_error()
        );
    }

    /// Runs `f` on a new thread inside the namespace.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let name = self.name.clone();
        std::thread::spawn(move || {
            Netns { name }.enter_and_forget();
            f()
        })
    }

    fn enter_and_forget(self) {
        self.enter();
        std::mem::forget(self);
    }

    /// Runs `f` inside the namespace and waits for it.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        self.spawn(f).join().expect("thread in namespace panicked")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A veth pair `left` (in `a`) — `right` (in `b`).
pub fn veth(a: &Netns, left: &str, b: &Netns, right: &str) {
    sh(&format!(
        "ip link add {left} netns {} type veth peer name {right} netns {}",
        a.name, b.name
    ));
    a.ip(&format!("link set {left} up"));
    b.ip(&format!("link set {right} up"));
}

/// The MAC address of `dev` in `ns`.
pub fn mac_of(ns: &Netns, dev: &str) -> [u8; 6] {
    let s = ns.ip(&format!("-br link show dev {dev}"));
    let m = s.split_whitespace().nth(2).expect("mac field");
    let v: Vec<u8> = m
        .split(':')
        .map(|x| u8::from_str_radix(x, 16).unwrap())
        .collect();
    v.try_into().unwrap()
}

fn checksum(b: &[u8]) -> u16 {
    mip_wire::error::internet_checksum(b)
}

/// What a ping got back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingResult {
    /// Echo reply, with the TTL it arrived with.
    Reply {
        ttl: u8,
    },
    /// ICMP Fragmentation Needed with this next-hop MTU.
    FragNeeded {
        mtu: u16,
    },
    Timeout,
}

/// Sends one ICMP echo of `total` IP bytes to `dst` (DF set when `df`), from the calling
/// thread's namespace, and waits for the answer.
pub fn ping(dst: Ipv4Addr, total: usize, df: bool, timeout: Duration) -> PingResult {
    // SAFETY: plain socket call.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_ICMP,
        )
    };
    assert!(
        fd >= 0,
        "raw ICMP socket: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let pmtu: i32 = if df {
        libc::IP_PMTUDISC_PROBE
    } else {
        libc::IP_PMTUDISC_DONT
    };
    // SAFETY: valid option value and length.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            (&pmtu as *const i32).cast(),
            4,
        );
    }
    let id = (std::process::id() as u16)
        ^ (COUNTER.fetch_add(1, Ordering::Relaxed) as u16).wrapping_mul(7919);
    let mut icmp = vec![0u8; total - 20];
    icmp[0] = 8;
    icmp[4..6].copy_from_slice(&id.to_be_bytes());
    icmp[6..8].copy_from_slice(&1u16.to_be_bytes());
    for (i, b) in icmp[8..].iter_mut().enumerate() {
        *b = i as u8;
    }
    let c = checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let sa = sockaddr(dst);
    // SAFETY: valid buffers.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            icmp.as_ptr().cast(),
            icmp.len(),
            0,
            (&sa as *const libc::sockaddr_in).cast(),
            16,
        )
    };
    assert!(
        n >= 0,
        "ping sendto {dst}: {}",
        std::io::Error::last_os_error()
    );
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 65536];
    while Instant::now() < deadline {
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, 100) };
        if r <= 0 {
            continue;
        }
        // SAFETY: valid buffer.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 28 {
            continue;
        }
        let p = &buf[..n as usize];
        let hl = usize::from(p[0] & 0xf) * 4;
        let m = &p[hl..];
        match m[0] {
            0 if m[4..6] == id.to_be_bytes() => return PingResult::Reply { ttl: p[8] },
            3 if m[1] == 4 && m.len() >= 8 + 28 => {
                let q = &m[8..];
                let qhl = usize::from(q[0] & 0xf) * 4;
                if q[16..20] == dst.octets()
                    && q.len() >= qhl + 6
                    && q[qhl + 4..qhl + 6] == id.to_be_bytes()
                {
                    return PingResult::FragNeeded {
                        mtu: u16::from_be_bytes([m[6], m[7]]),
                    };
                }
            }
            _ => {}
        }
    }
    PingResult::Timeout
}

/// Pings until a reply comes (ARP, routes settling), up to `tries` seconds.
pub fn ping_until_reply(dst: Ipv4Addr, total: usize, tries: u32) -> PingResult {
    let mut last = PingResult::Timeout;
    for _ in 0..tries {
        last = ping(dst, total, false, Duration::from_secs(1));
        if matches!(last, PingResult::Reply { .. }) {
            return last;
        }
    }
    last
}

pub fn sockaddr(a: Ipv4Addr) -> libc::sockaddr_in {
    // SAFETY: plain data.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as u16;
    sa.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
    sa
}

/// Captures IPv4 packets of the given protocols on `dev` in the calling namespace until
/// stopped; returns the first 128 bytes of each (IP header first).
pub struct Capture {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Vec<Vec<u8>>>>,
}

impl Capture {
    pub fn start(ns: &Netns, dev: &str, protocols: &'static [u8]) -> Capture {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let dev = dev.to_owned();
        let (ready_tx, ready_rx) = mpsc::channel();
        let handle = ns.spawn(move || {
            let ifindex = {
                let c = std::ffi::CString::new(dev).unwrap();
                // SAFETY: valid string.
                unsafe { libc::if_nametoindex(c.as_ptr()) }
            };
            // SAFETY: plain socket call.
            let fd = unsafe {
                libc::socket(
                    libc::AF_PACKET,
                    libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                    i32::from((libc::ETH_P_ALL as u16).to_be()),
                )
            };
            assert!(fd >= 0);
            // SAFETY: fresh descriptor.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: plain data.
            let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            sa.sll_family = libc::AF_PACKET as u16;
            sa.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
            sa.sll_ifindex = ifindex as i32;
            // SAFETY: valid address.
            let r = unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    (&sa as *const libc::sockaddr_ll).cast(),
                    std::mem::size_of::<libc::sockaddr_ll>() as u32,
                )
            };
            assert_eq!(r, 0);
            ready_tx.send(()).unwrap();
            let mut out = Vec::new();
            let mut buf = vec![0u8; 65536];
            let mut draining = false;
            loop {
                // Once stopped, take what is still queued, then end.
                draining = draining || stop2.load(Ordering::Relaxed);
                let mut pfd = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one pollfd.
                if unsafe { libc::poll(&mut pfd, 1, if draining { 0 } else { 50 }) } <= 0 {
                    if draining {
                        break;
                    }
                    continue;
                }
                // SAFETY: valid buffer.
                let n = unsafe {
                    libc::recv(
                        fd.as_raw_fd(),
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        libc::MSG_DONTWAIT,
                    )
                };
                if n >= 20 && buf[0] >> 4 == 4 && protocols.contains(&buf[9]) && out.len() < 10_000
                {
                    out.push(buf[..(n as usize).min(128)].to_vec());
                }
            }
            out
        });
        ready_rx.recv().unwrap();
        Capture {
            stop,
            handle: Some(handle),
        }
    }

    pub fn finish(mut self) -> Vec<Vec<u8>> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap()
    }
}

pub fn ip_src(p: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(p[12], p[13], p[14], p[15])
}

pub fn ip_dst(p: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(p[16], p[17], p[18], p[19])
}

/// Deterministic test bytes.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A TCP exchange: `client` (in `cns`) sends `up` bytes to `server_addr` (listened on in
/// `sns`), the server answers with `down` bytes; both sides compare what they got.
pub fn tcp_exchange(cns: &Netns, sns: &Netns, server_addr: SocketAddrV4, up: usize, down: usize) {
    let (tx, rx) = mpsc::channel();
    let server = sns.spawn(move || {
        let l = TcpListener::bind(server_addr).expect("bind server");
        tx.send(()).unwrap();
        let (mut s, _) = l.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut got = vec![0u8; up];
        s.read_exact(&mut got).expect("server read");
        assert!(got == pattern(up, 1), "server received different bytes");
        s.write_all(&pattern(down, 2)).expect("server write");
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    });
    rx.recv().unwrap();
    let client = cns.spawn(move || {
        let mut s = TcpStream::connect_timeout(&server_addr.into(), Duration::from_secs(5))
            .expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(&pattern(up, 1)).expect("client write");
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("client read");
        assert_eq!(got.len(), down, "client received length");
        assert!(got == pattern(down, 2), "client received different bytes");
        s.shutdown(std::net::Shutdown::Both).ok();
    });
    client.join().expect("client side failed");
    server.join().expect("server side failed");
}
