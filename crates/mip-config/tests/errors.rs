//! Bad configurations: each error names the file and line (and column in TOML), says what is
//! wrong and hints at the fix; nothing panics, whatever the input.

use mip_config::{parse_ios, parse_toml, to_toml, Config, ConfigError};
use proptest::prelude::*;

fn ios_err(text: &str) -> ConfigError {
    match parse_ios(text, "home-agent.ios") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

fn toml_err(text: &str) -> ConfigError {
    match parse_toml(text, "mipd.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// Eleven good lines, then the line under test at line 12.
fn at_line_12(line: &str) -> String {
    let mut text = String::from("router mobile\n");
    for i in 1..=10 {
        text.push_str(&format!(
            "ip mobile secure host 10.0.0.{i} spi 100 key hex 00112233445566778899aabbccddeeff\n"
        ));
    }
    text.push_str(line);
    text.push('\n');
    text
}

#[test]
fn unknown_keyword_reads_like_the_router() {
    let e = ios_err(&at_line_12("ip mobile home-agent lifetme 300"));
    assert_eq!(
        e.to_string(),
        "home-agent.ios:12: unknown keyword 'lifetme' in 'ip mobile home-agent'\n  \
         hint: expected one of: address, broadcast, care-of-access, encapsulation, lifetime, \
         redundancy, replay, reverse-tunnel-off, roam-access, simultaneous-bindings, \
         suppress-unreachable"
    );
    assert_eq!(e.line(), Some(12));
    assert_eq!(e.file, "home-agent.ios");
    assert!(e.further.is_empty());
}

#[test]
fn unknown_commands_and_keywords() {
    let e = ios_err("ip mobile hoem-agent\n");
    assert_eq!(e.message, "unknown keyword 'hoem-agent' in 'ip mobile'");
    assert!(e.hint.unwrap().contains("home-agent"));
    let e = ios_err("\n\nhostnme r1\n");
    assert_eq!(
        (e.line(), e.message.as_str()),
        (Some(3), "unknown command 'hostnme'")
    );
    assert!(e.hint.unwrap().contains("router mobile"));
    let e = ios_err("ip mobile secure hots 10.0.0.1 spi 100 key hex 00\n");
    assert!(e.message.contains("'hots'"));
    assert_eq!(
        e.hint.as_deref(),
        Some("expected one of: foreign-agent, home-agent, host, visitor")
    );
}

#[test]
fn incomplete_commands() {
    // The next line starts a new command, so the first stays incomplete.
    let e = ios_err(
        "router mobile\nip mobile secure host 10.0.0.1 spi 100 key hex\nip mobile home-agent\n",
    );
    assert_eq!(e.line(), Some(2));
    assert_eq!(
        e.message,
        "incomplete command 'ip mobile secure': expected the key (hex digits)"
    );
    assert!(e.hint.unwrap().starts_with("syntax: ip mobile secure"));
    let e = ios_err("ip mobile host 10.0.0.1 10.0.0.5\n");
    assert_eq!(
        e.message,
        "incomplete command 'ip mobile host': expected interface NAME or virtual-network NET MASK"
    );
    let e = ios_err("ip mobile virtual-network 10.0.0.0\n");
    assert!(e.message.contains("expected the netmask"));
    let e = ios_err("access-list 3 permit\n");
    assert!(e.message.starts_with("incomplete command 'access-list'"));
    let e = ios_err("interface\n");
    assert!(e.message.contains("expected the interface name"));
    // A wrapped line completes a command; an indented one too; a command word does not.
    let e = ios_err(
        "ip mobile network 10.0.0.0 255.0.0.0\n\
         ip mobile host 10.0.0.1 10.0.0.5\n  interface\n",
    );
    assert_eq!(e.line(), Some(3));
    assert!(e.message.contains("expected the interface name"));
}

#[test]
fn bad_hex_keys_are_reported_without_the_key() {
    let e = ios_err(&at_line_12(
        "ip mobile secure host 10.0.0.11 spi 100 key hex 0011223344556677889900aabbccddeef",
    ));
    assert_eq!(e.line(), Some(12));
    assert_eq!(
        e.message,
        "bad hex key: hex key has an odd number of digits (33); two digits per byte are needed"
    );
    assert!(e.hint.as_deref().unwrap().contains("two digits per byte"));
    let e = ios_err("ip mobile secure host 10.0.0.1 spi 100 key hex secretzz\n");
    assert!(e.message.contains("not a hex digit at offset 0"), "{e}");
    assert!(!e.to_string().contains("secretzz"));
    // A key with a space: the second word is not repeated either.
    let e = ios_err("ip mobile secure host 10.0.0.1 spi 100 key ascii pass word\n");
    assert!(!e.to_string().contains("word'"), "{e}");
    assert!(e.message.contains("not shown"), "{e}");
    // ... but a misspelt keyword after the key is.
    let e =
        ios_err("ip mobile secure host 10.0.0.1 spi 100 key ascii password algoritm hmac-md5\n");
    assert!(e.message.contains("'algoritm'"), "{e}");
}

#[test]
fn bad_masks_addresses_and_numbers() {
    let e = ios_err("router mobile\nip mobile virtual-network 10.0.0.0 255.0.255.0\n");
    assert_eq!(e.line(), Some(2));
    assert_eq!(
        e.message,
        "bad netmask 255.0.255.0 in 'ip mobile virtual-network': the one bits are not contiguous"
    );
    assert!(e.hint.unwrap().contains("ones followed by zeros"));
    let e = ios_err("ip mobile virtual-network 10.0.0.1 255.0.0.0\n");
    assert!(e.message.contains("host bits set"));
    assert!(e.hint.unwrap().contains("'10.0.0.0 255.0.0.0'"));
    let e = ios_err("ip mobile host 10.0.0.256 interface eth1\n");
    assert_eq!(
        e.message,
        "bad address '10.0.0.256' for the first home address in 'ip mobile host'"
    );
    let e = ios_err("ip mobile home-agent lifetime 70000\n");
    assert_eq!(
        e.message,
        "lifetime 70000 is out of range in 'ip mobile home-agent'"
    );
    assert!(e.hint.unwrap().contains("1-65535"));
    let e = ios_err("ip mobile home-agent lifetime 0\n");
    assert!(e.message.contains("lifetime 0 is out of range"));
    let e = ios_err("ip mobile home-agent lifetime ten\n");
    assert_eq!(
        e.message,
        "bad number 'ten' for lifetime in 'ip mobile home-agent'"
    );
    let e =
        ios_err("ip mobile secure host 10.0.0.1 spi 100 key hex 00 replay timestamp within 0\n");
    assert!(e.message.contains("within 0 is out of range"));
    let e = ios_err("ip mobile home-agent replay 0\n");
    assert!(e.message.contains("replay 0 is out of range"));
}

#[test]
fn spi_range() {
    let e = ios_err("ip mobile secure host 10.0.0.1 spi ff key hex 00112233\n");
    assert_eq!(e.message, "SPI FF (decimal 255) is reserved");
    assert!(e.hint.as_deref().unwrap().contains("100-FFFFFFFF"));
    assert!(e.hint.as_deref().unwrap().contains("RFC 5944"));
    let e = ios_err("ip mobile secure host 10.0.0.1 spi 1FFFFFFFF key hex 00112233\n");
    assert!(e.message.starts_with("bad SPI '1FFFFFFFF'"));
    let e = ios_err("ip mobile secure host 10.0.0.1 spi 10g key hex 00112233\n");
    assert!(e.message.starts_with("bad SPI '10g'"));
    // The largest is fine, and 0x prefixes are accepted.
    parse_ios(
        "ip mobile secure visitor 10.0.0.1 spi FFFFFFFF key hex 00112233\n\
         ip mobile secure visitor 10.0.0.1 spi 0x100 key hex 00112233\n",
        "t.ios",
    )
    .unwrap();
}

#[test]
fn undefined_access_lists() {
    let e =
        ios_err("router mobile\naccess-list 1 permit any\nip mobile home-agent care-of-access 3\n");
    assert_eq!(e.line(), Some(3));
    assert_eq!(
        e.message,
        "access list 3 is not defined (used by ip mobile home-agent care-of-access)"
    );
    assert!(e.hint.unwrap().contains("access-list 3 permit"));
    let e = ios_err(
        "ip mobile virtual-network 10.0.0.0 255.0.0.0\n\
         ip mobile host 10.0.0.1 10.0.0.9 virtual-network 10.0.0.0 255.0.0.0 care-of-access 9\n",
    );
    assert_eq!(e.line(), Some(2));
    let e = ios_err("interface eth1\n ip mobile foreign-service home-access 4\n");
    assert_eq!(e.line(), Some(2));
    assert!(e.message.contains("access list 4"));
    // Extended and out-of-range numbers.
    let e = ios_err("access-list 101 permit ip any any\n");
    assert!(e.message.contains("not a standard IP list"));
    assert!(e.hint.unwrap().contains("1-99 and 1300-1999"));
}

#[test]
fn semantic_errors_carry_lines() {
    let e = ios_err(
        "ip mobile virtual-network 10.0.0.0 255.0.0.0\n\
         ip mobile host 10.0.0.1 10.0.0.3 virtual-network 10.0.0.0 255.0.0.0\n\
         ip mobile host 10.0.0.3 10.0.0.9 virtual-network 10.0.0.0 255.0.0.0\n\
         ip mobile host 10.0.0.20 10.0.0.10 virtual-network 10.0.0.0 255.0.0.0\n\
         ip mobile secure host 10.0.0.1 10.0.0.5 spi 100 key hex 00112233\n\
         ip mobile secure host 10.0.0.5 spi 100 key hex 00112233\n\
         ip mobile secure host 10.0.0.6 spi 100 key hex 00112233\n\
         ip mobile host 11.0.0.1 virtual-network 11.0.0.0 255.0.0.0\n\
         ip mobile host 10.1.0.1 virtual-network 10.1.0.0 255.255.0.0\n\
         ip mobile virtual-network 10.1.0.0 255.255.0.0\n",
    );
    let got: Vec<(usize, String)> = e
        .all()
        .map(|e| (e.line().unwrap(), e.message.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, "host range 10.0.0.3-10.0.0.9 overlaps host range 10.0.0.1-10.0.0.3 (line 2)".into()),
            (4, "host range 10.0.0.20 10.0.0.10 has the lower address above the upper".into()),
            (6, "duplicate security association: host 10.0.0.5 SPI 100 is already configured at line 5".into()),
            (8, "virtual network 11.0.0.0/8 is not defined".into()),
            (10, "virtual network 10.1.0.0/16 overlaps virtual network 10.0.0.0/8".into()),
        ],
        "{e}"
    );
    // Host outside its virtual network; duplicate NAI host; missing pool.
    let e = ios_err(
        "ip mobile virtual-network 10.0.0.0 255.255.255.0\n\
         ip mobile host 10.0.0.250 10.0.1.5 virtual-network 10.0.0.0 255.255.255.0\n\
         ip mobile host nai a@b address 10.0.0.1 interface eth1\n\
         ip mobile host nai a@B address 10.0.0.2 interface eth1\n\
         ip mobile host nai c@d address pool local nope interface eth1\n",
    );
    let got: Vec<(usize, &str)> = e
        .all()
        .map(|e| (e.line().unwrap(), e.message.as_str()))
        .collect();
    assert_eq!(got[0].0, 2);
    assert!(got[0].1.contains("outside its virtual network"));
    assert_eq!(
        got[1],
        (4, "NAI host a@B is configured twice (first at line 3)")
    );
    assert_eq!(got[2], (5, "address pool 'nope' is not defined"));
}

#[test]
fn unsupported_lines_have_hints() {
    for (line, hint_part) in [
        ("router eigrp 100", "routing"),
        ("router ospf 1", "routing"),
        ("redistribute mobile", "routing"),
        ("network 10.0.0.0", "routing"),
        ("standby ip 10.1.0.1", "VRRP"),
        ("aaa new-model", "later feature"),
        ("radius-server host 10.1.0.42", "later feature"),
        ("tacacs-server key cisco", "later feature"),
        ("ip mobile router", "RFC 5177"),
        (
            "ip mobile secure proxy-host 10.0.0.1 spi 100 key hex 00",
            "seed 003",
        ),
        (
            "ip mobile host nai a@b address pool dhcp-proxy interface eth1",
            "pool local",
        ),
        ("no ip mobile secure host 10.0.0.1", "delete the line"),
        ("no shutdown", "ip link"),
        ("ip irdp", "interface NAME"),
        (
            "ip address 10.0.0.1 255.0.0.0 secondary",
            "belong to the system",
        ),
    ] {
        let e = ios_err(&format!("router mobile\n{line}\n"));
        assert_eq!(e.line(), Some(2), "{line}: {e}");
        let hint = e.hint.clone().unwrap_or_default();
        assert!(hint.contains(hint_part), "{line}: {e}");
    }
}

#[test]
fn all_errors_are_collected() {
    let e = ios_err(
        "router mobile\nip mobile home-agent lifetme 3\nbogus\nip mobile host 1.2.3.4\nend\n",
    );
    let lines: Vec<usize> = e.all().map(|e| e.line().unwrap()).collect();
    assert_eq!(lines, vec![2, 3, 4]);
    let shown = e.to_string();
    assert_eq!(shown.matches("home-agent.ios:").count(), 3, "{shown}");
}

#[test]
fn toml_unknown_key_names_key_line_and_column() {
    let e = toml_err("mobile_ip = true\n\n[home_agent]\nenabled = true\nlifetme = 300\n");
    assert_eq!(e.line(), Some(5));
    assert_eq!(e.loc.unwrap().column, Some(1));
    assert_eq!(e.message, "unknown key 'lifetme' in [home_agent]");
    let hint = e.hint.clone().unwrap();
    assert!(
        hint.starts_with("expected one of: enabled, addresses"),
        "{hint}"
    );
    assert!(hint.contains("lifetime"));
    assert!(e
        .to_string()
        .starts_with("mipd.toml:5:1: unknown key 'lifetme'"));
    let e = toml_err("mobile_ip = true\nmobileip = false\n");
    assert_eq!(e.message, "unknown key 'mobileip'");
    let e = toml_err("[[security_association]]\npeer = \"host\"\naddress = \"10.0.0.1\"\nspi = 0x100\nkey_hex = \"0011\"\nalgoritm = \"hmac-md5\"\n");
    assert_eq!(e.line(), Some(6));
    assert!(e.message.contains("'algoritm'"));
}

#[test]
fn toml_value_errors() {
    // Decimal SPI that the router would have read as hex.
    let e = toml_err("[[security_association]]\npeer = \"host\"\naddress = \"10.0.0.1\"\nspi = 100\nkey_hex = \"0011\"\n");
    assert_eq!(
        e.to_string().lines().next().unwrap(),
        "mipd.toml:4:7: SPI 64 (decimal 100) is reserved"
    );
    assert!(e.hint.unwrap().contains("spi = 0x100"));
    let e = toml_err("[[security_association]]\npeer = \"host\"\naddress = \"10.0.0.1\"\nspi = \"zz\"\nkey_hex = \"0011\"\n");
    assert_eq!(e.line(), Some(4));
    assert!(e.message.contains("bad SPI"));
    // Odd-length key, not repeated.
    let e = toml_err("[[security_association]]\npeer = \"host\"\naddress = \"10.0.0.1\"\nspi = 0x100\nkey_hex = \"abcde\"\n");
    assert_eq!(e.line(), Some(5));
    assert!(e.message.starts_with("bad hex key"));
    assert!(!e.to_string().contains("abcde"));
    let e = toml_err("[[security_association]]\npeer = \"host\"\naddress = \"10.0.0.1\"\nspi = 0x100\nkey_hex = 1234567\n");
    assert!(!e.to_string().contains("1234567"), "{e}");
    // Bad address and prefix.
    let e = toml_err("virtual_networks = [\"10.0.0.0/33\"]\n");
    assert_eq!(e.loc.unwrap().column, Some(21));
    assert!(e.message.contains("prefix length"));
    let e = toml_err("virtual_networks = [\"10.0.0.1/8\"]\n");
    assert!(e.message.contains("host bits"));
    let e = toml_err("[[host_group]]\nlower = \"10.0.0\"\ninterface = \"eth1\"\n");
    assert_eq!(e.line(), Some(2));
    // Undefined access list, with its line.
    let e = toml_err("[home_agent]\nroam_access = 4\n");
    assert_eq!(e.line(), Some(2));
    assert!(e.message.contains("access list 4 is not defined"));
    // Lifetime out of range.
    let e = toml_err("[home_agent]\nlifetime = 0\n");
    assert_eq!(
        (e.line(), e.message.as_str()),
        (Some(2), "lifetime 0 is out of range")
    );
    // TOML syntax error, and a router file given as TOML.
    let e = toml_err("[home_agent\n");
    assert_eq!(e.line(), Some(1));
    let e = toml_err("router mobile\nip mobile home-agent\n");
    assert!(e.hint.unwrap().contains("--format ios"));
    // Missing key.
    let e = toml_err("[[host_group]]\ninterface = \"eth1\"\n");
    assert!(e.message.contains("missing key 'lower'"), "{e}");
}

#[test]
fn validate_catches_programmatic_changes() {
    let mut c = parse_ios("ip mobile home-agent\n", "t.ios").unwrap();
    c.home_agent.replay_window_secs = 0;
    c.home_agent.lifetime = 0;
    c.home_agent.roam_access = Some(5);
    let e = c.validate().unwrap_err();
    assert_eq!(e.all().count(), 3, "{e}");
    assert!(e.to_string().contains("replay window 0"));
}

// ---- Never panic -------------------------------------------------------------------------

const SAMPLES: &[&str] = &[
    include_str!("../../../examples/home-agent.ios"),
    "interface eth0\nip address 68.0.0.31 255.0.0.0\ninterface eth1\n ip address 67.0.0.31 255.0.0.0\n ip irdp\n ip irdp maxadvertinterval 10\n ip irdp minadvertinterval 7\n ip irdp holdtime 40\n ip mobile foreign-service home-access 1 limit 5 registration-required reverse-tunnel mandatory\n ip mobile registration-lifetime 3600\n ip mobile prefix-length\n!\nrouter mobile\naccess-list 1 permit 10.0.0.0 0.0.255.255\naccess-list 1 remark home agents\nip mobile foreign-agent care-of eth0 reg-wait 20 reverse-tunnel\nip mobile secure visitor 20.0.0.1 20.0.0.9 inbound-spi 101 outbound-spi 102 key ascii vis1tor algorithm hmac-md5 replay nonce\nip mobile secure home-agent 66.0.0.5 spi 1F4 key hex 00112233445566778899aabbccddeeff\n",
    "(config)# router mobile\n(config)# ip mobile home-agent lifetime 300 redundancy grp virtual-network address 10.1.0.1 periodic-sync encapsulation ipip gre simultaneous-bindings 3\nip mobile virtual-network 10.50.60.0 255.255.255.0\nip local pool p 10.50.60.10 10.50.60.20\nip mobile host nai herbert@left.com address pool local p virtual-network\n     10.50.60.0 255.255.255.0 aaa load-sa care-of-access 2 lifetime 600\nip mobile secure host nai herbert@left.com spi 100 key hex\n 11223344556677889900aabbccddeeff algorithm md5 mode prefix-suffix replay timestamp within 9\naccess-list 2 deny host 13.0.0.1\naccess-list 2 permit any\nno ip mobile home-agent broadcast\n",
];

const WORDS: &[&str] = &[
    "ip",
    "mobile",
    "home-agent",
    "host",
    "secure",
    "nai",
    "spi",
    "key",
    "hex",
    "ascii",
    "interface",
    "virtual-network",
    "network",
    "10.0.0.1",
    "255.0.0.0",
    "255.0.255.0",
    "0.0.0.0",
    "100",
    "ffffffff",
    "0",
    "65535",
    "65536",
    "access-list",
    "1",
    "permit",
    "deny",
    "any",
    "router",
    "no",
    "!",
    "aaa",
    "load-sa",
    "lifetime",
    "eth1",
    "algorithm",
    "md5",
    "mode",
    "prefix-suffix",
    "hmac-md5",
    "replay",
    "timestamp",
    "within",
    "inbound-spi",
    "outbound-spi",
    "foreign-agent",
    "care-of",
    "foreign-service",
    "limit",
    "irdp",
    "holdtime",
    "redundancy",
    "address",
    "pool",
    "local",
    "(config)#",
    "end",
    "exit",
    "x@y",
    "\u{e9}",
    "0011",
    "\t",
    "",
];

fn parse_both_never_panics(text: &str) {
    let _ = parse_ios(text, "fuzz.ios");
    if let Ok(c) = parse_toml(text, "fuzz.toml") {
        // Anything accepted writes back to something accepted and equal.
        assert_eq!(parse_toml(&to_toml(&c), "back.toml").unwrap(), c);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn garbage_never_panics(lines in prop::collection::vec(".{0,80}", 0..12)) {
        parse_both_never_panics(&lines.join("\n"));
    }

    #[test]
    fn keyword_soup_never_panics(
        lines in prop::collection::vec(
            (any::<bool>(), prop::collection::vec(prop::sample::select(WORDS), 0..14)),
            0..10,
        )
    ) {
        let text: Vec<String> = lines
            .iter()
            .map(|(indent, words)| format!("{}{}", if *indent { "   " } else { "" }, words.join(" ")))
            .collect();
        parse_both_never_panics(&text.join("\n"));
    }

    #[test]
    fn truncations_never_panic(sample in 0..SAMPLES.len(), cut in any::<prop::sample::Index>()) {
        let text = SAMPLES[sample];
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let _ = parse_ios(&text[..at], "cut.ios");
        let c = parse_ios(text, "whole.ios").unwrap();
        let toml = to_toml(&c);
        let mut at = cut.index(toml.len() + 1);
        while !toml.is_char_boundary(at) {
            at -= 1;
        }
        let _ = parse_toml(&toml[..at], "cut.toml");
    }

    #[test]
    fn line_edits_never_panic(
        sample in 0..SAMPLES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, prop::sample::select(WORDS)), 1..6),
    ) {
        let mut lines: Vec<String> = SAMPLES[sample].lines().map(str::to_owned).collect();
        for (i, op, word) in edits {
            if lines.is_empty() {
                break;
            }
            let k = i.index(lines.len());
            match op {
                0 => { lines.remove(k); }
                1 => { let l = lines[k].clone(); lines.insert(k, l); }
                2 => { let j = i.index(lines.len()); lines.swap(k, j); }
                _ => {
                    let mut w: Vec<String> = lines[k].split(' ').map(str::to_owned).collect();
                    let at = i.index(w.len());
                    w[at] = word.to_owned();
                    lines[k] = w.join(" ");
                }
            }
        }
        let text = lines.join("\n");
        if let Ok(c) = parse_ios(&text, "edit.ios") {
            // Every configuration the router form accepts converts to TOML and back.
            let back: Config = parse_toml(&to_toml(&c), "edit.toml").unwrap();
            prop_assert_eq!(back, c);
        }
    }
}
