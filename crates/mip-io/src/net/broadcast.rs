//! Broadcast forwarding at the home agent (RFC 5944 §4.3; seed 002: "For subnet-directed
//! broadcasts to the home link, the home agent will send a copy to all mobile nodes registered
//! with the broadcast routing option").
//!
//! The [`TunnelEngine`](super::TunnelEngine) listens on each home link that has a binding with
//! B granted ([`TunnelEngine::broadcast_link`](super::TunnelEngine::broadcast_link)) with an
//! `AF_PACKET` socket ([`BroadcastSocket`]: `SOCK_DGRAM`, IPv4 frames only), and for every
//! frame the link layer marks as a broadcast (`PACKET_BROADCAST`, i.e. sent to
//! `ff:ff:ff:ff:ff:ff`) whose IPv4 destination is the limited broadcast 255.255.255.255 or
//! the link's subnet-directed broadcast address ([`classify`]) it sends a copy into every
//! tunnel registered for that link
//! ([`TunnelEngine::broadcast_target`](super::TunnelEngine::broadcast_target)):
//!
//! * **co-located care-of address** (D): the broadcast is tunnelled as it is (one
//!   encapsulation, the tunnel's own: IP in IP, GRE or minimal);
//! * **foreign agent care-of address**: the broadcast is first encapsulated IP in IP (RFC 2003,
//!   which every Mobile IP node decapsulates) from the home agent address to the mobile node's
//!   home address, and that unicast datagram is tunnelled to the care-of address, so that the
//!   foreign agent can tell which visitor it is for ([`nest_to_home`]).
//!
//! A UDP checksum the sender left to offload (the frame came over a veth or similar, so the
//! packet socket reports `TP_STATUS_CSUMNOTREADY`) is completed before the copy is made.
//! The inner TTL is decremented once (the home agent forwards the datagram; RFC 2003 §3.1); a
//! broadcast arriving with TTL ≤ 1 is not forwarded. A copy larger than the tunnel MTU is sent
//! through the kernel's fragmenting path when DF is clear and dropped (`drop_too_big`, no ICMP
//! error about a broadcast) when DF is set. Copies are counted per tunnel
//! (`TunnelCounters::tx_broadcast`).
//!
//! **Loops.** Only frames *received* on the home link are considered (not `PACKET_OUTGOING`:
//! the home agent's own transmissions), never what comes out of a tunnel (decapsulated
//! packets are written to the TUN device, which is not listened on). A broadcast whose source
//! is a home address the engine currently tunnels to (a mobile node that is away, so the
//! broadcast can only have come out of one of its tunnels and been relayed onto the link) is
//! dropped and counted (`EngineCounters::broadcast_loop`).
//!
//! **Rate limit.** At most [`EngineConfig::broadcast_per_second`](super::EngineConfig)
//! broadcasts (default 200) are forwarded per second, whatever the number of copies each
//! makes; the rest are dropped and counted (`EngineCounters::broadcast_rate_limited`). A
//! broadcast storm on the home link thus costs the tunnels at most that many packets per
//! second per binding with B.
//!
//! **Not done:** multicast (RFC 5944 §4.3's multicast routing through the home agent: IGMP
//! membership over the reverse tunnel) is out of scope; only IPv4 broadcasts are forwarded.
//! The subnet-directed broadcast addresses of a link are read when forwarding on it is
//! enabled (and refreshed on every later enable), not followed when addresses change.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use mip_wire::error::internet_checksum;
use mip_wire::ipv4::Ipv4Packet;
use mip_wire::tunnel::{encapsulate_ipip_with, OuterHeader};

const ETH_P_IP: u16 = 0x0800;
const SOL_PACKET: i32 = 263;
const PACKET_AUXDATA: i32 = 8;
/// `tpacket_auxdata.tp_status`: the transport checksum is not filled in yet (the sender
/// offloaded it and the frame never went through hardware, e.g. over a veth pair).
const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;

