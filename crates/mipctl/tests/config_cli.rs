//! `mipctl config convert|check`: the router form becomes the native TOML form, which
//! reads back to the same configuration; errors name file and line; exit codes.

use std::process::Command;

fn mipctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mipctl"))
        .args(args)
        .output()
        .unwrap()
}

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn convert_ios_example_to_toml_that_reads_back_equal() {
    let out = mipctl(&["config", "convert", &example("home-agent.ios")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = String::from_utf8(out.stdout).unwrap();
    assert!(
        toml.contains("spi = 0x"),
        "SPIs are written in hex:\n{toml}"
    );
    let from_toml = mip_config::parse_toml(&toml, "converted.toml").expect("converted TOML parses");
    let from_ios = mip_config::load(std::path::Path::new(&example("home-agent.ios")), None)
        .unwrap()
        .config;
    assert_eq!(
        mip_config::to_toml(&from_toml),
        mip_config::to_toml(&from_ios)
    );
}

#[test]
fn check_reports_valid_and_errors_with_line() {
    let out = mipctl(&["config", "check", &example("home-agent.toml")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration is valid"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ios");
    std::fs::write(&bad, "router mobile\nip mobile home-agent lifetme 300\n").unwrap();
    let out = mipctl(&["config", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.ios:2"), "{err}");
    assert!(err.contains("lifetme"), "{err}");
}

#[test]
fn config_usage_errors_exit_2() {
    for args in [
        vec!["config"],
        vec!["config", "convert"],
        vec!["config", "frob", "x"],
        vec!["config", "convert", "x", "--format", "yaml"],
    ] {
        let out = mipctl(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
