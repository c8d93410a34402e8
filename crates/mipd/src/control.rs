//! The control socket: `mipctl` (or anything that speaks the protocol of `mip-control`)
//! connects, writes one JSON [`Request`] on one line, reads one JSON [`Response`] line.
//!
//! Threads: one accepts; each connection gets its own short-lived thread (at most
//! [`MAX_CONNECTIONS`] at once) that reads and parses the request, hands it to the daemon's
//! loop through the event channel and rings the loop's [`Waker`], waits for the answer, and
//! writes it. The loop answers between receive batches, so a flood of registrations never
//! starves the console; heavy answers (long binding lists) are serialised on the connection
//! thread, so the console never holds up the data path for long.
//!
//! Socket file: its directory is created 0750 when missing, the socket is 0660. A socket file
//! left by a daemon that died is replaced; one a live daemon answers on is not (startup is
//! refused), nor is any file that is not a socket.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use mip_control::{Request, Response, MAX_REQUEST_BYTES};
use mip_io::Waker;

use crate::event::Event;

/// Connections served at once; more are answered "busy" at once.
pub const MAX_CONNECTIONS: usize = 32;
/// How long a client has to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client may take to read the answer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Input read and dropped after refusing an oversized request, so the client gets the answer.
const DRAIN_LIMIT: u64 = 4 << 20;
/// How long the connection waits for the daemon's loop.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer from the loop: ready, or to be built (serialised) on the connection thread.
pub enum Answer {
    /// A finished response.
    Ready(Response),
    /// A response built off the loop thread.
    Later(Box<dyn FnOnce() -> Response + Send>),
}

impl Answer {
    /// The response.
    pub fn into_response(self) -> Response {
        match self {
            Answer::Ready(r) => r,
            Answer::Later(f) => f(),
        }
    }
}

impl From<Response> for Answer {
    fn from(r: Response) -> Self {
        Answer::Ready(r)
    }
}

/// A ready answer carrying `v` as JSON.
pub fn ok<T: serde::Serialize>(v: &T) -> Answer {
    match serde_json::to_value(v) {
        Ok(v) => Response::ok(v).into(),
        Err(e) => Response::error(format!("cannot encode the answer: {e}")).into(),
    }
}

/// An answer built (and serialised) on the connection's thread.
pub fn later<T: serde::Serialize, F: FnOnce() -> T + Send + 'static>(f: F) -> Answer {
    Answer::Later(Box::new(move || match serde_json::to_value(f()) {
        Ok(v) => Response::ok(v),
        Err(e) => Response::error(format!("cannot encode the answer: {e}")),
    }))
}

/// `clear ip mobile secure ...`: every role keeps its security associations in the
/// configuration, so there is no AAA cache to clear.
pub fn clear_secure() -> Answer {
    ok(&mip_control::views::ClearView {
        cleared: Some(0),
        message: Some(
            "every security association is configured locally; there is no AAA cache to clear"
                .into(),
        ),
    })
}

/// `clear ip mobile traffic`: the core clears its counters; with `undo`, it brings the
/// cleared ones back if it has them (`restored`).
pub fn clear_traffic_answer(undo: bool, restored: bool) -> Answer {
    let message = match (undo, restored) {
        (false, _) => "counters cleared",
        (true, true) => "counters restored",
        (true, false) => {
            return Response::error("nothing to undo: the counters have not been cleared").into()
        }
    };
    ok(&mip_control::views::ClearView {
        cleared: None,
        message: Some(message.into()),
    })
}

/// The answer to `mipctl reload`: the warnings of the new configuration, or why it was
/// refused (the running one is kept).
pub fn reload_answer(config: &Path, result: Result<Vec<String>, String>) -> Answer {
    match result {
        Ok(warnings) => {
            let mut message = format!("configuration reloaded from {}", config.display());
            for w in warnings {
                message.push('\n');
                message.push_str(&w);
            }
            ok(&mip_control::views::ClearView {
                cleared: None,
                message: Some(message),
            })
        }
        Err(e) => Response::error(format!(
            "reload refused, the running configuration is kept: {e}"
        ))
        .into(),
    }
}

/// Why the control socket could not be set up.
#[derive(Debug)]
pub enum SocketError {
    /// A live daemon answers on the socket.
    InUse(PathBuf),
    /// The path exists and is not a socket.
    NotASocket(PathBuf),
    /// An I/O error.
    Io(PathBuf, &'static str, io::Error),
}

impl std::fmt::Display for SocketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SocketError::InUse(p) => write!(
                f,
                "control socket {} is in use by a running daemon; stop it first or choose \
                 another --control-socket",
                p.display()
            ),
            SocketError::NotASocket(p) => write!(
                f,
                "{} exists and is not a socket; remove it or choose another --control-socket",
                p.display()
            ),
            SocketError::Io(p, what, e) => write!(f, "control socket {}: {what}: {e}", p.display()),
        }
    }
}

impl std::error::Error for SocketError {}

/// Checks that nobody serves on `path`. Ok when it is absent or a stale socket file.
///
/// # Errors
/// A live daemon answers there, or the path is something other than a socket.
pub fn check_free(path: &Path) -> Result<(), SocketError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SocketError::Io(path.to_owned(), "stat", e)),
        Ok(m) if !m.file_type().is_socket() => Err(SocketError::NotASocket(path.to_owned())),
        Ok(_) => match UnixStream::connect(path) {
            Ok(_) => Err(SocketError::InUse(path.to_owned())),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(SocketError::Io(
                path.to_owned(),
                "probe for a running daemon",
                e,
            )),
        },
    }
}

