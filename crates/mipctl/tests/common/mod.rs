//! Shared test material: one of every Mobile IP message, signed by the
//! security crate as an independent mobile node / agent would, and wrapped in
//! IPv4 + UDP/ICMP for capture files.
#![allow(dead_code)]

use mip_security::{Algorithm, Key, ReplayProtection, SecurityAssociation};
use mip_wire::codes::{Encapsulation, ReplyCode};
use mip_wire::extension::{
    append_auth_extension, AuthKind, Extension, GenAuthSubtype, MobileNetwork, MobileNetworkAck,
    MobileNetworkAckCode, RevocationSupport, UdpTunnelReply, UdpTunnelReplyCode, UdpTunnelRequest,
};
use mip_wire::icmp::{
    AdvertisementCode, AdvertisementExtension, AdvertisementFlags, AgentAdvertisement,
    AgentSolicitation, MobilityAgentAdvertisement, RouterAddress,
};
use mip_wire::ipv4::{Ipv4Repr, Protocol};
use mip_wire::registration::{RegistrationReply, RegistrationRequest, RequestFlags};
use mip_wire::revocation::{RegistrationRevocation, RevocationAck};
use mip_wire::udp_tunnel::encapsulate_tunnel_data;
use std::net::Ipv4Addr;

pub const MN_HA_SPI: u32 = 0x100;
pub const MN_HA_KEY: &str = "12345678123456781234567812345678";
pub const FA_HA_SPI: u32 = 0x1001;
pub const FA_HA_KEY: &str = "87654321876543218765432187654321";

pub fn mn_ha_sa(alg: Algorithm) -> SecurityAssociation {
    SecurityAssociation::new(
        MN_HA_SPI,
        alg,
        Key::from_hex(MN_HA_KEY).unwrap(),
        ReplayProtection::default(),
    )
}

pub fn fa_ha_sa() -> SecurityAssociation {
    SecurityAssociation::new(
        FA_HA_SPI,
        Algorithm::HmacMd5,
        Key::from_hex(FA_HA_KEY).unwrap(),
        ReplayProtection::default(),
    )
}

/// A sample message with a label and the transport it travels on.
pub struct Sample {
    pub label: &'static str,
    pub icmp: bool,
    pub bytes: Vec<u8>,
}

fn sign(buf: &mut Vec<u8>, kind: AuthKind, sa: &SecurityAssociation) {
    append_auth_extension(buf, kind, sa.spi(), 16, |covered| sa.authenticator(covered)).unwrap();
}

pub fn request_flags_all() -> RequestFlags {
    RequestFlags {
        s: true,
        b: true,
        d: true,
        m: true,
        g: true,
        r: false,
        t: true,
        x: false,
    }
}

