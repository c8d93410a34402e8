//! The home agent built from the router's configuration language (seed 002 "Home Agent
//! Configuration Example", through `mip-config`): host groups, lifetimes, roam-access and
//! care-of-access lists, per-host SAs with hexadecimal SPIs, SIGHUP.

mod common;

use common::*;
use mip_ha::HomeAgent;

const CONFIG: &str = "\
router mobile
ip mobile home-agent broadcast roam-access 1
ip mobile virtual-network 10.0.0.0 255.0.0.0
ip mobile host 10.0.0.1 10.0.0.10 virtual-network 10.0.0.0 255.0.0.0 care-of-access 2
ip mobile host 11.0.0.1 11.0.0.5 interface Ethernet1 lifetime 3600
ip mobile secure host 10.0.0.1 spi 100 key hex 12345678123456781234567812345678
ip mobile secure host 10.0.0.2 spi 200 key hex 87654321876543218765432187654321
ip mobile secure host 11.0.0.1 spi 100 key hex 73839303313233343536313233343536
ip mobile secure host 11.0.0.5 spi 200 key hex 63738393132333435330313233343536
access-list 1 deny 11.0.0.5
access-list 1 permit any
access-list 2 deny 13.0.0.0 0.255.255.255
access-list 2 permit any
";

fn cfg(text: &str) -> mip_config::Config {
    mip_config::parse_ios(text, "ha.ios").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn seed002_configuration_example_end_to_end() {
    let mut ha = HomeAgent::new(&cfg(CONFIG), &[ha_addr()]);
    let s11 = sa(0x100, "73839303313233343536313233343536");
    // Ethernet1 group: lifetime capped at one hour, ARP on Ethernet1.
    let out = send(
        &mut ha,
        at(0),
        &Request::new(a("11.0.0.1"), a("70.0.0.2"), at(0), s11).lifetime(10000),
    );
    assert_eq!(out.code(), 0);
    assert_eq!(out.reply().lifetime, 3600);
    assert_eq!(
        ha.bindings(at(0))[0].interface.as_deref(),
        Some("Ethernet1")
    );
    // access-list 1 denies roaming to 11.0.0.5.
    let s15 = sa(0x200, "63738393132333435330313233343536");
    assert_eq!(
        send(
            &mut ha,
            at(1),
            &Request::new(a("11.0.0.5"), a("70.0.0.2"), at(1), s15)
        )
        .code(),
        129
    );
    // access-list 2: the virtual network's hosts may not register from 13.0.0.0/8.
    let s1 = sa(0x100, "12345678123456781234567812345678");
    let r = Request::new(a("10.0.0.1"), a("13.1.1.1"), at(2), s1.clone());
    assert_eq!(send(&mut ha, at(2), &r).code(), 129);
    let r = Request::new(a("10.0.0.1"), a("70.0.0.3"), at(3), s1);
    assert_eq!(send(&mut ha, at(3), &r).code(), 0);
    // SPI 200 is hexadecimal 0x200.
    let s2 = sa(0x200, "87654321876543218765432187654321");
    assert_eq!(
        send(
            &mut ha,
            at(4),
            &Request::new(a("10.0.0.2"), a("70.0.0.3"), at(4), s2)
        )
        .code(),
        0
    );
    // No SA for 10.0.0.3: ignored.
    let r = Request::new(a("10.0.0.3"), a("70.0.0.3"), at(5), sa(0x300, MN_KEY));
    assert!(send(&mut ha, at(5), &r).silent());
    assert_eq!(ha.binding_count(), 3);

    // SIGHUP with the home agent switched off: bindings stay, new requests are ignored.
    let off = CONFIG.replace("ip mobile home-agent broadcast roam-access 1\n", "");
    ha.reconfigure(&cfg(&off));
    assert_eq!(ha.binding_count(), 3);
    let s11 = sa(0x100, "73839303313233343536313233343536");
    let r = Request::new(a("11.0.0.1"), a("70.0.0.2"), at(6), s11);
    assert!(send(&mut ha, at(6), &r).silent());
    assert_eq!(ha.counters().ignored_service_disabled, 1);
}
