//! Link change detection (the mobile node's move detection): rtnetlink link notifications (`RTMGRP_LINK`). The kernel announces
//! a carrier change as soon as its link watch runs (at once for a veth or a real NIC), so the
//! mobile node learns of a move within a millisecond or so; the state is also re-read (a
//! `RTM_GETLINK` dump on the same socket) at start, after a lost notification (`ENOBUFS`) and
//! every few seconds as a safety net.
//!
//! "Up" means usable: administratively up (`IFF_UP`), carrier (`IFF_LOWER_UP`) and an
//! operational state of up (or unknown, for devices that do not report one).

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::os::{bind, new_socket, setsockopt};

const RTMGRP_LINK: u32 = 1;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_OPERSTATE: u16 = 16;
const IF_OPER_UNKNOWN: u8 = 0;
const IF_OPER_UP: u8 = 6;
const IFF_UP: u32 = 0x1;
const IFF_LOWER_UP: u32 = 0x1_0000;

/// What is known of one link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkState {
    /// Interface index.
    pub ifindex: u32,
    /// Name.
    pub name: String,
    /// Usable (see the module documentation).
    pub up: bool,
    /// Its Ethernet address.
    pub mac: Option<[u8; 6]>,
}

/// A change of a watched link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkChange {
    /// Came up (or was seen up for the first time).
    Up(LinkState),
    /// Went down, or disappeared.
    Down(LinkState),
}

/// Watches the links named at creation.
#[derive(Debug)]
pub struct LinkMonitor {
    fd: OwnedFd,
    watched: Vec<String>,
    state: BTreeMap<String, LinkState>,
    buf: Vec<u8>,
    seq: u32,
    /// A dump was asked for and has not ended.
    dumping: bool,
}

fn ne_u16(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn ne_u32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses the body of a `RTM_NEWLINK`/`RTM_DELLINK` (from the `ifinfomsg`).
pub fn parse_link(body: &[u8]) -> Option<LinkState> {
    if body.len() < 16 {
        return None;
    }
    let ifindex = ne_u32(body, 4);
    let flags = ne_u32(body, 8);
    let mut name = None;
    let mut oper = IF_OPER_UNKNOWN;
    let mut mac = None;
    let mut at = 16;
    while at + 4 <= body.len() {
        let len = usize::from(ne_u16(body, at));
        let ty = ne_u16(body, at + 2) & 0x3fff;
        if len < 4 || at + len > body.len() {
            break;
        }
        let data = &body[at + 4..at + len];
        match ty {
            IFLA_IFNAME => {
                let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
                name = Some(String::from_utf8_lossy(&data[..end]).into_owned());
            }
            IFLA_OPERSTATE if !data.is_empty() => oper = data[0],
            IFLA_ADDRESS if data.len() == 6 => {
                let mut m = [0u8; 6];
                m.copy_from_slice(data);
                mac = Some(m);
            }
            _ => {}
        }
        at += (len + 3) & !3;
    }
    let up = flags & IFF_UP != 0
        && flags & IFF_LOWER_UP != 0
        && (oper == IF_OPER_UP || oper == IF_OPER_UNKNOWN);
    Some(LinkState {
        ifindex,
        name: name?,
        up,
        mac,
    })
}

impl LinkMonitor {
    /// Subscribes to link notifications and asks for the current state (read it with
    /// [`LinkMonitor::poll`]).
    ///
    /// # Errors
    /// The netlink socket cannot be opened.
    pub fn open(watched: &[String]) -> io::Result<Self> {
        let fd = new_socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)?;
        // A bigger queue makes a lost notification (ENOBUFS) rarer; not fatal if refused.
        let _ = setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &((1 as libc::c_int) << 20),
        );
        // SAFETY: sockaddr_nl is plain data; all-zero is a valid value.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        sa.nl_groups = RTMGRP_LINK;
        bind(fd.as_raw_fd(), &sa)?;
        let mut m = LinkMonitor {
            fd,
            watched: watched.to_vec(),
            state: BTreeMap::new(),
            buf: vec![0; 1 << 16],
            seq: 0,
            dumping: false,
        };
        m.request_dump()?;
        Ok(m)
    }

    /// Asks the kernel for every link's state (answers arrive through [`LinkMonitor::poll`]).
    ///
    /// # Errors
    /// The request could not be sent.
    pub fn request_dump(&mut self) -> io::Result<()> {
        if self.dumping {
            return Ok(());
        }
        self.seq = self.seq.wrapping_add(1);
        let mut msg = Vec::with_capacity(32);
        msg.extend_from_slice(&32u32.to_ne_bytes());
        msg.extend_from_slice(&RTM_GETLINK.to_ne_bytes());
        msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&[0u8; 16]); // ifinfomsg, AF_UNSPEC
                                           // SAFETY: `msg` is valid for reads of its length.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        self.dumping = true;
        Ok(())
    }

    /// Reads everything waiting; returns the changes of watched links, in order.
    ///
    /// # Errors
    /// The socket failed (other than a lost notification, which triggers a new dump).
    pub fn poll(&mut self) -> io::Result<Vec<LinkChange>> {
        let mut out = Vec::new();
        loop {
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EAGAIN) => return Ok(out),
                    Some(libc::EINTR) => continue,
                    Some(libc::ENOBUFS) => {
                        tracing::warn!("link notifications lost: re-reading the link state");
                        self.dumping = false;
                        self.request_dump()?;
                        continue;
                    }
                    _ => return Err(e),
                }
            }
            let n = n as usize;
            let mut at = 0;
            while at + 16 <= n {
                let len = ne_u32(&self.buf, at) as usize;
                let ty = ne_u16(&self.buf, at + 4);
                if len < 16 || at + len > n {
                    break;
                }
                match ty {
                    NLMSG_DONE | NLMSG_ERROR => self.dumping = false,
                    RTM_NEWLINK | RTM_DELLINK => {
                        if let Some(mut l) = parse_link(&self.buf[at + 16..at + len]) {
                            if ty == RTM_DELLINK {
                                l.up = false;
                            }
                            self.update(l, &mut out);
                        }
                    }
                    _ => {}
                }
                at += (len + 3) & !3;
            }
        }
    }

    fn update(&mut self, l: LinkState, out: &mut Vec<LinkChange>) {
        if !self.watched.contains(&l.name) {
            return;
        }
        let prev = self.state.insert(l.name.clone(), l.clone());
        match prev {
            Some(p) if p.up == l.up && p.ifindex == l.ifindex => {}
            Some(p) if p.up && l.up => {
                // Same name, another device: it went away and a new one came.
                out.push(LinkChange::Down(p));
                out.push(LinkChange::Up(l));
            }
            None if !l.up => out.push(LinkChange::Down(l)),
            _ if l.up => out.push(LinkChange::Up(l)),
            _ => out.push(LinkChange::Down(l)),
        }
    }
}

