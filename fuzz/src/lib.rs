//! Properties of the `mip-wire` decoders, checked on arbitrary bytes.
//!
//! One function per decoder family. Each runs the family's decoders (views,
//! owned parses, decapsulators) on the input and, whenever a decoder accepts
//! it, checks with `assert!` that re-encoding gives the input back:
//!
//! * lossless formats: `emit(parse(b)) == b` (and `parse(emit(...)) ==
//!   parse(b)`);
//! * checksummed formats (ICMP, IPv4 header, minimal forwarding header, GRE):
//!   the same, except that a received checksum of `0xffff` may come back as
//!   `0x0000` (see [`assert_same_but_checksum`]);
//! * decapsulators: encapsulating the inner packet again gives a packet that
//!   decapsulates to the same inner bytes.
//!
//! A decoder that panics, or a property that fails, panics here. The same
//! file serves the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, through the
//! `mip-fuzz` library) and the stable corpus test
//! (`crates/mip-wire/tests/corpus.rs`, which includes it with `#[path]`), so
//! both check exactly the same properties.

use mip_wire::error::internet_checksum;
use mip_wire::extension::{self, Extension, Extensions, Layout, RawExtension};
use mip_wire::icmp::{
    AgentAdvertisement, AgentAdvertisementPacket, AgentDiscovery, AgentSolicitation,
    AgentSolicitationPacket,
};
use mip_wire::ipv4::{decrement_ttl, Ipv4Packet, Ipv4Repr, Protocol};
use mip_wire::message::{Message, Transport};
use mip_wire::registration::{
    RegistrationReply, RegistrationReplyPacket, RegistrationRequest, RegistrationRequestPacket,
    REPLY_HEADER_LEN, REQUEST_HEADER_LEN,
};
use mip_wire::revocation::{
    RegistrationRevocation, RegistrationRevocationPacket, RevocationAck, RevocationAckPacket,
    ACK_HEADER_LEN, REVOCATION_HEADER_LEN,
};
use mip_wire::tunnel::{
    decapsulate_gre, decapsulate_ipip, decapsulate_minimal, decapsulate_minimal_in_place,
    encapsulate_gre_with, encapsulate_ipip_with, encapsulate_minimal, GrePacket, GreRepr,
    MinimalPacket, MinimalRepr, OuterHeader, GRE_FLAG_C, GRE_PROTOCOL_IPV4, IPIP_OVERHEAD,
    MINIMAL_HEADER_LEN_WITH_SOURCE,
};
use mip_wire::udp_tunnel::{
    decapsulate_tunnel_data, encapsulate_tunnel_data, TunnelDataPacket, TunnelDataRepr,
};

/// The families, in the order of the flags returned by [`all`].
pub const FAMILIES: [&str; 11] = [
    "registration_request",
    "registration_reply",
    "extensions",
    "revocation",
    "agent_discovery",
    "ipv4",
    "tunnel_ipip",
    "tunnel_minimal",
    "tunnel_gre",
    "udp_tunnel",
    "message_any",
];

/// Runs every family on `data`; element `i` tells whether the main decoder of
/// `FAMILIES[i]` accepted it.
pub fn all(data: &[u8]) -> [bool; 11] {
    [
        registration_request(data),
        registration_reply(data),
        extensions(data),
        revocation(data),
        agent_discovery(data),
        ipv4(data),
        tunnel_ipip(data),
        tunnel_minimal(data),
        tunnel_gre(data),
        udp_tunnel(data),
        message_any(data),
    ]
}

// ---------------------------------------------------------------------------
// Helpers

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `got` must equal `want`; a failure shows both in hex.
#[track_caller]
pub fn assert_bytes(got: &[u8], want: &[u8], what: &str) {
    assert!(
        got == want,
        "{what}\n  expected {}\n  got      {}",
        hex(want),
        hex(got)
    );
}

/// `emitted` must equal `received`, except that the 16-bit checksum at `at`
/// may read `0x0000` where the received one read `0xffff`.
///
/// Both are the one's complement "zero" of RFC 1071 (RFC 1624 §3): when the
/// covered data sums to 0xffff, a checksum field of 0x0000 and one of 0xffff
/// both verify. Encoders compute 0x0000; a decoder accepts either and does
/// not keep the checksum, so re-encoding gives the canonical 0x0000.
#[track_caller]
pub fn assert_same_but_checksum(emitted: &[u8], received: &[u8], at: usize, what: &str) {
    if emitted == received {
        return;
    }
    let only_checksum = emitted.len() == received.len()
        && received.len() >= at + 2
        && emitted[..at] == received[..at]
        && emitted[at + 2..] == received[at + 2..]
        && received[at..at + 2] == [0xff, 0xff]
        && emitted[at..at + 2] == [0, 0];
    assert!(
        only_checksum,
        "{what}: re-encoding differs\n  expected {}\n  got      {}",
        hex(received),
        hex(emitted)
    );
}

