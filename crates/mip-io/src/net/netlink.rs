//! A small synchronous rtnetlink client: IPv4 routes, policy rules, neighbours (permanent and
//! proxy), addresses, links.
//!
//! Messages are built by hand (no crate dependency): one request, one answer, on a blocking
//! `NETLINK_ROUTE` socket with a receive timeout, so that a daemon can call it from any thread
//! (each thread or component owns its own [`Netlink`]). The socket is created in the network
//! namespace of the calling thread.
//!
//! Many routes or proxy neighbours at once (a restart restoring a million bindings) go through
//! [`Netlink::batch`]: up to [`MAX_IN_FLIGHT`] requests per `send`, the kernel answering only
//! failures and the last request, each failure mapped back to its request by sequence number.
//!
//! Every error names the operation and carries the kernel's errno (its [`io::ErrorKind`] is the
//! errno's: `EEXIST` is `AlreadyExists`; `ENOENT`, `ESRCH` and `ENODEV` are `NotFound`) and, when the kernel
//! sends one (`NETLINK_EXT_ACK`), its extended message:
//! `netlink add route 10.0.0.9/32 dev 7 table 254: No such device (os error 19)`.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const NLMSG_HDRLEN: usize = 16;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_MULTI: u16 = 0x2;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSGERR_ATTR_MSG: u16 = 1;

const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const RTM_GETNEIGH: u16 = 30;
const RTM_NEWRULE: u16 = 32;
const RTM_DELRULE: u16 = 33;

const AF_INET: u8 = libc::AF_INET as u8;
const AF_UNSPEC: u8 = 0;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_PREFSRC: u16 = 7;
const RTA_METRICS: u16 = 8;
const RTA_TABLE: u16 = 15;
const RTAX_MTU: u16 = 2;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
const FRA_DST: u16 = 1;
const FRA_SRC: u16 = 2;
const FRA_IIFNAME: u16 = 3;
const FRA_PRIORITY: u16 = 6;
const FRA_TABLE: u16 = 15;
const FR_ACT_TO_TBL: u8 = 1;

const RTN_UNICAST: u8 = 1;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RT_SCOPE_HOST: u8 = 254;
const RT_SCOPE_NOWHERE: u8 = 255;
const RTPROT_STATIC: u8 = 4;

/// `NUD_PERMANENT`: a neighbour entry that never expires and is never re-resolved.
pub const NUD_PERMANENT: u16 = 0x80;
/// `NUD_INCOMPLETE`: resolution under way, no link-layer address yet.
pub const NUD_INCOMPLETE: u16 = 0x01;
/// `NUD_REACHABLE`: confirmed recently.
pub const NUD_REACHABLE: u16 = 0x02;
/// `NUD_STALE`: usable, to be confirmed when next used.
pub const NUD_STALE: u16 = 0x04;
/// `NUD_DELAY`: usable, confirmation pending.
pub const NUD_DELAY: u16 = 0x08;
/// `NUD_PROBE`: usable, being probed.
pub const NUD_PROBE: u16 = 0x10;
/// `NUD_FAILED`: resolution failed.
pub const NUD_FAILED: u16 = 0x20;
/// `NUD_NOARP`: no resolution needed on this device.
pub const NUD_NOARP: u16 = 0x40;
/// `ARPHRD_ETHER`: an Ethernet-like device (veth, bridge, real NICs).
pub const ARPHRD_ETHER: u16 = 1;
const NTF_PROXY: u8 = 0x08;

/// The main routing table (`ip route` without `table`).
pub const MAIN_TABLE: u32 = 254;

/// An IPv4 route to install or remove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Destination prefix.
    pub destination: Ipv4Addr,
    /// Prefix length (32 for a host route, 0 for a default route).
    pub prefix_len: u8,
    /// Routing table ([`MAIN_TABLE`] unless policy routing is used).
    pub table: u32,
    /// Output interface index.
    pub device: Option<u32>,
    /// Next hop; `None` for a route straight onto the device (scope link).
    pub gateway: Option<Ipv4Addr>,
    /// Preferred source address for locally originated packets (`src`).
    pub preferred_source: Option<Ipv4Addr>,
    /// Metric (`metric`/`priority`).
    pub metric: Option<u32>,
}

impl Route {
    /// `ADDR/32 dev IFINDEX` in the main table.
    pub fn host_via_device(destination: Ipv4Addr, device: u32) -> Self {
        Route {
            destination,
            prefix_len: 32,
            table: MAIN_TABLE,
            device: Some(device),
            gateway: None,
            preferred_source: None,
            metric: None,
        }
    }

    /// `default dev IFINDEX table TABLE`.
    pub fn default_via_device(device: u32, table: u32) -> Self {
        Route {
            destination: Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            table,
            device: Some(device),
            gateway: None,
            preferred_source: None,
            metric: None,
        }
    }

    /// The same route in another table.
    pub fn in_table(mut self, table: u32) -> Self {
        self.table = table;
        self
    }

    fn describe(&self) -> String {
        let mut s = format!("{}/{}", self.destination, self.prefix_len);
        if let Some(g) = self.gateway {
            s += &format!(" via {g}");
        }
        if let Some(d) = self.device {
            s += &format!(" dev {d}");
        }
        s + &format!(" table {}", self.table)
    }
}

/// Most requests [`Netlink::batch`] keeps in flight at once.
pub const MAX_IN_FLIGHT: usize = 1024;

/// Receive buffer asked for (`SO_RCVBUFFORCE`, else `SO_RCVBUF` up to `rmem_max`), so that
/// the answers to a batch are not dropped.
const RCVBUF: i32 = 4 << 20;

/// One request of a [`Netlink::batch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NlOp {
    /// [`Netlink::route_replace`].
    RouteReplace(Route),
    /// [`Netlink::route_add`].
    RouteAdd(Route),
    /// [`Netlink::route_delete`].
    RouteDelete(Route),
    /// [`Netlink::proxy_add`]: `(ifindex, address)`.
    ProxyAdd(u32, Ipv4Addr),
    /// [`Netlink::proxy_delete`]: `(ifindex, address)`.
    ProxyDelete(u32, Ipv4Addr),
}

