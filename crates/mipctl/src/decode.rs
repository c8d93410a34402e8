//! `mipctl decode`: a readable (or JSON) dump of Mobile IP messages, with
//! optional verification of their authenticators.

use mip_security::mn_aaa::{verify_mn_aaa, MnAaaAlgorithm};
use mip_security::{Algorithm, Key, ReplayProtection, SecurityAssociation};
use mip_wire::extension::{
    auth_regions, AuthKind, AuthRegion, Extension, GenAuthSubtype, MobileNetwork,
};
use mip_wire::icmp::{AdvertisementExtension, AgentAdvertisement};
use mip_wire::ident::Identification;
use mip_wire::message::{Message, Transport};
use mip_wire::registration::RequestFlags;
use serde_json::{json, Map, Value};
use std::net::Ipv4Addr;

/// A key given with `--key SPI:HEXKEY[:hmac-md5|prefix-suffix]`.
pub struct DecodeKey {
    pub spi: u32,
    pub key: Key,
    pub algorithm: Algorithm,
}

impl DecodeKey {
    /// Parse `SPI:HEXKEY[:ALGORITHM]`. The SPI is hexadecimal, as in the
    /// router's configuration language (`100` is 256; a `0x` prefix is allowed).
    pub fn parse(s: &str) -> Result<DecodeKey, String> {
        let mut parts = s.splitn(3, ':');
        let spi_s = parts.next().unwrap_or_default();
        let key_s = parts
            .next()
            .ok_or_else(|| "--key expects SPI:HEXKEY[:hmac-md5|prefix-suffix]".to_string())?;
        let spi_digits = spi_s.trim_start_matches("0x").trim_start_matches("0X");
        let spi = u32::from_str_radix(spi_digits, 16).map_err(|_| {
            format!("--key: SPI '{spi_s}' is not a hexadecimal number of at most 8 digits")
        })?;
        let key = Key::from_hex(key_s).map_err(|e| format!("--key: {e}"))?;
        let algorithm = match parts.next() {
            None => Algorithm::KeyedMd5PrefixSuffix,
            Some(a) => a.parse::<Algorithm>().map_err(|_| {
                format!("--key: unknown algorithm '{a}' (expected hmac-md5 or prefix-suffix)")
            })?,
        };
        Ok(DecodeKey {
            spi,
            key,
            algorithm,
        })
    }
}

/// Decode one message given as raw bytes; `transport` None means "guess from
/// the type byte". Returns the JSON object describing it.
pub fn decode(
    bytes: &[u8],
    transport: Option<Transport>,
    keys: &[DecodeKey],
) -> Result<Value, mip_wire::Error> {
    let message = match transport {
        None => Message::parse_any(bytes)?.1,
        Some(Transport::Udp) => Message::parse_udp(bytes)?,
        Some(Transport::Icmp) => Message::parse_icmp(bytes)?,
    };
    let mut o = Map::new();
    o.insert("type".into(), json!(message.type_number()));
    o.insert("type_name".into(), json!(message.type_name()));
    o.insert("length".into(), json!(bytes.len()));
    match &message {
        Message::RegistrationRequest(r) => {
            o.insert("flags".into(), request_flags(r.flags));
            o.insert("lifetime".into(), json!(r.lifetime));
            o.insert("home_address".into(), json!(r.home_address.to_string()));
            o.insert("home_agent".into(), json!(r.home_agent.to_string()));
            o.insert(
                "care_of_address".into(),
                json!(r.care_of_address.to_string()),
            );
            o.insert(
                "identification".into(),
                json!(Identification(r.identification).to_hex16()),
            );
            o.insert(
                "extensions".into(),
                registration_extensions(bytes, 24, &r.extensions, keys)?,
            );
        }
        Message::RegistrationReply(r) => {
            o.insert("code".into(), json!(u8::from(r.code)));
            o.insert("code_name".into(), json!(r.code.name()));
            o.insert("lifetime".into(), json!(r.lifetime));
            o.insert("home_address".into(), json!(r.home_address.to_string()));
            o.insert("home_agent".into(), json!(r.home_agent.to_string()));
            o.insert(
                "identification".into(),
                json!(Identification(r.identification).to_hex16()),
            );
            o.insert(
                "extensions".into(),
                registration_extensions(bytes, 20, &r.extensions, keys)?,
            );
        }
        Message::RegistrationRevocation(r) => {
            o.insert(
                "flags".into(),
                json!({"A": r.sent_by_home_agent, "I": r.inform}),
            );
            o.insert("home_address".into(), json!(r.home_address.to_string()));
            o.insert(
                "home_domain_address".into(),
                json!(r.home_domain_address.to_string()),
            );
            o.insert(
                "foreign_domain_address".into(),
                json!(r.foreign_domain_address.to_string()),
            );
            o.insert(
                "revocation_identifier".into(),
                json!(r.revocation_identifier),
            );
            o.insert(
                "extensions".into(),
                registration_extensions(bytes, 20, &r.extensions, keys)?,
            );
        }
        Message::RevocationAck(r) => {
            o.insert("flags".into(), json!({"I": r.inform}));
            o.insert("home_address".into(), json!(r.home_address.to_string()));
            o.insert(
                "revocation_identifier".into(),
                json!(r.revocation_identifier),
            );
            o.insert(
                "extensions".into(),
                registration_extensions(bytes, 12, &r.extensions, keys)?,
            );
        }
        Message::TunnelData(h, payload) => {
            o.insert("next_header".into(), json!(u8::from(h.next_header)));
            o.insert("next_header_name".into(), json!(h.next_header.to_string()));
            o.insert("payload_length".into(), json!(payload.len()));
        }
        Message::AgentAdvertisement(a) => advertisement(&mut o, a),
        Message::AgentSolicitation(s) => {
            o.insert("code".into(), json!(s.code));
        }
    }
    Ok(Value::Object(o))
}