/// Recomputes the checksums (and IPv4 Total Lengths) of `data` so that the
/// decoders get past their checksum checks: the ICMP checksum of a type 9/10
/// message, the IPv4 header checksum of a `0x4_` datagram (with its Total
/// Length set to the buffer length, and recursively the tunnelled datagram
/// or GRE/minimal header inside), and the datagram inside a UDP tunnel data
/// message (type 4). Other inputs come back unchanged.
pub fn fixup(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    match v.first() {
        Some(9) | Some(10) if v.len() >= 4 => fix_icmp(&mut v),
        Some(4) if v.len() >= 4 => match Protocol::from(v[1]) {
            Protocol::IpIp => fix_ipv4(&mut v[4..], 0),
            Protocol::Gre => fix_gre(&mut v[4..], 0),
            Protocol::MinimalEncap => fix_minimal_header(&mut v[4..]),
            _ => {}
        },
        Some(b) if b >> 4 == 4 => fix_ipv4(&mut v, 0),
        _ => {}
    }
    v
}

fn fix_icmp(msg: &mut [u8]) {
    msg[2] = 0;
    msg[3] = 0;
    let c = internet_checksum(msg);
    msg[2..4].copy_from_slice(&c.to_be_bytes());
}

fn fix_ipv4(buf: &mut [u8], depth: u32) {
    let Some(&v) = buf.first() else { return };
    let hl = usize::from(v & 0x0f) * 4;
    if v >> 4 != 4 || hl < 20 || buf.len() < hl || buf.len() > 0xffff || depth > 3 {
        return;
    }
    let total = buf.len() as u16;
    buf[2..4].copy_from_slice(&total.to_be_bytes());
    let (hdr, payload) = buf.split_at_mut(hl);
    match Protocol::from(hdr[9]) {
        Protocol::IpIp => fix_ipv4(payload, depth + 1),
        Protocol::Gre => fix_gre(payload, depth + 1),
        Protocol::MinimalEncap => fix_minimal_header(payload),
        _ => {}
    }
    hdr[10] = 0;
    hdr[11] = 0;
    let c = internet_checksum(hdr);
    hdr[10..12].copy_from_slice(&c.to_be_bytes());
}

fn fix_gre(gre: &mut [u8], depth: u32) {
    let Ok(hl) = GrePacket::new_checked(&*gre).map(|p| p.header_len()) else {
        return;
    };
    fix_ipv4(&mut gre[hl..], depth + 1);
    if be16(gre, 0) & GRE_FLAG_C != 0 {
        gre[4] = 0;
        gre[5] = 0;
        let c = internet_checksum(gre);
        gre[4..6].copy_from_slice(&c.to_be_bytes());
    }
}

fn fix_minimal_header(fwd: &mut [u8]) {
    let Ok(hl) = MinimalPacket::new_checked(&*fwd).map(|p| p.header_len()) else {
        return;
    };
    fwd[2] = 0;
    fwd[3] = 0;
    let c = internet_checksum(&fwd[..hl]);
    fwd[2..4].copy_from_slice(&c.to_be_bytes());
}

// ---------------------------------------------------------------------------
// Extensions

