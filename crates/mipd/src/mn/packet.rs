//! The mobile node's link-layer sockets, over `mip_io::net::packet::PacketSocket` (`AF_PACKET`,
//! `SOCK_DGRAM`: the kernel adds and strips the Ethernet header, the socket address carries
//! the peer's link-layer address), and the frames they carry:
//!
//! * [`IpSocket`]: receives ICMP Agent Advertisements (type 9, filtered in the kernel by a
//!   classic BPF program) with the link-layer source of the frame, which the core needs to
//!   send Registration Requests to the foreign agent without ARP (RFC 5944 §4.6); and sends
//!   whole IPv4 packets built here to a given link-layer address — Agent Solicitations (TTL 1,
//!   to 224.0.0.2 or 255.255.255.255) and Registration Requests to a foreign agent's MAC —
//!   independent of the routing table and the neighbour cache.
//! * [`ArpSocket`]: sends ARP probes (RFC 5227: sender address 0.0.0.0, so the home address is
//!   never announced on a foreign link) and reports who answers: the link identification of
//!   DNAv4 (RFC 4436) — the home agent answers on the home link, the co-located network's
//!   router on its link.
//!
//! Both are opened unbound (all interfaces); frames are attributed by interface index.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, RawFd};

use mip_io::net::packet::{PacketSocket, ETH_P_ARP, ETH_P_IP};
use mip_wire::error::internet_checksum;

/// ICMP type of an Agent Advertisement (a Router Advertisement with extensions).
const ICMP_AGENT_ADVERTISEMENT: u8 = 9;

/// Ethernet broadcast.
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];

/// The Ethernet address of an IPv4 destination that is multicast or broadcast (RFC 1112 §6.4).
pub fn group_mac(destination: Ipv4Addr) -> Option<[u8; 6]> {
    if destination.is_broadcast() {
        return Some(BROADCAST_MAC);
    }
    if destination.is_multicast() {
        let o = destination.octets();
        return Some([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]);
    }
    None
}

/// Builds an IPv4 packet (20-byte header, no options, DF clear) around `payload`.
pub fn ipv4_packet(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: u8,
    ttl: u8,
    identification: u16,
    payload: &[u8],
) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&identification.to_be_bytes());
    p.extend_from_slice(&[0, 0, ttl, protocol, 0, 0]);
    p.extend_from_slice(&source.octets());
    p.extend_from_slice(&destination.octets());
    let c = internet_checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// A UDP datagram (header with checksum, RFC 768) inside an IPv4 packet.
pub fn udp_packet(
    source: Ipv4Addr,
    source_port: u16,
    destination: Ipv4Addr,
    destination_port: u16,
    identification: u16,
    payload: &[u8],
) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut udp = Vec::with_capacity(len);
    udp.extend_from_slice(&source_port.to_be_bytes());
    udp.extend_from_slice(&destination_port.to_be_bytes());
    udp.extend_from_slice(&(len as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut pseudo = Vec::with_capacity(12 + len);
    pseudo.extend_from_slice(&source.octets());
    pseudo.extend_from_slice(&destination.octets());
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&(len as u16).to_be_bytes());
    pseudo.extend_from_slice(&udp);
    let mut c = internet_checksum(&pseudo);
    if c == 0 {
        c = 0xffff;
    }
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    ipv4_packet(source, destination, 17, 64, identification, &udp)
}

/// An ARP probe (RFC 5227 §2.1.1): "who has `target`", sender protocol address 0.0.0.0.
pub fn arp_probe(own_mac: [u8; 6], target: Ipv4Addr) -> [u8; 28] {
    let mut a = [0u8; 28];
    a[0..2].copy_from_slice(&1u16.to_be_bytes());
    a[2..4].copy_from_slice(&ETH_P_IP.to_be_bytes());
    a[4] = 6;
    a[5] = 4;
    a[6..8].copy_from_slice(&1u16.to_be_bytes());
    a[8..14].copy_from_slice(&own_mac);
    a[24..28].copy_from_slice(&target.octets());
    a
}

/// A gratuitous ARP (RFC 5944 §4.6): sender and target protocol address `address`, sender
/// hardware address `mac`; a request (target hardware address zero) or a reply (target
/// hardware address `mac`).
pub fn gratuitous_arp(mac: [u8; 6], address: Ipv4Addr, reply: bool) -> [u8; 28] {
    let mut a = arp_probe(mac, address);
    a[14..18].copy_from_slice(&address.octets());
    if reply {
        a[6..8].copy_from_slice(&2u16.to_be_bytes());
        a[18..24].copy_from_slice(&mac);
    }
    a
}

