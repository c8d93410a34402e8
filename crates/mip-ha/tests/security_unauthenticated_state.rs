//! Requests that do not authenticate leave no per-host state behind: under an NAI, the Home
//! Address field of a request whose MN-HA authenticator is not verified is whatever the sender
//! wrote, so counting under it would let anyone who knows one configured NAI create per-host
//! records (and index entries) without bound. Such failures are counted in the global
//! counters and the violation log (bounded) only. Verified requests are counted per host as
//! before, and so are an address mobile node's failures (its home address chose its
//! configured security association: see `host_counters_list`).

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::*;
use mip_ha::HostCounters;
use mip_wire::extension::Extension;

const NAI: &str = "herbert@left.com";

fn nai_sa() -> mip_security::SecurityAssociation {
    sa(0x100, NAI_KEY)
}

fn nai_req(home: Ipv4Addr, coa: Ipv4Addr, t: u64) -> Request {
    let mut r = Request::new(home, coa, at(t), nai_sa());
    r.before.push(Extension::Nai(NAI.as_bytes().to_vec()));
    r
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn listed(ha: &mip_ha::HomeAgent) -> Vec<(Ipv4Addr, HostCounters)> {
    ha.host_counters_iter().collect()
}

#[test]
fn nai_flood_with_wrong_authenticators_creates_no_per_host_state() {
    const FLOOD: u64 = 100_000;
    let mut ha = home_agent();
    // The NAI's own registration, and an address mobile node's: both counted.
    let out = send(&mut ha, at(0), &nai_req(a("0.0.0.0"), a("70.0.0.2"), 0));
    assert_eq!(out.code(), 0);
    assert_eq!(out.reply().home_address, a("10.20.2.100"));
    let vn = Request::new(a("10.0.0.1"), a("70.0.0.3"), at(0), sa(0x100, VN_KEY));
    assert_eq!(send(&mut ha, at(0), &vn).code(), 0);
    let heap = ha.table_heap_bytes();
    let before = listed(&ha);
    assert_eq!(
        before.iter().map(|(h, _)| *h).collect::<Vec<_>>(),
        vec![a("10.20.2.100"), a("10.0.0.1")]
    );

    // The flood: the NAI with random Home Addresses (the NAI's own among them) and
    // authenticators that do not verify, in every way one can fail before the MN-HA
    // authenticator is verified.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut codes = [0u64; 256];
    for n in 0..FLOOD {
        let t = 1 + n / 1000;
        let home = match n % 10 {
            0 => a("10.20.2.100"),
            1 => a("0.0.0.0"),
            _ => Ipv4Addr::from(rng.next() as u32),
        };
        let mut r = nai_req(home, a("70.0.0.2"), t);
        let mut source = r.coa;
        let mut bytes = None;
        match n % 5 {
            0 | 1 => r.bad_authenticator = true,
            2 => r.mn_sa = Some(sa(0x999, NAI_KEY)),
            3 => {
                // Through the foreign agent, with the wrong FA-HA key: 132.
                r.coa = fa_addr();
                source = fa_addr();
                r.fa_sa = Some(sa(0x300, MN_KEY));
            }
            _ => {
                // Extensions that do not frame after a good fixed part: 134.
                let mut b = r.bytes();
                b.truncate(b.len() - 3);
                bytes = Some(b);
            }
        }
        let bytes = bytes.unwrap_or_else(|| r.bytes());
        ha.handle_request(at(t), SocketAddrV4::new(source, 434), ha_addr(), &bytes);
        let out = drain(&mut ha);
        assert!(
            out.store.is_empty() && out.dataplane.is_empty(),
            "request {n}"
        );
        codes[usize::from(out.code())] += 1;
    }
    assert_eq!(codes[131], FLOOD * 3 / 5);
    assert_eq!(codes[132], FLOOD / 5);
    assert_eq!(codes[134], FLOOD / 5);

    // Nothing per host: not a byte more in the table, the same records with the same values
    // (the NAI's own address included).
    assert_eq!(ha.table_heap_bytes(), heap);
    assert_eq!(listed(&ha), before);
    assert_eq!(ha.host_counters(a("10.20.2.100")), Some(before[0].1));
    // Counted globally, and in the violation log, which keeps its size.
    assert_eq!(ha.counters().auth_failed_mn, FLOOD * 3 / 5);
    assert_eq!(ha.counters().auth_failed_fa, FLOOD / 5);
    assert_eq!(ha.counters().bad_request_form, FLOOD / 5);
    assert_eq!(ha.counters().denied, FLOOD);
    assert_eq!(ha.violations_total(), FLOOD * 4 / 5);
    assert_eq!(ha.violations().count(), 1024);
    assert_eq!(ha.binding_count(), 2);

    // Verified requests are still counted: the NAI renews, an address mobile node registers.
    let t = 1 + FLOOD / 1000;
    let out = send(&mut ha, at(t), &nai_req(a("0.0.0.0"), a("70.0.0.2"), t));
    assert_eq!(out.code(), 0);
    let c = ha.host_counters(a("10.20.2.100")).unwrap();
    assert_eq!((c.accepted, c.last_accepted_ms), (2, (T0 + t) * 1000));
    assert_eq!((c.denied, c.violations), (0, 0));
    let vn = Request::new(a("10.0.0.2"), a("70.0.0.3"), at(t), sa(0x100, VN_KEY));
    assert_eq!(send(&mut ha, at(t), &vn).code(), 0);
    assert_eq!(ha.host_counters(a("10.0.0.2")).unwrap().accepted, 1);
    assert_eq!(ha.host_counters_iter().count(), 3);
}

#[test]
fn verified_nai_requests_are_counted_per_host_even_when_denied() {
    let mut ha = home_agent();
    // Verified, but asks for an address the NAI may not have: 129, counted under it (the
    // address is the mobile node's authenticated word).
    let out = send(&mut ha, at(0), &nai_req(a("10.20.9.9"), a("70.0.0.2"), 0));
    assert_eq!(out.code(), 129);
    let c = ha.host_counters(a("10.20.9.9")).unwrap();
    assert_eq!(
        (c.denied, c.last_code, c.violations, c.last_denied_ms),
        (1, 129, 0, T0 * 1000)
    );
    // Verified, then a replay: 133 and a violation, counted per host.
    let r = nai_req(a("10.20.2.100"), a("70.0.0.2"), 1);
    assert_eq!(send(&mut ha, at(1), &r).code(), 0);
    assert_eq!(send(&mut ha, at(2), &r).code(), 133);
    let c = ha.host_counters(a("10.20.2.100")).unwrap();
    assert_eq!(
        (c.accepted, c.denied, c.violations, c.last_code),
        (1, 1, 1, 133)
    );
    // Not verified: no record, and an existing one is left alone.
    let mut bad = nai_req(a("10.20.2.100"), a("70.0.0.2"), 3);
    bad.bad_authenticator = true;
    assert_eq!(send(&mut ha, at(3), &bad).code(), 131);
    assert_eq!(ha.host_counters(a("10.20.2.100")), Some(c));
    let mut bad = nai_req(a("10.20.2.102"), a("70.0.0.2"), 4);
    bad.bad_authenticator = true;
    assert_eq!(send(&mut ha, at(4), &bad).code(), 131);
    assert_eq!(ha.host_counters(a("10.20.2.102")), None);
    assert_eq!(ha.host_counters_iter().count(), 2);
    assert_eq!(ha.violations().count(), 3);
}