/// Invariants of one framed extension of `msg`, and the round trip of its
/// typed form.
fn check_raw(msg: &[u8], raw: &RawExtension<'_>) {
    let end = raw.offset + raw.bytes.len();
    assert_eq!(raw.bytes, &msg[raw.offset..end], "raw extension bytes");
    assert_eq!(raw.ty, msg[raw.offset]);
    assert_eq!(raw.layout, Layout::of(raw.ty));
    assert_eq!(raw.header_len, raw.layout.header_len());
    assert_eq!(raw.body, &raw.bytes[raw.header_len..], "raw extension body");
    let framed_len = match raw.layout {
        Layout::Pad => 1,
        Layout::Short => 2 + usize::from(raw.length_field()),
        Layout::Long | Layout::Cvse => 4 + usize::from(raw.length_field()),
        Layout::Nvse => 2 + usize::from(raw.length_field()),
    };
    assert_eq!(raw.bytes.len(), framed_len, "length field vs framed length");
    assert_eq!(raw.body_offset(), raw.offset + raw.header_len);
    assert!(raw.length_field_offset() < end);
    let _ = (raw.name(), raw.is_skippable(), raw.subtype());

    let typed = Extension::parse(raw);
    assert_eq!(typed, raw.to_extension());
    match &typed {
        Ok(e) => {
            assert_eq!(e.ty(), raw.ty);
            assert_eq!(e.layout(), raw.layout);
            assert_eq!(e.buffer_len(), raw.bytes.len(), "extension buffer_len");
            let what = format!("extension {} at {} does not re-encode", raw.ty, raw.offset);
            assert_bytes(&e.to_bytes(), raw.bytes, &what);
            let _ = (e.name(), e.nai());
        }
        Err(err) => assert!(
            err.offset <= end,
            "extension error {err:?} outside the extension ({}..{end})",
            raw.offset
        ),
    }

    if let Some(kind) = raw.auth_kind() {
        let region = extension::auth_region(msg, raw);
        assert_eq!(
            region.is_ok(),
            raw.body.len() >= 4,
            "auth region: {region:?}"
        );
        if let Ok(region) = region {
            let spi_end = raw.body_offset() + 4;
            assert_eq!(region.kind, kind);
            assert_eq!(region.extension_offset, raw.offset);
            assert_eq!(region.covered, &msg[..spi_end]);
            assert_eq!(region.authenticator, &msg[spi_end..end]);
            if let Ok(e) = &typed {
                let (k, spi, auth) = e.auth().expect("typed auth extension");
                assert_eq!((k, spi, auth), (kind, region.spi, region.authenticator));
            }
        }
    } else {
        assert!(extension::auth_region(msg, raw).is_err());
    }
}

/// Invariants of the extension area of `msg` starting at `start`: the
/// iterator, the typed parse of the whole list and its re-encoding, the
/// authentication regions and the search for unknown non-skippable types.
fn check_extension_area(msg: &[u8], start: usize) {
    let mut next = start;
    let mut framing_ok = true;
    let mut typed_ok = true;
    let mut typed = Vec::new();
    let mut unknown_non_skippable = None;
    let mut auth_count = 0;
    for item in Extensions::new(msg, start) {
        match item {
            Ok(raw) => {
                assert_eq!(raw.offset, next, "extensions are contiguous");
                check_raw(msg, &raw);
                next += raw.bytes.len();
                if unknown_non_skippable.is_none()
                    && !extension::is_skippable(raw.ty)
                    && !extension::is_interpreted(raw.ty)
                {
                    unknown_non_skippable = Some(raw.offset);
                }
                if raw.auth_kind().is_some() {
                    auth_count += 1;
                }
                match Extension::parse(&raw) {
                    Ok(e) => typed.push(e),
                    Err(_) => typed_ok = false,
                }
            }
            Err(e) => {
                framing_ok = false;
                assert!(e.offset >= next, "framing error {e:?} before {next}");
                assert!(e.offset <= msg.len(), "framing error {e:?} past the end");
                assert_eq!(RawExtension::parse(msg, next), Err(e));
            }
        }
    }
    if framing_ok && start <= msg.len() {
        assert_eq!(next, msg.len(), "extensions cover the message");
    }

    let parsed = Extension::parse_all(msg, start);
    assert_eq!(
        parsed.is_ok(),
        framing_ok && typed_ok,
        "parse_all: {parsed:?}"
    );
    if let Ok(exts) = parsed {
        assert_eq!(exts, typed);
        let mut out = vec![0; Extension::buffer_len_all(&exts)];
        Extension::emit_all(&exts, &mut out);
        let expected = msg.get(start..).unwrap_or(&[]);
        assert_bytes(&out, expected, "extension list does not re-encode");
    }

    match extension::auth_regions(msg, start) {
        Ok(regions) => {
            assert!(framing_ok);
            assert_eq!(regions.len(), auth_count);
            for r in &regions {
                assert_eq!(r.kind.type_code(), msg[r.extension_offset]);
            }
        }
        Err(e) => assert!(!framing_ok || e.field == "SPI", "auth_regions: {e:?}"),
    }
    match extension::first_unknown_non_skippable(msg, start) {
        Ok(found) => {
            assert!(framing_ok || unknown_non_skippable.is_some());
            assert_eq!(found.map(|r| r.offset), unknown_non_skippable);
            if let Some(r) = found {
                assert!(r.ty < 128 && !extension::is_interpreted(r.ty));
            }
        }
        Err(_) => assert!(!framing_ok && unknown_non_skippable.is_none()),
    }
}