fn request_flags(f: RequestFlags) -> Value {
    json!({"S": f.s, "B": f.b, "D": f.d, "M": f.m, "G": f.g, "r": f.r, "T": f.t, "x": f.x})
}

fn addr(a: Ipv4Addr) -> Value {
    json!(a.to_string())
}

/// The extensions of a UDP message with their decoded fields; authentication
/// extensions are verified against `keys` when one matches their SPI.
fn registration_extensions(
    bytes: &[u8],
    start: usize,
    exts: &[Extension],
    keys: &[DecodeKey],
) -> Result<Value, mip_wire::Error> {
    let regions = auth_regions(bytes, start)?;
    let challenge = exts.iter().find_map(|e| match e {
        Extension::MnFaChallenge(c) => Some(c.as_slice()),
        _ => None,
    });
    let mut offset = start;
    let mut out = Vec::with_capacity(exts.len());
    for ext in exts {
        let mut o = Map::new();
        let len = ext.buffer_len();
        o.insert("offset".into(), json!(offset));
        o.insert("type".into(), json!(ext.ty()));
        o.insert("name".into(), json!(ext.name()));
        o.insert("length".into(), json!(length_field(ext)));
        extension_fields(&mut o, ext);
        if ext.auth().is_some() {
            if let Some(region) = regions.iter().find(|r| r.extension_offset == offset) {
                if let Some(ok) = verify(region, keys, challenge) {
                    o.insert("authenticator_ok".into(), json!(ok));
                }
            }
        }
        out.push(Value::Object(o));
        offset += len;
    }
    Ok(Value::Array(out))
}

/// The value of the extension's Length field (header fields excluded).
fn length_field(ext: &Extension) -> usize {
    let total = ext.buffer_len();
    match ext {
        Extension::Pad => 0,
        _ => total.saturating_sub(ext.layout().header_len()),
    }
}

