//! The Mobile IP UDP tunnel data message (RFC 3519 §3.3): how tunnelled
//! datagrams cross a NAT, carried on UDP port 434 like registrations.
//!
//! ```text
//! type 4 (8) | next header (8) | reserved (16)
//! tunnelled payload ...
//! ```
//!
//! The message is the UDP payload (this module does not handle the UDP
//! header or its checksum). Next Header uses IP protocol numbers: 4 for an
//! IPv4 datagram, 47 for a GRE packet, 55 for minimal encapsulation (see
//! [`crate::tunnel`] for the views of those payloads).

use crate::error::{Error, Result};
use crate::ipv4::{be16, check_fixed, short_buffer, Protocol};

/// Message type of the tunnel data message on UDP port 434.
pub const TYPE_TUNNEL_DATA: u8 = 4;
/// Length of the tunnel data header.
pub const HEADER_LEN: usize = 4;

const FIXED: &[(usize, usize, &str)] = &[(0, 1, "type"), (1, 1, "next header"), (2, 2, "reserved")];

/// A read-only view of a tunnel data message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelDataPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TunnelDataPacket<T> {
    /// Checks the type (`bad_value(0, "type")` unless 4) and that the 4-byte
    /// header is present.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        check_fixed(b.len(), &FIXED[..1])?;
        if b[0] != TYPE_TUNNEL_DATA {
            return Err(Error::bad_value(0, "type"));
        }
        check_fixed(b.len(), FIXED)?;
        Ok(TunnelDataPacket { buffer })
    }
    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    /// Type (4).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    /// Next Header: what the payload is.
    pub fn next_header(&self) -> Protocol {
        Protocol::from(self.buffer.as_ref()[1])
    }
    /// Reserved (sent as 0, ignored on receipt).
    pub fn reserved(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// The tunnelled payload.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

/// An owned tunnel data header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TunnelDataRepr {
    /// Next Header (4, 47 or 55; other values are kept).
    pub next_header: Protocol,
    /// Reserved, kept as received.
    pub reserved: u16,
}

impl TunnelDataRepr {
    /// A header announcing `next_header`, reserved zero.
    pub fn new(next_header: Protocol) -> Self {
        TunnelDataRepr {
            next_header,
            reserved: 0,
        }
    }

    /// Parses the header at the start of `buf`.
    pub fn parse(buf: &[u8]) -> Result<Self> {
        let p = TunnelDataPacket::new_checked(buf)?;
        Ok(TunnelDataRepr {
            next_header: p.next_header(),
            reserved: p.reserved(),
        })
    }

    /// 4.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the 4-byte header into the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let avail = buf.len();
        let h = buf
            .get_mut(..HEADER_LEN)
            .ok_or(short_buffer(HEADER_LEN, avail))?;
        h[0] = TYPE_TUNNEL_DATA;
        h[1] = self.next_header.into();
        h[2..4].copy_from_slice(&self.reserved.to_be_bytes());
        Ok(HEADER_LEN)
    }

    /// The emitted header.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0; HEADER_LEN];
        // cannot fail: the buffer has exactly the needed length
        let _ = self.emit(&mut v);
        v
    }
}