/// The extension framing and typed forms, with the extension area starting
/// at each of the fixed-part lengths of the messages that carry extensions,
/// and every single extension at every offset.
pub fn extensions(data: &[u8]) -> bool {
    for start in [
        0,
        1,
        2,
        4,
        ACK_HEADER_LEN,
        REPLY_HEADER_LEN,
        REQUEST_HEADER_LEN,
    ] {
        if start <= data.len() {
            check_extension_area(data, start);
        }
    }
    for offset in 0..data.len().min(512) {
        if let Ok(raw) = RawExtension::parse(data, offset) {
            check_raw(data, &raw);
        }
    }
    let _ = RawExtension::parse(data, data.len() + 1);
    Extension::parse_all(data, 0).is_ok()
}

// ---------------------------------------------------------------------------
// Registration, revocation

/// Registration Request (type 1): view and owned form.
pub fn registration_request(data: &[u8]) -> bool {
    let v = RegistrationRequestPacket::new_unchecked(data);
    let _ = (
        v.msg_type(),
        v.flags_byte(),
        v.flags().to_string(),
        v.lifetime(),
    );
    let _ = (v.home_address(), v.home_agent(), v.care_of_address());
    let _ = (
        v.identification(),
        v.ident().to_string(),
        v.extension_bytes(),
    );
    let _ = (
        v.extensions().count(),
        v.auth_regions(),
        v.first_unknown_non_skippable(),
    );

    let owned = RegistrationRequest::from_bytes(data);
    let Ok(p) = RegistrationRequestPacket::new_checked(data) else {
        assert!(owned.is_err());
        return false;
    };
    check_extension_area(data, REQUEST_HEADER_LEN);
    let framed_and_typed = p
        .extensions()
        .all(|raw| raw.and_then(|r| Extension::parse(&r)).is_ok());
    assert_eq!(owned.is_ok(), framed_and_typed, "request: {owned:?}");
    let Ok(r) = owned else { return false };
    assert_eq!(r.flags.to_byte(), p.flags_byte());
    assert_eq!(r.lifetime, p.lifetime());
    assert_eq!(r.home_address, p.home_address());
    assert_eq!(r.home_agent, p.home_agent());
    assert_eq!(r.care_of_address, p.care_of_address());
    assert_eq!(r.identification, p.identification());
    assert_eq!(r.buffer_len(), data.len());
    let out = r.to_bytes();
    assert_bytes(&out, data, "registration request does not re-encode");
    assert_eq!(RegistrationRequest::from_bytes(&out), Ok(r));
    true
}

/// Registration Reply (type 3): view and owned form.
pub fn registration_reply(data: &[u8]) -> bool {
    let v = RegistrationReplyPacket::new_unchecked(data);
    let _ = (v.msg_type(), v.code().description(), v.lifetime());
    let _ = (v.home_address(), v.home_agent(), v.identification());
    let _ = (
        v.ident().to_string(),
        v.extension_bytes(),
        v.extensions().count(),
    );
    let _ = (v.auth_regions(), v.first_unknown_non_skippable());

    let owned = RegistrationReply::from_bytes(data);
    let Ok(p) = RegistrationReplyPacket::new_checked(data) else {
        assert!(owned.is_err());
        return false;
    };
    check_extension_area(data, REPLY_HEADER_LEN);
    let framed_and_typed = p
        .extensions()
        .all(|raw| raw.and_then(|r| Extension::parse(&r)).is_ok());
    assert_eq!(owned.is_ok(), framed_and_typed, "reply: {owned:?}");
    let Ok(r) = owned else { return false };
    assert_eq!(r.code, p.code());
    assert_eq!(r.lifetime, p.lifetime());
    assert_eq!(r.identification, p.identification());
    assert_eq!(r.buffer_len(), data.len());
    let out = r.to_bytes();
    assert_bytes(&out, data, "registration reply does not re-encode");
    assert_eq!(RegistrationReply::from_bytes(&out), Ok(r));
    true
}

