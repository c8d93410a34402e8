//! The TOML form of the model: [`parse_toml`] and [`to_toml`].
//!
//! The schema, key by key, is documented in `examples/home-agent.toml`. Unknown keys are
//! errors (serde `deny_unknown_fields`). SPIs are integers (`spi = 0x100`; TOML allows hex
//! literals) or strings read as hexadecimal like the router's (`spi = "100"` is 0x100);
//! [`to_toml`] writes them as hex literals.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::ops::Range;

use mip_security::{Algorithm, Key};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{ConfigError, LineIndex, Loc, Warning};
use crate::model::{
    AccessList, AclAction, AclId, AclRule, AddressRange, Config, Encapsulations, ForeignAgent,
    ForeignService, HomeAddress, HomeAgent, HomeLocation, HostGroup, Interface, InterfaceAddress,
    Irdp, KeyFormat, NaiHost, Peer, Prefix, Redundancy, ReplaySetting, SaParams, SaSource,
    SaTarget, MIN_SPI,
};
use crate::validate::{
    finish, is_standard_acl, spi_reserved_message, Origins, Parts, ACL_NUMBER_HINT, LIFETIME_HINT,
    SPI_HINT,
};

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    mobile_ip: Option<S<bool>>,
    #[serde(default)]
    virtual_networks: Vec<S<String>>,
    home_agent: Option<S<RawHomeAgent>>,
    foreign_agent: Option<S<RawForeignAgent>>,
    #[serde(default)]
    host_group: Vec<S<RawHostGroup>>,
    #[serde(default)]
    nai_host: Vec<S<RawNaiHost>>,
    #[serde(default)]
    address_pool: Vec<S<RawPool>>,
    #[serde(default)]
    security_association: Vec<S<RawSa>>,
    #[serde(default)]
    access_list: Vec<S<RawAcl>>,
    #[serde(default)]
    interface: Vec<S<RawInterface>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHomeAgent {
    enabled: Option<bool>,
    #[serde(default)]
    addresses: Vec<S<String>>,
    broadcast: Option<bool>,
    care_of_access: Option<S<i64>>,
    lifetime: Option<S<i64>>,
    replay_window_secs: Option<S<i64>>,
    reverse_tunnel: Option<bool>,
    roam_access: Option<S<i64>>,
    suppress_unreachable: Option<bool>,
    max_bindings: Option<S<i64>>,
    encapsulations: Option<S<Vec<S<String>>>>,
    redundancy: Option<S<RawRedundancy>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedundancy {
    group: S<String>,
    virtual_network: Option<bool>,
    address: Option<S<String>>,
    periodic_sync: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForeignAgent {
    enabled: Option<bool>,
    #[serde(default)]
    care_of: Vec<S<String>>,
    reg_wait_secs: Option<S<i64>>,
    reverse_tunnel: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHostGroup {
    lower: S<String>,
    upper: Option<S<String>>,
    interface: Option<S<String>>,
    virtual_network: Option<S<String>>,
    sa_source: Option<S<String>>,
    care_of_access: Option<S<i64>>,
    lifetime: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNaiHost {
    nai: S<String>,
    address: Option<S<String>>,
    pool: Option<S<String>>,
    interface: Option<S<String>>,
    virtual_network: Option<S<String>>,
    sa_source: Option<S<String>>,
    care_of_access: Option<S<i64>>,
    lifetime: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPool {
    name: S<String>,
    #[serde(default)]
    ranges: Vec<S<RawRange>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    lower: S<String>,
    upper: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSa {
    peer: S<String>,
    address: Option<S<String>>,
    lower: Option<S<String>>,
    upper: Option<S<String>>,
    nai: Option<S<String>>,
    spi: Option<S<RawSpi>>,
    inbound_spi: Option<S<RawSpi>>,
    outbound_spi: Option<S<RawSpi>>,
    key_hex: Option<S<HexKey>>,
    key_ascii: Option<S<AsciiKey>>,
    algorithm: Option<S<String>>,
    replay: Option<S<String>>,
    replay_window_secs: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAcl {
    id: S<i64>,
    #[serde(default)]
    rules: Vec<S<RawRule>>,
    #[serde(default)]
    remarks: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    action: S<String>,
    source: S<String>,
    wildcard: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInterface {
    name: S<String>,
    address: Option<S<String>>,
    irdp: Option<S<RawIrdp>>,
    foreign_service: Option<S<RawForeignService>>,
    prefix_length: Option<bool>,
    registration_lifetime: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIrdp {
    enabled: Option<bool>,
    max_advert_interval: Option<S<i64>>,
    min_advert_interval: Option<S<i64>>,
    holdtime: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForeignService {
    home_access: Option<S<i64>>,
    limit: Option<S<i64>>,
    registration_required: Option<bool>,
    reverse_tunnel: Option<bool>,
    reverse_tunnel_mandatory: Option<bool>,
}

/// An SPI as written: an integer (its value) or a string of hex digits (the router's way).
#[derive(Clone, Copy)]
enum RawSpi {
    Int(i64),
    Hex(u32),
}

impl<'de> Deserialize<'de> for RawSpi {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawSpi, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawSpi;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an SPI: an integer such as 0x100, or a hex string such as \"100\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSpi, E> {
                Ok(RawSpi::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawSpi, E> {
                Ok(RawSpi::Int(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawSpi, E> {
                let digits = s
                    .strip_prefix("0x")
                    .or_else(|| s.strip_prefix("0X"))
                    .unwrap_or(s);
                if digits.is_empty() || digits.len() > 8 {
                    return Err(E::custom(format!(
                        "bad SPI \"{s}\": 1-8 hex digits expected"
                    )));
                }
                u32::from_str_radix(digits, 16)
                    .map(RawSpi::Hex)
                    .map_err(|_| E::custom(format!("bad SPI \"{s}\": not hexadecimal")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A key written as hex digits; the text is parsed straight into a [`Key`].
struct HexKey(Key);
/// A key written as text.
struct AsciiKey(Key);

impl<'de> Deserialize<'de> for HexKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HexKey, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HexKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string of hex digits")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<HexKey, E> {
                Key::from_hex(s)
                    .map(HexKey)
                    .map_err(|e| E::custom(format!("bad hex key: {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for AsciiKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AsciiKey, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AsciiKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string of printable ASCII")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<AsciiKey, E> {
                Key::from_ascii(s)
                    .map(AsciiKey)
                    .map_err(|e| E::custom(format!("bad ASCII key: {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

/// Parses the TOML form. `file_name` is used in messages only.
///
/// # Errors
/// A syntax or type error (line and column from the TOML parser, with a hint), or the
/// semantic errors also found in the router form.
pub fn parse_toml(text: &str, file_name: &str) -> Result<Config, ConfigError> {
    parse_toml_with_warnings(text, file_name).map(|(c, _)| c)
}

/// [`parse_toml`], also returning the warnings.
///
/// # Errors
/// As [`parse_toml`].
pub fn parse_toml_with_warnings(
    text: &str,
    file_name: &str,
) -> Result<(Config, Vec<Warning>), ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(text, file_name, &e))?;
    let mut cv = Conv {
        lines: LineIndex::new(text),
        file: file_name,
        errors: Vec::new(),
        parts: Parts::default(),
        origins: Origins::default(),
    };
    cv.convert(raw);
    if let Some(e) = ConfigError::from_list(cv.errors) {
        return Err(e);
    }
    finish(cv.parts, cv.origins, file_name)
}

/// Turns a TOML error into a [`ConfigError`] at its line and column, with a hint. Values that
/// may be keys are not repeated.
fn toml_error(text: &str, file: &str, e: &toml::de::Error) -> ConfigError {
    let loc = e.span().map(|s| Loc::of_offset(text, s.start));
    let raw = e.message().trim().to_owned();
    let on_key_line = loc.is_some_and(|l| {
        text.lines()
            .nth(l.line - 1)
            .is_some_and(|s| s.contains("key_hex") || s.contains("key_ascii"))
    });
    let (message, hint) = if let Some(rest) = raw.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("");
        let expected = rest
            .split_once("expected ")
            .map(|(_, list)| list.replace('`', "").replace("one of ", ""));
        (
            format!("unknown key '{name}'{}", table_of(text, loc)),
            Some(match expected {
                Some(list) => format!("expected one of: {list}"),
                None => "this table takes no keys".to_owned(),
            }),
        )
    } else if let Some(rest) = raw.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        (
            format!("missing key '{name}'{}", table_of(text, loc)),
            Some(format!("add '{name} = ...'; see examples/home-agent.toml")),
        )
    } else if raw.starts_with("bad hex key") || raw.starts_with("bad ASCII key") {
        (
            raw.clone(),
            Some(
                "key_hex is two hex digits per byte (32 for a 128-bit key); key_ascii is \
                 printable text"
                    .to_owned(),
            ),
        )
    } else if on_key_line {
        (
            "invalid key value (not shown)".to_owned(),
            Some("key_hex = \"hex digits\" or key_ascii = \"text\"".to_owned()),
        )
    } else if raw.starts_with("bad SPI") {
        (raw.clone(), Some(SPI_HINT.to_owned()))
    } else {
        let looks_ios = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('!') && !l.starts_with('#'))
            .is_some_and(|l| {
                l.starts_with("ip ") || l.starts_with("router ") || l.starts_with("interface ")
            });
        let hint = if looks_ios {
            "this looks like router ('ip mobile ...') syntax: name the file *.ios or pass --format ios"
        } else {
            "see examples/home-agent.toml for the format"
        };
        (raw.clone(), Some(hint.to_owned()))
    };
    let mut err = ConfigError::new(file, loc, message);
    err.hint = hint;
    err
}

/// ` in [table]` for the table header above `loc`, if any.
fn table_of(text: &str, loc: Option<Loc>) -> String {
    let Some(loc) = loc else {
        return String::new();
    };
    text.lines()
        .take(loc.line)
        .map(str::trim)
        .filter(|l| l.starts_with('['))
        .last()
        .map_or(String::new(), |h| format!(" in {h}"))
}

struct Conv<'a> {
    lines: LineIndex<'a>,
    file: &'a str,
    errors: Vec<ConfigError>,
    parts: Parts,
    origins: Origins,
}

impl Conv<'_> {
    fn loc(&self, span: Range<usize>) -> Loc {
        self.lines.loc(span.start)
    }

    fn err(&mut self, span: Range<usize>, message: String, hint: impl Into<Option<String>>) {
        let mut e = ConfigError::new(self.file, Some(self.loc(span)), message);
        e.hint = hint.into();
        self.errors.push(e);
    }

    fn addr(&mut self, s: &S<String>, what: &str) -> Option<Ipv4Addr> {
        match s.get_ref().parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.err(
                    s.span(),
                    format!("bad address \"{}\" for {what}", s.get_ref()),
                    "an IPv4 address is written \"a.b.c.d\", e.g. \"10.0.0.1\"".to_owned(),
                );
                None
            }
        }
    }

    fn prefix(&mut self, s: &S<String>, what: &str) -> Option<Prefix> {
        match s.get_ref().parse::<Prefix>() {
            Ok(p) => Some(p),
            Err(msg) => {
                self.err(
                    s.span(),
                    format!("bad {what}: {msg}"),
                    "a prefix is written \"a.b.c.d/len\", e.g. \"10.0.0.0/8\"".to_owned(),
                );
                None
            }
        }
    }

    fn int(&mut self, v: &S<i64>, what: &str, min: i64, max: i64, hint: &str) -> Option<i64> {
        let n = *v.get_ref();
        if (min..=max).contains(&n) {
            Some(n)
        } else {
            self.err(
                v.span(),
                format!("{what} {n} is out of range"),
                hint.to_owned(),
            );
            None
        }
    }

    fn lifetime(&mut self, v: &Option<S<i64>>) -> Option<u16> {
        v.as_ref()
            .and_then(|v| self.int(v, "lifetime", 1, 65535, LIFETIME_HINT))
            .map(|n| n as u16)
    }

    fn acl(&mut self, v: &Option<S<i64>>, what: &str) -> Option<AclId> {
        let v = v.as_ref()?;
        let n = *v.get_ref();
        if n > 0 && is_standard_acl(n as u32) && n <= i64::from(u16::MAX) {
            Some(n as AclId)
        } else {
            self.err(
                v.span(),
                format!("{what} {n} is not a standard access list number"),
                ACL_NUMBER_HINT.to_owned(),
            );
            None
        }
    }

    fn location(
        &mut self,
        whole: Range<usize>,
        interface: &Option<S<String>>,
        vn: &Option<S<String>>,
    ) -> Option<HomeLocation> {
        match (interface, vn) {
            (Some(i), None) => Some(HomeLocation::Interface(i.get_ref().clone())),
            (None, Some(v)) => self
                .prefix(v, "virtual_network")
                .map(HomeLocation::VirtualNetwork),
            _ => {
                self.err(
                    whole,
                    "give exactly one of 'interface' and 'virtual_network'".to_owned(),
                    "interface = \"eth1\" (the home link) or virtual_network = \"10.0.0.0/8\""
                        .to_owned(),
                );
                None
            }
        }
    }

    fn sa_source(&mut self, v: &Option<S<String>>) -> SaSource {
        let Some(v) = v else {
            return SaSource::Local;
        };
        match v.get_ref().as_str() {
            "local" => SaSource::Local,
            "aaa" => SaSource::Aaa,
            "aaa-load-sa" => SaSource::AaaLoadSa,
            other => {
                self.err(
                    v.span(),
                    format!("unknown sa_source \"{other}\""),
                    "expected one of: local, aaa, aaa-load-sa".to_owned(),
                );
                SaSource::Local
            }
        }
    }

    fn spi(&mut self, v: &S<RawSpi>) -> Option<u32> {
        let (n, hex_typo) = match *v.get_ref() {
            RawSpi::Hex(h) => (i64::from(h), None),
            RawSpi::Int(i) => {
                // `spi = 100` is decimal 100; the router's `spi 100` is 0x100.
                let as_hex = u32::from_str_radix(&i.to_string(), 16).ok();
                (i, as_hex.filter(|h| *h >= MIN_SPI))
            }
        };
        if !(0..=i64::from(u32::MAX)).contains(&n) {
            self.err(
                v.span(),
                format!("SPI {n} is out of range"),
                SPI_HINT.to_owned(),
            );
            return None;
        }
        let spi = n as u32;
        if spi < MIN_SPI {
            let hint = match hex_typo {
                Some(h) => format!(
                    "TOML integers are decimal: the router's 'spi {spi}' is spi = 0x{h:x} (or \
                     spi = \"{spi}\"); {SPI_HINT}"
                ),
                None => SPI_HINT.to_owned(),
            };
            self.err(v.span(), spi_reserved_message("SPI", spi), hint);
            return None;
        }
        Some(spi)
    }

    fn convert(&mut self, raw: RawConfig) {
        if let Some(m) = raw.mobile_ip {
            self.parts.mobile_ip = *m.get_ref();
            self.origins.mobile_ip = Some(self.loc(m.span()));
        }
        for v in &raw.virtual_networks {
            if let Some(p) = self.prefix(v, "virtual network") {
                if !self.parts.virtual_networks.contains(&p) {
                    self.parts.virtual_networks.push(p);
                    let loc = self.loc(v.span());
                    self.origins.virtual_networks.push(loc);
                }
            }
        }
        if let Some(ha) = raw.home_agent {
            self.home_agent(ha);
        }
        if let Some(fa) = raw.foreign_agent {
            self.foreign_agent(fa);
        }
        for pool in raw.address_pool {
            self.pool(pool);
        }
        for g in raw.host_group {
            self.host_group(g);
        }
        for h in raw.nai_host {
            self.nai_host(h);
        }
        for sa in raw.security_association {
            self.sa(sa);
        }
        for acl in raw.access_list {
            self.acl_table(acl);
        }
        for i in raw.interface {
            self.interface(i);
        }
    }

    fn home_agent(&mut self, ha: S<RawHomeAgent>) {
        let span = ha.span();
        let ha = ha.into_inner();
        let mut out = HomeAgent {
            enabled: ha.enabled.unwrap_or(true),
            ..HomeAgent::default()
        };
        let loc = self.loc(span);
        self.origins.home_agent.insert("enabled", loc);
        for a in &ha.addresses {
            if let Some(addr) = self.addr(a, "home_agent.addresses") {
                if !out.addresses.contains(&addr) {
                    out.addresses.push(addr);
                }
            }
        }
        out.broadcast = ha.broadcast.unwrap_or(out.broadcast);
        out.reverse_tunnel = ha.reverse_tunnel.unwrap_or(out.reverse_tunnel);
        out.suppress_unreachable = ha.suppress_unreachable.unwrap_or(false);
        out.care_of_access = self.acl(&ha.care_of_access, "care_of_access");
        out.roam_access = self.acl(&ha.roam_access, "roam_access");
        if let Some(l) = self.lifetime(&ha.lifetime) {
            out.lifetime = l;
        }
        if let Some(r) = &ha.replay_window_secs {
            if let Some(n) = self.int(
                r,
                "replay_window_secs",
                1,
                65535,
                "1-65535 seconds (default 7)",
            ) {
                out.replay_window_secs = n as u32;
            }
        }
        if let Some(m) = &ha.max_bindings {
            if let Some(n) = self.int(
                m,
                "max_bindings",
                1,
                255,
                "1-255 bindings per mobile node (1 = simultaneous bindings off; default 5)",
            ) {
                out.max_bindings = n as u16;
            }
        }
        if let Some(list) = &ha.encapsulations {
            let mut e = Encapsulations {
                gre: false,
                minimal: false,
            };
            for item in list.get_ref() {
                match item.get_ref().as_str() {
                    "ipip" | "ip-in-ip" => {}
                    "gre" => e.gre = true,
                    "minimal" => e.minimal = true,
                    other => self.err(
                        item.span(),
                        format!("unknown encapsulation \"{other}\""),
                        "expected some of: \"ipip\" (always granted), \"gre\", \"minimal\""
                            .to_owned(),
                    ),
                }
            }
            out.encapsulations = e;
        }
        for (key, present) in [
            ("lifetime", ha.lifetime.as_ref().map(Spanned::span)),
            ("replay", ha.replay_window_secs.as_ref().map(Spanned::span)),
            ("roam-access", ha.roam_access.as_ref().map(Spanned::span)),
            (
                "care-of-access",
                ha.care_of_access.as_ref().map(Spanned::span),
            ),
            (
                "simultaneous-bindings",
                ha.max_bindings.as_ref().map(Spanned::span),
            ),
            ("redundancy", ha.redundancy.as_ref().map(Spanned::span)),
        ] {
            if let Some(s) = present {
                let l = self.loc(s);
                self.origins.home_agent.insert(key, l);
            }
        }
        if let Some(r) = ha.redundancy {
            let r = r.into_inner();
            let address = r
                .address
                .as_ref()
                .and_then(|a| self.addr(a, "redundancy.address"));
            out.redundancy = Some(Redundancy {
                group: r.group.into_inner(),
                virtual_network: r.virtual_network.unwrap_or(false),
                address,
                periodic_sync: r.periodic_sync.unwrap_or(false),
            });
        }
        self.parts.home_agent = out;
    }

    fn foreign_agent(&mut self, fa: S<RawForeignAgent>) {
        let loc = self.loc(fa.span());
        let fa = fa.into_inner();
        let mut out = ForeignAgent {
            enabled: fa.enabled.unwrap_or(true),
            ..ForeignAgent::default()
        };
        self.origins.foreign_agent.insert("enabled", loc);
        for c in &fa.care_of {
            let l = self.loc(c.span());
            self.origins.foreign_agent.entry("care-of").or_insert(l);
            if !out.care_of.contains(c.get_ref()) {
                out.care_of.push(c.get_ref().clone());
            }
        }
        if let Some(r) = &fa.reg_wait_secs {
            if let Some(n) = self.int(
                r,
                "reg_wait_secs",
                5,
                600,
                "the pending-registration timeout is 5-600 seconds (default 15)",
            ) {
                out.reg_wait_secs = n as u16;
            }
        }
        out.reverse_tunnel = fa.reverse_tunnel.unwrap_or(false);
        self.parts.foreign_agent = out;
    }

    fn range(&mut self, lower: &S<String>, upper: &Option<S<String>>) -> Option<AddressRange> {
        let lo = self.addr(lower, "lower");
        let hi = match upper {
            Some(u) => self.addr(u, "upper"),
            None => lo,
        };
        Some(AddressRange {
            lower: lo?,
            upper: hi?,
        })
    }

    fn pool(&mut self, pool: S<RawPool>) {
        let loc = self.loc(pool.span());
        let pool = pool.into_inner();
        let name = pool.name.get_ref().clone();
        if self.parts.address_pools.contains_key(&name) {
            self.err(
                pool.name.span(),
                format!("address pool '{name}' is defined twice"),
                "put all its ranges in one [[address_pool]]".to_owned(),
            );
            return;
        }
        let mut ranges = Vec::new();
        for r in &pool.ranges {
            if let Some(range) = self.range(&r.get_ref().lower, &r.get_ref().upper) {
                ranges.push(range);
            }
        }
        self.origins.pools.insert(name.clone(), loc);
        self.parts
            .address_pools
            .insert(name, crate::model::AddressPool { ranges });
    }

    fn host_group(&mut self, g: S<RawHostGroup>) {
        let span = g.span();
        let g = g.into_inner();
        let range = self.range(&g.lower, &g.upper);
        let location = self.location(span.clone(), &g.interface, &g.virtual_network);
        let sa_source = self.sa_source(&g.sa_source);
        let care_of_access = self.acl(&g.care_of_access, "care_of_access");
        let lifetime = self.lifetime(&g.lifetime);
        if let (Some(range), Some(location)) = (range, location) {
            self.parts.host_groups.push(HostGroup {
                range,
                location,
                sa_source,
                care_of_access,
                lifetime,
            });
            let loc = self.loc(span);
            self.origins.host_groups.push(loc);
        }
    }

    fn nai_host(&mut self, h: S<RawNaiHost>) {
        let span = h.span();
        let h = h.into_inner();
        let address = match (&h.address, &h.pool) {
            (Some(a), None) => self.addr(a, "address").map(HomeAddress::Static),
            (None, Some(p)) => Some(HomeAddress::Pool(p.get_ref().clone())),
            _ => {
                self.err(
                    span.clone(),
                    "give exactly one of 'address' and 'pool'".to_owned(),
                    "address = \"10.0.0.1\" (static home address) or pool = \"NAME\" (an \
                     [[address_pool]])"
                        .to_owned(),
                );
                None
            }
        };
        let location = self.location(span.clone(), &h.interface, &h.virtual_network);
        let sa_source = self.sa_source(&h.sa_source);
        let care_of_access = self.acl(&h.care_of_access, "care_of_access");
        let lifetime = self.lifetime(&h.lifetime);
        if let (Some(address), Some(location)) = (address, location) {
            self.parts.nai_hosts.push(NaiHost {
                nai: h.nai.into_inner(),
                address,
                location,
                sa_source,
                care_of_access,
                lifetime,
            });
            let loc = self.loc(span);
            self.origins.nai_hosts.push(loc);
        }
    }

    fn sa(&mut self, sa: S<RawSa>) {
        let span = sa.span();
        let sa = sa.into_inner();
        let peer = match Peer::from_keyword(sa.peer.get_ref()) {
            Some(p) => Some(p),
            None => {
                self.err(
                    sa.peer.span(),
                    format!("unknown peer \"{}\"", sa.peer.get_ref()),
                    "expected one of: host, visitor, foreign-agent, home-agent".to_owned(),
                );
                None
            }
        };
        let target = match (&sa.address, &sa.lower, &sa.nai) {
            (Some(a), None, None) if sa.upper.is_none() => self
                .addr(a, "address")
                .map(|a| SaTarget::Range(AddressRange::single(a))),
            (None, Some(lo), None) => self.range(lo, &sa.upper).map(SaTarget::Range),
            (None, None, Some(n)) if sa.upper.is_none() => Some(SaTarget::Nai(n.get_ref().clone())),
            _ => {
                self.err(
                    span.clone(),
                    "give exactly one of 'address', 'lower' (with optional 'upper') and 'nai'"
                        .to_owned(),
                    None,
                );
                None
            }
        };
        let spis = match (&sa.spi, &sa.inbound_spi, &sa.outbound_spi) {
            (Some(s), None, None) => self.spi(s).map(|s| (s, s)),
            (None, Some(i), Some(o)) => {
                let (i, o) = (self.spi(i), self.spi(o));
                i.zip(o)
            }
            _ => {
                self.err(
                    span.clone(),
                    "give 'spi', or both 'inbound_spi' and 'outbound_spi'".to_owned(),
                    SPI_HINT.to_owned(),
                );
                None
            }
        };
        let key = match (sa.key_hex, sa.key_ascii) {
            (Some(k), None) => Some((k.into_inner().0, KeyFormat::Hex)),
            (None, Some(k)) => Some((k.into_inner().0, KeyFormat::Ascii)),
            _ => {
                self.err(
                    span.clone(),
                    "give exactly one of 'key_hex' and 'key_ascii'".to_owned(),
                    None,
                );
                None
            }
        };
        let algorithm = match &sa.algorithm {
            None => Some(Algorithm::KeyedMd5PrefixSuffix),
            Some(a) => match a.get_ref().to_ascii_lowercase().as_str() {
                "md5-prefix-suffix" | "prefix-suffix" | "md5" => {
                    Some(Algorithm::KeyedMd5PrefixSuffix)
                }
                "hmac-md5" => Some(Algorithm::HmacMd5),
                other => {
                    self.err(
                        a.span(),
                        format!("unknown algorithm \"{other}\""),
                        "expected \"md5-prefix-suffix\" (default) or \"hmac-md5\"".to_owned(),
                    );
                    None
                }
            },
        };
        let window_secs = sa
            .replay_window_secs
            .as_ref()
            .and_then(|w| {
                self.int(
                    w,
                    "replay_window_secs",
                    1,
                    65535,
                    "1-65535 seconds (default 7)",
                )
            })
            .map(|n| n as u32);
        let replay = match sa.replay.as_ref().map(|r| (r.span(), r.get_ref().as_str())) {
            None | Some((_, "timestamp")) => Some(ReplaySetting::Timestamp { window_secs }),
            Some((s, "nonce")) => {
                if sa.replay_window_secs.is_some() {
                    self.err(
                        s,
                        "replay_window_secs applies to replay = \"timestamp\" only".to_owned(),
                        None,
                    );
                }
                Some(ReplaySetting::Nonce)
            }
            Some((s, other)) => {
                self.err(
                    s,
                    format!("unknown replay \"{other}\""),
                    "expected \"timestamp\" (default) or \"nonce\"".to_owned(),
                );
                None
            }
        };
        if let (
            Some(peer),
            Some(target),
            Some((inbound_spi, outbound_spi)),
            Some((key, key_format)),
            Some(algorithm),
            Some(replay),
        ) = (peer, target, spis, key, algorithm, replay)
        {
            self.parts.sas.push(SaParams {
                peer,
                target,
                inbound_spi,
                outbound_spi,
                algorithm,
                key,
                key_format,
                replay,
            });
            let loc = self.loc(span);
            self.origins.sas.push(loc);
        }
    }

    fn acl_table(&mut self, acl: S<RawAcl>) {
        let loc = self.loc(acl.span());
        let acl = acl.into_inner();
        let Some(id) = self.acl(&Some(acl.id.clone()), "access list") else {
            return;
        };
        if self.parts.access_lists.contains_key(&id) {
            self.err(
                acl.id.span(),
                format!("access list {id} is defined twice"),
                "put all its rules in one [[access_list]], in order (first match wins)".to_owned(),
            );
            return;
        }
        let mut list = AccessList {
            rules: Vec::new(),
            remarks: acl.remarks.clone(),
        };
        let mut rule_locs = Vec::new();
        for r in &acl.rules {
            let rr = r.get_ref();
            let action = match rr.action.get_ref().as_str() {
                "permit" => AclAction::Permit,
                "deny" => AclAction::Deny,
                other => {
                    self.err(
                        rr.action.span(),
                        format!("unknown action \"{other}\""),
                        "expected \"permit\" or \"deny\"".to_owned(),
                    );
                    continue;
                }
            };
            let rule = if rr.source.get_ref() == "any" {
                if let Some(w) = &rr.wildcard {
                    self.err(w.span(), "'any' takes no wildcard".to_owned(), None);
                }
                AclRule::new(action, Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
            } else {
                let Some(address) = self.addr(&rr.source, "source (or \"any\")") else {
                    continue;
                };
                let wildcard = match &rr.wildcard {
                    Some(w) => match self.addr(w, "wildcard") {
                        Some(w) => w,
                        None => continue,
                    },
                    None => Ipv4Addr::UNSPECIFIED,
                };
                AclRule::new(action, address, wildcard)
            };
            list.rules.push(rule);
            rule_locs.push(self.loc(r.span()));
        }
        self.origins.access_lists.insert(id, loc);
        self.origins.acl_rules.insert(id, rule_locs);
        self.parts.access_lists.insert(id, list);
    }

    fn interface(&mut self, i: S<RawInterface>) {
        let loc = self.loc(i.span());
        let i = i.into_inner();
        let name = i.name.get_ref().clone();
        if self.parts.interfaces.contains_key(&name) {
            self.err(
                i.name.span(),
                format!("interface {name} is defined twice"),
                "keep one [[interface]] per name".to_owned(),
            );
            return;
        }
        let mut out = Interface::default();
        if let Some(a) = &i.address {
            match a
                .get_ref()
                .split_once('/')
                .map(|(a, l)| (a.parse::<Ipv4Addr>(), l.parse::<u8>()))
            {
                Some((Ok(address), Ok(prefix_len))) if prefix_len <= 32 => {
                    out.address = Some(InterfaceAddress {
                        address,
                        prefix_len,
                    });
                }
                _ => self.err(
                    a.span(),
                    format!("bad interface address \"{}\"", a.get_ref()),
                    "write the address with its prefix length, e.g. \"67.0.0.31/8\"".to_owned(),
                ),
            }
        }
        let mut items: Vec<(&'static str, Range<usize>)> = Vec::new();
        if let Some(irdp) = &i.irdp {
            items.push(("irdp", irdp.span()));
            let r = irdp.get_ref();
            let mut out_irdp = Irdp {
                enabled: r.enabled.unwrap_or(true),
                ..Irdp::default()
            };
            for (key, v, slot, max) in [
                ("maxadvertinterval", &r.max_advert_interval, 0, 1800),
                ("minadvertinterval", &r.min_advert_interval, 1, 1800),
                ("holdtime", &r.holdtime, 2, 9000),
            ] {
                if let Some(v) = v {
                    items.push((key, v.span()));
                    if let Some(n) = self.int(v, key, 1, max, &format!("1-{max} seconds")) {
                        let n = Some(n as u16);
                        match slot {
                            0 => out_irdp.max_advert_interval = n,
                            1 => out_irdp.min_advert_interval = n,
                            _ => out_irdp.holdtime = n,
                        }
                    }
                }
            }
            out.irdp = out_irdp;
        }
        if let Some(fs) = &i.foreign_service {
            items.push(("foreign-service", fs.span()));
            let r = fs.get_ref();
            let limit = r
                .limit
                .as_ref()
                .and_then(|l| self.int(l, "limit", 1, 1000, "1-1000 visitors"));
            let mandatory = r.reverse_tunnel_mandatory.unwrap_or(false);
            out.foreign_service = Some(ForeignService {
                home_access: self.acl(&r.home_access, "home_access"),
                limit: limit.map(|l| l as u16),
                registration_required: r.registration_required.unwrap_or(false),
                reverse_tunnel: r.reverse_tunnel.unwrap_or(false) || mandatory,
                reverse_tunnel_mandatory: mandatory,
            });
        }
        out.prefix_length = i.prefix_length.unwrap_or(false);
        if let Some(l) = &i.registration_lifetime {
            items.push(("registration-lifetime", l.span()));
        }
        out.registration_lifetime = self.lifetime(&i.registration_lifetime);
        for (key, span) in items {
            let l = self.loc(span);
            self.origins.interface_items.insert((name.clone(), key), l);
        }
        self.origins.interfaces.insert(name.clone(), loc);
        self.parts.interfaces.insert(name, out);
    }
}

/// A TOML basic string.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    let v: Vec<String> = items.iter().map(f).collect();
    format!("[{}]", v.join(", "))
}

fn location_lines(out: &mut String, location: &HomeLocation) {
    let _ = match location {
        HomeLocation::Interface(i) => writeln!(out, "interface = {}", q(i)),
        HomeLocation::VirtualNetwork(p) => writeln!(out, "virtual_network = {}", q(&p.to_string())),
    };
}

/// Writes the model as TOML that [`parse_toml`] reads back to an equal [`Config`].
///
/// The output holds the keys (`key_hex`/`key_ascii`): it is for an operator who asked for a
/// conversion (`mipctl config convert`); store it with mode 0600. SPIs are hex literals.
#[must_use]
pub fn to_toml(config: &Config) -> String {
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(
        w,
        "# mipd configuration. It holds secret keys: keep the file mode 0600.\n"
    );
    let _ = writeln!(w, "mobile_ip = {}", config.mobile_ip);
    let _ = writeln!(
        w,
        "virtual_networks = {}",
        list(&config.virtual_networks, |p| q(&p.to_string()))
    );

    let ha = &config.home_agent;
    let _ = writeln!(w, "\n[home_agent]");
    let _ = writeln!(w, "enabled = {}", ha.enabled);
    let _ = writeln!(
        w,
        "addresses = {}",
        list(&ha.addresses, |a| q(&a.to_string()))
    );
    let _ = writeln!(w, "broadcast = {}", ha.broadcast);
    if let Some(acl) = ha.care_of_access {
        let _ = writeln!(w, "care_of_access = {acl}");
    }
    let _ = writeln!(w, "lifetime = {}", ha.lifetime);
    let _ = writeln!(w, "replay_window_secs = {}", ha.replay_window_secs);
    let _ = writeln!(w, "reverse_tunnel = {}", ha.reverse_tunnel);
    if let Some(acl) = ha.roam_access {
        let _ = writeln!(w, "roam_access = {acl}");
    }
    let _ = writeln!(w, "suppress_unreachable = {}", ha.suppress_unreachable);
    let _ = writeln!(w, "max_bindings = {}", ha.max_bindings);
    let mut enc = vec!["\"ipip\""];
    if ha.encapsulations.gre {
        enc.push("\"gre\"");
    }
    if ha.encapsulations.minimal {
        enc.push("\"minimal\"");
    }
    let _ = writeln!(w, "encapsulations = [{}]", enc.join(", "));
    if let Some(r) = &ha.redundancy {
        let _ = writeln!(w, "\n[home_agent.redundancy]");
        let _ = writeln!(w, "group = {}", q(&r.group));
        let _ = writeln!(w, "virtual_network = {}", r.virtual_network);
        if let Some(a) = r.address {
            let _ = writeln!(w, "address = {}", q(&a.to_string()));
        }
        let _ = writeln!(w, "periodic_sync = {}", r.periodic_sync);
    }

    let fa = &config.foreign_agent;
    if *fa != ForeignAgent::default() {
        let _ = writeln!(w, "\n[foreign_agent]");
        let _ = writeln!(w, "enabled = {}", fa.enabled);
        let _ = writeln!(w, "care_of = {}", list(&fa.care_of, |c| q(c)));
        let _ = writeln!(w, "reg_wait_secs = {}", fa.reg_wait_secs);
        let _ = writeln!(w, "reverse_tunnel = {}", fa.reverse_tunnel);
    }

    for (name, pool) in &config.address_pools {
        let _ = writeln!(w, "\n[[address_pool]]");
        let _ = writeln!(w, "name = {}", q(name));
        let _ = writeln!(
            w,
            "ranges = {}",
            list(&pool.ranges, |r| format!(
                "{{ lower = {}, upper = {} }}",
                q(&r.lower.to_string()),
                q(&r.upper.to_string())
            ))
        );
    }

    for g in &config.host_groups {
        let _ = writeln!(w, "\n[[host_group]]");
        let _ = writeln!(w, "lower = {}", q(&g.range.lower.to_string()));
        let _ = writeln!(w, "upper = {}", q(&g.range.upper.to_string()));
        location_lines(w, &g.location);
        let _ = writeln!(w, "sa_source = {}", q(g.sa_source.name()));
        if let Some(acl) = g.care_of_access {
            let _ = writeln!(w, "care_of_access = {acl}");
        }
        if let Some(l) = g.lifetime {
            let _ = writeln!(w, "lifetime = {l}");
        }
    }

    for h in &config.nai_hosts {
        let _ = writeln!(w, "\n[[nai_host]]");
        let _ = writeln!(w, "nai = {}", q(&h.nai));
        let _ = match &h.address {
            HomeAddress::Static(a) => writeln!(w, "address = {}", q(&a.to_string())),
            HomeAddress::Pool(p) => writeln!(w, "pool = {}", q(p)),
        };
        location_lines(w, &h.location);
        let _ = writeln!(w, "sa_source = {}", q(h.sa_source.name()));
        if let Some(acl) = h.care_of_access {
            let _ = writeln!(w, "care_of_access = {acl}");
        }
        if let Some(l) = h.lifetime {
            let _ = writeln!(w, "lifetime = {l}");
        }
    }

    for sa in &config.security_associations {
        let p = sa.params();
        let _ = writeln!(w, "\n[[security_association]]");
        let _ = writeln!(w, "peer = {}", q(p.peer.keyword()));
        let _ = match &p.target {
            SaTarget::Range(r) if r.lower == r.upper => {
                writeln!(w, "address = {}", q(&r.lower.to_string()))
            }
            SaTarget::Range(r) => writeln!(
                w,
                "lower = {}\nupper = {}",
                q(&r.lower.to_string()),
                q(&r.upper.to_string())
            ),
            SaTarget::Nai(n) => writeln!(w, "nai = {}", q(n)),
        };
        let _ = if p.inbound_spi == p.outbound_spi {
            writeln!(w, "spi = {:#x}", p.inbound_spi)
        } else {
            writeln!(
                w,
                "inbound_spi = {:#x}\noutbound_spi = {:#x}",
                p.inbound_spi, p.outbound_spi
            )
        };
        let _ = match p.key_format {
            KeyFormat::Hex => writeln!(w, "key_hex = {}", q(&p.key.expose_hex())),
            KeyFormat::Ascii => writeln!(
                w,
                "key_ascii = {}",
                q(&String::from_utf8_lossy(p.key.expose_secret()))
            ),
        };
        let _ = writeln!(
            w,
            "algorithm = {}",
            q(match p.algorithm {
                Algorithm::KeyedMd5PrefixSuffix => "md5-prefix-suffix",
                Algorithm::HmacMd5 => "hmac-md5",
            })
        );
        let _ = match p.replay {
            ReplaySetting::Timestamp { window_secs } => {
                let _ = writeln!(w, "replay = \"timestamp\"");
                match window_secs {
                    Some(s) => writeln!(w, "replay_window_secs = {s}"),
                    None => Ok(()),
                }
            }
            ReplaySetting::Nonce => writeln!(w, "replay = \"nonce\""),
        };
    }

    for (id, acl) in &config.access_lists {
        let _ = writeln!(w, "\n[[access_list]]");
        let _ = writeln!(w, "id = {id}");
        if !acl.remarks.is_empty() {
            let _ = writeln!(w, "remarks = {}", list(&acl.remarks, |r| q(r)));
        }
        let _ = writeln!(w, "rules = [");
        for r in &acl.rules {
            let action = q(r.action.keyword());
            let _ = if r.is_any() {
                writeln!(w, "  {{ action = {action}, source = \"any\" }},")
            } else if r.wildcard == Ipv4Addr::UNSPECIFIED {
                writeln!(
                    w,
                    "  {{ action = {action}, source = {} }},",
                    q(&r.address.to_string())
                )
            } else {
                writeln!(
                    w,
                    "  {{ action = {action}, source = {}, wildcard = {} }},",
                    q(&r.address.to_string()),
                    q(&r.wildcard.to_string())
                )
            };
        }
        let _ = writeln!(w, "]");
    }

    for (name, i) in &config.interfaces {
        let _ = writeln!(w, "\n[[interface]]");
        let _ = writeln!(w, "name = {}", q(name));
        if let Some(a) = i.address {
            let _ = writeln!(w, "address = {}", q(&a.to_string()));
        }
        if i.irdp != Irdp::default() {
            let mut parts = vec![format!("enabled = {}", i.irdp.enabled)];
            if let Some(v) = i.irdp.max_advert_interval {
                parts.push(format!("max_advert_interval = {v}"));
            }
            if let Some(v) = i.irdp.min_advert_interval {
                parts.push(format!("min_advert_interval = {v}"));
            }
            if let Some(v) = i.irdp.holdtime {
                parts.push(format!("holdtime = {v}"));
            }
            let _ = writeln!(w, "irdp = {{ {} }}", parts.join(", "));
        }
        let _ = writeln!(w, "prefix_length = {}", i.prefix_length);
        if let Some(l) = i.registration_lifetime {
            let _ = writeln!(w, "registration_lifetime = {l}");
        }
        if let Some(fs) = &i.foreign_service {
            let _ = writeln!(w, "\n[interface.foreign_service]");
            if let Some(acl) = fs.home_access {
                let _ = writeln!(w, "home_access = {acl}");
            }
            if let Some(l) = fs.limit {
                let _ = writeln!(w, "limit = {l}");
            }
            let _ = writeln!(w, "registration_required = {}", fs.registration_required);
            let _ = writeln!(w, "reverse_tunnel = {}", fs.reverse_tunnel);
            let _ = writeln!(
                w,
                "reverse_tunnel_mandatory = {}",
                fs.reverse_tunnel_mandatory
            );
        }
    }
    o
}