impl NlOp {
    fn msg(&self) -> Msg {
        match self {
            NlOp::RouteReplace(r) => {
                Netlink::route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r)
            }
            NlOp::RouteAdd(r) => Netlink::route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r),
            NlOp::RouteDelete(r) => Netlink::route_msg(RTM_DELROUTE, 0, r),
            NlOp::ProxyAdd(ifindex, address) => {
                let mut m = Netlink::neigh_msg(
                    RTM_NEWNEIGH,
                    NLM_F_CREATE | NLM_F_REPLACE,
                    *ifindex,
                    NUD_PERMANENT,
                    NTF_PROXY,
                );
                m.attr(NDA_DST, &address.octets());
                m
            }
            NlOp::ProxyDelete(ifindex, address) => {
                let mut m = Netlink::neigh_msg(RTM_DELNEIGH, 0, *ifindex, 0, NTF_PROXY);
                m.attr(NDA_DST, &address.octets());
                m
            }
        }
    }

    /// What the single-request call would name in its error.
    fn describe(&self) -> String {
        match self {
            NlOp::RouteReplace(r) => format!("replace route {}", r.describe()),
            NlOp::RouteAdd(r) => format!("add route {}", r.describe()),
            NlOp::RouteDelete(r) => format!("delete route {}", r.describe()),
            NlOp::ProxyAdd(i, a) => format!("add proxy neighbour {a} dev {i}"),
            NlOp::ProxyDelete(i, a) => format!("delete proxy neighbour {a} dev {i}"),
        }
    }
}

/// A policy-routing rule: `from SRC/LEN [to DST/LEN] [iif IF] lookup TABLE priority P`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Priority (lower first); `None` lets the kernel choose (below the last rule).
    pub priority: Option<u32>,
    /// Source prefix.
    pub from: Option<(Ipv4Addr, u8)>,
    /// Destination prefix.
    pub to: Option<(Ipv4Addr, u8)>,
    /// Incoming interface name (`iif`); `lo` matches locally originated packets.
    pub iif: Option<String>,
    /// Table to look up.
    pub table: u32,
}

impl Rule {
    /// `from SRC/32 [iif IIF] lookup TABLE priority PRIORITY`: the reverse-tunnel rule.
    pub fn from_host(source: Ipv4Addr, iif: Option<&str>, table: u32, priority: u32) -> Self {
        Rule {
            priority: Some(priority),
            from: Some((source, 32)),
            to: None,
            iif: iif.map(str::to_owned),
            table,
        }
    }

    fn describe(&self) -> String {
        let mut s = String::new();
        if let Some((a, l)) = self.from {
            s += &format!("from {a}/{l} ");
        }
        if let Some((a, l)) = self.to {
            s += &format!("to {a}/{l} ");
        }
        if let Some(i) = &self.iif {
            s += &format!("iif {i} ");
        }
        s += &format!("lookup {}", self.table);
        if let Some(p) = self.priority {
            s += &format!(" priority {p}");
        }
        s
    }
}

/// What the kernel knows about a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    /// Interface index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Link-layer address, when it is a 6-byte one (not on a TUN device).
    pub mac: Option<[u8; 6]>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// The device type (`ifi_type`, `ARPHRD_*`: [`ARPHRD_ETHER`] 1, loopback 772, a TUN
    /// device 65534).
    pub link_type: u16,
}

/// The answer to `ip route get ADDR`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteLookup {
    /// Output interface.
    pub device: Option<u32>,
    /// Source address the kernel would use.
    pub preferred_source: Option<Ipv4Addr>,
    /// Next hop, when not on-link.
    pub gateway: Option<Ipv4Addr>,
    /// Path MTU, when the route or a learned exception carries one.
    pub mtu: Option<u32>,
}

/// A neighbour-table entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbour {
    /// Interface index.
    pub ifindex: u32,
    /// IPv4 address.
    pub address: Ipv4Addr,
    /// Link-layer address (none for proxy entries and unresolved ones).
    pub mac: Option<[u8; 6]>,
    /// `NUD_*` state bits.
    pub state: u16,
    /// A proxy entry (`ip neigh add proxy`).
    pub proxy: bool,
}

impl Neighbour {
    /// The link-layer address may be used to send to this neighbour: a 6-byte address in a
    /// state the kernel itself would send with (see [`nud_usable`]).
    pub fn usable_mac(&self) -> Option<[u8; 6]> {
        if self.proxy || !nud_usable(self.state) {
            return None;
        }
        self.mac
    }
}

/// Whether a neighbour in `NUD_*` state `state` has a link-layer address the kernel would
/// send with: REACHABLE, STALE, DELAY, PROBE, PERMANENT or NOARP (not INCOMPLETE, FAILED or
/// NONE).
pub fn nud_usable(state: u16) -> bool {
    state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP) != 0
}

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A request under construction.
struct Msg {
    buf: Vec<u8>,
}

impl Msg {
    fn new(ty: u16, flags: u16) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&ty.to_ne_bytes());
        buf.extend_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // seq, set at send
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: kernel fills
        Msg { buf }
    }

    fn push(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
        self
    }

    fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = (4 + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.push(data)
    }

    fn attr_u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.attr(ty, &v.to_ne_bytes())
    }

    fn attr_str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.attr(ty, &v)
    }

    fn finish(&mut self, seq: u32) -> &[u8] {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        &self.buf
    }
}

fn ne_u16(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn ne_u32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Iterates over the `(type, payload)` attributes in `b`.
fn attrs(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if b.len() < 4 {
            return None;
        }
        let len = usize::from(ne_u16(b, 0));
        let ty = ne_u16(b, 2) & 0x3fff;
        if len < 4 || len > b.len() {
            return None;
        }
        let data = &b[4..len];
        b = &b[align4(len).min(b.len())..];
        Some((ty, data))
    })
}

fn addr_of(data: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(data).ok().map(Ipv4Addr::from)
}

fn mac_of(data: &[u8]) -> Option<[u8; 6]> {
    <[u8; 6]>::try_from(data).ok()
}

/// One message of an answer.
struct Reply<'a> {
    ty: u16,
    flags: u16,
    seq: u32,
    payload: &'a [u8],
}