/// Registration Revocation (type 7) and its Acknowledgement (type 15).
pub fn revocation(data: &[u8]) -> bool {
    let v = RegistrationRevocationPacket::new_unchecked(data);
    let _ = (
        v.msg_type(),
        v.reserved(),
        v.flags(),
        v.sent_by_home_agent(),
        v.inform(),
    );
    let _ = (
        v.home_address(),
        v.home_domain_address(),
        v.foreign_domain_address(),
    );
    let _ = (
        v.revocation_identifier(),
        v.extensions().count(),
        v.auth_regions(),
    );
    let _ = v.first_unknown_non_skippable();
    let v = RevocationAckPacket::new_unchecked(data);
    let _ = (
        v.msg_type(),
        v.reserved(),
        v.flags(),
        v.inform(),
        v.home_address(),
    );
    let _ = (
        v.revocation_identifier(),
        v.extensions().count(),
        v.auth_regions(),
    );
    let _ = v.first_unknown_non_skippable();

    let mut accepted = false;
    let owned = RegistrationRevocation::from_bytes(data);
    match RegistrationRevocationPacket::new_checked(data) {
        Ok(p) => {
            check_extension_area(data, REVOCATION_HEADER_LEN);
            if let Ok(r) = owned {
                assert_eq!(r.flags(), p.flags());
                assert_eq!(r.revocation_identifier, p.revocation_identifier());
                assert_eq!(r.buffer_len(), data.len());
                let out = r.to_bytes();
                assert_bytes(&out, data, "revocation does not re-encode");
                assert_eq!(RegistrationRevocation::from_bytes(&out), Ok(r));
                accepted = true;
            }
        }
        Err(_) => assert!(owned.is_err()),
    }
    let owned = RevocationAck::from_bytes(data);
    match RevocationAckPacket::new_checked(data) {
        Ok(p) => {
            check_extension_area(data, ACK_HEADER_LEN);
            if let Ok(r) = owned {
                assert_eq!(r.flags(), p.flags());
                assert_eq!(r.revocation_identifier, p.revocation_identifier());
                assert_eq!(r.buffer_len(), data.len());
                let out = r.to_bytes();
                assert_bytes(&out, data, "revocation ack does not re-encode");
                assert_eq!(RevocationAck::from_bytes(&out), Ok(r));
                accepted = true;
            }
        }
        Err(_) => assert!(owned.is_err()),
    }
    accepted
}

// ---------------------------------------------------------------------------
// ICMP agent discovery

/// Agent Advertisement (ICMP 9), Agent Solicitation (ICMP 10) and
/// [`AgentDiscovery`].
pub fn agent_discovery(data: &[u8]) -> bool {
    let view = AgentAdvertisementPacket::new_checked(data);
    if let Ok(p) = &view {
        let _ = (
            p.msg_type(),
            p.code(),
            p.checksum(),
            p.addr_entry_size(),
            p.lifetime(),
        );
        assert_eq!(p.router_addresses().count(), usize::from(p.num_addrs()));
        // new_checked walked the extension chain: the iterator covers the rest.
        let mut end = p.extensions_offset();
        for e in p.extensions() {
            assert_eq!(e.offset, end, "advertisement extensions are contiguous");
            end += if e.ext_type == 0 { 1 } else { 2 + e.data.len() };
        }
        assert_eq!(
            end,
            data.len(),
            "advertisement extensions cover the message"
        );
    }
    let unchecked = AgentAdvertisement::parse_unchecked(data);
    if let Ok(a) = &unchecked {
        assert!(view.is_ok());
        assert_eq!(a.buffer_len(), data.len());
        let out = a.to_bytes().expect("re-encoding a parsed advertisement");
        let what = "advertisement (checksum unchecked) does not re-encode";
        assert_bytes(&out[..2], &data[..2], what);
        assert_bytes(&out[4..], &data[4..], what);
        assert_eq!(AgentAdvertisement::parse(&out).as_ref(), Ok(a));
    }
    let adv = AgentAdvertisement::parse(data);
    if let Ok(a) = &adv {
        assert_eq!(unchecked.as_ref(), Ok(a));
        assert!(view.as_ref().is_ok_and(|p| p.verify_checksum()));
        let _ = (a.mobility_agent(), a.prefix_lengths(), a.fa_challenge());
        let _ = a.padding_count();
        let out = a.to_bytes().expect("re-encoding a parsed advertisement");
        assert_same_but_checksum(&out, data, 2, "agent advertisement");
    }

    let view = AgentSolicitationPacket::new_checked(data);
    if let Ok(p) = &view {
        let _ = (p.code(), p.checksum(), p.reserved(), p.trailing());
    }
    let sol = AgentSolicitation::parse(data);
    if let Ok(s) = &sol {
        assert!(view.as_ref().is_ok_and(|p| p.verify_checksum()));
        assert_eq!(s.buffer_len(), data.len());
        let out = s.to_bytes();
        assert_same_but_checksum(&out, data, 2, "agent solicitation");
        assert_eq!(AgentSolicitation::parse(&out).as_ref(), Ok(s));
    }
    if let Ok(s) = AgentSolicitation::parse_unchecked(data) {
        let what = "solicitation (checksum unchecked) does not re-encode";
        assert_bytes(&s.to_bytes()[4..], &data[4..], what);
    }

    let disc = AgentDiscovery::parse(data);
    match (&disc, data.first()) {
        (Ok(AgentDiscovery::Advertisement(d)), Some(9)) => assert_eq!(adv.as_ref(), Ok(d)),
        (Ok(AgentDiscovery::Solicitation(d)), Some(10)) => assert_eq!(sol.as_ref(), Ok(d)),
        (Ok(d), _) => panic!("agent discovery decoded {d:?} from type {:?}", data.first()),
        (Err(_), Some(9)) => assert!(adv.is_err()),
        (Err(_), Some(10)) => assert!(sol.is_err()),
        (Err(_), _) => {}
    }
    if let Ok(d) = &disc {
        let mut out = vec![0; d.buffer_len()];
        let n = d.emit(&mut out).expect("re-encoding agent discovery");
        assert_eq!(n, data.len());
        assert_same_but_checksum(&out, data, 2, "agent discovery");
        assert_eq!(AgentDiscovery::parse(&out).as_ref(), Ok(d));
    }
    disc.is_ok()
}