fn extension_fields(o: &mut Map<String, Value>, ext: &Extension) {
    match ext {
        Extension::Pad | Extension::EncapsulatingDeliveryStyle => {}
        Extension::MnHaAuth { spi, authenticator }
        | Extension::MnFaAuth { spi, authenticator }
        | Extension::FaHaAuth { spi, authenticator } => {
            o.insert("spi".into(), json!(spi));
            o.insert("authenticator".into(), json!(hex::encode(authenticator)));
        }
        Extension::GeneralizedAuth {
            subtype,
            spi,
            authenticator,
        } => {
            o.insert("subtype".into(), json!(u8::from(*subtype)));
            o.insert("subtype_name".into(), json!(subtype.name()));
            o.insert("spi".into(), json!(spi));
            o.insert("authenticator".into(), json!(hex::encode(authenticator)));
        }
        Extension::Cvse {
            vendor_id,
            vendor_type,
            data,
            ..
        }
        | Extension::Nvse {
            vendor_id,
            vendor_type,
            data,
            ..
        } => {
            o.insert("vendor_id".into(), json!(vendor_id));
            o.insert("vendor_type".into(), json!(vendor_type));
            o.insert("data".into(), json!(hex::encode(data)));
        }
        Extension::GenericLong { subtype, data, .. } => {
            o.insert("subtype".into(), json!(subtype));
            o.insert("data".into(), json!(hex::encode(data)));
        }
        Extension::UdpTunnelReply(r) => {
            o.insert("subtype".into(), json!(r.subtype));
            o.insert("code".into(), json!(u8::from(r.code)));
            o.insert("code_name".into(), json!(r.code.name()));
            o.insert("forced".into(), json!(r.force));
            o.insert("keepalive_interval".into(), json!(r.keepalive_interval));
        }
        Extension::Nai(_) => {
            o.insert("nai".into(), json!(ext.nai().unwrap_or_default()));
        }
        Extension::MnFaChallenge(c) => {
            o.insert("challenge".into(), json!(hex::encode(c)));
        }
        Extension::RevocationSupport(r) => {
            o.insert("i_bit".into(), json!(r.i_bit_supported));
            o.insert("timestamp".into(), json!(r.timestamp));
        }
        Extension::UdpTunnelRequest(r) => {
            o.insert("subtype".into(), json!(r.subtype));
            o.insert("forced".into(), json!(r.force));
            o.insert(
                "registration_through_fa".into(),
                json!(r.registration_through_fa),
            );
            o.insert("encapsulation".into(), json!(u8::from(r.encapsulation)));
            o.insert("encapsulation_name".into(), json!(r.encapsulation.name()));
        }
        Extension::MobileNetwork(m) => {
            o.insert("subtype".into(), json!(m.subtype()));
            match m {
                MobileNetwork::Request {
                    prefix_length,
                    prefix,
                } => {
                    o.insert("prefix".into(), json!(format!("{prefix}/{prefix_length}")));
                }
                MobileNetwork::ExplicitAck(a) | MobileNetwork::ImplicitAck(a) => {
                    o.insert("code".into(), json!(u8::from(a.code)));
                    o.insert("code_name".into(), json!(a.code.name()));
                    o.insert(
                        "prefix".into(),
                        json!(format!("{}/{}", a.prefix, a.prefix_length)),
                    );
                }
                MobileNetwork::Unknown { data, .. } => {
                    o.insert("data".into(), json!(hex::encode(data)));
                }
            }
        }
        Extension::UnknownSkippable { data, .. } | Extension::UnknownNonSkippable { data, .. } => {
            o.insert(
                "skippable".into(),
                json!(mip_wire::extension::is_skippable(ext.ty())),
            );
            o.insert("data".into(), json!(hex::encode(data)));
        }
    }
}

/// Verify one authenticator with the key whose SPI it names. `None` when no
/// key was given for that SPI.
fn verify(region: &AuthRegion<'_>, keys: &[DecodeKey], challenge: Option<&[u8]>) -> Option<bool> {
    let k = keys.iter().find(|k| k.spi == region.spi)?;
    if region.kind == AuthKind::Generalized(GenAuthSubtype::MnAaa) {
        // RFC 3012 §8 / RFC 4721: SPIs 2 and 3 are the CHAP-style
        // computations over the FA challenge; any other SPI uses the SA's
        // algorithm like the other authentication extensions.
        if let Some(alg) = MnAaaAlgorithm::from_spi(region.spi) {
            return Some(match challenge {
                Some(c) => verify_mn_aaa(alg, &k.key, c, region.covered, region.authenticator),
                None => false,
            });
        }
    }
    let sa = SecurityAssociation::new(
        k.spi,
        k.algorithm,
        k.key.clone(),
        ReplayProtection::default(),
    );
    Some(sa.verify(region.covered, region.authenticator))
}

