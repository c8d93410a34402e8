//! The foreign agent's IPv4/UDP framing for its packet sockets (no system calls: the sockets
//! are `mip_io::net::packet::PacketSocket`s): [`ipv4_udp`] builds a reply to a mobile node sent
//! straight to its MAC address, [`parse_ipv4_udp`] reads a Registration Request from a frame
//! received with the sender's MAC.

use std::net::{Ipv4Addr, SocketAddrV4};

/// The Internet checksum (RFC 1071) of `data`, folded, starting from `sum`.
fn checksum(mut sum: u32, data: &[u8]) -> u16 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 + UDP datagram (no options, TTL 64, DF clear), both checksums filled in.
pub fn ipv4_udp(source: SocketAddrV4, dest: SocketAddrV4, ident: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&[0, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&source.ip().octets());
    p.extend_from_slice(&dest.ip().octets());
    let ip_sum = checksum(0, &p[..20]);
    p[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    p.extend_from_slice(&source.port().to_be_bytes());
    p.extend_from_slice(&dest.port().to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    let mut pseudo = 0u32;
    for w in [source.ip().octets(), dest.ip().octets()] {
        pseudo += u32::from(u16::from_be_bytes([w[0], w[1]]));
        pseudo += u32::from(u16::from_be_bytes([w[2], w[3]]));
    }
    pseudo += 17 + udp_len as u32;
    let mut sum = checksum(pseudo, &p[20..]);
    if sum == 0 {
        sum = 0xffff;
    }
    p[26..28].copy_from_slice(&sum.to_be_bytes());
    p
}

/// A UDP datagram parsed from an IPv4 packet read on a packet socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpView<'a> {
    /// IP source and UDP source port.
    pub source: SocketAddrV4,
    /// IP destination and UDP destination port.
    pub destination: SocketAddrV4,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// Parses an unfragmented IPv4/UDP packet and checks the IP header checksum and, when
/// `check_udp`, the UDP checksum (a zero one means "none"). `None` for anything else.
pub fn parse_ipv4_udp(p: &[u8], check_udp: bool) -> Option<UdpView<'_>> {
    if p.len() < 28 || p[0] >> 4 != 4 || p[9] != 17 {
        return None;
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    if ihl < 20 || total < ihl + 8 || total > p.len() {
        return None;
    }
    let frag = u16::from_be_bytes([p[6], p[7]]);
    if frag & 0x3fff != 0 || checksum(0, &p[..ihl]) != 0 {
        return None;
    }
    let udp = &p[ihl..total];
    let udp_len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if udp_len < 8 || udp_len > udp.len() {
        return None;
    }
    let udp = &udp[..udp_len];
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    if check_udp && (udp[6] != 0 || udp[7] != 0) {
        let mut pseudo = 0u32;
        for w in [src.octets(), dst.octets()] {
            pseudo += u32::from(u16::from_be_bytes([w[0], w[1]]));
            pseudo += u32::from(u16::from_be_bytes([w[2], w[3]]));
        }
        pseudo += 17 + udp_len as u32;
        if checksum(pseudo, udp) != 0 {
            return None;
        }
    }
    Some(UdpView {
        source: SocketAddrV4::new(src, u16::from_be_bytes([udp[0], udp[1]])),
        destination: SocketAddrV4::new(dst, u16::from_be_bytes([udp[2], udp[3]])),
        payload: &udp[8..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_round_trip_with_checksums() {
        let s = SocketAddrV4::new(Ipv4Addr::new(10, 20, 0, 1), 434);
        let d = SocketAddrV4::new(Ipv4Addr::new(10, 10, 0, 10), 40000);
        let p = ipv4_udp(s, d, 7, b"hello mobile node");
        assert_eq!(p.len(), 20 + 8 + 17);
        let v = parse_ipv4_udp(&p, true).unwrap();
        assert_eq!((v.source, v.destination), (s, d));
        assert_eq!(v.payload, b"hello mobile node");
        let mut bad = p.clone();
        bad[30] ^= 1;
        assert!(
            parse_ipv4_udp(&bad, true).is_none(),
            "UDP checksum is checked"
        );
        assert!(
            parse_ipv4_udp(&bad, false).is_some(),
            "unless the kernel vouches for it"
        );
        let mut bad = p.clone();
        bad[8] ^= 1;
        assert!(
            parse_ipv4_udp(&bad, true).is_none(),
            "IP checksum is checked"
        );
        let mut frag = p.clone();
        frag[6] = 0x20; // MF
        assert!(parse_ipv4_udp(&frag, true).is_none());
        assert!(parse_ipv4_udp(&p[..27], true).is_none());
        let mut nosum = p;
        nosum[26] = 0;
        nosum[27] = 0;
        assert!(parse_ipv4_udp(&nosum, true).is_some());
    }
}