/// A received advertisement: an ICMP message with its IP and link-layer sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedIcmp {
    /// Interface index it arrived on.
    pub ifindex: u32,
    /// Link-layer source.
    pub link_layer: Option<[u8; 6]>,
    /// IP source.
    pub source: Ipv4Addr,
    /// IP TTL.
    pub ttl: u8,
    /// The ICMP message (type byte first).
    pub icmp: Vec<u8>,
}

/// Parses an IPv4 packet carrying ICMP: `(source, ttl, icmp)`; `None` when it is not one
/// (truncated, options beyond the buffer, fragment, another protocol).
pub fn parse_icmp(packet: &[u8]) -> Option<(Ipv4Addr, u8, &[u8])> {
    if packet.len() < 20 || packet[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if ihl < 20 || total < ihl || total > packet.len() {
        return None;
    }
    let frag = u16::from_be_bytes([packet[6], packet[7]]);
    if frag & 0x3fff != 0 || packet[9] != 1 {
        return None;
    }
    let source = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    Some((source, packet[8], &packet[ihl..total]))
}

/// An ARP packet seen on a link (sender fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeenArp {
    /// Interface index.
    pub ifindex: u32,
    /// Operation (1 request, 2 reply).
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: [u8; 6],
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
}

/// Parses an Ethernet/IPv4 ARP packet (without the Ethernet header).
pub fn parse_arp(ifindex: u32, a: &[u8]) -> Option<SeenArp> {
    if a.len() < 28 || a[0..2] != [0, 1] || a[2..4] != [8, 0] || a[4] != 6 || a[5] != 4 {
        return None;
    }
    let mut sender_mac = [0u8; 6];
    sender_mac.copy_from_slice(&a[8..14]);
    Some(SeenArp {
        ifindex,
        operation: u16::from_be_bytes([a[6], a[7]]),
        sender_mac,
        sender_ip: Ipv4Addr::new(a[14], a[15], a[16], a[17]),
    })
}

/// IPv4 over `AF_PACKET`: advertisements in, solicitations and requests out.
#[derive(Debug)]
pub struct IpSocket {
    sock: PacketSocket,
    buf: Vec<u8>,
}

impl IpSocket {
    /// Opens the socket (needs `CAP_NET_RAW`).
    ///
    /// # Errors
    /// Not permitted, or the kernel refused the filter.
    pub fn open() -> io::Result<Self> {
        Ok(IpSocket {
            sock: PacketSocket::icmp_listener(ICMP_AGENT_ADVERTISEMENT)?,
            buf: vec![0; 2048],
        })
    }

    /// Next advertisement received (not ones this host sent); `None` when none is waiting.
    ///
    /// # Errors
    /// The socket failed.
    pub fn recv(&mut self) -> io::Result<Option<ReceivedIcmp>> {
        loop {
            let Some(f) = self.sock.recv(&mut self.buf)? else {
                return Ok(None);
            };
            if f.outgoing() {
                continue;
            }
            let Some((source, ttl, icmp)) = parse_icmp(&self.buf[..f.len.min(self.buf.len())])
            else {
                continue;
            };
            return Ok(Some(ReceivedIcmp {
                ifindex: f.ifindex,
                link_layer: f.mac,
                source,
                ttl,
                icmp: icmp.to_vec(),
            }));
        }
    }

    /// Sends a whole IPv4 packet on `ifindex` to link-layer address `mac`.
    ///
    /// # Errors
    /// The interface is down or the kernel refused.
    pub fn send(&self, ifindex: u32, mac: [u8; 6], packet: &[u8]) -> io::Result<()> {
        self.sock.send(ifindex, mac, packet)
    }
}

impl AsRawFd for IpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

/// ARP over `AF_PACKET`: probes out, every ARP packet of the links in.
#[derive(Debug)]
pub struct ArpSocket {
    sock: PacketSocket,
    buf: [u8; 256],
}

impl ArpSocket {
    /// Opens the socket (needs `CAP_NET_RAW`).
    ///
    /// # Errors
    /// Not permitted.
    pub fn open() -> io::Result<Self> {
        Ok(ArpSocket {
            sock: PacketSocket::all_interfaces(ETH_P_ARP)?,
            buf: [0; 256],
        })
    }

