//! Bad input never crashes the home agent: random datagrams, truncations and single-byte
//! mutations of valid requests are all handled, counted, and either ignored or answered; the
//! table stays consistent.

mod common;

use std::net::SocketAddrV4;

use common::*;
use mip_wire::extension::Extension;
use proptest::prelude::*;

fn total(ha: &mip_ha::HomeAgent) -> u64 {
    let c = ha.counters();
    c.register_requests + c.deregister_requests
}

fn handled(ha: &mip_ha::HomeAgent) -> u64 {
    let c = ha.counters();
    c.register_replied + c.deregister_replied + c.ignored
}

fn valid_request(t: u64, with_nai: bool) -> Vec<u8> {
    let mut r = if with_nai {
        let mut r = Request::new(a("0.0.0.0"), a("68.0.0.31"), at(t), sa(0x100, NAI_KEY));
        r.before.push(Extension::Nai(b"herbert@left.com".to_vec()));
        r.before.push(mip_ha::session::session_id_extension(b"PDA"));
        r
    } else {
        Request::new(a("10.0.0.1"), a("68.0.0.31"), at(t), sa(0x100, VN_KEY))
    };
    r = r.via_fa();
    r.bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_datagrams_never_panic_and_are_counted(
        bytes in proptest::collection::vec(any::<u8>(), 0..120),
        first in prop_oneof![Just(1u8), any::<u8>()],
    ) {
        let mut ha = home_agent();
        let mut b = bytes;
        if let Some(x) = b.first_mut() {
            *x = first;
        }
        ha.handle_request(at(0), SocketAddrV4::new(a("68.0.0.31"), 434), ha_addr(), &b);
        let out = drain(&mut ha);
        prop_assert_eq!(total(&ha), 1);
        prop_assert_eq!(handled(&ha), 1);
        prop_assert!(out.transmit.len() <= 1);
        ha.handle_timeout(at(100_000));
    }

    #[test]
    fn mutated_valid_requests_never_panic(
        pos in 0usize..200,
        val in any::<u8>(),
        cut in 0usize..200,
        nai in any::<bool>(),
    ) {
        let mut ha = home_agent();
        let mut b = valid_request(0, nai);
        let p = pos % b.len();
        b[p] = val;
        let c = cut % (b.len() + 1);
        b.truncate(c.max(p + 1));
        ha.handle_request(at(0), SocketAddrV4::new(a("68.0.0.31"), 434), ha_addr(), &b);
        let out = drain(&mut ha);
        prop_assert_eq!(handled(&ha), total(&ha));
        if let Some(t) = out.transmit.first() {
            let r = mip_wire::registration::RegistrationReply::from_bytes(&t.payload);
            prop_assert!(r.is_ok());
        }
        // Whatever happened, the table is consistent with the snapshots and can expire.
        prop_assert_eq!(ha.bindings(at(0)).len(), ha.binding_count());
        ha.handle_timeout(at(100_000));
        prop_assert_eq!(ha.binding_count(), 0);
        prop_assert_eq!(ha.tunnel_count(), 0);
    }

    #[test]
    fn sequences_of_operations_keep_the_table_consistent(
        ops in proptest::collection::vec((0u8..6, 1u8..4, 0u8..3, any::<bool>()), 1..40),
    ) {
        let mut ha = home_agent();
        let mut t = 0u64;
        for (op, host, coa, s) in ops {
            t += 3;
            let home = a(&format!("11.0.0.{host}"));
            let coa = a(&format!("70.0.0.{}", coa + 2));
            let flags = if s { 0x80 } else { 0 };
            let r = Request::new(home, coa, at(t), sa(0x100, MN_KEY)).flags(flags);
            match op {
                0 | 1 => { send(&mut ha, at(t), &r.lifetime(20)); }
                2 => { send(&mut ha, at(t), &r.lifetime(0)); }
                3 => { send(&mut ha, at(t), &Request::new(home, home, at(t), sa(0x100, MN_KEY)).lifetime(0)); }
                4 => { ha.clear_bindings(&mip_ha::BindingSelector::Address(home)); drain(&mut ha); }
                _ => { ha.handle_timeout(at(t)); drain(&mut ha); }
            }
            prop_assert_eq!(ha.bindings(at(t)).len(), ha.binding_count());
            // Every binding has a distinct (home, care-of) pair and at most 3 per node.
            for h in 1..4 {
                let n = ha.bindings_of(a(&format!("11.0.0.{h}")), at(t)).len();
                prop_assert!(n <= 3);
            }
        }
        ha.handle_timeout(at(t + 100));
        drain(&mut ha);
        prop_assert_eq!(ha.binding_count(), 0);
        prop_assert_eq!(ha.tunnel_count(), 0);
        prop_assert_eq!(ha.poll_timeout(), None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// `warm` is only a hint: a batch handled after it gives exactly the outputs of the same
    /// batch without it, and it takes any bytes (empty, short, garbage) without panicking.
    #[test]
    fn warm_is_only_a_hint(
        batch in proptest::collection::vec(
            (0usize..200, any::<u8>(), 0usize..200, any::<bool>(), any::<bool>()),
            1..24,
        ),
    ) {
        let datagrams: Vec<Vec<u8>> = batch
            .iter()
            .enumerate()
            .map(|(i, &(pos, val, cut, nai, mutate))| {
                let mut b = valid_request(i as u64, nai);
                if mutate {
                    let p = pos % b.len();
                    b[p] = val;
                    b.truncate((cut % (b.len() + 1)).max(p + 1));
                }
                b
            })
            .collect();
        let mut plain = home_agent();
        let mut warmed = home_agent();
        warmed.warm(datagrams.iter().map(Vec::as_slice));
        warmed.warm([&[][..], &[1][..], &[1, 0, 0, 0, 10][..]].into_iter());
        for d in &datagrams {
            let src = SocketAddrV4::new(a("68.0.0.31"), 434);
            plain.handle_request(at(0), src, ha_addr(), d);
            warmed.handle_request(at(0), src, ha_addr(), d);
        }
        let (p, w) = (drain(&mut plain), drain(&mut warmed));
        prop_assert_eq!(format!("{:?}", p.store), format!("{:?}", w.store));
        prop_assert_eq!(format!("{:?}", p.dataplane), format!("{:?}", w.dataplane));
        let payloads = |o: &Out| o.transmit.iter().map(|t| t.payload.clone()).collect::<Vec<_>>();
        prop_assert_eq!(payloads(&p), payloads(&w));
    }
}
