//! The demo's pinger (`mip-lab _ping`), run in `cn`: ICMP echo requests to the mobile node's
//! home address at a fixed interval, on a raw socket. Events on standard output, with
//! CLOCK_MONOTONIC timestamps (ns): `S seq t` for each request, `R seq t` for each reply,
//! `END sent received` at the end. It stops when standard input ends, after `--max-seconds`,
//! or after `max_seconds / interval` requests, then waits `linger` for late replies.

use std::io::Write;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::sh::mono_ns;

/// Options of the pinger.
#[derive(Clone, Debug)]
pub struct PingOpts {
    /// Target.
    pub to: Ipv4Addr,
    /// Interval between requests.
    pub interval: Duration,
    /// Hard limit on the sending time.
    pub max_seconds: f64,
    /// How long to wait for replies after the last request.
    pub linger: Duration,
}

/// The Internet checksum.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += u32::from(w);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request.
pub fn echo_request(id: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![0u8; 8 + 56];
    p[0] = 8;
    p[4..6].copy_from_slice(&id.to_be_bytes());
    p[6..8].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in p[8..].iter_mut().enumerate() {
        *b = i as u8;
    }
    let c = checksum(&p);
    p[2..4].copy_from_slice(&c.to_be_bytes());
    p
}

/// Parses an IPv4 packet carrying an echo reply: (source, id, seq).
pub fn parse_echo_reply(pkt: &[u8]) -> Option<(Ipv4Addr, u16, u16)> {
    if pkt.len() < 20 || pkt[0] >> 4 != 4 || pkt[9] != 1 {
        return None;
    }
    let ihl = usize::from(pkt[0] & 0x0f) * 4;
    let icmp = pkt.get(ihl..)?;
    if icmp.len() < 8 || icmp[0] != 0 || icmp[1] != 0 {
        return None;
    }
    let src = Ipv4Addr::new(pkt[12], pkt[13], pkt[14], pkt[15]);
    Some((
        src,
        u16::from_be_bytes([icmp[4], icmp[5]]),
        u16::from_be_bytes([icmp[6], icmp[7]]),
    ))
}

fn emit(o: &mut impl Write, line: std::fmt::Arguments<'_>) {
    let _ = o.write_fmt(line);
    let _ = o.write_all(b"\n");
}

/// Runs the pinger. Returns the exit code.
pub fn ping(o: &PingOpts) -> i32 {
    // SAFETY: plain socket(2); the descriptor is closed at the end.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            libc::IPPROTO_ICMP,
        )
    };
    if fd < 0 {
        println!("ERROR raw ICMP socket: {}", std::io::Error::last_os_error());
        return 1;
    }
    let id = (std::process::id() & 0xffff) as u16;
    let dst = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(o.to).to_be(),
        },
        sin_zero: [0; 8],
    };
    let max_count = (o.max_seconds / o.interval.as_secs_f64()).ceil() as u64;
    let start = Instant::now();
    let mut sent: u64 = 0;
    let mut received: u64 = 0;
    let mut stdin_open = true;
    let mut stopping_at: Option<Instant> = None;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut buf = [0u8; 2048];
    loop {
        let now = Instant::now();
        if stopping_at.is_none()
            && (!stdin_open
                || sent >= max_count
                || now.duration_since(start).as_secs_f64() >= o.max_seconds)
        {
            stopping_at = Some(now);
        }
        if let Some(t) = stopping_at {
            if now.duration_since(t) >= o.linger {
                break;
            }
        }
        let next_send = start + o.interval.mul_f64(sent as f64);
        if stopping_at.is_none() && now >= next_send {
            let pkt = echo_request(id, sent as u16);
            // SAFETY: sending a local buffer to a valid sockaddr_in.
            unsafe {
                libc::sendto(
                    fd,
                    pkt.as_ptr().cast(),
                    pkt.len(),
                    0,
                    (&dst as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                );
            }
            emit(&mut out, format_args!("S {sent} {}", mono_ns()));
            sent += 1;
        }
        loop {
            // SAFETY: receiving into a local buffer.
            let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                break;
            }
            let t = mono_ns();
            if let Some((src, rid, seq16)) = parse_echo_reply(&buf[..n as usize]) {
                if src == o.to && rid == id && sent > 0 {
                    // Widen the 16-bit sequence number to the latest request it can be.
                    let last = sent - 1;
                    let back = u64::from((last as u16).wrapping_sub(seq16));
                    if back <= last {
                        received += 1;
                        emit(&mut out, format_args!("R {} {t}", last - back));
                    }
                }
            }
        }
        let _ = out.flush();
        let now = Instant::now();
        let wait = match stopping_at {
            Some(t) => (t + o.linger).saturating_duration_since(now),
            None => (start + o.interval.mul_f64(sent as f64)).saturating_duration_since(now),
        }
        .min(Duration::from_millis(50));
        let mut fds = [
            libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if stdin_open { 0 } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let ms = wait.as_micros().div_ceil(1000) as i32;
        // SAFETY: valid pollfd array.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
        if r > 0 && fds[1].revents != 0 {
            let mut b = [0u8; 256];
            // SAFETY: reading into a local buffer.
            let k = unsafe { libc::read(0, b.as_mut_ptr().cast(), b.len()) };
            if k <= 0 || String::from_utf8_lossy(&b[..k as usize]).contains("stop") {
                stdin_open = false;
            }
        }
    }
    emit(&mut out, format_args!("END {sent} {received}"));
    let _ = out.flush();
    // SAFETY: closing our own descriptor.
    unsafe {
        libc::close(fd);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_checksum_verifies() {
        let p = echo_request(0x1234, 7);
        assert_eq!(checksum(&p), 0);
        assert_eq!(&p[4..8], &[0x12, 0x34, 0, 7]);
    }

    #[test]
    fn reply_parses() {
        let mut pkt = vec![
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 10, 0, 10, 10, 0, 1, 2,
        ];
        let mut icmp = echo_request(9, 300);
        icmp[0] = 0;
        pkt.extend_from_slice(&icmp);
        assert_eq!(
            parse_echo_reply(&pkt),
            Some((Ipv4Addr::new(10, 10, 0, 10), 9, 300))
        );
        pkt[20] = 8;
        assert_eq!(parse_echo_reply(&pkt), None);
        assert_eq!(parse_echo_reply(&pkt[..10]), None);
    }
}
