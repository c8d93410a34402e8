//! The demo's TCP stream: a sender in `cn` that writes a deterministic byte pattern at a
//! steady rate, and a receiver in `mn`, bound to the mobile node's home address, that checks
//! every byte in order. Both run as hidden subcommands of `mip-lab` under `ip netns exec` and
//! report on standard output, one event per line, with CLOCK_MONOTONIC timestamps (ns):
//!
//! * sender: `CONNECTED t`, `P t bytes_sent total_retrans` (every 50 ms),
//!   `DONE t bytes_sent total_retrans drained(0|1) bytes_acked`
//! * receiver: `LISTENING t`, `ACCEPTED t`, `R t bytes_received` (per read),
//!   `DONE t bytes_received identical(0|1) first_mismatch(-1 = none) eof(0|1)`
//!
//! Both stop when their standard input ends (the parent closes it, or dies) or after
//! `--max-seconds`, whichever comes first.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::sh::mono_ns;

const SEED: u64 = 0x6d69_702d_6c61_6221; // "mip-lab!"

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The byte at stream offset `i`: a pseudo-random keystream, so a lost, repeated or
/// reordered segment cannot go unnoticed.
pub fn pattern_byte(i: u64) -> u8 {
    splitmix64((i / 8) ^ SEED).to_le_bytes()[(i % 8) as usize]
}

/// Fills `buf` with the pattern starting at stream offset `offset`.
pub fn fill_pattern(offset: u64, buf: &mut [u8]) {
    let mut i = offset;
    let mut k = 0;
    while k < buf.len() {
        let word = splitmix64((i / 8) ^ SEED).to_le_bytes();
        let start = (i % 8) as usize;
        let n = (8 - start).min(buf.len() - k);
        buf[k..k + n].copy_from_slice(&word[start..start + n]);
        k += n;
        i += n as u64;
    }
}

/// Checks `buf` against the pattern at `offset`: the index of the first wrong byte.
pub fn check_pattern(offset: u64, buf: &[u8], scratch: &mut Vec<u8>) -> Option<usize> {
    scratch.resize(buf.len(), 0);
    fill_pattern(offset, scratch);
    buf.iter().zip(scratch.iter()).position(|(a, b)| a != b)
}

/// Whether standard input has ended (or said `stop`); polls without blocking.
struct StdinWatch {
    ended: bool,
}

impl StdinWatch {
    fn new() -> Self {
        StdinWatch { ended: false }
    }

    /// Waits up to `timeout` for stdin (and optionally `fd` for `events`); returns whether
    /// `fd` became ready.
    fn poll(&mut self, fd: Option<(i32, i16)>, timeout: Duration) -> bool {
        let mut fds = vec![libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        }];
        if let Some((f, ev)) = fd {
            fds.push(libc::pollfd {
                fd: f,
                events: ev,
                revents: 0,
            });
        }
        let ms = timeout.as_millis().min(1000) as i32;
        // SAFETY: fds is a valid array of pollfd of the given length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n <= 0 {
            return false;
        }
        if fds[0].revents != 0 && !self.ended {
            let mut b = [0u8; 256];
            // SAFETY: reading into a local buffer from fd 0.
            let r = unsafe { libc::read(0, b.as_mut_ptr().cast(), b.len()) };
            if r <= 0 || String::from_utf8_lossy(&b[..r as usize]).contains("stop") {
                self.ended = true;
            }
        }
        fds.len() > 1 && fds[1].revents != 0
    }
}

fn out(line: std::fmt::Arguments<'_>) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_fmt(line);
    let _ = o.write_all(b"\n");
    let _ = o.flush();
}

/// TCP_INFO of a socket: (total retransmissions, bytes acked).
fn tcp_info(s: &TcpStream) -> (u32, u64) {
    // SAFETY: tcp_info is plain old data; getsockopt writes at most `len` bytes into it.
    unsafe {
        let mut info: libc::tcp_info = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let r = libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        );
        if r != 0 {
            return (0, 0);
        }
        (info.tcpi_total_retrans, info.tcpi_bytes_acked)
    }
}

/// Options of the sender.
#[derive(Clone, Debug)]
pub struct SendOpts {
    /// Where to connect.
    pub to: SocketAddrV4,
    /// Bytes per second.
    pub rate: u64,
    /// Bytes per write.
    pub chunk: usize,
    /// Hard limit on the sending time.
    pub max_seconds: f64,
    /// How long to wait, after the last byte, for the receiver to confirm the end.
    pub drain_seconds: f64,
}