// ---------------------------------------------------------------------------
// IPv4

/// IPv4 view, owned header and the in-place TTL decrement.
pub fn ipv4(data: &[u8]) -> bool {
    let repr = Ipv4Repr::parse(data);
    let Ok(p) = Ipv4Packet::new_checked(data) else {
        assert!(repr.is_err() && Ipv4Repr::parse_unchecked(data).is_err());
        return false;
    };
    let hl = p.header_len();
    let total = usize::from(p.total_len());
    assert_eq!(p.version(), 4);
    assert!((20..=60).contains(&hl) && hl <= total && total <= data.len());
    assert_eq!(p.header().len(), hl);
    assert_eq!(p.options().len(), hl - 20);
    assert_eq!(p.payload(), &data[hl..total]);
    assert_eq!(p.datagram(), &data[..total]);
    let _ = (
        p.tos(),
        p.dscp(),
        p.ecn(),
        p.identification(),
        p.reserved_flag(),
    );
    let _ = (
        p.dont_fragment(),
        p.more_fragments(),
        p.fragment_offset(),
        p.is_fragment(),
    );
    let _ = (
        p.ttl(),
        p.protocol().to_string(),
        p.checksum(),
        p.src_addr(),
        p.dst_addr(),
    );
    assert_eq!(p.check_checksum().is_ok(), p.verify_checksum());
    assert_eq!(repr.is_ok(), p.verify_checksum());
    assert_eq!(
        Ipv4Repr::parse_unchecked(data),
        Ok(Ipv4Repr::from_packet(&p))
    );

    let mut copy = data.to_vec();
    match decrement_ttl(&mut copy) {
        Ok(ttl) => {
            assert_eq!(ttl, p.ttl() - 1);
            for (i, (a, b)) in copy.iter().zip(data).enumerate() {
                assert!(
                    a == b || [8, 10, 11].contains(&i),
                    "decrement_ttl changed byte {i}"
                );
            }
            let q = Ipv4Packet::new_checked(&copy[..]).expect("header after decrement_ttl");
            assert_eq!(q.ttl(), ttl);
            assert_eq!(
                q.verify_checksum(),
                p.verify_checksum(),
                "decrement_ttl broke the checksum"
            );
        }
        Err(_) => assert_eq!(p.ttl(), 0),
    }

    let Ok(r) = repr else { return false };
    assert_eq!(r.header_len(), hl);
    assert_eq!(r.total_len(), total);
    let header = r.to_bytes().expect("re-encoding a parsed IPv4 header");
    assert_same_but_checksum(&header, &data[..hl], 10, "IPv4 header");
    let mut again = header;
    again.extend_from_slice(&data[hl..total]);
    assert_eq!(Ipv4Repr::parse(&again), Ok(r));
    true
}

// ---------------------------------------------------------------------------
// Tunnels

fn outer_of(p: &Ipv4Packet<&[u8]>) -> OuterHeader {
    OuterHeader {
        src: p.src_addr(),
        dst: p.dst_addr(),
        ttl: p.ttl(),
        identification: p.identification(),
    }
}

/// IP in IP (RFC 2003).
pub fn tunnel_ipip(data: &[u8]) -> bool {
    let Ok((outer, inner)) = decapsulate_ipip(data) else {
        return false;
    };
    let hl = outer.header_len();
    let total = usize::from(outer.total_len());
    assert_eq!(inner, &data[hl..total]);
    assert!(outer.verify_checksum() && !outer.is_fragment());
    assert_eq!(outer.protocol(), Protocol::IpIp);
    let ip = Ipv4Packet::new_checked(inner).expect("inner datagram");
    assert_eq!(usize::from(ip.total_len()), inner.len());

    let mut out = vec![0; IPIP_OVERHEAD + inner.len()];
    let n = encapsulate_ipip_with(&outer_of(&outer), inner, &mut out)
        .expect("re-encapsulating an IP-in-IP inner datagram");
    let (o2, i2) = decapsulate_ipip(&out[..n]).expect("decapsulating the re-encapsulation");
    assert_bytes(i2, inner, "IP in IP: inner datagram changed");
    assert_eq!(
        (o2.src_addr(), o2.dst_addr()),
        (outer.src_addr(), outer.dst_addr())
    );
    true
}