/// An `AF_PACKET` datagram socket receiving the IPv4 frames of one interface, non-blocking.
#[derive(Debug)]
pub struct BroadcastSocket {
    fd: OwnedFd,
    ifindex: u32,
}

impl BroadcastSocket {
    /// Opens the socket on `ifindex` (in the calling thread's network namespace).
    ///
    /// # Errors
    /// Not permitted (needs `CAP_NET_RAW`) or no such interface.
    pub fn open(ifindex: u32) -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                i32::from(ETH_P_IP.to_be()),
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("AF_PACKET socket: {e}")));
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = ETH_P_IP.to_be();
        sa.sll_ifindex = ifindex as i32;
        // SAFETY: `sa` is a valid sockaddr_ll of the given length.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("bind AF_PACKET to ifindex {ifindex}: {e}"),
            ));
        }
        let one: i32 = 1;
        // SAFETY: `one` outlives the call and the length passed is its size.
        let r = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                SOL_PACKET,
                PACKET_AUXDATA,
                (&one as *const i32).cast(),
                std::mem::size_of::<i32>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(BroadcastSocket { fd, ifindex })
    }

    /// The interface listened on.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Receives one IPv4 packet into `buf`: `Ok(Some((len, link_broadcast)))`, `Ok(None)`
    /// when nothing is waiting. `link_broadcast`: the frame was received (not sent) and
    /// addressed to the link-layer broadcast address. A UDP checksum the sender left to
    /// offload (`TP_STATUS_CSUMNOTREADY`) is completed here, since the copy leaves through a
    /// tunnel and no hardware will fill it in.
    ///
    /// # Errors
    /// The receive failed.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, bool)>> {
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut control = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: msghdr is plain data; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&mut sa as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: every pointer in `msg` refers to a live buffer of the length given.
        let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_TRUNC) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => Ok(None),
                _ => Err(e),
            };
        }
        let n = n as usize;
        if n > buf.len() {
            // Truncated: not forwarded.
            return Ok(Some((0, false)));
        }
        let mut csum_not_ready = false;
        // SAFETY: the kernel filled `msg_controllen` bytes of `control`; the CMSG macros
        // stay within them.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == SOL_PACKET && (*c).cmsg_type == PACKET_AUXDATA {
                    let status = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<u32>());
                    csum_not_ready = status & TP_STATUS_CSUMNOTREADY != 0;
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        if csum_not_ready {
            complete_udp_checksum(&mut buf[..n]);
        }
        Ok(Some((n, sa.sll_pkttype == libc::PACKET_BROADCAST)))
    }
}