/// One of each message the product speaks.
pub fn samples() -> Vec<Sample> {
    let hoa = Ipv4Addr::new(10, 0, 0, 1);
    let ha = Ipv4Addr::new(66, 0, 0, 5);
    let coa = Ipv4Addr::new(68, 0, 0, 31);
    let mut out = Vec::new();

    // 1. Request with NAI, MN-HA (HMAC-MD5) and FA-HA authentication.
    let req = RegistrationRequest {
        flags: RequestFlags {
            g: true,
            t: true,
            ..Default::default()
        },
        lifetime: 36000,
        home_address: hoa,
        home_agent: ha,
        care_of_address: coa,
        identification: 0xB750_FAC4_C28F_56A8,
        extensions: vec![Extension::Nai(b"mn1@example.net".to_vec())],
    };
    let mut b = req.to_bytes();
    sign(&mut b, AuthKind::MnHa, &mn_ha_sa(Algorithm::HmacMd5));
    sign(&mut b, AuthKind::FaHa, &fa_ha_sa());
    out.push(Sample {
        label: "request-nai-mnha-faha",
        icmp: false,
        bytes: b,
    });

    // 2. Request with every flag, the RFC 3519/3543/5177/3115/3024 extensions,
    //    an unknown skippable one, an MN-FA challenge and MN-AAA auth.
    let req = RegistrationRequest {
        flags: request_flags_all(),
        lifetime: 65535,
        home_address: Ipv4Addr::UNSPECIFIED,
        home_agent: ha,
        care_of_address: coa,
        identification: 0x0102_0304_0506_0708,
        extensions: vec![
            Extension::UdpTunnelRequest(UdpTunnelRequest {
                subtype: 0,
                reserved1: 0,
                force: true,
                registration_through_fa: false,
                reserved2: 0,
                encapsulation: Encapsulation::from(4),
                reserved3: 0,
            }),
            Extension::EncapsulatingDeliveryStyle,
            Extension::RevocationSupport(RevocationSupport {
                i_bit_supported: true,
                reserved: 0,
                timestamp: 0x5f00_0001,
            }),
            Extension::MobileNetwork(MobileNetwork::Request {
                prefix_length: 24,
                prefix: Ipv4Addr::new(192, 168, 50, 0),
            }),
            Extension::Cvse {
                reserved: 0,
                vendor_id: 9,
                vendor_type: 7,
                data: vec![1, 2, 3, 4],
            },
            Extension::Nvse {
                reserved: 0,
                vendor_id: 9,
                vendor_type: 1,
                data: b"session-1".to_vec(),
            },
            Extension::UnknownSkippable {
                ty: 200,
                data: vec![0xde, 0xad, 0xbe, 0xef],
            },
            Extension::Nai(b"user@left.com".to_vec()),
            Extension::MnFaChallenge(vec![0x11; 16]),
        ],
    };
    let mut b = req.to_bytes();
    sign(
        &mut b,
        AuthKind::MnHa,
        &mn_ha_sa(Algorithm::KeyedMd5PrefixSuffix),
    );
    sign(
        &mut b,
        AuthKind::Generalized(GenAuthSubtype::MnAaa),
        &mn_ha_sa(Algorithm::HmacMd5),
    );
    out.push(Sample {
        label: "request-all-flags-extensions",
        icmp: false,
        bytes: b,
    });

    // 3. Reply: accepted, UDP tunnel reply, mobile network ack, MN-HA signed.
    let rep = RegistrationReply {
        code: ReplyCode::from(0),
        lifetime: 1800,
        home_address: hoa,
        home_agent: ha,
        identification: 0xB750_FAC4_C28F_56A8,
        extensions: vec![
            Extension::UdpTunnelReply(UdpTunnelReply {
                subtype: 0,
                code: UdpTunnelReplyCode::from(0),
                force: true,
                reserved: 0,
                keepalive_interval: 110,
            }),
            Extension::MobileNetwork(MobileNetwork::ExplicitAck(MobileNetworkAck {
                code: MobileNetworkAckCode::from(0),
                prefix_length: 24,
                reserved: 0,
                prefix: Ipv4Addr::new(192, 168, 50, 0),
            })),
        ],
    };
    let mut b = rep.to_bytes();
    sign(&mut b, AuthKind::MnHa, &mn_ha_sa(Algorithm::HmacMd5));
    out.push(Sample {
        label: "reply-accepted",
        icmp: false,
        bytes: b,
    });

    // 4. Reply: 133 identification mismatch.
    let rep = RegistrationReply {
        code: ReplyCode::from(133),
        lifetime: 0,
        home_address: hoa,
        home_agent: ha,
        identification: 0xEB00_0000_C28F_56A8,
        extensions: vec![],
    };
    let mut b = rep.to_bytes();
    sign(
        &mut b,
        AuthKind::MnHa,
        &mn_ha_sa(Algorithm::KeyedMd5PrefixSuffix),
    );
    out.push(Sample {
        label: "reply-133",
        icmp: false,
        bytes: b,
    });

    // 5. Registration Revocation and 6. its acknowledgement (RFC 3543).
    let rev = RegistrationRevocation {
        reserved: 0,
        sent_by_home_agent: true,
        inform: true,
        flags_reserved: 0,
        home_address: hoa,
        home_domain_address: ha,
        foreign_domain_address: coa,
        revocation_identifier: 0x1234_5678,
        extensions: vec![],
    };
    let mut b = rev.to_bytes();
    sign(&mut b, AuthKind::FaHa, &fa_ha_sa());
    out.push(Sample {
        label: "revocation",
        icmp: false,
        bytes: b,
    });
    let ack = RevocationAck {
        reserved: 0,
        inform: true,
        flags_reserved: 0,
        home_address: hoa,
        revocation_identifier: 0x1234_5678,
        extensions: vec![],
    };
    let mut b = ack.to_bytes();
    sign(&mut b, AuthKind::FaHa, &fa_ha_sa());
    out.push(Sample {
        label: "revocation-ack",
        icmp: false,
        bytes: b,
    });

    // 7. UDP tunnel data carrying a small IPv4 packet.
    let inner = ipv4(
        hoa,
        Ipv4Addr::new(192, 0, 2, 7),
        Protocol::Udp,
        &[0, 7, 0, 7, 0, 10, 0, 0, 0x41, 0x42],
    );
    let mut b = vec![0u8; inner.len() + 4];
    let n = encapsulate_tunnel_data(Protocol::IpIp, &inner, &mut b).unwrap();
    b.truncate(n);
    out.push(Sample {
        label: "tunnel-data",
        icmp: false,
        bytes: b,
    });

    // 8. Agent advertisement: router address, mobility agent extension,
    //    prefix lengths, padding, FA challenge.
    let mut adv = AgentAdvertisement::new(
        AdvertisementCode::from(0),
        1800,
        vec![RouterAddress {
            address: Ipv4Addr::new(67, 0, 0, 31),
            preference: 0,
        }],
        MobilityAgentAdvertisement {
            sequence: 257,
            registration_lifetime: 3600,
            flags: AdvertisementFlags {
                registration_required: true,
                foreign_agent: true,
                gre_encapsulation: true,
                reverse_tunnelling: true,
                ..Default::default()
            },
            care_of_addresses: vec![Ipv4Addr::new(68, 0, 0, 31)],
        },
    );
    adv.extensions
        .push(AdvertisementExtension::PrefixLengths(vec![8]));
    adv.extensions
        .push(AdvertisementExtension::FaChallenge(vec![0x5a; 8]));
    adv.extensions.push(AdvertisementExtension::Pad);
    out.push(Sample {
        label: "advertisement",
        icmp: true,
        bytes: adv.to_bytes().unwrap(),
    });

    // 9. Agent solicitation.
    out.push(Sample {
        label: "solicitation",
        icmp: true,
        bytes: AgentSolicitation::default().to_bytes(),
    });
    out
}