/// Minimal encapsulation (RFC 2004): the forwarding header alone and whole
/// datagrams, copying and in place.
pub fn tunnel_minimal(data: &[u8]) -> bool {
    if let Ok(p) = MinimalPacket::new_checked(data) {
        let _ = (
            p.protocol(),
            p.reserved(),
            p.checksum(),
            p.original_destination(),
        );
        let _ = (p.original_source(), p.verify_checksum());
        assert_eq!(p.header().len(), p.header_len());
        assert_eq!(p.payload(), &data[p.header_len()..]);
        assert_eq!(
            MinimalRepr::parse_unchecked(data),
            Ok(MinimalRepr::from_packet(&p))
        );
        assert_eq!(MinimalRepr::parse(data).is_ok(), p.verify_checksum());
    }
    if let Ok(r) = MinimalRepr::parse(data) {
        let out = r.to_bytes();
        assert_eq!(out.len(), r.header_len());
        assert_same_but_checksum(&out, &data[..r.header_len()], 2, "minimal header");
        assert_eq!(MinimalRepr::parse(&out), Ok(r));
    }

    let mut out = vec![0; data.len()];
    let copied = decapsulate_minimal(data, &mut out);
    let mut buf = data.to_vec();
    let in_place = decapsulate_minimal_in_place(&mut buf);
    let n = match (copied, in_place) {
        (Ok(n), Ok(range)) => {
            let what = "in-place and copying minimal decapsulation differ";
            assert_bytes(&buf[range], &out[..n], what);
            n
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b);
            return false;
        }
        (a, b) => panic!("decapsulate_minimal {a:?} but in place {b:?}"),
    };
    let inner = &out[..n];
    let outer = Ipv4Packet::new_checked(data).expect("outer header");
    let fwd = MinimalPacket::new_checked(&data[outer.header_len()..]).expect("forwarding header");
    let ip = Ipv4Packet::new_checked(inner).expect("decapsulated datagram");
    assert_eq!(usize::from(ip.total_len()), n);
    assert!(ip.verify_checksum(), "decapsulated header checksum");
    assert_eq!(ip.protocol(), fwd.protocol());
    assert_eq!(ip.dst_addr(), fwd.original_destination());
    assert_eq!(
        ip.src_addr(),
        fwd.original_source().unwrap_or(outer.src_addr())
    );
    let payload_end = usize::from(outer.total_len());
    assert_eq!(
        ip.payload(),
        &data[outer.header_len() + fwd.header_len()..payload_end]
    );

    let mut enc = vec![0; n + MINIMAL_HEADER_LEN_WITH_SOURCE];
    let m = encapsulate_minimal(inner, outer.src_addr(), outer.dst_addr(), &mut enc)
        .expect("re-encapsulating a minimally decapsulated datagram");
    let mut back = vec![0; m];
    let k = decapsulate_minimal(&enc[..m], &mut back).expect("decapsulating the re-encapsulation");
    assert_bytes(
        &back[..k],
        inner,
        "minimal encapsulation: inner datagram changed",
    );
    true
}

/// GRE (RFC 2784, RFC 2890): the GRE header alone and whole datagrams.
pub fn tunnel_gre(data: &[u8]) -> bool {
    if let Ok(p) = GrePacket::new_checked(data) {
        let _ = (p.checksum_present(), p.key_present(), p.sequence_present());
        let _ = (p.reserved0(), p.version(), p.protocol_type(), p.checksum());
        let _ = (p.reserved1(), p.key(), p.sequence());
        assert_eq!(p.header().len(), p.header_len());
        assert_eq!(p.payload(), &data[p.header_len()..]);
        assert_eq!(GreRepr::parse_unchecked(data), Ok(GreRepr::from_packet(&p)));
        assert_eq!(GreRepr::parse(data).is_ok(), p.verify_checksum());
        if let Ok(r) = GreRepr::parse(data) {
            let mut out = vec![0; data.len()];
            let n = r
                .emit_with_payload(p.payload(), &mut out)
                .expect("re-encoding a GRE packet");
            assert_eq!(n, data.len());
            assert_same_but_checksum(&out, data, 4, "GRE packet");
            assert_eq!(GreRepr::parse(&out), Ok(r));
        }
    }

    let Ok((outer, gre, inner)) = decapsulate_gre(data) else {
        return false;
    };
    assert_eq!(gre.protocol_type, GRE_PROTOCOL_IPV4);
    let ip = Ipv4Packet::new_checked(inner).expect("inner datagram");
    assert_eq!(usize::from(ip.total_len()), inner.len());
    let mut out = vec![0; 20 + gre.header_len() + inner.len()];
    let n = encapsulate_gre_with(&outer_of(&outer), &gre, inner, &mut out)
        .expect("re-encapsulating a GRE inner datagram");
    let (_, g2, i2) = decapsulate_gre(&out[..n]).expect("decapsulating the re-encapsulation");
    assert_eq!(g2, gre, "GRE: header changed");
    assert_bytes(i2, inner, "GRE: inner datagram changed");
    true
}

