//! The two forms agree: router form → TOML → model is the identity; SPIs are hexadecimal in
//! both; `load` picks the form and warns about readable key files; lookups and access lists.

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use mip_config::{
    load, parse_ios, parse_toml, to_toml, AccessList, AclAction, AclRule, Config, Format,
    HomeLocation, Peer, Prefix,
};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn ios(text: &str) -> Config {
    parse_ios(text, "t.ios").unwrap_or_else(|e| panic!("{e}"))
}

fn toml(text: &str) -> Config {
    parse_toml(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn round_trip(c: &Config) {
    let text = to_toml(c);
    let back = toml(&text);
    assert_eq!(&back, c, "{text}");
    // And the output is stable.
    assert_eq!(to_toml(&back), text);
}

const EXAMPLE_IOS: &str = include_str!("../../../examples/home-agent.ios");
const EXAMPLE_TOML: &str = include_str!("../../../examples/home-agent.toml");

/// Everything the router form can say.
const EVERYTHING: &str = "\
router mobile
ip mobile home-agent address 10.1.0.1 address 10.1.0.9 broadcast care-of-access 1300 lifetime 65535
ip mobile home-agent replay 20 reverse-tunnel-off roam-access 1 suppress-unreachable
ip mobile home-agent simultaneous-bindings 1 encapsulation ipip minimal
ip mobile home-agent redundancy pair virtual-network address 10.1.0.1 periodic-sync
ip mobile virtual-network 10.0.0.0 255.0.0.0
ip mobile network 172.16.0.0 255.255.0.0
ip local pool p1 172.16.1.1 172.16.1.50
ip local pool p1 172.16.2.1
ip mobile host 10.0.0.1 10.0.0.99 virtual-network 10.0.0.0 255.0.0.0 aaa load-sa care-of-access 1300 lifetime 1
ip mobile host 192.168.5.1 interface eth1
ip mobile host nai o\"brien@Example.COM address pool local p1 virtual-network 172.16.0.0 255.255.0.0 aaa
ip mobile host nai bob address 192.168.5.77 interface eth1 lifetime 100
ip mobile secure host 10.0.0.1 10.0.0.99 spi 100 key hex 00112233445566778899AABBCCDDEEFF
ip mobile secure host 10.0.0.5 spi 101 key ascii \"quoted\\back\" algorithm hmac-md5 replay nonce
ip mobile secure host 192.168.5.1 outbound-spi 2000 inbound-spi 1000 key hex 0102 replay timestamp within 30
ip mobile secure host nai o\"brien@example.com spi FFFFFFFF key ascii p@ss
ip mobile secure visitor 20.0.0.1 20.0.0.20 spi 300 key hex aabb
ip mobile secure foreign-agent 68.0.0.31 spi 400 key hex ccdd
ip mobile secure home-agent 66.0.0.5 spi 500 key hex eeff algorithm md5 mode prefix-suffix
access-list 1 remark roaming hosts
access-list 1 deny host 10.0.0.7
access-list 1 deny 10.0.0.64 0.0.0.63
access-list 1 permit any
access-list 1300 permit 68.0.0.0 0.255.0.255
interface eth0
 ip address 68.0.0.31 255.0.0.0
interface eth1
 ip address 192.168.5.254 255.255.255.0
 ip irdp
 ip irdp maxadvertinterval 20
 ip irdp minadvertinterval 10
 ip irdp holdtime 60
 ip mobile foreign-service home-access 1300 limit 50 registration-required reverse-tunnel
 ip mobile prefix-length
 ip mobile registration-lifetime 600
interface eth2
 ip irdp maxadvertinterval 30
 ip mobile foreign-service reverse-tunnel mandatory
 no ip mobile prefix-length
exit
ip mobile foreign-agent care-of eth0 reg-wait 60 reverse-tunnel
end
";

#[test]
fn router_form_to_toml_and_back() {
    for text in [EXAMPLE_IOS, EVERYTHING] {
        round_trip(&ios(text));
    }
    let c = ios(EVERYTHING);
    // Spot checks of the richer model.
    assert_eq!(c.home_agent.addresses, vec![ip("10.1.0.1"), ip("10.1.0.9")]);
    assert_eq!(c.home_agent.max_bindings, 1);
    assert!(!c.home_agent.encapsulations.gre && c.home_agent.encapsulations.minimal);
    assert_eq!(c.home_agent.lifetime, mip_config::INFINITE_LIFETIME);
    assert_eq!(c.address_pools["p1"].ranges.len(), 2);
    assert_eq!(c.access_lists[&1].remarks, vec!["roaming hosts".to_owned()]);
    assert!(
        c.interfaces["eth2"]
            .foreign_service
            .unwrap()
            .reverse_tunnel_mandatory
    );
    assert!(!c.interfaces["eth2"].irdp.enabled);
    assert!(c.foreign_agent.reverse_tunnel);
    let sa = c.mobile_node_sa(ip("192.168.5.1"), 0x1000).unwrap();
    assert_eq!(sa.outbound_spi(), 0x2000);
    let sa = c
        .mobile_node_sa("o\"brien@EXAMPLE.com", 0xffff_ffff)
        .unwrap();
    assert_eq!(sa.params().key.expose_secret(), b"p@ss");
}

#[test]
fn seed_configs_round_trip() {
    let fa = "interface eth0\nip address 68.0.0.31 255.0.0.0\ninterface eth1\nip address 67.0.0.31 255.0.0.0\nip irdp\nip irdp maxadvertinterval 10\nip irdp minadvertinterval 7\nip mobile foreign-service\nip mobile registration-lifetime 3600\n!\nrouter mobile\n!\nip mobile foreign-agent care-of eth0\n";
    round_trip(&ios(fa));
    let empty = ios("");
    assert_eq!(empty, Config::default());
    round_trip(&empty);
}

#[test]
fn examples_agree() {
    let a = ios(EXAMPLE_IOS);
    let b = toml(EXAMPLE_TOML);
    assert_eq!(a, b);
    assert!(a.home_agent_active());
    assert!(a.permits(1, ip("11.0.0.1")));
    assert!(!a.permits(1, ip("11.0.0.5")));
    assert!(a.permits(2, ip("68.0.0.31")));
    assert!(!a.permits(2, ip("13.1.2.3")));
    assert_eq!(
        a.host_group_for(ip("11.0.0.3")).unwrap().location,
        HomeLocation::Interface("eth1".into())
    );
}

#[test]
fn spis_are_hexadecimal() {
    let line = "ip mobile secure host 10.0.0.1 spi 100 key hex 00112233\n";
    let c = ios(line);
    assert_eq!(c.security_associations[0].inbound_spi(), 256);
    assert!(to_toml(&c).contains("\nspi = 0x100\n"));
    let base = "[[security_association]]\npeer = \"host\"\naddress = \"10.0.0.1\"\nkey_hex = \"00112233\"\n";
    for spi in [
        "0x100",
        "256",
        "\"100\"",
        "\"0x100\"",
        "0o400",
        "0b100000000",
    ] {
        let c = toml(&format!("{base}spi = {spi}\n"));
        assert_eq!(c.security_associations[0].inbound_spi(), 256, "spi = {spi}");
        assert_eq!(c, ios(line));
    }
    let c = toml(&format!(
        "{base}inbound_spi = \"1000\"\noutbound_spi = 0x2000\n"
    ));
    let sa = &c.security_associations[0];
    assert_eq!((sa.inbound_spi(), sa.outbound_spi()), (0x1000, 0x2000));
    assert!(to_toml(&c).contains("inbound_spi = 0x1000\noutbound_spi = 0x2000\n"));
}

#[test]
fn keys_are_never_printed_by_debug() {
    let c = ios(
        "ip mobile secure host 10.0.0.1 spi 100 key hex 1234567812345678abcdefabcdefabcd\n\
                 ip mobile secure host 10.0.0.2 spi 100 key ascii hunter2secret\n",
    );
    let d = format!("{c:?} {c:#?}");
    assert!(!d.contains("12345678"), "{d}");
    assert!(!d.to_lowercase().contains("abcdef"));
    assert!(!d.contains("hunter2"));
    // to_toml does write them: the operator asked for a conversion.
    let t = to_toml(&c);
    assert!(t.contains("key_hex = \"1234567812345678abcdefabcdefabcd\""));
    assert!(t.contains("key_ascii = \"hunter2secret\""));
}

// ---- load ---------------------------------------------------------------------------------

static COUNTER: AtomicUsize = AtomicUsize::new(0);

struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str, mode: u32) -> TempFile {
        let dir = std::env::temp_dir().join(format!(
            "mip-config-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_dir(self.0.parent().unwrap());
    }
}

fn permission_warnings(l: &mip_config::Loaded) -> Vec<String> {
    l.warnings
        .iter()
        .filter(|w| w.message.contains("secret key"))
        .map(ToString::to_string)
        .collect()
}

#[test]
fn readable_key_files_are_warned_about() {
    let f = TempFile::new("ha.ios", EXAMPLE_IOS, 0o644);
    let l = load(f.path(), None).unwrap();
    assert_eq!(l.format, Format::Ios);
    let w = permission_warnings(&l);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("15 secret key(s)"), "{}", w[0]);
    assert!(
        w[0].contains("mode 0644") && w[0].contains("chmod 600"),
        "{}",
        w[0]
    );

    let f = TempFile::new("ha.ios", EXAMPLE_IOS, 0o600);
    assert!(permission_warnings(&load(f.path(), None).unwrap()).is_empty());
    let f = TempFile::new("ha.toml", EXAMPLE_TOML, 0o640);
    let l = load(f.path(), None).unwrap();
    assert_eq!(l.format, Format::Toml);
    assert!(permission_warnings(&l)[0].contains("its group"));
    // No keys, nothing to warn about.
    let f = TempFile::new("fa.ios", "router mobile\n", 0o644);
    assert!(permission_warnings(&load(f.path(), None).unwrap()).is_empty());
}

#[test]
fn load_picks_the_form() {
    // A router-form file with another name needs --format ios.
    let f = TempFile::new("mipd.conf", EXAMPLE_IOS, 0o600);
    let e = load(f.path(), None).unwrap_err();
    assert!(e.hint.unwrap().contains("--format ios"));
    let l = load(f.path(), Some(Format::Ios)).unwrap();
    assert_eq!(l.config, ios(EXAMPLE_IOS));
    let f = TempFile::new("HA.IOS", EXAMPLE_IOS, 0o600);
    assert_eq!(load(f.path(), None).unwrap().format, Format::Ios);
    let f = TempFile::new("ha.ios", EXAMPLE_TOML, 0o600);
    assert_eq!(
        load(f.path(), Some(Format::Toml)).unwrap().config,
        ios(EXAMPLE_IOS)
    );
    assert_eq!("IOS".parse::<Format>(), Ok(Format::Ios));
    assert!("yaml".parse::<Format>().is_err());
    // Errors name the file as given.
    let f = TempFile::new(
        "bad.ios",
        "router mobile\nip mobile home-agent lifetme 1\n",
        0o600,
    );
    let e = load(f.path(), None).unwrap_err();
    assert!(e
        .to_string()
        .starts_with(&format!("{}:2: unknown keyword", f.path().display())));
    let e = load(Path::new("/nonexistent/mipd.toml"), None).unwrap_err();
    assert!(e.message.starts_with("cannot read the file"));
    let f = TempFile::new("bin.toml", "", 0o600);
    std::fs::write(f.path(), b"mobile_ip = true\n\xff\n").unwrap();
    let e = load(f.path(), None).unwrap_err();
    assert_eq!(
        (e.line(), e.message.as_str()),
        (Some(2), "the file is not valid UTF-8")
    );
}

// ---- Lookups and access lists ---------------------------------------------------------------

#[test]
fn lookups() {
    let c = ios(EVERYTHING);
    // Host groups by home address, edges included.
    assert!(c.host_group_for(ip("10.0.0.0")).is_none());
    assert_eq!(c.host_group_for(ip("10.0.0.1")).unwrap().lifetime, Some(1));
    assert_eq!(c.host_group_for(ip("10.0.0.99")).unwrap().lifetime, Some(1));
    assert!(c.host_group_for(ip("10.0.0.100")).is_none());
    assert!(c.host_group_for(ip("192.168.5.1")).is_some());
    assert!(c.host_group_for(ip("192.168.5.2")).is_none());
    // A range association applies to each address; a single one overlays it with its own SPI.
    for a in ["10.0.0.1", "10.0.0.5", "10.0.0.99"] {
        assert_eq!(
            c.mobile_node_sa(ip(a), 0x100).unwrap().inbound_spi(),
            0x100,
            "{a}"
        );
    }
    assert!(c.mobile_node_sa(ip("10.0.0.100"), 0x100).is_none());
    let sa = c.mobile_node_sa(ip("10.0.0.5"), 0x101).unwrap();
    assert_eq!(sa.algorithm(), mip_security::Algorithm::HmacMd5);
    assert_eq!(sa.replay(), mip_security::ReplayProtection::Nonce);
    assert!(c.mobile_node_sa(ip("10.0.0.6"), 0x101).is_none());
    // The home agent's `replay 20` applies to host associations without `within`.
    assert_eq!(
        c.mobile_node_sa(ip("10.0.0.1"), 0x100).unwrap().replay(),
        mip_security::ReplayProtection::Timestamp { window_secs: 20 }
    );
    assert_eq!(
        c.mobile_node_sa(ip("192.168.5.1"), 0x1000)
            .unwrap()
            .replay(),
        mip_security::ReplayProtection::Timestamp { window_secs: 30 }
    );
    // Peers of other kinds.
    assert_eq!(c.visitor_sa(ip("20.0.0.20")).unwrap().inbound_spi(), 0x300);
    assert!(c.visitor_sa(ip("20.0.0.21")).is_none());
    assert_eq!(
        c.foreign_agent_sa(ip("68.0.0.31")).unwrap().peer(),
        Peer::ForeignAgent
    );
    assert_eq!(
        c.home_agent_sa(ip("66.0.0.5")).unwrap().inbound_spi(),
        0x500
    );
    assert!(c.home_agent_sa(ip("68.0.0.31")).is_none());
    assert!(c
        .sa_for(Peer::Visitor, ip("20.0.0.3"), Some(0x301))
        .is_none());
    // NAI hosts; the NAI realm is case-insensitive.
    assert!(c.host_by_nai("bob").is_some());
    assert!(c.host_by_nai("o\"brien@example.com").is_some());
    assert!(c.host_by_nai("alice").is_none());
    // The ready-made associations work: what one signs with the outbound SA of a peer
    // verifies with the inbound SA of the same key.
    let sa = c.mobile_node_sa(ip("10.0.0.1"), 0x100).unwrap();
    let auth = sa.outbound().authenticator(b"covered bytes");
    assert!(sa.inbound().verify(b"covered bytes", &auth));
}

#[test]
fn lookups_scale() {
    // 20 000 single-address associations and 2 000 host groups: lookups stay correct.
    let mut text = String::from("ip mobile virtual-network 10.0.0.0 255.0.0.0\n");
    for i in 0..2000u32 {
        let lo = Ipv4Addr::from(0x0a00_0000 + i * 10 + 1);
        let hi = Ipv4Addr::from(0x0a00_0000 + i * 10 + 10);
        text.push_str(&format!(
            "ip mobile host {lo} {hi} virtual-network 10.0.0.0 255.0.0.0\n"
        ));
    }
    for i in 0..20_000u32 {
        let a = Ipv4Addr::from(0x0a00_0001 + i);
        text.push_str(&format!(
            "ip mobile secure host {a} spi {:x} key hex 00112233\n",
            0x100 + (i % 3)
        ));
    }
    let c = ios(&text);
    for i in (0..20_000u32).step_by(97) {
        let a = Ipv4Addr::from(0x0a00_0001 + i);
        let sa = c.mobile_node_sa(a, 0x100 + (i % 3)).unwrap();
        assert!(sa.covers(a));
        assert!(c.mobile_node_sa(a, 0x100 + ((i + 1) % 3)).is_none());
        assert!(c.host_group_for(a).unwrap().range.contains(a));
    }
    round_trip(&c);
}

#[test]
fn access_lists() {
    let rule = |a: AclAction, addr: &str, w: &str| AclRule::new(a, ip(addr), ip(w));
    let list = AccessList {
        rules: vec![
            rule(AclAction::Deny, "10.0.0.7", "0.0.0.0"),     // host
            rule(AclAction::Permit, "10.0.0.0", "0.0.0.255"), // /24
            rule(AclAction::Deny, "10.0.0.0", "0.255.255.255"),
            rule(AclAction::Permit, "172.16.0.5", "0.255.0.0"), // non-contiguous wildcard
        ],
        remarks: vec![],
    };
    assert!(!list.permits(ip("10.0.0.7")), "first match wins");
    assert!(list.permits(ip("10.0.0.8")));
    assert!(!list.permits(ip("10.1.0.8")));
    assert!(list.permits(ip("172.99.0.5")));
    assert!(!list.permits(ip("172.99.1.5")));
    assert!(!list.permits(ip("192.168.1.1")), "implicit deny");
    assert!(
        !AccessList::default().permits(ip("1.2.3.4")),
        "an empty list denies"
    );
    let any = rule(AclAction::Permit, "1.2.3.4", "255.255.255.255");
    assert!(any.is_any());
    assert_eq!(any.address, Ipv4Addr::UNSPECIFIED, "normalised");
    assert!(any.matches(ip("255.255.255.255")) && any.matches(ip("0.0.0.0")));
    assert_eq!(
        rule(AclAction::Deny, "10.1.2.3", "0.0.255.255").address,
        ip("10.1.0.0")
    );
    assert_eq!(any.to_string(), "permit any");
    assert_eq!(list.rules[0].to_string(), "deny host 10.0.0.7");
    assert_eq!(list.rules[2].to_string(), "deny 10.0.0.0 0.255.255.255");

    // Through the configuration, from both forms.
    let c = ios("access-list 5 permit host 1.1.1.1\naccess-list 5 deny 1.1.0.0 0.0.255.255\naccess-list 5 permit any\n");
    assert!(c.permits(5, ip("1.1.1.1")));
    assert!(!c.permits(5, ip("1.1.1.2")));
    assert!(c.permits(5, ip("1.2.1.2")));
    assert!(!c.permits(6, ip("1.2.1.2")), "an undefined list denies");
    let t = toml("[[access_list]]\nid = 5\nrules = [\n { action = \"permit\", source = \"1.1.1.1\" },\n { action = \"deny\", source = \"1.1.0.0\", wildcard = \"0.0.255.255\" },\n { action = \"permit\", source = \"any\" },\n]\n");
    assert_eq!(t, c);
}

#[test]
fn prefixes_and_masks() {
    assert_eq!(mip_config::mask_len(ip("255.255.255.0")), Some(24));
    assert_eq!(mip_config::mask_len(ip("0.0.0.0")), Some(0));
    assert_eq!(mip_config::mask_len(ip("255.255.255.255")), Some(32));
    assert_eq!(mip_config::mask_len(ip("255.0.255.0")), None);
    assert_eq!(mip_config::mask_len(ip("0.255.255.255")), None);
    let p: Prefix = "10.50.60.0/24".parse().unwrap();
    assert_eq!(p.mask(), ip("255.255.255.0"));
    assert!(p.contains(ip("10.50.60.255")) && !p.contains(ip("10.50.61.0")));
    assert_eq!(p.range().upper, ip("10.50.60.255"));
    assert!("10.50.60.1/24".parse::<Prefix>().is_err());
    assert_eq!(
        "0.0.0.0/0".parse::<Prefix>().unwrap().range().count(),
        1 << 32
    );
}