fn messages(mut b: &[u8]) -> impl Iterator<Item = Reply<'_>> {
    std::iter::from_fn(move || {
        if b.len() < NLMSG_HDRLEN {
            return None;
        }
        let len = ne_u32(b, 0) as usize;
        if len < NLMSG_HDRLEN || len > b.len() {
            return None;
        }
        let r = Reply {
            ty: ne_u16(b, 4),
            flags: ne_u16(b, 6),
            seq: ne_u32(b, 8),
            payload: &b[NLMSG_HDRLEN..len],
        };
        b = &b[align4(len).min(b.len())..];
        Some(r)
    })
}

/// Decodes an `NLMSG_ERROR` payload: `Ok(())` for an ACK, the error otherwise.
fn decode_error(what: &str, flags: u16, payload: &[u8]) -> io::Result<()> {
    if payload.len() < 4 {
        return Err(io::Error::other(format!(
            "netlink {what}: short error message"
        )));
    }
    let errno = -(ne_u32(payload, 0) as i32);
    if errno == 0 {
        return Ok(());
    }
    let mut ext = String::new();
    if flags & NLM_F_ACK_TLVS != 0 && payload.len() >= 4 + NLMSG_HDRLEN {
        let orig_len = ne_u32(payload, 4) as usize;
        let skip = if flags & NLM_F_CAPPED != 0 {
            4 + NLMSG_HDRLEN
        } else {
            4 + align4(orig_len)
        };
        if let Some(tlvs) = payload.get(skip..) {
            for (ty, data) in attrs(tlvs) {
                if ty == NLMSGERR_ATTR_MSG {
                    let s = String::from_utf8_lossy(data);
                    ext = format!(" ({})", s.trim_end_matches('\0'));
                }
            }
        }
    }
    let os = io::Error::from_raw_os_error(errno);
    // "Nothing to delete / no such thing" errnos, whatever std calls them.
    let kind = match errno {
        libc::ESRCH | libc::ENOENT | libc::ENODEV => io::ErrorKind::NotFound,
        _ => os.kind(),
    };
    Err(io::Error::new(kind, format!("netlink {what}: {os}{ext}")))
}

/// Decodes an `RTM_NEWNEIGH` payload (`ndmsg` + attributes) of the IPv4 family.
fn parse_neighbour(p: &[u8]) -> Option<Neighbour> {
    if p.len() < 12 || p[0] != AF_INET {
        return None;
    }
    let mut n = Neighbour {
        ifindex: ne_u32(p, 4),
        address: Ipv4Addr::UNSPECIFIED,
        mac: None,
        state: ne_u16(p, 8),
        proxy: p[10] & NTF_PROXY != 0,
    };
    for (a, d) in attrs(&p[12..]) {
        match a {
            NDA_DST => n.address = addr_of(d).unwrap_or(n.address),
            NDA_LLADDR => n.mac = mac_of(d),
            _ => {}
        }
    }
    Some(n)
}

/// A synchronous rtnetlink socket. See the module documentation.
#[derive(Debug)]
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
    rbuf: Vec<u8>,
}

