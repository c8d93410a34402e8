//! The wire oracle: every message the product emits is dissected by tshark
//! (an independent implementation); it must find nothing malformed, raise no
//! expert error, and read the same field values as our decoder.

mod common;

use serde_json::Value;
use std::process::Command;

fn tshark_available() -> bool {
    Command::new("tshark")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Skip loudly when tshark is missing, and fail under CI, where .ci/run
/// installs it.
fn require_tshark() -> bool {
    if tshark_available() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("tshark is not installed, but CI must run the wire oracle (scripts/install-deps.sh installs it)");
    }
    eprintln!("\n*** SKIPPED: tshark not installed; the wire oracle did not run (apt-get install tshark) ***\n");
    false
}

/// Every (field name, value) pair under the packet's layers whose name starts
/// with one of `prefixes`, in document order, flattening tshark's subtrees and
/// duplicate-key arrays.
fn collect(v: &Value, prefixes: &[&str], out: &mut Vec<(String, String)>) {
    if let Value::Object(m) = v {
        for (k, val) in m {
            match val {
                Value::String(s) if prefixes.iter().any(|p| k.starts_with(p)) => {
                    out.push((k.clone(), s.clone()))
                }
                Value::Array(items) => {
                    for it in items {
                        match it {
                            Value::String(s) if prefixes.iter().any(|p| k.starts_with(p)) => {
                                out.push((k.clone(), s.clone()))
                            }
                            other => collect(other, prefixes, out),
                        }
                    }
                }
                other => collect(other, prefixes, out),
            }
        }
    }
}

fn values<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn run_tshark(path: &std::path::Path) -> Vec<Value> {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(path)
        .args(["-T", "json", "-x", "--no-duplicate-keys"])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("tshark JSON")
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn bit(b: &Value) -> &'static str {
    if b.as_bool() == Some(true) {
        "1"
    } else {
        "0"
    }
}

fn hex_u32(tshark: &str) -> u32 {
    u32::from_str_radix(tshark.trim_start_matches("0x"), 16).expect("hex from tshark")
}