fn advertisement(o: &mut Map<String, Value>, a: &AgentAdvertisement) {
    o.insert("code".into(), json!(u8::from(a.code)));
    o.insert("lifetime".into(), json!(a.lifetime));
    o.insert(
        "router_addresses".into(),
        Value::Array(
            a.router_addresses
                .iter()
                .map(|r| json!({"address": r.address.to_string(), "preference": r.preference}))
                .collect(),
        ),
    );
    let exts = a
        .extensions
        .iter()
        .map(|e| {
            let mut x = Map::new();
            x.insert("type".into(), json!(e.ext_type()));
            match e {
                AdvertisementExtension::Pad => {
                    x.insert("name".into(), json!("One-byte Padding"));
                }
                AdvertisementExtension::MobilityAgent(m) => {
                    let f = &m.flags;
                    x.insert("name".into(), json!("Mobility Agent Advertisement"));
                    x.insert("length".into(), json!(e.buffer_len() - 2));
                    x.insert("sequence".into(), json!(m.sequence));
                    x.insert(
                        "registration_lifetime".into(),
                        json!(m.registration_lifetime),
                    );
                    x.insert(
                        "flags".into(),
                        json!({
                            "R": f.registration_required, "B": f.busy, "H": f.home_agent,
                            "F": f.foreign_agent, "M": f.minimal_encapsulation,
                            "G": f.gre_encapsulation, "r": f.reserved_r,
                            "T": f.reverse_tunnelling, "U": f.udp_tunnelling, "X": f.revocation,
                        }),
                    );
                    x.insert(
                        "care_of_addresses".into(),
                        Value::Array(m.care_of_addresses.iter().copied().map(addr).collect()),
                    );
                }
                AdvertisementExtension::PrefixLengths(p) => {
                    x.insert("name".into(), json!("Prefix-Lengths"));
                    x.insert("length".into(), json!(p.len()));
                    x.insert("prefix_lengths".into(), json!(p));
                }
                AdvertisementExtension::FaChallenge(c) => {
                    x.insert("name".into(), json!("FA Challenge"));
                    x.insert("length".into(), json!(c.len()));
                    x.insert("challenge".into(), json!(hex::encode(c)));
                }
                AdvertisementExtension::Unknown { data, .. } => {
                    x.insert("name".into(), json!("unknown"));
                    x.insert("length".into(), json!(data.len()));
                    x.insert("data".into(), json!(hex::encode(data)));
                }
            }
            Value::Object(x)
        })
        .collect();
    o.insert("extensions".into(), Value::Array(exts));
}

/// Render a decoded message as indented text for a person.
pub fn render_text(v: &Value) -> String {
    let mut s = String::new();
    let name = v
        .get("type_name")
        .and_then(Value::as_str)
        .unwrap_or("message");
    let ty = v.get("type").and_then(Value::as_u64).unwrap_or(0);
    let len = v.get("length").and_then(Value::as_u64).unwrap_or(0);
    s.push_str(&format!("{name} (type {ty}), {len} bytes\n"));
    if let Value::Object(m) = v {
        for (k, val) in m {
            if matches!(k.as_str(), "type" | "type_name" | "length") {
                continue;
            }
            render_field(&mut s, 1, k, val);
        }
    }
    s
}

fn render_field(s: &mut String, depth: usize, k: &str, v: &Value) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(m) if k == "flags" => {
            // Flags as the router shows them: upper case when set.
            let letters: String = m
                .iter()
                .map(|(l, set)| {
                    if set.as_bool() == Some(true) {
                        l.to_uppercase()
                    } else {
                        l.to_lowercase()
                    }
                })
                .collect();
            s.push_str(&format!("{pad}flags: {letters}\n"));
        }
        Value::Object(m) => {
            s.push_str(&format!("{pad}{k}:\n"));
            for (k2, v2) in m {
                render_field(s, depth + 1, k2, v2);
            }
        }
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            s.push_str(&format!("{pad}{k}:\n"));
            for item in items {
                if let Value::Object(m) = item {
                    let head: Vec<String> = ["type", "name"]
                        .iter()
                        .filter_map(|f| m.get(*f).map(scalar))
                        .collect();
                    let rest: Vec<String> = m
                        .iter()
                        .filter(|(k2, _)| !matches!(k2.as_str(), "type" | "name"))
                        .map(|(k2, v2)| format!("{k2}={}", scalar(v2)))
                        .collect();
                    s.push_str(&format!(
                        "{pad}  - {}: {}\n",
                        head.join(" "),
                        rest.join(" ")
                    ));
                }
            }
        }
        Value::Array(items) if items.is_empty() => s.push_str(&format!("{pad}{k}: (none)\n")),
        _ => s.push_str(&format!("{pad}{k}: {}\n", scalar(v))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(scalar).collect::<Vec<_>>().join(","),
        Value::Object(m) => m
            .iter()
            .filter(|(_, b)| b.as_bool() == Some(true))
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
            .join(""),
        other => other.to_string(),
    }
}
