//! Network namespaces for the daemon's namespace tests (root only): create, run code or
//! commands inside, connect with veth pairs, delete on drop.
#![allow(dead_code)]

use std::os::fd::AsRawFd;
use std::process::Command;

/// True as root. Without root the test says loudly that it was skipped, and fails under
/// `CI`, where it must run.
pub fn require_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("this namespace test needs root, and CI is set");
    }
    eprintln!("*** SKIPPED (needs root) ***");
    false
}

/// Runs `cmd` with `sh -c`; a failure fails the test with its output.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace, deleted on drop (processes in it are killed first).
pub struct Netns(pub String);

impl Netns {
    /// A fresh namespace `mipd-t-TAG-PID` with `lo` up and reverse-path filtering and
    /// redirects off.
    pub fn new(tag: &str) -> Netns {
        let name = format!("mipd-t-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(&format!("ip netns add {name}"));
        let ns = Netns(name);
        ns.ip("link set lo up");
        for k in [
            "net/ipv4/conf/all/rp_filter",
            "net/ipv4/conf/default/rp_filter",
            "net/ipv4/conf/all/send_redirects",
            "net/ipv4/conf/default/send_redirects",
        ] {
            ns.exec(&format!("sh -c 'echo 0 > /proc/sys/{k}'"));
        }
        ns
    }

    /// `ip -n NS ARGS`.
    pub fn ip(&self, args: &str) -> String {
        sh(&format!("ip -n {} {args}", self.0))
    }

    /// `ip netns exec NS CMD`.
    pub fn exec(&self, cmd: &str) -> String {
        sh(&format!("ip netns exec {} {cmd}", self.0))
    }

    /// Runs `f` on a thread that entered the namespace (sockets made there stay there).
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.0);
        std::thread::spawn(move || {
            let f2 = std::fs::File::open(&path).unwrap();
            // SAFETY: setns on a namespace descriptor; affects this thread only.
            assert_eq!(
                unsafe { libc::setns(f2.as_raw_fd(), libc::CLONE_NEWNET) },
                0,
                "setns {path}"
            );
            f()
        })
        .join()
        .expect("thread in namespace")
    }

    /// As [`Netns::run`], without waiting.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/run/netns/{}", self.0);
        std::thread::spawn(move || {
            let f2 = std::fs::File::open(&path).unwrap();
            // SAFETY: as above.
            assert_eq!(
                unsafe { libc::setns(f2.as_raw_fd(), libc::CLONE_NEWNET) },
                0
            );
            f()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// A veth pair `an` (in `a`) to `bn` (in `b`), both up.
pub fn veth(a: &Netns, an: &str, b: &Netns, bn: &str) {
    sh(&format!(
        "ip link add {an} netns {} type veth peer name {bn} netns {}",
        a.0, b.0
    ));
    a.ip(&format!("link set {an} up"));
    b.ip(&format!("link set {bn} up"));
}