/// Compare tshark's reading of one UDP message with ours.
fn check_udp(label: &str, ours: &Value, f: &[(String, String)]) {
    let one = |name: &str| -> String {
        let v = values(f, name);
        assert_eq!(
            v.len(),
            1,
            "{label}: expected one {name}, tshark gave {v:?}"
        );
        v[0].to_string()
    };
    assert_eq!(one("mip.type"), s(&ours["type"]), "{label}: type");
    let ty = ours["type"].as_u64().unwrap();
    if ty == 1 {
        let fl = &ours["flags"];
        for (ws, letter) in [
            ("s", "S"),
            ("b", "B"),
            ("d", "D"),
            ("m", "M"),
            ("g", "G"),
            ("v", "r"),
            ("t", "T"),
            ("x", "x"),
        ] {
            assert_eq!(
                one(&format!("mip.{ws}")),
                bit(&fl[letter]),
                "{label}: flag {letter}"
            );
        }
        assert_eq!(
            one("mip.coa"),
            s(&ours["care_of_address"]),
            "{label}: care-of address"
        );
    }
    if ty == 3 {
        assert_eq!(one("mip.code"), s(&ours["code"]), "{label}: code");
    }
    if ty == 1 || ty == 3 {
        assert_eq!(one("mip.life"), s(&ours["lifetime"]), "{label}: lifetime");
        assert_eq!(
            one("mip.haaddr"),
            s(&ours["home_agent"]),
            "{label}: home agent"
        );
        assert_eq!(
            one("mip.ident_raw"),
            s(&ours["identification"]),
            "{label}: identification"
        );
    }
    if ty == 1 || ty == 3 || ty == 7 || ty == 15 {
        assert_eq!(
            one("mip.homeaddr"),
            s(&ours["home_address"]),
            "{label}: home address"
        );
        let exts = ours["extensions"].as_array().unwrap();
        let our_types: Vec<String> = exts.iter().map(|e| s(&e["type"])).collect();
        assert_eq!(
            values(f, "mip.ext.type"),
            our_types,
            "{label}: extension types"
        );
        let auths: Vec<&Value> = exts
            .iter()
            .filter(|e| e.get("authenticator").is_some())
            .collect();
        let spis: Vec<u32> = values(f, "mip.auth.spi")
            .iter()
            .map(|v| hex_u32(v))
            .collect();
        let our_spis: Vec<u32> = auths
            .iter()
            .map(|e| e["spi"].as_u64().unwrap() as u32)
            .collect();
        assert_eq!(spis, our_spis, "{label}: SPIs");
        let our_auth: Vec<String> = auths.iter().map(|e| s(&e["authenticator"])).collect();
        assert_eq!(
            values(f, "mip.auth.auth_raw"),
            our_auth,
            "{label}: authenticators"
        );
        let our_nai: Vec<String> = exts.iter().filter_map(|e| e.get("nai").map(s)).collect();
        assert_eq!(values(f, "mip.nai"), our_nai, "{label}: NAI");
        let our_vendor: Vec<String> = exts
            .iter()
            .filter_map(|e| e.get("vendor_id").map(s))
            .collect();
        let mut ws_vendor = values(f, "mip.ext.cvse.vendor_id");
        ws_vendor.extend(values(f, "mip.ext.nvse.vendor_id"));
        assert_eq!(ws_vendor, our_vendor, "{label}: vendor ids");
        let gen: Vec<String> = exts
            .iter()
            .filter(|e| e["type"] == 36)
            .map(|e| s(&e["subtype"]))
            .collect();
        assert_eq!(
            values(f, "mip.ext.auth.subtype"),
            gen,
            "{label}: generalized auth subtype"
        );
    }
    if ty == 7 {
        assert_eq!(
            one("mip.rev.hda"),
            s(&ours["home_domain_address"]),
            "{label}"
        );
        assert_eq!(
            one("mip.rev.fda"),
            s(&ours["foreign_domain_address"]),
            "{label}"
        );
        assert_eq!(
            one("mip.revid"),
            s(&ours["revocation_identifier"]),
            "{label}"
        );
        assert_eq!(one("mip.rev.a"), bit(&ours["flags"]["A"]), "{label}");
        assert_eq!(one("mip.rev.i"), bit(&ours["flags"]["I"]), "{label}");
    }
    if ty == 15 {
        assert_eq!(
            one("mip.revid"),
            s(&ours["revocation_identifier"]),
            "{label}"
        );
        assert_eq!(one("mip.ack.i"), bit(&ours["flags"]["I"]), "{label}");
    }
    if ty == 4 {
        assert_eq!(one("mip.nattt.nexthdr"), s(&ours["next_header"]), "{label}");
    }
}