/// Computes the UDP checksum of the unfragmented IPv4/UDP packet `packet` in place (other
/// packets are left alone).
pub fn complete_udp_checksum(packet: &mut [u8]) {
    let Ok(ip) = Ipv4Packet::new_checked(&*packet) else {
        return;
    };
    if ip.protocol() != mip_wire::ipv4::Protocol::Udp || ip.is_fragment() {
        return;
    }
    let hl = usize::from(packet[0] & 0x0f) * 4;
    let total = usize::from(ip.total_len());
    let (src, dst) = (ip.src_addr().octets(), ip.dst_addr().octets());
    if total < hl + 8 || total > packet.len() {
        return;
    }
    let udp_len = total - hl;
    let mut sum: u32 = 0;
    for pair in [&src[..2], &src[2..], &dst[..2], &dst[2..]] {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    sum += 17 + udp_len as u32;
    let udp = &mut packet[hl..total];
    udp[6..8].copy_from_slice(&[0, 0]);
    for chunk in udp.chunks(2) {
        let hi = u32::from(chunk[0]) << 8;
        sum += hi | chunk.get(1).map_or(0, |&b| u32::from(b));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    let c = if c == 0 { 0xffff } else { c };
    udp[6..8].copy_from_slice(&c.to_be_bytes());
}

impl AsRawFd for BroadcastSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// What to do with a packet received on a home link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Forward: a limited or subnet-directed broadcast; the inner packet is `..len` bytes.
    Forward {
        /// The IPv4 total length.
        len: usize,
    },
    /// Not a broadcast for the home link (unicast, multicast, malformed, truncated).
    Ignore,
    /// A broadcast from a mobile node that is away (it came out of a tunnel).
    Loop,
    /// TTL ≤ 1: may not be forwarded.
    Ttl,
}

/// Classifies `packet` (an IPv4 packet received on a home link, `link_broadcast` when the
/// frame went to the link-layer broadcast address): forwarded if its destination is
/// 255.255.255.255 or one of `directed` (the link's subnet-directed broadcast addresses),
/// unless `is_away(source)` (a loop) or its TTL is ≤ 1.
pub fn classify(
    packet: &[u8],
    link_broadcast: bool,
    directed: &[Ipv4Addr],
    is_away: impl Fn(Ipv4Addr) -> bool,
) -> Verdict {
    if !link_broadcast {
        return Verdict::Ignore;
    }
    let Ok(ip) = Ipv4Packet::new_checked(packet) else {
        return Verdict::Ignore;
    };
    let dst = ip.dst_addr();
    if !(dst.is_broadcast() || directed.contains(&dst)) {
        return Verdict::Ignore;
    }
    if is_away(ip.src_addr()) {
        return Verdict::Loop;
    }
    if ip.ttl() <= 1 {
        return Verdict::Ttl;
    }
    Verdict::Forward {
        len: usize::from(ip.total_len()),
    }
}

/// Decrements the TTL of the IPv4 header at the start of `packet` and fixes its checksum.
pub fn decrement_ttl(packet: &mut [u8]) {
    let hl = usize::from(packet[0] & 0x0f) * 4;
    packet[8] = packet[8].saturating_sub(1);
    packet[10..12].copy_from_slice(&[0, 0]);
    let c = internet_checksum(&packet[..hl]);
    packet[10..12].copy_from_slice(&c.to_be_bytes());
}

/// The subnet-directed broadcast address of `address/prefix_len` (`None` for /31 and /32,
/// which have none).
pub fn directed_broadcast(address: Ipv4Addr, prefix_len: u8) -> Option<Ipv4Addr> {
    if prefix_len >= 31 {
        return None;
    }
    let host = u32::MAX >> prefix_len;
    Some(Ipv4Addr::from(u32::from(address) | host))
}

/// Nested encapsulation for a foreign agent care-of address: `broadcast` wrapped IP in IP from
/// `home_agent` to `home_address` into `out`; returns the length.
///
/// # Errors
/// `out` is too small or the packet malformed.
pub fn nest_to_home(
    broadcast: &[u8],
    home_agent: Ipv4Addr,
    home_address: Ipv4Addr,
    ttl: u8,
    identification: u16,
    out: &mut [u8],
) -> io::Result<usize> {
    let outer = OuterHeader {
        src: home_agent,
        dst: home_address,
        ttl,
        identification,
    };
    encapsulate_ipip_with(&outer, broadcast, out)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e:?}")))
}

/// At most `per_second` events per one-second window.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_second: u32,
    window_start: Instant,
    used: u32,
}

impl RateLimiter {
    pub(crate) fn new(per_second: u32) -> Self {
        RateLimiter {
            per_second,
            window_start: Instant::now(),
            used: 0,
        }
    }