/// An IPv4 packet around `payload`.
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: Protocol, payload: &[u8]) -> Vec<u8> {
    ipv4_ttl(src, dst, protocol, 64, payload)
}

/// An IPv4 packet around `payload` with the given TTL.
pub fn ipv4_ttl(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: Protocol,
    ttl: u8,
    payload: &[u8],
) -> Vec<u8> {
    let repr = Ipv4Repr {
        tos: 0,
        identification: 1,
        reserved_flag: false,
        dont_fragment: false,
        more_fragments: false,
        fragment_offset: 0,
        ttl,
        protocol,
        src_addr: src,
        dst_addr: dst,
        options: vec![],
        payload_len: payload.len(),
    };
    let mut out = repr.to_bytes().unwrap();
    out.extend_from_slice(payload);
    out
}

/// The sample as it would travel: IPv4 + UDP 434 (checksum 0 is allowed for
/// UDP over IPv4) or IPv4 + ICMP.
pub fn frame(s: &Sample) -> Vec<u8> {
    let fa = Ipv4Addr::new(68, 0, 0, 31);
    let ha = Ipv4Addr::new(66, 0, 0, 5);
    if s.icmp {
        // RFC 5944 §2.3: advertisements and solicitations carry TTL 1.
        return ipv4_ttl(fa, Ipv4Addr::new(224, 0, 0, 1), Protocol::Icmp, 1, &s.bytes);
    }
    let mut udp = Vec::with_capacity(8 + s.bytes.len());
    udp.extend_from_slice(&434u16.to_be_bytes());
    udp.extend_from_slice(&434u16.to_be_bytes());
    udp.extend_from_slice(&((8 + s.bytes.len()) as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&s.bytes);
    ipv4(fa, ha, Protocol::Udp, &udp)
}

/// Write frames as a raw-IPv4 pcap file.
pub fn write_pcap(path: &std::path::Path, frames: &[Vec<u8>]) {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let file = std::fs::File::create(path).unwrap();
    let header = PcapHeader {
        datalink: pcap_file::DataLink::RAW,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(file, header).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let ts = std::time::Duration::from_secs(1_700_000_000 + i as u64);
        w.write_packet(&PcapPacket::new(ts, f.len() as u32, f))
            .unwrap();
    }
}

impl Sample {
    pub fn clone_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }
}
