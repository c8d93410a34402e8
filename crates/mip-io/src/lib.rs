//! The only crate that touches the operating system: UDP 434 sockets, TUN,
//! raw sockets for IP-in-IP / GRE / minimal encapsulation, AF_PACKET for ARP,
//! and rtnetlink. Protocol crates never open sockets; they emit requests that
//! this crate carries out. (Filled in with the daemon and data-plane issues.)
