//! `mipctl decode` as an operator uses it: hex and pcap input, JSON keys,
//! authenticator verification, and malformed input (exit 2, offset + field).

mod common;

use serde_json::Value;
use std::process::{Command, Output};

fn mipctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mipctl"))
        .args(args)
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sample(label: &str) -> Vec<u8> {
    common::samples()
        .into_iter()
        .find(|s| s.label == label)
        .unwrap()
        .bytes
}

#[test]
fn request_json_has_the_documented_keys() {
    let hex = hex::encode(sample("request-nai-mnha-faha"));
    let key = format!("{:x}:{}:hmac-md5", common::MN_HA_SPI, common::MN_HA_KEY);
    let v = json_of(&mipctl(&["decode", "--json", "--hex", &hex, "--key", &key]));
    assert_eq!(v["type"], 1);
    assert_eq!(v["type_name"], "registration request");
    assert_eq!(v["flags"]["G"], true);
    assert_eq!(v["flags"]["T"], true);
    assert_eq!(v["flags"]["S"], false);
    assert_eq!(v["lifetime"], 36000);
    assert_eq!(v["home_address"], "10.0.0.1");
    assert_eq!(v["home_agent"], "66.0.0.5");
    assert_eq!(v["care_of_address"], "68.0.0.31");
    assert_eq!(v["identification"], "b750fac4c28f56a8");
    let exts = v["extensions"].as_array().unwrap();
    assert_eq!(exts[0]["type"], 131);
    assert_eq!(exts[0]["nai"], "mn1@example.net");
    assert_eq!(exts[0]["length"], 15);
    assert_eq!(exts[1]["type"], 32);
    assert_eq!(exts[1]["spi"], 256);
    assert_eq!(exts[1]["length"], 20);
    assert_eq!(exts[1]["authenticator"].as_str().unwrap().len(), 32);
    assert_eq!(exts[1]["authenticator_ok"], true);
    // No key given for the FA-HA SPI: nothing claimed either way.
    assert_eq!(exts[2]["type"], 34);
    assert!(exts[2].get("authenticator_ok").is_none());
}

#[test]
fn wrong_key_or_algorithm_fails_verification() {
    let hex = hex::encode(sample("request-nai-mnha-faha"));
    let wrong_key = format!("{:x}:{}:hmac-md5", common::MN_HA_SPI, common::FA_HA_KEY);
    let v = json_of(&mipctl(&[
        "decode", "--json", "--hex", &hex, "--key", &wrong_key,
    ]));
    assert_eq!(v["extensions"][1]["authenticator_ok"], false);
    // Right key, wrong algorithm (prefix-suffix instead of HMAC).
    let wrong_alg = format!(
        "{:x}:{}:prefix-suffix",
        common::MN_HA_SPI,
        common::MN_HA_KEY
    );
    let v = json_of(&mipctl(&[
        "decode", "--json", "--hex", &hex, "--key", &wrong_alg,
    ]));
    assert_eq!(v["extensions"][1]["authenticator_ok"], false);
    // Prefix-suffix is the default algorithm, as in the router.
    let hex2 = hex::encode(sample("reply-133"));
    let dflt = format!("{:x}:{}", common::MN_HA_SPI, common::MN_HA_KEY);
    let v = json_of(&mipctl(&[
        "decode", "--json", "--hex", &hex2, "--key", &dflt,
    ]));
    assert_eq!(v["code"], 133);
    assert_eq!(v["code_name"], mip_wire::codes::ReplyCode::from(133).name());
    assert!(v["code_name"]
        .as_str()
        .unwrap()
        .contains("Identification mismatch"));
    assert_eq!(v["extensions"][0]["authenticator_ok"], true);
}

#[test]
fn mn_aaa_hmac_is_verified_with_its_key() {
    let hex = hex::encode(sample("request-all-flags-extensions"));
    let key = format!("{:x}:{}:hmac-md5", common::MN_HA_SPI, common::MN_HA_KEY);
    let v = json_of(&mipctl(&["decode", "--json", "--hex", &hex, "--key", &key]));
    let exts = v["extensions"].as_array().unwrap();
    let gen = exts.iter().find(|e| e["type"] == 36).unwrap();
    assert_eq!(gen["subtype"], 1);
    assert_eq!(gen["authenticator_ok"], true);
    // The MN-HA one was signed prefix-suffix: with an HMAC key it fails.
    let mnha = exts.iter().find(|e| e["type"] == 32).unwrap();
    assert_eq!(mnha["authenticator_ok"], false);
    let unknown = exts.iter().find(|e| e["type"] == 200).unwrap();
    assert_eq!(unknown["data"], "deadbeef");
    assert_eq!(unknown["skippable"], true);
}