/// UDP tunnel data (RFC 3519 §3.3, type 4). The payload is also run through
/// the decoder its Next Header names.
pub fn udp_tunnel(data: &[u8]) -> bool {
    if let Ok(p) = TunnelDataPacket::new_checked(data) {
        let _ = (p.msg_type(), p.next_header(), p.reserved());
        assert_eq!(p.payload(), &data[4..]);
    }
    let repr = TunnelDataRepr::parse(data);
    let Ok((r, payload)) = decapsulate_tunnel_data(data) else {
        assert!(repr.is_err());
        return false;
    };
    assert_eq!(repr, Ok(r));
    assert_eq!(payload, &data[4..]);
    assert_bytes(
        &r.to_bytes(),
        &data[..4],
        "tunnel data header does not re-encode",
    );

    let mut out = vec![0; r.buffer_len() + payload.len()];
    let n = encapsulate_tunnel_data(r.next_header, payload, &mut out)
        .expect("re-encapsulating tunnel data");
    let (r2, p2) = decapsulate_tunnel_data(&out[..n]).expect("decapsulating tunnel data");
    assert_eq!(
        (r2.next_header, r2.reserved, p2),
        (r.next_header, 0, payload)
    );

    match r.next_header {
        Protocol::IpIp => {
            ipv4(payload);
        }
        Protocol::Gre => {
            tunnel_gre(payload);
        }
        Protocol::MinimalEncap => {
            tunnel_minimal(payload);
        }
        _ => {}
    }
    true
}

// ---------------------------------------------------------------------------
// Message

/// [`Message::parse_udp`], [`Message::parse_icmp`], [`Message::parse_any`]
/// and [`Message::to_bytes`].
pub fn message_any(data: &[u8]) -> bool {
    let udp = Message::parse_udp(data);
    let icmp = Message::parse_icmp(data);
    let any = Message::parse_any(data);
    let icmp_type = matches!(data.first(), Some(9) | Some(10));
    match &any {
        Ok((Transport::Icmp, m)) => assert!(icmp_type && icmp.as_ref() == Ok(m)),
        Ok((Transport::Udp, m)) => assert!(!icmp_type && udp.as_ref() == Ok(m)),
        Err(e) if icmp_type => assert_eq!(icmp.as_ref(), Err(e)),
        Err(e) => assert_eq!(udp.as_ref(), Err(e)),
    }
    // Each parse agrees with the decoder of its type.
    let specific = match data.first() {
        Some(1) => RegistrationRequest::from_bytes(data).is_ok(),
        Some(3) => RegistrationReply::from_bytes(data).is_ok(),
        Some(4) => decapsulate_tunnel_data(data).is_ok(),
        Some(7) => RegistrationRevocation::from_bytes(data).is_ok(),
        Some(15) => RevocationAck::from_bytes(data).is_ok(),
        _ => false,
    };
    assert_eq!(udp.is_ok(), specific, "parse_udp: {udp:?}");
    assert_eq!(icmp.is_ok(), AgentDiscovery::parse(data).is_ok());

    for (m, is_icmp) in [(udp.ok(), false), (icmp.ok(), true)] {
        let Some(m) = m else { continue };
        assert_eq!(Some(&m.type_number()), data.first());
        assert!(!m.type_name().is_empty());
        let out = m.to_bytes().expect("re-encoding a parsed message");
        if is_icmp {
            assert_same_but_checksum(&out, data, 2, m.type_name());
            assert_eq!(Message::parse_icmp(&out).as_ref(), Ok(&m));
        } else {
            let what = format!("{} does not re-encode; parsed {m:?}", m.type_name());
            assert_bytes(&out, data, &what);
            assert_eq!(Message::parse_udp(&out).as_ref(), Ok(&m));
        }
    }
    any.is_ok()
}