    /// Next ARP packet received from another host; `None` when none is waiting.
    ///
    /// # Errors
    /// The socket failed.
    pub fn recv(&mut self) -> io::Result<Option<SeenArp>> {
        loop {
            let Some(f) = self.sock.recv(&mut self.buf)? else {
                return Ok(None);
            };
            if f.outgoing() {
                continue;
            }
            if let Some(a) = parse_arp(f.ifindex, &self.buf[..f.len.min(self.buf.len())]) {
                return Ok(Some(a));
            }
        }
    }

    /// Broadcasts an ARP probe for `target` on `ifindex`.
    ///
    /// # Errors
    /// The interface is down or the kernel refused.
    pub fn probe(&self, ifindex: u32, own_mac: [u8; 6], target: Ipv4Addr) -> io::Result<()> {
        self.sock
            .send(ifindex, BROADCAST_MAC, &arp_probe(own_mac, target))
    }
}

impl ArpSocket {
    /// Broadcasts gratuitous ARP for `address` at `mac` on `ifindex`: the request and the
    /// reply form.
    ///
    /// # Errors
    /// The interface is down or the kernel refused.
    pub fn announce(&self, ifindex: u32, mac: [u8; 6], address: Ipv4Addr) -> io::Result<()> {
        self.sock
            .send(ifindex, BROADCAST_MAC, &gratuitous_arp(mac, address, false))?;
        self.sock
            .send(ifindex, BROADCAST_MAC, &gratuitous_arp(mac, address, true))
    }
}

impl AsRawFd for ArpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_addresses() {
        assert_eq!(
            group_mac(Ipv4Addr::new(224, 0, 0, 2)),
            Some([1, 0, 0x5e, 0, 0, 2])
        );
        assert_eq!(
            group_mac(Ipv4Addr::new(239, 129, 1, 7)),
            Some([1, 0, 0x5e, 1, 1, 7])
        );
        assert_eq!(group_mac(Ipv4Addr::BROADCAST), Some(BROADCAST_MAC));
        assert_eq!(group_mac(Ipv4Addr::new(10, 0, 0, 1)), None);
    }

    #[test]
    fn packets_carry_valid_checksums() {
        let s = Ipv4Addr::new(10, 10, 0, 10);
        let d = Ipv4Addr::new(10, 20, 0, 1);
        let p = udp_packet(s, 434, d, 434, 7, b"hello");
        assert_eq!(p.len(), 20 + 8 + 5);
        assert_eq!(internet_checksum(&p[..20]), 0);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&s.octets());
        pseudo.extend_from_slice(&d.octets());
        pseudo.extend_from_slice(&[0, 17, 0, 13]);
        pseudo.extend_from_slice(&p[20..]);
        assert_eq!(internet_checksum(&pseudo), 0);
        let icmp = ipv4_packet(
            s,
            Ipv4Addr::new(224, 0, 0, 2),
            1,
            1,
            9,
            &[10, 0, 0xf5, 0xff],
        );
        let (src, ttl, body) = parse_icmp(&icmp).unwrap();
        assert_eq!((src, ttl, body), (s, 1, &[10, 0, 0xf5, 0xff][..]));
        let mut frag = icmp.clone();
        frag[6] = 0x20; // MF
        assert!(parse_icmp(&frag).is_none());
        assert!(parse_icmp(&icmp[..19]).is_none());
    }

    #[test]
    fn probes_hide_the_sender_address() {
        let a = arp_probe([2, 0, 0, 0, 0, 1], Ipv4Addr::new(10, 40, 0, 1));
        let seen = parse_arp(3, &a).unwrap();
        assert_eq!(seen.operation, 1);
        assert_eq!(seen.sender_ip, Ipv4Addr::UNSPECIFIED);
        assert_eq!(&a[24..28], &[10, 40, 0, 1]);
        let mac = [2, 0, 0, 0, 0, 1];
        let hoa = Ipv4Addr::new(10, 10, 0, 10);
        for reply in [false, true] {
            let g = gratuitous_arp(mac, hoa, reply);
            let frame: Vec<u8> = [[0xff; 6].as_slice(), &mac, &[8, 6], &g].concat();
            let p = mip_io::net::ArpPacket::parse(&frame).unwrap();
            assert!(p.is_gratuitous());
            assert_eq!(p.operation, if reply { 2 } else { 1 });
            assert_eq!(p.target_mac, if reply { mac } else { [0; 6] });
        }
    }
}
