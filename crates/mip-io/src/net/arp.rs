//! Gratuitous ARP over `AF_PACKET` (RFC 5944 §4.6, RFC 5227 §3).
//!
//! A gratuitous ARP tells the nodes of a link which link-layer address now goes with an IPv4
//! address: Sender Protocol Address = Target Protocol Address = the address, Sender Hardware
//! Address = the new link-layer address. RFC 5944 §4.6 allows both forms:
//!
//! * **request** (RFC 5227's "ARP Announcement"): Target Hardware Address zero;
//! * **reply**: Target Hardware Address also set to the new link-layer address.
//!
//! Both go to the Ethernet broadcast address. Peers update an entry they already have; they
//! create a new one only with `arp_accept=1`. Frames are built whole (Ethernet header too) on
//! a `SOCK_RAW` packet socket, so the announced address need not be the interface's own (a
//! home agent may announce the mobile node's address when it returns home).

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Which form of gratuitous ARP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GratuitousArpKind {
    /// ARP Request (operation 1), target hardware address zero.
    Request,
    /// ARP Reply (operation 2), target hardware address = sender hardware address.
    Reply,
}

/// Length of the frames built here: 14 (Ethernet) + 28 (ARP), padded to the 60-byte Ethernet
/// minimum.
pub const ARP_FRAME_LEN: usize = 60;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// The Ethernet broadcast address.
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];

/// Builds a gratuitous ARP frame announcing `address` at `mac`, from `mac`, to broadcast.
pub fn gratuitous_arp_frame(
    kind: GratuitousArpKind,
    mac: [u8; 6],
    address: Ipv4Addr,
) -> [u8; ARP_FRAME_LEN] {
    gratuitous_arp_frame_from(kind, mac, address, mac)
}

/// A gratuitous ARP announcing `address` at `mac`, in an Ethernet frame whose source is
/// `frame_source`. An agent announcing on behalf of another node (the home agent when a
/// mobile node returns home, RFC 5944 §4.6) must use its own MAC as the frame source: a frame
/// sent *from* the other node's MAC out of the agent's port makes every learning bridge on
/// the link move that MAC to the agent's port, and frames to the node are lost until it
/// transmits again (seen in the lab: the deregistration reply and one second of traffic).
pub fn gratuitous_arp_frame_from(
    kind: GratuitousArpKind,
    mac: [u8; 6],
    address: Ipv4Addr,
    frame_source: [u8; 6],
) -> [u8; ARP_FRAME_LEN] {
    let mut f = [0u8; ARP_FRAME_LEN];
    f[0..6].copy_from_slice(&BROADCAST_MAC);
    f[6..12].copy_from_slice(&frame_source);
    f[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    let a = &mut f[14..42];
    a[0..2].copy_from_slice(&1u16.to_be_bytes()); // hardware type: Ethernet
    a[2..4].copy_from_slice(&0x0800u16.to_be_bytes()); // protocol type: IPv4
    a[4] = 6;
    a[5] = 4;
    let op: u16 = match kind {
        GratuitousArpKind::Request => 1,
        GratuitousArpKind::Reply => 2,
    };
    a[6..8].copy_from_slice(&op.to_be_bytes());
    a[8..14].copy_from_slice(&mac);
    a[14..18].copy_from_slice(&address.octets());
    if kind == GratuitousArpKind::Reply {
        a[18..24].copy_from_slice(&mac);
    }
    a[24..28].copy_from_slice(&address.octets());
    f
}

/// A parsed Ethernet/IPv4 ARP frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpPacket {
    /// Ethernet destination.
    pub eth_destination: [u8; 6],
    /// Ethernet source.
    pub eth_source: [u8; 6],
    /// 1 request, 2 reply.
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: [u8; 6],
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: [u8; 6],
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpPacket {
    /// Parses a whole Ethernet frame; `None` unless it is Ethernet/IPv4 ARP.
    pub fn parse(frame: &[u8]) -> Option<Self> {
        if frame.len() < 42 || frame[12..14] != ETHERTYPE_ARP.to_be_bytes() {
            return None;
        }
        let a = &frame[14..42];
        if a[0..2] != [0, 1] || a[2..4] != [8, 0] || a[4] != 6 || a[5] != 4 {
            return None;
        }
        let mac = |b: &[u8]| -> [u8; 6] { b.try_into().unwrap_or([0; 6]) };
        let ip = |b: &[u8]| Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        Some(ArpPacket {
            eth_destination: mac(&frame[0..6]),
            eth_source: mac(&frame[6..12]),
            operation: u16::from_be_bytes([a[6], a[7]]),
            sender_mac: mac(&a[8..14]),
            sender_ip: ip(&a[14..18]),
            target_mac: mac(&a[18..24]),
            target_ip: ip(&a[24..28]),
        })
    }

    /// Sender and target protocol addresses are the same: a gratuitous ARP (or a probe when
    /// the sender address is zero, which this excludes).
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip && !self.sender_ip.is_unspecified()
    }
}

