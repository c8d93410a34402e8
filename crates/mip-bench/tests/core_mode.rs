//! `mip-bench core` with a small population: every node registered, renewed and restored,
//! and the memory per binding measured by the binary's counting allocator.

use std::process::Command;

#[test]
fn core_mode_accepts_every_node() {
    for algorithm in ["hmac-md5", "prefix-suffix"] {
        let out = Command::new(env!("CARGO_BIN_EXE_mip-bench"))
            .args([
                "core",
                "--nodes",
                "3000",
                "--algorithm",
                algorithm,
                "--json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["nodes"], 3000);
        assert_eq!(r["register"]["accepted"], 3000);
        assert_eq!(r["register"]["replies"], 3000);
        assert_eq!(r["renew"]["accepted"], 3000);
        assert_eq!(r["bindings"], 3000);
        assert_eq!(r["restored"], 3000);
        let per = r["bytes_per_binding"].as_f64().expect("memory measured");
        assert!(per > 0.0 && per < 4096.0, "{per}");
        assert!(r["register"]["per_s"].as_f64().unwrap() > 0.0);
    }
}