/// Creates the socket (see the module documentation).
///
/// # Errors
/// As [`check_free`], or the directory or socket cannot be created.
pub fn bind(path: &Path) -> Result<UnixListener, SocketError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o750)
                .create(dir)
                .map_err(|e| SocketError::Io(dir.to_owned(), "create directory", e))?;
        }
    }
    check_free(path)?;
    match std::fs::remove_file(path) {
        Ok(()) => tracing::info!(path = %path.display(), "replaced a stale control socket"),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(SocketError::Io(path.to_owned(), "remove stale socket", e)),
    }
    // Created with the process umask (at most 0755: only the owner can connect), then opened
    // to the group: never wider than 0660 at any moment.
    let listener =
        UnixListener::bind(path).map_err(|e| SocketError::Io(path.to_owned(), "bind", e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| SocketError::Io(path.to_owned(), "chmod 0660", e))?;
    Ok(listener)
}

/// A connection's place among [`MAX_CONNECTIONS`], given back however the thread ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Starts the accepting thread.
///
/// # Errors
/// The thread could not be started.
pub fn spawn(listener: UnixListener, events: Sender<Event>, waker: Waker) -> io::Result<()> {
    let active = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("mipd-control".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let stream = match conn {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "control socket accept failed");
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                };
                if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                    let _ = write_response(
                        &stream,
                        &Response::error(format!(
                            "busy: {MAX_CONNECTIONS} control connections are open; try again"
                        )),
                    );
                    continue;
                }
                active.fetch_add(1, Ordering::AcqRel);
                let (events, waker, done) = (events.clone(), waker.clone(), active.clone());
                let spawned = std::thread::Builder::new()
                    .name("mipd-control-conn".into())
                    .spawn(move || {
                        let _slot = Slot(done);
                        serve(stream, &events, &waker);
                    });
                if let Err(e) = spawned {
                    active.fetch_sub(1, Ordering::AcqRel);
                    tracing::warn!(error = %e, "cannot start a control connection thread");
                }
            }
        })
        .map(drop)
}

/// Reads one request line: at most [`MAX_REQUEST_BYTES`] before the newline (or EOF).
fn read_request(stream: &UnixStream) -> Result<Vec<u8>, String> {
    let mut line = Vec::with_capacity(256);
    let mut r = BufReader::new(Read::take(stream, MAX_REQUEST_BYTES as u64 + 1));
    match r.read_until(b'\n', &mut line) {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            return Err(format!(
                "no complete request within {} s",
                READ_TIMEOUT.as_secs()
            ))
        }
        Err(e) => return Err(format!("cannot read the request: {e}")),
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "request too large: more than {MAX_REQUEST_BYTES} bytes"
        ));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// Parses a request line.
pub fn parse_request(line: &[u8]) -> Result<Request, String> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err("empty request".into());
    }
    serde_json::from_slice(line).map_err(|e| format!("invalid request: {e}"))
}

fn serve(stream: UnixStream, events: &Sender<Event>, waker: &Waker) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut unread = false;
    let response = match read_request(&stream).and_then(|line| parse_request(&line)) {
        Err(msg) => {
            tracing::warn!(error = %msg, "control request refused");
            unread = msg.starts_with("request too large");
            Response::error(msg)
        }
        Ok(request) => ask(request, events, waker),
    };
    if let Err(e) = write_response(&stream, &response) {
        tracing::debug!(error = %e, "control client went away before the answer");
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    if unread {
        // Closing with unread input would reset the connection and lose the answer: read
        // (and drop) what the client is still sending, for a moment.
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let _ = io::copy(&mut Read::take(&stream, DRAIN_LIMIT), &mut io::sink());
    }
}

fn ask(request: Request, events: &Sender<Event>, waker: &Waker) -> Response {
    let (tx, rx): (SyncSender<Answer>, _) = mpsc::sync_channel(1);
    if events.send(Event::Control { request, reply: tx }).is_err() {
        return Response::error("the daemon is shutting down");
    }
    waker.wake();
    match rx.recv_timeout(ANSWER_TIMEOUT) {
        Ok(answer) => answer.into_response(),
        Err(mpsc::RecvTimeoutError::Timeout) => Response::error(format!(
            "the daemon did not answer within {} s",
            ANSWER_TIMEOUT.as_secs()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Response::error("the daemon is shutting down"),
    }
}

fn write_response(mut stream: &UnixStream, response: &Response) -> io::Result<()> {
    let mut text = serde_json::to_vec(response).unwrap_or_else(|e| {
        format!(r#"{{"ok":false,"error":"cannot encode the answer: {e}"}}"#).into_bytes()
    });
    text.push(b'\n');
    stream.write_all(&text)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_are_messages() {
        assert!(parse_request(b"").unwrap_err().contains("empty"));
        assert!(parse_request(b"{nope")
            .unwrap_err()
            .starts_with("invalid request"));
        assert!(parse_request(br#"{"command":"launch_missiles"}"#).is_err());
        assert_eq!(
            parse_request(br#"{"command":"show_traffic"}"#).unwrap(),
            Request::ShowTraffic
        );
    }

    #[test]
    fn stale_socket_is_replaced_live_one_refused_file_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/control.sock");
        let l = bind(&path).unwrap();
        let mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o750);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o660);
        assert!(matches!(bind(&path), Err(SocketError::InUse(_))));
        drop(l); // the file stays: stale now
        assert!(path.exists());
        let _l = bind(&path).unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(bind(&file), Err(SocketError::NotASocket(_))));
        assert!(file.exists());
    }
}