/// Writes a tunnel data message (header announcing `next_header`, then
/// `payload`) into `out` and returns its length. No allocation.
pub fn encapsulate_tunnel_data(
    next_header: Protocol,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize> {
    let total = HEADER_LEN + payload.len();
    let avail = out.len();
    let out = out.get_mut(..total).ok_or(short_buffer(total, avail))?;
    TunnelDataRepr::new(next_header).emit(out)?;
    out[HEADER_LEN..].copy_from_slice(payload);
    Ok(total)
}

/// Splits a tunnel data message into its header and payload (a sub-slice of
/// `msg`). The payload is not interpreted: parse it according to
/// `next_header` (offsets in its errors are then relative to `msg` after
/// `.shifted(HEADER_LEN)`).
pub fn decapsulate_tunnel_data(msg: &[u8]) -> Result<(TunnelDataRepr, &[u8])> {
    let repr = TunnelDataRepr::parse(msg)?;
    Ok((repr, &msg[HEADER_LEN..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tunnel::MinimalPacket;
    use proptest::prelude::*;

    /// The inner datagram of the tunnel tests (ICMP echo 10.1.0.5 ->
    /// 10.2.0.9, 28 bytes).
    const INNER: &str = "4528001c1c4640003f010b630a0100050a0200090800e5ca12340001";

    #[test]
    fn ipv4_payload_vector() {
        // 04 | 04 (IPv4) | 0000, then the datagram
        let msg = hex::decode(format!("04040000{INNER}")).unwrap();
        let p = TunnelDataPacket::new_checked(&msg[..]).unwrap();
        assert_eq!(p.msg_type(), 4);
        assert_eq!(p.next_header(), Protocol::IpIp);
        assert_eq!(p.reserved(), 0);
        assert_eq!(p.payload(), &hex::decode(INNER).unwrap()[..]);
        let (r, payload) = decapsulate_tunnel_data(&msg).unwrap();
        assert_eq!(r, TunnelDataRepr::new(Protocol::IpIp));
        let mut out = [0u8; 64];
        let n = encapsulate_tunnel_data(r.next_header, payload, &mut out).unwrap();
        assert_eq!(&out[..n], &msg[..]);
        assert_eq!(r.to_bytes(), &msg[..4]);
    }

    #[test]
    fn gre_and_minimal_vectors() {
        // 04 | 2f (GRE) | 0000 | GRE 0000 0800 | datagram
        let gre = hex::decode(format!("042f000000000800{INNER}")).unwrap();
        let (r, payload) = decapsulate_tunnel_data(&gre).unwrap();
        assert_eq!(r.next_header, Protocol::Gre);
        assert_eq!(
            crate::tunnel::GreRepr::parse(payload).unwrap(),
            crate::tunnel::GreRepr::ipv4(false, None, None)
        );

        // 04 | 37 (minimal) | 0000 | forwarding header 0100 f4f4 0a020009 | ICMP
        let min =
            hex::decode("04370000 0100f4f40a020009 0800e5ca12340001".replace(' ', "")).unwrap();
        let (r, payload) = decapsulate_tunnel_data(&min).unwrap();
        assert_eq!(r.next_header, Protocol::MinimalEncap);
        let fwd = MinimalPacket::new_checked(payload).unwrap();
        assert!(fwd.verify_checksum());
        assert_eq!(
            fwd.original_destination(),
            std::net::Ipv4Addr::new(10, 2, 0, 9)
        );
        assert_eq!(fwd.payload(), &hex::decode("0800e5ca12340001").unwrap()[..]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            TunnelDataRepr::parse(&[]).unwrap_err(),
            Error::truncated(0, "type", 1, 0)
        );
        assert_eq!(
            TunnelDataRepr::parse(&[1, 4, 0, 0]).unwrap_err(),
            Error::bad_value(0, "type")
        );
        assert_eq!(
            TunnelDataRepr::parse(&[4, 4, 0]).unwrap_err(),
            Error::truncated(2, "reserved", 2, 1)
        );
        let msg = hex::decode(format!("04040000{INNER}")).unwrap();
        for n in 0..HEADER_LEN {
            assert!(decapsulate_tunnel_data(&msg[..n]).is_err());
        }
        assert_eq!(
            encapsulate_tunnel_data(Protocol::IpIp, &msg, &mut [0; 8]).unwrap_err(),
            short_buffer(36, 8)
        );
        // an empty payload is a valid (if useless) message
        assert_eq!(
            decapsulate_tunnel_data(&[4, 4, 0, 0]).unwrap().1,
            &[] as &[u8]
        );
    }

    proptest! {
        #[test]
        fn repr_round_trip(nh in any::<u8>(), reserved in any::<u16>(), payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let r = TunnelDataRepr { next_header: Protocol::from(nh), reserved };
            prop_assert_eq!(TunnelDataRepr::parse(&r.to_bytes()).unwrap(), r);
            let mut out = vec![0u8; 80];
            let n = encapsulate_tunnel_data(r.next_header, &payload, &mut out).unwrap();
            let (back, p) = decapsulate_tunnel_data(&out[..n]).unwrap();
            prop_assert_eq!(back.next_header, r.next_header);
            prop_assert_eq!(p, &payload[..]);
        }

        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..16)) {
            let _ = decapsulate_tunnel_data(&b);
            if let Ok(p) = TunnelDataPacket::new_checked(&b[..]) {
                let _ = (p.payload(), p.reserved(), p.next_header());
            }
        }
    }
}