/// Compare tshark's reading of an agent advertisement or solicitation.
fn check_icmp(label: &str, ours: &Value, f: &[(String, String)]) {
    assert_eq!(
        values(f, "icmp.type"),
        vec![s(&ours["type"])],
        "{label}: ICMP type"
    );
    assert_eq!(
        values(f, "icmp.checksum.status"),
        vec!["1"],
        "{label}: checksum good"
    );
    if ours["type"] != 9 {
        return;
    }
    assert_eq!(
        values(f, "icmp.lifetime"),
        vec![s(&ours["lifetime"])],
        "{label}"
    );
    let routers: Vec<String> = ours["router_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| s(&r["address"]))
        .collect();
    assert_eq!(
        values(f, "icmp.router_address"),
        routers,
        "{label}: router addresses"
    );
    let exts = ours["extensions"].as_array().unwrap();
    let types: Vec<String> = exts.iter().map(|e| s(&e["type"])).collect();
    assert_eq!(
        values(f, "icmp.mip.type"),
        types,
        "{label}: extension types"
    );
    let m = exts
        .iter()
        .find(|e| e["type"] == 16)
        .expect("mobility agent extension");
    assert_eq!(
        values(f, "icmp.mip.seq"),
        vec![s(&m["sequence"])],
        "{label}: sequence"
    );
    assert_eq!(
        values(f, "icmp.mip.life"),
        vec![s(&m["registration_lifetime"])],
        "{label}"
    );
    for (ws, letter) in [
        ("r", "R"),
        ("b", "B"),
        ("h", "H"),
        ("f", "F"),
        ("m", "M"),
        ("g", "G"),
        ("rt", "T"),
        ("u", "U"),
        ("x", "X"),
    ] {
        assert_eq!(
            values(f, &format!("icmp.mip.{ws}")),
            vec![bit(&m["flags"][letter])],
            "{label}: flag {letter}"
        );
    }
    let coas: Vec<String> = m["care_of_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(s)
        .collect();
    assert_eq!(
        values(f, "icmp.mip.coa"),
        coas,
        "{label}: care-of addresses"
    );
    let prefix: Vec<String> = exts
        .iter()
        .filter(|e| e["type"] == 19)
        .flat_map(|e| {
            e["prefix_lengths"]
                .as_array()
                .unwrap()
                .iter()
                .map(s)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        values(f, "icmp.mip.prefixlength"),
        prefix,
        "{label}: prefix lengths"
    );
    let challenge: Vec<String> = exts
        .iter()
        .filter(|e| e["type"] == 24)
        .map(|e| s(&e["challenge"]))
        .collect();
    let ws_challenge: Vec<String> = values(f, "icmp.mip.challenge")
        .iter()
        .map(|c| c.replace(':', ""))
        .collect();
    assert_eq!(ws_challenge, challenge, "{label}: challenge");
}

#[test]
fn tshark_reads_every_message_as_we_do() {
    if !require_tshark() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.pcap");
    let samples = common::samples();
    let frames: Vec<Vec<u8>> = samples.iter().map(common::frame).collect();
    common::write_pcap(&path, &frames);

    // Our side: the operator tool over the same file, with both keys, so the
    // authenticators are checked by our verifier too.
    let out = Command::new(env!("CARGO_BIN_EXE_mipctl"))
        .args(["decode", "--json", "--pcap"])
        .arg(&path)
        .args([
            "--key",
            &format!("{:x}:{}:hmac-md5", common::FA_HA_SPI, common::FA_HA_KEY),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mipctl decode failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ours.len(), samples.len(), "mipctl decoded every frame");

    let packets = run_tshark(&path);
    assert_eq!(packets.len(), samples.len());
    for ((sample, ws), ours) in samples.iter().zip(&packets).zip(&ours) {
        let label = sample.label;
        let mut all = Vec::new();
        collect(&ws["_source"]["layers"], &["_ws", "mip", "icmp"], &mut all);
        let problems: Vec<_> = all
            .iter()
            .filter(|(k, _)| k.starts_with("_ws.malformed") || k.starts_with("_ws.expert"))
            .collect();
        assert!(problems.is_empty(), "{label}: tshark reports {problems:?}");
        // tshark shows the bytes (-x): they must be the bytes we sent.
        let raw_key = if sample.icmp { "icmp_raw" } else { "mip_raw" };
        let mut raw = Vec::new();
        collect(&ws["_source"]["layers"], &[raw_key], &mut raw);
        if !sample.icmp {
            assert_eq!(
                values(&raw, raw_key),
                vec![hex::encode(&sample.bytes)],
                "{label}: bytes"
            );
        }
        if sample.icmp {
            check_icmp(label, ours, &all);
        } else {
            check_udp(label, ours, &all);
        }
    }
    // Our verifier accepted every FA-HA authenticator made with the FA key.
    let fa_ok: Vec<bool> = ours
        .iter()
        .flat_map(|m| m["extensions"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["type"] == 34)
        .map(|e| e["authenticator_ok"].as_bool().expect("verified"))
        .collect();
    assert_eq!(fa_ok, vec![true, true, true]);
}
