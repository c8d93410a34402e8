//! Child processes inside the lab's namespaces, with their standard output collected line by
//! line (timestamped events) by a reader thread.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::guard;
use crate::sh;

#[derive(Default)]
struct Lines {
    lines: Vec<String>,
    closed: bool,
}

/// A running child in a namespace.
pub struct Proc {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<(Mutex<Lines>, Condvar)>,
    reader: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

static SELF_EXE: std::sync::OnceLock<OsString> = std::sync::OnceLock::new();

/// Sets the `mip-lab` binary that runs the hidden subcommands (stream, ping, sysctl) in the
/// namespaces, for callers of the library that are not `mip-lab` itself (integration tests
/// pass `env!("CARGO_BIN_EXE_mip-lab")`). The first call wins.
pub fn set_self_exe(path: impl Into<OsString>) {
    let _ = SELF_EXE.set(path.into());
}

/// The path of the `mip-lab` executable ([`set_self_exe`], else this executable), to run its
/// hidden subcommands in namespaces.
pub fn self_exe() -> OsString {
    if let Some(p) = SELF_EXE.get() {
        return p.clone();
    }
    std::env::current_exe()
        .map(|p| p.into_os_string())
        .unwrap_or_else(|_| "mip-lab".into())
}

impl Proc {
    /// Runs `prog args` in namespace `ns` with piped stdin/stdout (stderr inherited).
    pub fn spawn(
        name: &str,
        ns: &str,
        prog: &OsString,
        args: &[String],
        stderr: Stdio,
    ) -> Result<Proc, String> {
        let mut cmd = sh::netns_command(ns, prog);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} in {ns}: {e}"))?;
        guard::register_child(child.id() as i32);
        let stdout = child.stdout.take().expect("piped stdout");
        let stdin = child.stdin.take();
        let out: Arc<(Mutex<Lines>, Condvar)> = Arc::default();
        let out2 = Arc::clone(&out);
        let reader = std::thread::Builder::new()
            .name(format!("read-{name}"))
            .spawn(move || {
                let r = BufReader::new(stdout);
                for line in r.lines() {
                    let Ok(line) = line else { break };
                    let (m, cv) = &*out2;
                    m.lock().unwrap_or_else(|e| e.into_inner()).lines.push(line);
                    cv.notify_all();
                }
                let (m, cv) = &*out2;
                m.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
                cv.notify_all();
            })
            .map_err(|e| format!("thread: {e}"))?;
        Ok(Proc {
            name: name.to_string(),
            child,
            stdin,
            out,
            reader: Some(reader),
            status: None,
        })
    }

    /// The child's pid.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The name given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits until a line starting with one of `prefixes` arrives (returns it), the output
    /// closes, `timeout` passes, or a stop is requested.
    pub fn wait_line(&self, prefixes: &[&str], timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.out;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = 0;
        loop {
            if let Some(l) = g.lines[seen..]
                .iter()
                .find(|l| prefixes.iter().any(|p| l.starts_with(p)))
            {
                return Some(l.clone());
            }
            seen = g.lines.len();
            let now = Instant::now();
            if g.closed || now >= deadline || guard::stop_requested() {
                return None;
            }
            let wait = (deadline - now).min(Duration::from_millis(50));
            g = cv
                .wait_timeout(g, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// A copy of every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.out
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .lines
            .clone()
    }

    /// Writes a line to the child's stdin.
    pub fn say(&mut self, line: &str) {
        if let Some(s) = self.stdin.as_mut() {
            let _ = writeln!(s, "{line}");
            let _ = s.flush();
        }
    }

    /// Closes the child's stdin: the lab's subcommands take that as "stop".
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Whether the child has exited (without waiting).
    pub fn has_exited(&mut self) -> bool {
        if self.status.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.status = Some(st);
                guard::unregister_child(self.pid());
            }
        }
        self.status.is_some()
    }

    /// Waits up to `timeout` for the child to exit by itself; then SIGTERM, then SIGKILL.
    /// Returns its status, and waits for the output to be read completely.
    pub fn finish(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.status.is_none() {
            let deadline = Instant::now() + timeout;
            loop {
                match self.child.try_wait() {
                    Ok(Some(st)) => {
                        self.status = Some(st);
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    _ => {
                        sh::terminate(&[self.pid()], Duration::from_millis(1000));
                        self.status = self.child.wait().ok();
                        break;
                    }
                }
            }
            guard::unregister_child(self.pid());
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.status
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.close_stdin();
        if self.status.is_none() {
            self.finish(Duration::from_millis(0));
        }
    }
}