impl AsRawFd for LinkMonitor {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(ty: u16, data: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        a.extend_from_slice(&ty.to_ne_bytes());
        a.extend_from_slice(data);
        while a.len() % 4 != 0 {
            a.push(0);
        }
        a
    }

    fn body(index: u32, flags: u32, name: &str, oper: u8) -> Vec<u8> {
        let mut b = vec![0u8; 16];
        b[4..8].copy_from_slice(&index.to_ne_bytes());
        b[8..12].copy_from_slice(&flags.to_ne_bytes());
        b.extend(attr(IFLA_IFNAME, format!("{name}\0").as_bytes()));
        b.extend(attr(IFLA_OPERSTATE, &[oper]));
        b.extend(attr(IFLA_ADDRESS, &[2, 0, 0, 0, 0, 7]));
        b
    }

    #[test]
    fn parses_carrier_and_operstate() {
        let l = parse_link(&body(5, IFF_UP | IFF_LOWER_UP, "mn0", IF_OPER_UP)).unwrap();
        assert_eq!(
            l,
            LinkState {
                ifindex: 5,
                name: "mn0".into(),
                up: true,
                mac: Some([2, 0, 0, 0, 0, 7])
            }
        );
        // Administratively up without carrier (operstate LOWERLAYERDOWN = 3).
        assert!(!parse_link(&body(5, IFF_UP, "mn0", 3)).unwrap().up);
        // Carrier, but dormant (5): not usable yet.
        assert!(
            !parse_link(&body(5, IFF_UP | IFF_LOWER_UP, "mn0", 5))
                .unwrap()
                .up
        );
        // No operstate reported: carrier decides.
        assert!(
            parse_link(&body(5, IFF_UP | IFF_LOWER_UP, "mn0", IF_OPER_UNKNOWN))
                .unwrap()
                .up
        );
        assert!(parse_link(&[0u8; 8]).is_none());
    }
}