/// The sender (`mip-lab _stream-send`). Returns the exit code.
pub fn send(o: &SendOpts) -> i32 {
    let connect_deadline = Instant::now() + Duration::from_secs(10);
    let mut watch = StdinWatch::new();
    let sock = loop {
        match TcpStream::connect_timeout(&SocketAddr::V4(o.to), Duration::from_secs(1)) {
            Ok(s) => break s,
            Err(e) => {
                watch.poll(None, Duration::from_millis(100));
                if Instant::now() > connect_deadline || watch.ended {
                    out(format_args!("ERROR connect {}: {e}", o.to));
                    return 1;
                }
            }
        }
    };
    let _ = sock.set_nodelay(true);
    if let Err(e) = sock.set_nonblocking(true) {
        out(format_args!("ERROR nonblocking: {e}"));
        return 1;
    }
    let start = Instant::now();
    out(format_args!("CONNECTED {}", mono_ns()));
    let mut sent: u64 = 0;
    let mut buf = vec![0u8; o.chunk.max(1)];
    let mut last_progress = Instant::now();
    let tick = Duration::from_secs_f64(o.chunk as f64 / o.rate.max(1) as f64);
    loop {
        let elapsed = start.elapsed();
        if watch.ended || elapsed.as_secs_f64() >= o.max_seconds {
            break;
        }
        let target = (o.rate as f64 * elapsed.as_secs_f64()) as u64;
        let mut blocked = false;
        while sent < target {
            let n = ((target - sent) as usize).min(buf.len());
            fill_pattern(sent, &mut buf[..n]);
            match (&sock).write(&buf[..n]) {
                Ok(k) => sent += k as u64,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    blocked = true;
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    out(format_args!("ERROR write at byte {sent}: {e}"));
                    return 1;
                }
            }
        }
        if last_progress.elapsed() >= Duration::from_millis(50) {
            last_progress = Instant::now();
            out(format_args!("P {} {sent} {}", mono_ns(), tcp_info(&sock).0));
        }
        let fd = blocked.then_some((sock.as_raw_fd(), libc::POLLOUT));
        watch.poll(fd, tick.min(Duration::from_millis(50)));
    }
    out(format_args!("P {} {sent} {}", mono_ns(), tcp_info(&sock).0));
    // Everything write() accepted is in the kernel's send queue; the FIN follows it. The
    // receiver closes after reading the end, which is our confirmation.
    let _ = sock.shutdown(Shutdown::Write);
    let _ = sock.set_nonblocking(false);
    let drain_deadline = Instant::now() + Duration::from_secs_f64(o.drain_seconds);
    let mut drained = false;
    let mut scratch = [0u8; 512];
    while Instant::now() < drain_deadline {
        let left = drain_deadline.saturating_duration_since(Instant::now());
        let _ = sock.set_read_timeout(Some(
            left.clamp(Duration::from_millis(1), Duration::from_millis(200)),
        ));
        match (&sock).read(&mut scratch) {
            Ok(0) => {
                drained = true;
                break;
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => break,
        }
    }
    let (retrans, acked) = tcp_info(&sock);
    out(format_args!(
        "DONE {} {sent} {retrans} {} {acked}",
        mono_ns(),
        u8::from(drained)
    ));
    0
}

/// Options of the receiver.
#[derive(Clone, Debug)]
pub struct RecvOpts {
    /// Address to listen on (the mobile node's home address).
    pub bind: SocketAddrV4,
    /// Hard limit on the whole run.
    pub max_seconds: f64,
}

/// The receiver (`mip-lab _stream-recv`). Returns the exit code.
pub fn recv(o: &RecvOpts) -> i32 {
    let start = Instant::now();
    let max = Duration::from_secs_f64(o.max_seconds);
    let listener = match TcpListener::bind(o.bind) {
        Ok(l) => l,
        Err(e) => {
            out(format_args!("ERROR bind {}: {e}", o.bind));
            return 1;
        }
    };
    out(format_args!("LISTENING {}", mono_ns()));
    let mut watch = StdinWatch::new();
    let _ = listener.set_nonblocking(true);
    let mut sock = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                watch.poll(
                    Some((listener.as_raw_fd(), libc::POLLIN)),
                    Duration::from_millis(100),
                );
                if watch.ended || start.elapsed() > max {
                    out(format_args!("ERROR no connection"));
                    return 1;
                }
            }
            Err(e) => {
                out(format_args!("ERROR accept: {e}"));
                return 1;
            }
        }
    };
    drop(listener);
    out(format_args!("ACCEPTED {}", mono_ns()));
    let _ = sock.set_nonblocking(true);
    let mut total: u64 = 0;
    let mut first_mismatch: i64 = -1;
    let mut buf = vec![0u8; 64 * 1024];
    let mut scratch = Vec::new();
    let mut eof = false;
    loop {
        match sock.read(&mut buf) {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(n) => {
                if first_mismatch < 0 {
                    if let Some(k) = check_pattern(total, &buf[..n], &mut scratch) {
                        first_mismatch = (total + k as u64) as i64;
                    }
                }
                total += n as u64;
                out(format_args!("R {} {total}", mono_ns()));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                // Stdin ending aborts the receiver only while no data flows: the sender's
                // end of stream is what normally ends it.
                if watch.ended || start.elapsed() > max {
                    break;
                }
                watch.poll(
                    Some((sock.as_raw_fd(), libc::POLLIN)),
                    Duration::from_millis(100),
                );
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                out(format_args!("ERROR read at byte {total}: {e}"));
                break;
            }
        }
    }
    out(format_args!(
        "DONE {} {total} {} {first_mismatch} {}",
        mono_ns(),
        u8::from(first_mismatch < 0),
        u8::from(eof)
    ));
    // Closing tells the sender that everything arrived.
    let _ = sock.shutdown(Shutdown::Both);
    if eof {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_is_consistent() {
        let mut a = vec![0u8; 1000];
        fill_pattern(0, &mut a);
        for (i, &b) in a.iter().enumerate() {
            assert_eq!(b, pattern_byte(i as u64));
        }
        let mut b = vec![0u8; 333];
        fill_pattern(123, &mut b);
        assert_eq!(&a[123..456], &b[..]);
        let mut scratch = Vec::new();
        assert_eq!(check_pattern(123, &b, &mut scratch), None);
        b[17] ^= 1;
        assert_eq!(check_pattern(123, &b, &mut scratch), Some(17));
        // A shifted stream is caught at once.
        assert_eq!(check_pattern(124, &a[123..456], &mut scratch), Some(0));
    }

    #[test]
    fn pattern_round_trip_over_loopback() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            let mut buf = vec![0u8; 10_000];
            fill_pattern(0, &mut buf);
            s.write_all(&buf).unwrap();
        });
        let (mut s, _) = l.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        t.join().unwrap();
        let mut scratch = Vec::new();
        assert_eq!(got.len(), 10_000);
        assert_eq!(check_pattern(0, &got, &mut scratch), None);
    }
}
