//! One entry point for "some Mobile IP message": a UDP port 434 payload
//! (dispatched on its type byte) or an ICMP agent discovery message.

use crate::codes::MessageType;
use crate::icmp::{AgentAdvertisement, AgentSolicitation};
use crate::registration::{RegistrationReply, RegistrationRequest};
use crate::revocation::{RegistrationRevocation, RevocationAck};
use crate::udp_tunnel::{TunnelDataPacket, TunnelDataRepr};
use crate::{Error, Result};

/// ICMP type of an agent advertisement (RFC 5944 §2.1, on RFC 1256).
pub const ICMP_AGENT_ADVERTISEMENT: u8 = 9;
/// ICMP type of an agent solicitation (RFC 5944 §2.2, on RFC 1256).
pub const ICMP_AGENT_SOLICITATION: u8 = 10;

/// Where a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The payload of a UDP datagram on port 434.
    Udp,
    /// An ICMP message (without its IP header).
    Icmp,
}

/// Any Mobile IPv4 message this crate decodes, in owned form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Type 1 (RFC 5944 §3.3).
    RegistrationRequest(RegistrationRequest),
    /// Type 3 (RFC 5944 §3.4).
    RegistrationReply(RegistrationReply),
    /// Type 4 (RFC 3519 §3.3): the tunnel header and the tunnelled bytes.
    TunnelData(TunnelDataRepr, Vec<u8>),
    /// Type 7 (RFC 3543).
    RegistrationRevocation(RegistrationRevocation),
    /// Type 15 (RFC 3543).
    RevocationAck(RevocationAck),
    /// ICMP type 9.
    AgentAdvertisement(AgentAdvertisement),
    /// ICMP type 10.
    AgentSolicitation(AgentSolicitation),
}

impl Message {
    /// Decode a UDP port 434 payload by its type byte.
    pub fn parse_udp(payload: &[u8]) -> Result<Message> {
        let ty = *payload.first().ok_or(Error::truncated(0, "type", 1, 0))?;
        match MessageType::from(ty) {
            MessageType::RegistrationRequest => {
                RegistrationRequest::from_bytes(payload).map(Message::RegistrationRequest)
            }
            MessageType::RegistrationReply => {
                RegistrationReply::from_bytes(payload).map(Message::RegistrationReply)
            }
            MessageType::TunnelData => {
                let pkt = TunnelDataPacket::new_checked(payload)?;
                let repr = TunnelDataRepr::parse(payload)?;
                Ok(Message::TunnelData(repr, pkt.payload().to_vec()))
            }
            MessageType::RegistrationRevocation => {
                RegistrationRevocation::from_bytes(payload).map(Message::RegistrationRevocation)
            }
            MessageType::RevocationAcknowledgement => {
                RevocationAck::from_bytes(payload).map(Message::RevocationAck)
            }
            _ => Err(Error::bad_value(0, "type")),
        }
    }

    /// Decode an ICMP agent advertisement or solicitation (checksum verified).
    pub fn parse_icmp(message: &[u8]) -> Result<Message> {
        match message.first() {
            None => Err(Error::truncated(0, "ICMP type", 1, 0)),
            Some(&ICMP_AGENT_ADVERTISEMENT) => {
                AgentAdvertisement::parse(message).map(Message::AgentAdvertisement)
            }
            Some(&ICMP_AGENT_SOLICITATION) => {
                AgentSolicitation::parse(message).map(Message::AgentSolicitation)
            }
            Some(_) => Err(Error::bad_value(0, "ICMP type")),
        }
    }

    /// Decode either kind, telling them apart by the first byte: 9 and 10 are
    /// ICMP agent discovery; 1, 3, 4, 7 and 15 are UDP messages. (The two
    /// number spaces do not overlap for the messages this crate knows.)
    pub fn parse_any(bytes: &[u8]) -> Result<(Transport, Message)> {
        match bytes.first() {
            Some(&ICMP_AGENT_ADVERTISEMENT) | Some(&ICMP_AGENT_SOLICITATION) => {
                Ok((Transport::Icmp, Message::parse_icmp(bytes)?))
            }
            _ => Ok((Transport::Udp, Message::parse_udp(bytes)?)),
        }
    }

    /// The message's type number (UDP type or ICMP type).
    pub fn type_number(&self) -> u8 {
        match self {
            Message::RegistrationRequest(_) => 1,
            Message::RegistrationReply(_) => 3,
            Message::TunnelData(..) => 4,
            Message::RegistrationRevocation(_) => 7,
            Message::RevocationAck(_) => 15,
            Message::AgentAdvertisement(_) => ICMP_AGENT_ADVERTISEMENT,
            Message::AgentSolicitation(_) => ICMP_AGENT_SOLICITATION,
        }
    }

    /// A human name for the message type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::AgentAdvertisement(_) => "Agent Advertisement",
            Message::AgentSolicitation(_) => "Agent Solicitation",
            other => MessageType::from(other.type_number()).name(),
        }
    }

    /// Encode the message again.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        Ok(match self {
            Message::RegistrationRequest(m) => m.to_bytes(),
            Message::RegistrationReply(m) => m.to_bytes(),
            Message::TunnelData(h, payload) => {
                // `h.emit`, not `encapsulate_tunnel_data`, which writes
                // Reserved as zero: the header keeps it as received.
                let mut out = vec![0u8; h.buffer_len() + payload.len()];
                let n = h.emit(&mut out)?;
                out[n..].copy_from_slice(payload);
                out
            }
            Message::RegistrationRevocation(m) => m.to_bytes(),
            Message::RevocationAck(m) => m.to_bytes(),
            Message::AgentAdvertisement(m) => m.to_bytes()?,
            Message::AgentSolicitation(m) => m.to_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatch_by_type_byte() {
        // A registration request: type 1, flags T, lifetime 1800, HoA 10.0.0.1,
        // HA 10.0.0.254, CoA 192.0.2.1, identification 0x0102030405060708.
        let req = hex_bytes("01020708 0a000001 0a0000fe c0000201 0102030405060708");
        let (t, m) = Message::parse_any(&req).unwrap();
        assert_eq!(t, Transport::Udp);
        assert_eq!(m.type_number(), 1);
        assert_eq!(m.type_name(), MessageType::RegistrationRequest.name());
        assert_eq!(m.to_bytes().unwrap(), req);
        // Solicitation: type 10, code 0, checksum 0xf5ff, reserved 0.
        let sol = hex_bytes("0a00f5ff 00000000");
        let (t, m) = Message::parse_any(&sol).unwrap();
        assert_eq!(t, Transport::Icmp);
        assert!(matches!(m, Message::AgentSolicitation(_)));
        assert_eq!(m.to_bytes().unwrap(), sol);
    }

    #[test]
    fn unknown_and_empty_are_errors() {
        assert_eq!(Message::parse_udp(&[]).unwrap_err().offset, 0);
        let e = Message::parse_udp(&[200, 0, 0]).unwrap_err();
        assert_eq!((e.offset, e.field), (0, "type"));
        let e = Message::parse_icmp(&[8, 0, 0, 0]).unwrap_err();
        assert_eq!((e.offset, e.field), (0, "ICMP type"));
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
