//! The configuration in TOML, as mipd will load it: the documented example parses and runs;
//! defaults; every validation error names its key.

use mip_mn::{ColocatedMode, MobileNode, MobileNodeConfig, SolicitationDestination};
use mip_security::{Algorithm, ReplayProtection};

/// The example in the documentation of `mip_mn::config`, taken from the source so that the
/// two cannot drift apart.
fn documented_example() -> String {
    let src = include_str!("../src/config.rs");
    let start = src.find("//! ```toml\n").expect("example") + "//! ```toml\n".len();
    let end = start + src[start..].find("//! ```\n").expect("end of example");
    src[start..end]
        .lines()
        .map(|l| {
            l.strip_prefix("//! ")
                .or(l.strip_prefix("//!"))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse(text: &str) -> Result<MobileNodeConfig, String> {
    toml::from_str::<MobileNodeConfig>(text).map_err(|e| e.to_string())
}

const MINIMAL: &str = r#"
home_address = "10.1.1.5"
home_agent = "10.1.1.1"
home_network = "10.1.1.0/24"
interfaces = ["eth0"]
[security_association]
spi = "100"
key_hex = "12345678123456781234567812345678"
"#;

#[test]
fn documented_example_parses_and_runs() {
    let c = parse(&documented_example()).unwrap();
    c.validate().unwrap();
    assert_eq!(c.interfaces, ["wlan0", "eth0"]);
    assert_eq!(c.security_association.spi, 0x100);
    assert_eq!(c.lifetime, 1800);
    assert!(c.flags.reverse_tunnel && !c.flags.gre);
    assert_eq!(c.colocated, ColocatedMode::Off);
    assert_eq!(
        c.solicitation.destination,
        SolicitationDestination::AllRouters
    );
    assert_eq!(c.retransmission.max_ms, 32_000);
    MobileNode::new(c, [0; 16]).unwrap();
}

#[test]
fn defaults() {
    let c = parse(MINIMAL).unwrap();
    c.validate().unwrap();
    assert_eq!(
        c.security_association.spi, 0x100,
        "SPI strings are hexadecimal"
    );
    assert_eq!(
        c.security_association.algorithm,
        Algorithm::KeyedMd5PrefixSuffix
    );
    assert_eq!(
        c.security_association.replay,
        ReplayProtection::Timestamp { window_secs: 7 }
    );
    assert_eq!(c.lifetime, 1800);
    assert_eq!(c.colocated, ColocatedMode::Off);
    assert!(c.solicitation.enabled);
    assert_eq!(c.solicitation.initial_count, 3);
    assert_eq!(c.solicitation.max_interval_ms, 60_000);
    assert_eq!(c.retransmission.initial_ms, 1000);
    assert_eq!(c.renewal.at_percent, 80);
    assert!(c.move_detection.network_prefix);
    assert!(
        !format!("{c:?}").contains("12345678"),
        "the key is not shown"
    );
}

#[test]
fn colocated_modes_and_other_forms() {
    let text = format!(
        "{MINIMAL}\n[colocated]\nmode = \"static\"\naddress = \"203.0.113.9/24\"\ngateway = \"203.0.113.1\"\n\
         [flags]\nt = true\ng = true\n"
    );
    let c = parse(&text).unwrap();
    c.validate().unwrap();
    assert!(
        matches!(c.colocated, ColocatedMode::Static { ref address, .. } if address.len() == 24)
    );
    assert!(c.flags.reverse_tunnel && c.flags.gre);
    let text = format!("{MINIMAL}\n[colocated]\nmode = \"dynamic\"\n");
    assert_eq!(parse(&text).unwrap().colocated, ColocatedMode::Dynamic);
    let text = MINIMAL
        .replace(
            "spi = \"100\"",
            "spi = 0x200\nalgorithm = \"hmac-md5\"\nreplay = \"nonce\"",
        )
        .replace(
            "key_hex = \"12345678123456781234567812345678\"",
            "key_ascii = \"secret\"",
        );
    let c = parse(&text).unwrap();
    assert_eq!(c.security_association.spi, 0x200);
    assert_eq!(c.security_association.algorithm, Algorithm::HmacMd5);
    assert_eq!(c.security_association.replay, ReplayProtection::Nonce);
}

#[test]
fn parse_errors() {
    let bad = |from: &str, to: &str| parse(&MINIMAL.replace(from, to)).unwrap_err();
    assert!(bad("interfaces", "interfacez").contains("unknown field"));
    assert!(bad("10.1.1.0/24", "10.1.1.0/33").contains("prefix length"));
    assert!(bad("spi = \"100\"", "spi = \"xyz\"").contains("not hexadecimal"));
    assert!(bad("key_hex = \"1234", "key_hex = \"12g4").contains("hex"));
    assert!(
        bad("key_hex = \"12345678123456781234567812345678\"", "").contains("key_hex or key_ascii")
    );
    let e = parse(&format!("{MINIMAL}\n[colocated]\nmode = \"sometimes\"\n")).unwrap_err();
    assert!(e.contains("sometimes"), "{e}");
    let e = parse(&format!("{MINIMAL}\n[flags]\nreverse = true\n")).unwrap_err();
    assert!(e.contains("unknown field"), "{e}");
}

#[test]
fn validation_errors_name_the_key() {
    let field = |edit: &dyn Fn(&mut MobileNodeConfig)| {
        let mut c = parse(MINIMAL).unwrap();
        edit(&mut c);
        let e = c.validate().unwrap_err();
        assert!(MobileNode::new(c, [0; 16]).is_err());
        e.field
    };
    assert_eq!(
        field(&|c| c.security_association.spi = 0xff),
        "security_association.spi"
    );
    assert_eq!(
        field(&|c| c.home_address = "10.2.0.1".parse().unwrap()),
        "home_address"
    );
    assert_eq!(
        field(&|c| c.home_address = "0.0.0.0".parse().unwrap()),
        "home_address"
    );
    assert_eq!(
        field(&|c| c.home_agent = "224.0.0.1".parse().unwrap()),
        "home_agent"
    );
    assert_eq!(field(&|c| c.lifetime = 0), "lifetime");
    assert_eq!(field(&|c| c.interfaces.clear()), "interfaces");
    assert_eq!(field(&|c| c.interfaces.push("eth0".into())), "interfaces");
    assert_eq!(field(&|c| c.nai = Some(String::new())), "nai");
    assert_eq!(
        field(&|c| c.solicitation.initial_count = 4),
        "solicitation.initial_count"
    );
    assert_eq!(
        field(&|c| c.solicitation.initial_interval_ms = 500),
        "solicitation.initial_interval_ms"
    );
    assert_eq!(
        field(&|c| c.solicitation.max_interval_ms = 10),
        "solicitation.max_interval_ms"
    );
    assert_eq!(
        field(&|c| c.retransmission.initial_ms = 999),
        "retransmission.initial_ms"
    );
    assert_eq!(
        field(&|c| c.retransmission.max_ms = 10),
        "retransmission.max_ms"
    );
    assert_eq!(field(&|c| c.renewal.at_percent = 100), "renewal.at_percent");
    assert_eq!(
        field(&|c| c.colocated = ColocatedMode::Static {
            address: "10.1.1.9/24".parse().unwrap(),
            gateway: None,
            interface: None
        }),
        "colocated.address"
    );
    assert_eq!(
        field(&|c| c.colocated = ColocatedMode::Static {
            address: "203.0.113.9/24".parse().unwrap(),
            gateway: None,
            interface: Some("eth7".into())
        }),
        "colocated.interface"
    );
    // An NAI makes 0.0.0.0 acceptable (the home agent assigns the address).
    let mut c = parse(MINIMAL).unwrap();
    c.home_address = "0.0.0.0".parse().unwrap();
    c.nai = Some("mn@example.net".into());
    c.validate().unwrap();
}