    pub(crate) fn allow(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window_start) >= Duration::from_secs(1) {
            self.window_start = now;
            self.used = 0;
        }
        if self.used < self.per_second {
            self.used += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp(src: [u8; 4], dst: [u8; 4], ttl: u8) -> Vec<u8> {
        let mut p = vec![0u8; 36];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&36u16.to_be_bytes());
        p[8] = ttl;
        p[9] = 17;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        let c = internet_checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn classification() {
        let directed = [Ipv4Addr::new(10, 1, 0, 255)];
        let away = |a: Ipv4Addr| a == Ipv4Addr::new(10, 1, 0, 50);
        let lim = udp([10, 1, 0, 2], [255, 255, 255, 255], 64);
        assert_eq!(
            classify(&lim, true, &directed, away),
            Verdict::Forward { len: 36 }
        );
        assert_eq!(classify(&lim, false, &directed, away), Verdict::Ignore);
        let dir = udp([10, 1, 0, 2], [10, 1, 0, 255], 64);
        assert_eq!(
            classify(&dir, true, &directed, away),
            Verdict::Forward { len: 36 }
        );
        let other = udp([10, 1, 0, 2], [10, 9, 0, 255], 64);
        assert_eq!(classify(&other, true, &directed, away), Verdict::Ignore);
        let lp = udp([10, 1, 0, 50], [255, 255, 255, 255], 64);
        assert_eq!(classify(&lp, true, &directed, away), Verdict::Loop);
        let ttl = udp([10, 1, 0, 2], [255, 255, 255, 255], 1);
        assert_eq!(classify(&ttl, true, &directed, away), Verdict::Ttl);
        assert_eq!(classify(&lim[..10], true, &directed, away), Verdict::Ignore);
    }

    #[test]
    fn ttl_and_directed_address() {
        let mut p = udp([10, 1, 0, 2], [255, 255, 255, 255], 64);
        decrement_ttl(&mut p);
        assert_eq!(p[8], 63);
        assert_eq!(internet_checksum(&p[..20]), 0);
        assert_eq!(
            directed_broadcast(Ipv4Addr::new(10, 1, 0, 1), 24),
            Some(Ipv4Addr::new(10, 1, 0, 255))
        );
        assert_eq!(
            directed_broadcast(Ipv4Addr::new(10, 1, 0, 1), 20),
            Some(Ipv4Addr::new(10, 1, 15, 255))
        );
        assert_eq!(directed_broadcast(Ipv4Addr::new(10, 1, 0, 1), 32), None);
    }

    #[test]
    fn nested_copy_is_unicast_to_the_home_address() {
        let b = udp([10, 1, 0, 2], [255, 255, 255, 255], 63);
        let mut out = [0u8; 128];
        let n = nest_to_home(
            &b,
            Ipv4Addr::new(10, 2, 0, 1),
            Ipv4Addr::new(10, 1, 0, 50),
            64,
            9,
            &mut out,
        )
        .unwrap();
        assert_eq!(n, 56);
        let ip = Ipv4Packet::new_checked(&out[..n]).unwrap();
        assert_eq!(ip.dst_addr(), Ipv4Addr::new(10, 1, 0, 50));
        assert_eq!(ip.src_addr(), Ipv4Addr::new(10, 2, 0, 1));
        assert_eq!(&out[20..n], &b[..]);
    }

    #[test]
    fn udp_checksum_completed() {
        // 10.1.0.2:1234 -> 255.255.255.255:5300, payload "hi!".
        let mut p = udp([10, 1, 0, 2], [255, 255, 255, 255], 64);
        p.truncate(31);
        p[2..4].copy_from_slice(&31u16.to_be_bytes());
        p[20..22].copy_from_slice(&1234u16.to_be_bytes());
        p[22..24].copy_from_slice(&5300u16.to_be_bytes());
        p[24..26].copy_from_slice(&11u16.to_be_bytes());
        p[28..31].copy_from_slice(b"hi!");
        complete_udp_checksum(&mut p);
        // Verify: the sum over the pseudo header and the datagram folds to all ones.
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&p[12..20]);
        pseudo.extend_from_slice(&[0, 17, 0, 11]);
        pseudo.extend_from_slice(&p[20..31]);
        assert_eq!(internet_checksum(&pseudo), 0);
        assert_ne!(&p[26..28], &[0, 0]);
    }

    #[test]
    fn rate_limit() {
        let mut r = RateLimiter::new(3);
        assert_eq!((0..5).filter(|_| r.allow()).count(), 3);
    }
}