fn setsockopt_int(fd: RawFd, level: i32, name: i32, v: i32) -> io::Result<()> {
    // SAFETY: `v` outlives the call and the length passed is its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&v as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Netlink {
    /// Opens a `NETLINK_ROUTE` socket in the calling thread's network namespace.
    ///
    /// # Errors
    /// The socket cannot be created or bound.
    pub fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain data; all-zero is a valid value.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `sa` is a valid sockaddr_nl of the given length.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        // Extended error messages, and errors that do not echo the whole request.
        let _ = setsockopt_int(fd.as_raw_fd(), libc::SOL_NETLINK, 11, 1); // NETLINK_EXT_ACK
        let _ = setsockopt_int(fd.as_raw_fd(), libc::SOL_NETLINK, 10, 1); // NETLINK_CAP_ACK

        // Room for the answers to a batch: forced beyond rmem_max with CAP_NET_ADMIN.
        let raw = fd.as_raw_fd();
        if setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RCVBUF).is_err() {
            let _ = setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, RCVBUF);
        }
        let tv = libc::timeval {
            tv_sec: 5,
            tv_usec: 0,
        };
        // SAFETY: `tv` outlives the call and the length passed is its size.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
        }
        Ok(Netlink {
            fd,
            seq: 1,
            rbuf: vec![0; 1 << 16],
        })
    }

    fn send(&mut self, what: &str, msg: &mut Msg) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let bytes = msg.finish(seq);
        // SAFETY: `bytes` is a valid buffer of the given length; the kernel address is implied
        // by the bound netlink socket.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("netlink {what}: send: {e}"),
            ));
        }
        Ok(seq)
    }

    fn recv(&mut self, what: &str) -> io::Result<usize> {
        // SAFETY: `rbuf` is a valid writable buffer of the given length.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                self.rbuf.as_mut_ptr().cast(),
                self.rbuf.len(),
                0,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("netlink {what}: receive: {e}"),
            ));
        }
        Ok(n as usize)
    }

    /// Sends a request with `NLM_F_ACK` and waits for the acknowledgement.
    fn ack(&mut self, what: &str, msg: &mut Msg) -> io::Result<()> {
        let flags = ne_u16(&msg.buf, 6) | NLM_F_ACK;
        msg.buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        let seq = self.send(what, msg)?;
        loop {
            let n = self.recv(what)?;
            for m in messages(&self.rbuf[..n]) {
                if m.seq == seq && m.ty == NLMSG_ERROR {
                    return decode_error(what, m.flags, m.payload);
                }
            }
        }
    }

    /// Sends a request and calls `f` on every answer message (of a dump, or the single
    /// answer of a get) until the end.
    fn query(
        &mut self,
        what: &str,
        msg: &mut Msg,
        mut f: impl FnMut(u16, &[u8]),
    ) -> io::Result<()> {
        let dump = ne_u16(&msg.buf, 6) & NLM_F_DUMP != 0;
        let seq = self.send(what, msg)?;
        loop {
            let n = self.recv(what)?;
            let mut done = false;
            for m in messages(&self.rbuf[..n]) {
                if m.seq != seq {
                    continue;
                }
                match m.ty {
                    NLMSG_DONE => done = true,
                    NLMSG_ERROR => {
                        decode_error(what, m.flags, m.payload)?;
                        done = true;
                    }
                    ty => {
                        f(ty, m.payload);
                        if !dump && m.flags & NLM_F_MULTI == 0 {
                            done = true;
                        }
                    }
                }
            }
            if done {
                return Ok(());
            }
        }
    }

    // ----------------------------------------------------------------- batches

    /// How many requests of a batch are in flight at once: what the receive buffer can hold
    /// as error answers (each an skb of about a kilobyte), at most [`MAX_IN_FLIGHT`].
    fn in_flight(&self) -> usize {
        let mut v: i32 = 0;
        let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
        // SAFETY: `v` and `len` outlive the call and describe a valid i32 buffer.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&mut v as *mut i32).cast(),
                &mut len,
            )
        };
        let rcvbuf = if r == 0 && v > 0 { v as usize } else { 212_992 };
        (rcvbuf / 2048).clamp(16, MAX_IN_FLIGHT)
    }

    /// Carries out many requests with few system calls (see [`NlOp`]): up to
    /// [`MAX_IN_FLIGHT`] requests are written with one `send`, only the last one asking for an
    /// acknowledgement; the kernel handles them in order and answers a failure with an error
    /// carrying the failed request's sequence number, so every failure is mapped back to its
    /// request. Returns one result per request, in order, each error naming its request as
    /// the single-request calls do (`netlink add route 10.0.0.9/32 dev 7 table 254: ...`).
    ///
    /// A request whose answer cannot be known (the send failed, an answer was lost because
    /// the receive buffer overflowed, no answer before the receive timeout) gets an error
    /// too: none is ever reported as done without the kernel having said so.
    pub fn batch(&mut self, ops: &[NlOp]) -> Vec<io::Result<()>> {
        let mut out: Vec<io::Result<()>> = Vec::with_capacity(ops.len());
        let chunk = self.in_flight();
        let mut buf = Vec::with_capacity(chunk * 64);
        for part in ops.chunks(chunk) {
            self.batch_chunk(part, ops.len(), &mut buf, &mut out);
        }
        out
    }

    fn batch_chunk(
        &mut self,
        ops: &[NlOp],
        total: usize,
        buf: &mut Vec<u8>,
        out: &mut Vec<io::Result<()>>,
    ) {
        let first = out.len();
        let base = self.seq.wrapping_add(1);
        buf.clear();
        for (i, op) in ops.iter().enumerate() {
            let mut m = op.msg();
            if i + 1 == ops.len() {
                let flags = ne_u16(&m.buf, 6) | NLM_F_ACK;
                m.buf[6..8].copy_from_slice(&flags.to_ne_bytes());
            }
            buf.extend_from_slice(m.finish(base.wrapping_add(i as u32)));
        }
        self.seq = base.wrapping_add(ops.len() as u32 - 1);
        // None: no answer yet; an error only comes for a failure, the acknowledgement for the
        // last request says the kernel is done with the whole chunk.
        let mut results: Vec<Option<io::Result<()>>> = (0..ops.len()).map(|_| None).collect();
        // SAFETY: `buf` is a valid buffer of the given length; the kernel address is implied
        // by the bound netlink socket.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0) };
        // Why some requests may have no answer: the send failed, the receive failed (timeout),
        // or answers were dropped (ENOBUFS: the receive buffer overflowed).
        let mut failure: Option<io::Error> = None;
        let mut lost = false;
        let mut done = false;
        if n < 0 {
            failure = Some(io::Error::last_os_error());
        } else {
            while !done {
                // SAFETY: `rbuf` is a valid writable buffer of the given length.
                let n = unsafe {
                    libc::recv(
                        self.fd.as_raw_fd(),
                        self.rbuf.as_mut_ptr().cast(),
                        self.rbuf.len(),
                        0,
                    )
                };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    match e.raw_os_error() {
                        Some(libc::EINTR) => continue,
                        Some(libc::ENOBUFS) => {
                            // Answers were dropped; the final acknowledgement may still come.
                            lost = true;
                            failure = Some(e);
                            continue;
                        }
                        _ => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                for m in messages(&self.rbuf[..n as usize]) {
                    let i = m.seq.wrapping_sub(base) as usize;
                    if m.ty != NLMSG_ERROR || i >= ops.len() {
                        continue; // an answer to an earlier request that timed out
                    }
                    results[i] = Some(decode_error(&ops[i].describe(), m.flags, m.payload));
                    done |= i + 1 == ops.len();
                }
            }
        }
        // The kernel answers in order and only failures (and the last request) are answered:
        // a request without an answer before an answered one succeeded, unless answers were
        // lost.
        let last_answered = if lost {
            None
        } else if done {
            Some(ops.len())
        } else {
            results.iter().rposition(Option::is_some)
        };
        for (i, r) in results.into_iter().enumerate() {
            out.push(match r {
                Some(r) => r,
                None if last_answered.is_some_and(|l| i < l) => Ok(()),
                None => {
                    let e = failure
                        .as_ref()
                        .map_or_else(|| "no answer".to_owned(), ToString::to_string);
                    Err(io::Error::other(format!(
                        "netlink {}: outcome unknown (request {} of a batch of {}): {e}",
                        ops[i].describe(),
                        first + i + 1,
                        total
                    )))
                }
            });
        }
    }

    /// Installs many routes with replace semantics ([`Netlink::route_replace`]) in batches
    /// ([`Netlink::batch`]); one result per route.
    pub fn routes_replace(&mut self, routes: &[Route]) -> Vec<io::Result<()>> {
        let ops: Vec<NlOp> = routes.iter().cloned().map(NlOp::RouteReplace).collect();
        self.batch(&ops)
    }

    /// Installs many routes, each failing with `AlreadyExists` if its prefix has one
    /// ([`Netlink::route_add`]), in batches ([`Netlink::batch`]); one result per route.
    pub fn routes_add(&mut self, routes: &[Route]) -> Vec<io::Result<()>> {
        let ops: Vec<NlOp> = routes.iter().cloned().map(NlOp::RouteAdd).collect();
        self.batch(&ops)
    }

    // ---------------------------------------------------------------- routes

    fn route_msg(ty: u16, flags: u16, r: &Route) -> Msg {
        let mut m = Msg::new(ty, flags);
        let delete = ty == RTM_DELROUTE;
        let scope = if delete {
            RT_SCOPE_NOWHERE
        } else if r.gateway.is_none() && r.device.is_some() {
            RT_SCOPE_LINK
        } else {
            RT_SCOPE_UNIVERSE
        };
        let table_u8 = if r.table < 256 { r.table as u8 } else { 0 };
        m.push(&[
            AF_INET,
            r.prefix_len,
            0,
            0,
            table_u8,
            if delete { 0 } else { RTPROT_STATIC },
            scope,
            if delete { 0 } else { RTN_UNICAST },
        ]);
        m.push(&0u32.to_ne_bytes());
        if r.prefix_len > 0 {
            m.attr(RTA_DST, &r.destination.octets());
        }
        m.attr_u32(RTA_TABLE, r.table);
        if let Some(d) = r.device {
            m.attr_u32(RTA_OIF, d);
        }
        if let Some(g) = r.gateway {
            m.attr(RTA_GATEWAY, &g.octets());
        }
        if let Some(s) = r.preferred_source {
            m.attr(RTA_PREFSRC, &s.octets());
        }
        if let Some(p) = r.metric {
            m.attr_u32(RTA_PRIORITY, p);
        }
        m
    }

    /// Installs `route`, replacing a route to the same prefix (same table, metric) if there is
    /// one (`ip route replace`).
    ///
    /// # Errors
    /// The kernel refused (missing device, ...).
    pub fn route_replace(&mut self, route: &Route) -> io::Result<()> {
        let mut m = Self::route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route);
        self.ack(&format!("replace route {}", route.describe()), &mut m)
    }

    /// Installs `route`; fails with `AlreadyExists` if the prefix has one (`ip route add`).
    ///
    /// # Errors
    /// The kernel refused.
    pub fn route_add(&mut self, route: &Route) -> io::Result<()> {
        let mut m = Self::route_msg(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route);
        self.ack(&format!("add route {}", route.describe()), &mut m)
    }

    /// Removes `route` (`ip route del`); `NotFound` (ESRCH) if there is none.
    ///
    /// # Errors
    /// The kernel refused.
    pub fn route_delete(&mut self, route: &Route) -> io::Result<()> {
        let mut m = Self::route_msg(RTM_DELROUTE, 0, route);
        self.ack(&format!("delete route {}", route.describe()), &mut m)
    }

    /// `ip route get DESTINATION`: the route the kernel would use, with the path MTU if one is
    /// known (a route `mtu` or an exception learned from ICMP).
    ///
    /// # Errors
    /// No route (`ENETUNREACH`) or the kernel refused.
    pub fn route_get(&mut self, destination: Ipv4Addr) -> io::Result<RouteLookup> {
        let mut m = Msg::new(RTM_GETROUTE, 0);
        m.push(&[AF_INET, 32, 0, 0, 0, 0, 0, 0]);
        m.push(&0u32.to_ne_bytes());
        m.attr(RTA_DST, &destination.octets());
        let mut out = RouteLookup::default();
        self.query(&format!("get route {destination}"), &mut m, |ty, p| {
            if ty != RTM_NEWROUTE || p.len() < 12 {
                return;
            }
            for (a, d) in attrs(&p[12..]) {
                match a {
                    RTA_OIF if d.len() == 4 => out.device = Some(ne_u32(d, 0)),
                    RTA_PREFSRC => out.preferred_source = addr_of(d),
                    RTA_GATEWAY => out.gateway = addr_of(d),
                    RTA_METRICS => {
                        for (x, v) in attrs(d) {
                            if x == RTAX_MTU && v.len() == 4 {
                                out.mtu = Some(ne_u32(v, 0));
                            }
                        }
                    }
                    _ => {}
                }
            }
        })?;
        Ok(out)
    }

    // ----------------------------------------------------------------- rules

    fn rule_msg(ty: u16, flags: u16, r: &Rule) -> Msg {
        let mut m = Msg::new(ty, flags);
        let table_u8 = if r.table < 256 { r.table as u8 } else { 0 };
        m.push(&[
            AF_INET,
            r.to.map_or(0, |t| t.1),
            r.from.map_or(0, |f| f.1),
            0,
            table_u8,
            0,
            0,
            FR_ACT_TO_TBL,
        ]);
        m.push(&0u32.to_ne_bytes());
        if let Some((a, _)) = r.from {
            m.attr(FRA_SRC, &a.octets());
        }
        if let Some((a, _)) = r.to {
            m.attr(FRA_DST, &a.octets());
        }
        if let Some(i) = &r.iif {
            m.attr_str(FRA_IIFNAME, i);
        }
        if let Some(p) = r.priority {
            m.attr_u32(FRA_PRIORITY, p);
        }
        m.attr_u32(FRA_TABLE, r.table);
        m
    }

    /// Adds a policy rule (`ip rule add`). Adding a rule that exists already (same
    /// selectors, table and priority) succeeds without creating a duplicate.
    ///
    /// # Errors
    /// The kernel refused.
    pub fn rule_add(&mut self, rule: &Rule) -> io::Result<()> {
        let mut m = Self::rule_msg(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, rule);
        match self.ack(&format!("add rule {}", rule.describe()), &mut m) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            r => r,
        }
    }

    /// Removes a policy rule (`ip rule del`); `NotFound` if there is none.
    ///
    /// # Errors
    /// The kernel refused.
    pub fn rule_delete(&mut self, rule: &Rule) -> io::Result<()> {
        let mut m = Self::rule_msg(RTM_DELRULE, 0, rule);
        self.ack(&format!("delete rule {}", rule.describe()), &mut m)
    }

    // ------------------------------------------------------------ neighbours

    fn neigh_msg(ty: u16, flags: u16, ifindex: u32, state: u16, ntf: u8) -> Msg {
        let mut m = Msg::new(ty, flags);
        m.push(&[AF_INET, 0, 0, 0]);
        m.push(&(ifindex as i32).to_ne_bytes());
        m.push(&[state.to_ne_bytes()[0], state.to_ne_bytes()[1], ntf, 0]);
        m
    }

    /// A permanent neighbour entry `ADDRESS lladdr MAC nud permanent dev IFINDEX`
    /// (`ip neigh replace`): the foreign agent's "ARP entry for the visitor", so that it
    /// delivers without ARPing.
    ///
    /// # Errors
    /// The kernel refused.
    pub fn neigh_replace(
        &mut self,
        ifindex: u32,
        address: Ipv4Addr,
        mac: [u8; 6],
    ) -> io::Result<()> {
        let mut m = Self::neigh_msg(
            RTM_NEWNEIGH,
            NLM_F_CREATE | NLM_F_REPLACE,
            ifindex,
            NUD_PERMANENT,
            0,
        );
        m.attr(NDA_DST, &address.octets());
        m.attr(NDA_LLADDR, &mac);
        self.ack(
            &format!(
                "replace neighbour {address} lladdr {} dev {ifindex}",
                format_mac(&mac)
            ),
            &mut m,
        )
    }

    /// Removes a (non-proxy) neighbour entry (`ip neigh del`).
    ///
    /// # Errors
    /// The kernel refused (`NotFound` when there is none).
    pub fn neigh_delete(&mut self, ifindex: u32, address: Ipv4Addr) -> io::Result<()> {
        let mut m = Self::neigh_msg(RTM_DELNEIGH, 0, ifindex, 0, 0);
        m.attr(NDA_DST, &address.octets());
        self.ack(&format!("delete neighbour {address} dev {ifindex}"), &mut m)
    }

    /// Answers ARP for `address` on the link (`ip neigh replace proxy ADDRESS dev IFINDEX`).
    /// The kernel answers only with `net.ipv4.ip_forward=1` and a route for `address` that
    /// does not point back out of this link.
    ///
    /// # Errors
    /// The kernel refused.
    pub fn proxy_add(&mut self, ifindex: u32, address: Ipv4Addr) -> io::Result<()> {
        let mut m = Self::neigh_msg(
            RTM_NEWNEIGH,
            NLM_F_CREATE | NLM_F_REPLACE,
            ifindex,
            NUD_PERMANENT,
            NTF_PROXY,
        );
        m.attr(NDA_DST, &address.octets());
        self.ack(
            &format!("add proxy neighbour {address} dev {ifindex}"),
            &mut m,
        )
    }

    /// Stops answering ARP for `address` (`ip neigh del proxy ADDRESS dev IFINDEX`).
    ///
    /// # Errors
    /// The kernel refused (`NotFound` when there is none).
    pub fn proxy_delete(&mut self, ifindex: u32, address: Ipv4Addr) -> io::Result<()> {
        let mut m = Self::neigh_msg(RTM_DELNEIGH, 0, ifindex, 0, NTF_PROXY);
        m.attr(NDA_DST, &address.octets());
        self.ack(
            &format!("delete proxy neighbour {address} dev {ifindex}"),
            &mut m,
        )
    }

    /// The IPv4 neighbour entries (`proxy`: the proxy entries instead), optionally of one
    /// interface.
    ///
    /// # Errors
    /// The kernel refused.
    pub fn neighbours(&mut self, ifindex: Option<u32>, proxy: bool) -> io::Result<Vec<Neighbour>> {
        let mut m = Self::neigh_msg(
            RTM_GETNEIGH,
            NLM_F_DUMP,
            0,
            0,
            if proxy { NTF_PROXY } else { 0 },
        );
        let mut out = Vec::new();
        self.query("dump neighbours", &mut m, |ty, p| {
            if ty != RTM_NEWNEIGH || p.len() < 12 || p[0] != AF_INET {
                return;
            }
            let Some(n) = parse_neighbour(p) else {
                return;
            };
            if ifindex.is_some_and(|i| i != n.ifindex) {
                return;
            }
            if n.proxy == proxy {
                out.push(n);
            }
        })?;
        Ok(out)
    }

    fn neigh_get_msg(ifindex: u32, address: Ipv4Addr) -> Msg {
        let mut m = Self::neigh_msg(RTM_GETNEIGH, 0, ifindex, 0, 0);
        m.attr(NDA_DST, &address.octets());
        m
    }

    /// The (non-proxy) neighbour entry for `address` on `ifindex`, if any, asked for alone
    /// (`ip neigh get ADDRESS dev IFINDEX`; kernels before 4.20 answer with a filtered dump
    /// instead).
    ///
    /// # Errors
    /// The kernel refused.
    pub fn neighbour_get(
        &mut self,
        ifindex: u32,
        address: Ipv4Addr,
    ) -> io::Result<Option<Neighbour>> {
        let mut m = Self::neigh_get_msg(ifindex, address);
        let mut out = None;
        let r = self.query(
            &format!("get neighbour {address} dev {ifindex}"),
            &mut m,
            |ty, p| {
                if ty == RTM_NEWNEIGH {
                    out = parse_neighbour(p).filter(|n| n.address == address && !n.proxy);
                }
            },
        );
        match r {
            Ok(()) => Ok(out),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            // A kernel without RTM_GETNEIGH "get" (before 4.20) refuses the request.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Unsupported | io::ErrorKind::InvalidInput
                ) =>
            {
                self.neighbour(ifindex, address)
            }
            Err(e) => Err(e),
        }
    }

    /// The (non-proxy) neighbour entry for `address` on `ifindex`, if any.
    ///
    /// # Errors
    /// The kernel refused.
    pub fn neighbour(&mut self, ifindex: u32, address: Ipv4Addr) -> io::Result<Option<Neighbour>> {
        Ok(self
            .neighbours(Some(ifindex), false)?
            .into_iter()
            .find(|n| n.address == address))
    }

    // ------------------------------------------------------------- addresses

    fn addr_msg(ty: u16, flags: u16, ifindex: u32, address: Ipv4Addr, prefix_len: u8) -> Msg {
        let mut m = Msg::new(ty, flags);
        let scope = if address.is_loopback() {
            RT_SCOPE_HOST
        } else {
            RT_SCOPE_UNIVERSE
        };
        m.push(&[AF_INET, prefix_len, 0, scope]);
        m.push(&ifindex.to_ne_bytes());
        m.attr(IFA_LOCAL, &address.octets());
        m.attr(IFA_ADDRESS, &address.octets());
        m
    }

    /// Adds (or replaces) `address/prefix_len` on `ifindex` (`ip addr replace`).
    ///
    /// # Errors
    /// The kernel refused.
    pub fn addr_add(&mut self, ifindex: u32, address: Ipv4Addr, prefix_len: u8) -> io::Result<()> {
        let mut m = Self::addr_msg(
            RTM_NEWADDR,
            NLM_F_CREATE | NLM_F_REPLACE,
            ifindex,
            address,
            prefix_len,
        );
        self.ack(
            &format!("add address {address}/{prefix_len} dev {ifindex}"),
            &mut m,
        )
    }

    /// The IPv4 addresses, optionally of one interface: `(ifindex, address, prefix length)`
    /// (`ip -4 addr show`).
    ///
    /// # Errors
    /// The kernel refused.
    pub fn ipv4_addresses(&mut self, ifindex: Option<u32>) -> io::Result<Vec<(u32, Ipv4Addr, u8)>> {
        let mut m = Msg::new(RTM_GETADDR, NLM_F_DUMP);
        m.push(&[AF_INET, 0, 0, 0]);
        m.push(&0u32.to_ne_bytes());
        let mut out = Vec::new();
        self.query("dump addresses", &mut m, |ty, p| {
            if ty != RTM_NEWADDR || p.len() < 8 || p[0] != AF_INET {
                return;
            }
            let idx = ne_u32(p, 4);
            if ifindex.is_some_and(|i| i != idx) {
                return;
            }
            let (mut local, mut address) = (None, None);
            for (a, d) in attrs(&p[8..]) {
                match a {
                    IFA_LOCAL => local = addr_of(d),
                    IFA_ADDRESS => address = addr_of(d),
                    _ => {}
                }
            }
            if let Some(a) = local.or(address) {
                out.push((idx, a, p[1]));
            }
        })?;
        Ok(out)
    }

    /// Removes `address/prefix_len` from `ifindex` (`ip addr del`).
    ///
    /// # Errors
    /// The kernel refused.
    pub fn addr_delete(
        &mut self,
        ifindex: u32,
        address: Ipv4Addr,
        prefix_len: u8,
    ) -> io::Result<()> {
        let mut m = Self::addr_msg(RTM_DELADDR, 0, ifindex, address, prefix_len);
        self.ack(
            &format!("delete address {address}/{prefix_len} dev {ifindex}"),
            &mut m,
        )
    }

    // ----------------------------------------------------------------- links

    fn link_msg(ty: u16, flags: u16, index: u32, ifi_flags: u32, change: u32) -> Msg {
        let mut m = Msg::new(ty, flags);
        m.push(&[AF_UNSPEC, 0, 0, 0]);
        m.push(&(index as i32).to_ne_bytes());
        m.push(&ifi_flags.to_ne_bytes());
        m.push(&change.to_ne_bytes());
        m
    }

    /// Sets a link administratively up or down (`ip link set dev X up|down`).
    ///
    /// # Errors
    /// The kernel refused.
    pub fn link_set_up(&mut self, ifindex: u32, up: bool) -> io::Result<()> {
        let f = libc::IFF_UP as u32;
        let mut m = Self::link_msg(RTM_NEWLINK, 0, ifindex, if up { f } else { 0 }, f);
        let what = format!("set link {ifindex} {}", if up { "up" } else { "down" });
        self.ack(&what, &mut m)
    }

    /// Sets a link's MTU (`ip link set dev X mtu N`).
    ///
    /// # Errors
    /// The kernel refused (out of the device's range).
    pub fn link_set_mtu(&mut self, ifindex: u32, mtu: u32) -> io::Result<()> {
        let mut m = Self::link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);
        m.attr_u32(IFLA_MTU, mtu);
        self.ack(&format!("set link {ifindex} mtu {mtu}"), &mut m)
    }

    fn parse_link(p: &[u8]) -> Option<LinkInfo> {
        if p.len() < 16 {
            return None;
        }
        let mut l = LinkInfo {
            index: ne_u32(p, 4),
            name: String::new(),
            mac: None,
            mtu: 0,
            up: ne_u32(p, 8) & libc::IFF_UP as u32 != 0,
            link_type: ne_u16(p, 2),
        };
        for (a, d) in attrs(&p[16..]) {
            match a {
                IFLA_IFNAME => {
                    l.name = String::from_utf8_lossy(d).trim_end_matches('\0').to_owned()
                }
                IFLA_ADDRESS => l.mac = mac_of(d),
                IFLA_MTU if d.len() == 4 => l.mtu = ne_u32(d, 0),
                _ => {}
            }
        }
        Some(l)
    }

    /// What the kernel knows about the link called `name` (`ip link show NAME`).
    ///
    /// # Errors
    /// No such link (`NotFound`) or the kernel refused.
    pub fn link(&mut self, name: &str) -> io::Result<LinkInfo> {
        let mut m = Self::link_msg(RTM_GETLINK, 0, 0, 0, 0);
        m.attr_str(IFLA_IFNAME, name);
        let mut out = None;
        self.query(&format!("get link {name}"), &mut m, |ty, p| {
            if ty == RTM_NEWLINK {
                out = Self::parse_link(p);
            }
        })?;
        out.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("netlink get link {name}: no answer"),
            )
        })
    }

    /// What the kernel knows about the link with index `index`.
    ///
    /// # Errors
    /// No such link (`NotFound`) or the kernel refused.
    pub fn link_by_index(&mut self, index: u32) -> io::Result<LinkInfo> {
        let mut m = Self::link_msg(RTM_GETLINK, 0, index, 0, 0);
        let mut out = None;
        self.query(&format!("get link {index}"), &mut m, |ty, p| {
            if ty == RTM_NEWLINK {
                out = Self::parse_link(p);
            }
        })?;
        out.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("netlink get link {index}: no answer"),
            )
        })
    }

    /// The interface index of `name`.
    ///
    /// # Errors
    /// No such link.
    pub fn ifindex(&mut self, name: &str) -> io::Result<u32> {
        self.link(name).map(|l| l.index)
    }

    /// The MAC address of `name`.
    ///
    /// # Errors
    /// No such link, or it has no 6-byte link-layer address (`InvalidInput`).
    pub fn mac(&mut self, name: &str) -> io::Result<[u8; 6]> {
        self.link(name)?.mac.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("link {name} has no Ethernet address"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_aligned_attributes_and_parses_them_back() {
        let mut m = Msg::new(RTM_NEWROUTE, NLM_F_CREATE);
        m.push(&[1, 2, 3]);
        m.attr(RTA_DST, &[10, 0, 0, 1])
            .attr_str(FRA_IIFNAME, "eth0");
        let bytes = m.finish(7).to_vec();
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(ne_u32(&bytes, 0) as usize, bytes.len());
        assert_eq!(ne_u32(&bytes, 8), 7);
        let a: Vec<_> = attrs(&bytes[20..]).collect();
        assert_eq!(a[0], (RTA_DST, &[10u8, 0, 0, 1][..]));
        assert_eq!(a[1], (FRA_IIFNAME, &b"eth0\0"[..]));
    }

    #[test]
    fn decodes_errors_with_extended_messages() {
        assert!(decode_error("x", 0, &0u32.to_ne_bytes()).is_ok());
        let mut p = (-17i32).to_ne_bytes().to_vec();
        p.extend_from_slice(&[0u8; 16]); // capped original header
        p.extend_from_slice(&9u16.to_ne_bytes());
        p.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        p.extend_from_slice(b"boom\0\0\0\0");
        let e =
            decode_error("add route 1.2.3.4/32", NLM_F_CAPPED | NLM_F_ACK_TLVS, &p).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        let s = e.to_string();
        assert!(
            s.contains("add route 1.2.3.4/32") && s.contains("os error 17") && s.contains("(boom)"),
            "{s}"
        );
    }

    #[test]
    fn neighbour_get_request_is_a_plain_get_with_the_address() {
        let mut m = Netlink::neigh_get_msg(7, Ipv4Addr::new(10, 2, 0, 2));
        let b = m.finish(3).to_vec();
        assert_eq!(ne_u16(&b, 4), RTM_GETNEIGH);
        assert_eq!(ne_u16(&b, 6), NLM_F_REQUEST, "not a dump");
        // ndmsg: family, pads, ifindex, state 0, flags 0, type 0 (the kernel checks these)
        assert_eq!(&b[16..20], &[AF_INET, 0, 0, 0]);
        assert_eq!(ne_u32(&b, 20), 7);
        assert_eq!(&b[24..28], &[0, 0, 0, 0]);
        let a: Vec<_> = attrs(&b[28..]).collect();
        assert_eq!(a, vec![(NDA_DST, &[10u8, 2, 0, 2][..])]);
    }

    fn neigh_payload(state: u16, flags: u8, mac: Option<[u8; 6]>) -> Vec<u8> {
        let mut m = Msg::new(RTM_NEWNEIGH, 0);
        m.push(&[AF_INET, 0, 0, 0]);
        m.push(&5i32.to_ne_bytes());
        m.push(&[state.to_ne_bytes()[0], state.to_ne_bytes()[1], flags, 1]);
        m.attr(NDA_DST, &[10, 2, 0, 1]);
        if let Some(mac) = mac {
            m.attr(NDA_LLADDR, &mac);
        }
        m.finish(1)[NLMSG_HDRLEN..].to_vec()
    }

    #[test]
    fn parses_neighbours_and_tells_usable_states() {
        let mac = [2, 0, 0, 0, 0, 1];
        let n = parse_neighbour(&neigh_payload(NUD_STALE, 0, Some(mac))).unwrap();
        assert_eq!(
            n,
            Neighbour {
                ifindex: 5,
                address: Ipv4Addr::new(10, 2, 0, 1),
                mac: Some(mac),
                state: NUD_STALE,
                proxy: false,
            }
        );
        assert_eq!(n.usable_mac(), Some(mac));
        for s in [
            NUD_REACHABLE,
            NUD_STALE,
            NUD_DELAY,
            NUD_PROBE,
            NUD_PERMANENT,
            NUD_NOARP,
        ] {
            assert!(nud_usable(s), "{s:#x}");
        }
        for s in [0, NUD_INCOMPLETE, NUD_FAILED] {
            assert!(!nud_usable(s), "{s:#x}");
        }
        let failed = parse_neighbour(&neigh_payload(NUD_FAILED, 0, Some(mac))).unwrap();
        assert_eq!(failed.usable_mac(), None);
        let incomplete = parse_neighbour(&neigh_payload(NUD_INCOMPLETE, 0, None)).unwrap();
        assert_eq!(incomplete.usable_mac(), None);
        let proxy = parse_neighbour(&neigh_payload(NUD_PERMANENT, NTF_PROXY, None)).unwrap();
        assert!(proxy.proxy && proxy.usable_mac().is_none());
        // Truncated or of another family: nothing, no panic.
        assert!(parse_neighbour(&[AF_INET, 0, 0]).is_none());
        let mut v6 = neigh_payload(NUD_STALE, 0, Some(mac));
        v6[0] = 10;
        assert!(parse_neighbour(&v6).is_none());
        let mut bad = neigh_payload(NUD_STALE, 0, Some(mac));
        bad.truncate(bad.len() - 3);
        let n = parse_neighbour(&bad).unwrap();
        assert_eq!(n.mac, None, "a cut attribute is not read");
    }

    #[test]
    fn parses_the_link_type() {
        let mut m = Netlink::link_msg(RTM_NEWLINK, 0, 9, libc::IFF_UP as u32, 0);
        m.buf[16 + 2..16 + 4].copy_from_slice(&ARPHRD_ETHER.to_ne_bytes());
        m.attr_u32(IFLA_MTU, 1500);
        m.attr(IFLA_ADDRESS, &[2, 0, 0, 0, 0, 9]);
        let b = m.finish(1).to_vec();
        let l = Netlink::parse_link(&b[NLMSG_HDRLEN..]).unwrap();
        assert_eq!(
            (l.index, l.link_type, l.mtu, l.up, l.mac),
            (9, ARPHRD_ETHER, 1500, true, Some([2, 0, 0, 0, 0, 9]))
        );
        assert!(Netlink::parse_link(&b[NLMSG_HDRLEN..NLMSG_HDRLEN + 8]).is_none());
    }
}