/// An `AF_PACKET` socket for ARP frames on one interface: sends whole frames, and receives the
/// ARP frames seen on the interface (for tests and diagnostics).
#[derive(Debug)]
pub struct ArpSocket {
    fd: OwnedFd,
    ifindex: u32,
}

fn ll_addr(ifindex: u32, dst: [u8; 6]) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as u16;
    sa.sll_protocol = ETHERTYPE_ARP.to_be();
    sa.sll_ifindex = ifindex as i32;
    sa.sll_halen = 6;
    sa.sll_addr[..6].copy_from_slice(&dst);
    sa
}

impl ArpSocket {
    /// Opens a packet socket bound to ARP on `ifindex`.
    ///
    /// # Errors
    /// Not permitted (needs `CAP_NET_RAW`) or no such interface.
    pub fn open(ifindex: u32) -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(ETHERTYPE_ARP.to_be()),
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("AF_PACKET socket: {e}")));
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let sa = ll_addr(ifindex, [0; 6]);
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
        Ok(ArpSocket { fd, ifindex })
    }

    /// A send-only packet socket (protocol 0: it receives nothing), not bound to an
    /// interface: send with [`ArpSocket::send_on`]. Opened once, in the right network
    /// namespace, by a long-lived owner such as the home agent's data plane.
    ///
    /// # Errors
    /// Not permitted (needs `CAP_NET_RAW`).
    pub fn sender() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("AF_PACKET socket: {e}")));
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(ArpSocket { fd, ifindex: 0 })
    }

    /// Sends one whole Ethernet frame on the interface the socket is bound to (its destination
    /// is taken from its first six bytes).
    ///
    /// # Errors
    /// The interface is down or the kernel refused.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        self.send_on(self.ifindex, frame)
    }

    /// Sends one whole Ethernet frame on interface `ifindex`.
    ///
    /// # Errors
    /// The interface is down or the kernel refused.
    pub fn send_on(&self, ifindex: u32, frame: &[u8]) -> io::Result<()> {
        if frame.len() < 14 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "short Ethernet frame",
            ));
        }
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&frame[..6]);
        let sa = ll_addr(ifindex, dst);
        // SAFETY: `frame` and `sa` are valid for the lengths passed.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&sa as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("send ARP frame on ifindex {ifindex}: {e}"),
            ));
        }
        Ok(())
    }

    /// Waits up to `timeout` for the next ARP frame (sent or received on the interface) and
    /// returns it parsed; `None` on timeout.
    ///
    /// # Errors
    /// The socket failed.
    pub fn recv(&self, timeout: Duration) -> io::Result<Option<ArpPacket>> {
        let deadline = std::time::Instant::now() + timeout;
        let mut buf = [0u8; 1600];
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut pfd, 1, left.as_millis().max(1) as i32) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if r == 0 {
                continue;
            }
            // SAFETY: `buf` is a valid writable buffer of the given length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) {
                    continue;
                }
                return Err(e);
            }
            if let Some(p) = ArpPacket::parse(&buf[..n as usize]) {
                return Ok(Some(p));
            }
        }
    }
}

impl AsRawFd for ArpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Sends gratuitous ARP announcing `address` at `mac` on interface `ifindex`, one frame per
/// entry of `kinds` (RFC 5944 §4.6 suggests both forms; repeat the call for retransmissions).
///
/// # Errors
/// The socket cannot be opened or a frame cannot be sent.
pub fn send_gratuitous_arp(
    ifindex: u32,
    address: Ipv4Addr,
    mac: [u8; 6],
    kinds: &[GratuitousArpKind],
) -> io::Result<()> {
    let s = ArpSocket::open(ifindex)?;
    for &k in kinds {
        s.send(&gratuitous_arp_frame(k, mac, address))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_follow_rfc5944_4_6() {
        let mac = [2, 0, 0, 0, 0, 9];
        let ip = Ipv4Addr::new(10, 0, 0, 7);
        let req =
            ArpPacket::parse(&gratuitous_arp_frame(GratuitousArpKind::Request, mac, ip)).unwrap();
        assert_eq!(req.operation, 1);
        assert_eq!(
            (req.sender_mac, req.sender_ip, req.target_ip),
            (mac, ip, ip)
        );
        assert_eq!(req.target_mac, [0; 6]);
        assert_eq!((req.eth_destination, req.eth_source), (BROADCAST_MAC, mac));
        assert!(req.is_gratuitous());
        let rep =
            ArpPacket::parse(&gratuitous_arp_frame(GratuitousArpKind::Reply, mac, ip)).unwrap();
        assert_eq!(rep.operation, 2);
        assert_eq!(rep.target_mac, mac);
        assert!(ArpPacket::parse(&[0u8; 41]).is_none());
    }
}