#[test]
fn malformed_input_names_offset_and_field_and_exits_2() {
    let mut b = sample("request-nai-mnha-faha");
    b.truncate(30);
    let out = mipctl(&["decode", "--hex", &hex::encode(&b)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("at byte 26") && err.contains("'extension data'"),
        "{err}"
    );
    // Every truncation of every sample: exit 2 or a clean decode, never a crash.
    for s in common::samples() {
        for n in 0..s.bytes.len() {
            let out = mipctl(&["decode", "--json", "--hex", &hex::encode(&s.bytes[..n])]);
            let code = out.status.code();
            assert!(
                code == Some(2) || code == Some(0),
                "{} cut at {n}: {code:?}",
                s.label
            );
            if code == Some(2) {
                assert!(
                    String::from_utf8_lossy(&out.stderr).contains("at byte"),
                    "{} cut at {n}",
                    s.label
                );
            }
        }
    }
}

#[test]
fn bad_arguments_exit_2_with_a_hint() {
    for args in [
        vec!["decode"],
        vec!["decode", "--hex", "zz"],
        vec!["decode", "--hex"],
        vec!["decode", "--hex", "01", "--key", "nothex:00"],
        vec!["decode", "--hex", "01", "--key", "100:abc"],
        vec!["decode", "--hex", "01", "--key", "100:00:sha1"],
        vec!["frobnicate"],
    ] {
        let out = mipctl(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with('%'),
            "{args:?}"
        );
    }
}

#[test]
fn pcap_text_output_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.pcap");
    let samples = common::samples();
    let mut frames: Vec<Vec<u8>> = samples.iter().map(common::frame).collect();
    // A frame that is not Mobile IP is skipped; a broken one is reported.
    frames.push(common::ipv4(
        "192.0.2.1".parse().unwrap(),
        "192.0.2.2".parse().unwrap(),
        mip_wire::ipv4::Protocol::Tcp,
        &[0; 20],
    ));
    let mut broken = samples[0].clone_bytes();
    broken.truncate(27);
    frames.push(common::frame(&common::Sample {
        label: "broken",
        icmp: false,
        bytes: broken,
    }));
    common::write_pcap(&path, &frames);
    let out = mipctl(&["decode", "--pcap", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("registration request (type 1)"), "{text}");
    assert!(text.contains("identification: b750fac4c28f56a8"), "{text}");
    assert!(text.contains("flags: sbdmGrTx"), "{text}");
    assert!(
        text.contains(&format!(
            "{} Mobile IP message(s) decoded, 1 malformed, {} frame(s) read",
            samples.len(),
            samples.len() + 2
        )),
        "{text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("frame {}", samples.len() + 2)),
        "{err}"
    );
}

/// `examples/registration.pcap` (used by the README's first command) holds
/// exactly the sample messages; `REGENERATE_EXAMPLES=1` rewrites it.
#[test]
fn example_capture_is_current() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/registration.pcap");
    let frames: Vec<Vec<u8>> = common::samples().iter().map(common::frame).collect();
    if std::env::var_os("REGENERATE_EXAMPLES").is_some() {
        common::write_pcap(&path, &frames);
    }
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.pcap");
    common::write_pcap(&fresh, &frames);
    assert_eq!(
        std::fs::read(&path).expect("examples/registration.pcap exists"),
        std::fs::read(&fresh).unwrap(),
        "examples/registration.pcap is stale: run REGENERATE_EXAMPLES=1 cargo test -p mipctl example_capture"
    );
    let key = format!("{:x}:{}:hmac-md5", common::MN_HA_SPI, common::MN_HA_KEY);
    let out = mipctl(&["decode", "--pcap", path.to_str().unwrap(), "--key", &key]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("authenticator_ok=true"));
}
