//! `cargo bench -p mip-security`: the cost of one registration's message
//! work — parse a Registration Request carrying an NAI and MN-HA
//! authentication, verify its HMAC-MD5 authenticator, build and sign the
//! reply — and the HMAC verify against a bare HMAC-MD5 over the same bytes,
//! measured in the same process (baseline), reported as a ratio.
//!
//! Then the authenticator work alone, per registration (verify the request, sign the reply),
//! for HMAC-MD5 (RFC 5944 §3.5.1) and keyed-MD5 prefix+suffix (RFC 2002 §3.5.1), next to
//! the same computations with the `hmac`/`md-5` crates and a cached keyed state.
//!
//! The same verify + sign over many security associations (`COLD_SAS`, one per mobile node,
//! visited in a scrambled order) shows the cost with the keyed state out of the caches, as
//! in a home agent serving many mobile nodes.
//!
//! Each figure is the median of 9 runs of `ITERS` iterations.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use mip_security::{Algorithm, Key, ReplayProtection, SecurityAssociation};
use mip_wire::codes::ReplyCode;
use mip_wire::extension::{append_auth_extension, auth_regions, AuthKind, Extension};
use mip_wire::registration::{
    RegistrationReply, RegistrationRequest, RegistrationRequestPacket, RequestFlags,
};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant;

const ITERS: u32 = 200_000;
/// Security associations in the cache-cold case.
const COLD_SAS: usize = 1 << 18;

fn median_ns(mut f: impl FnMut()) -> f64 {
    // warm-up
    for _ in 0..ITERS / 10 {
        f();
    }
    let mut runs: Vec<f64> = (0..9)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..ITERS {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(ITERS)
        })
        .collect();
    runs.sort_by(|a, b| a.total_cmp(b));
    runs[runs.len() / 2]
}

fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench` flag: do a
    // single quick pass then, so the test suite stays fast.
    let quick = !std::env::args().any(|a| a == "--bench");
    let key = Key::from_hex("11223344556677889900aabbccddeeff").unwrap();
    let sa = SecurityAssociation::new(
        0x100,
        Algorithm::HmacMd5,
        key.clone(),
        ReplayProtection::default(),
    );
    let ps = SecurityAssociation::new(
        0x100,
        Algorithm::KeyedMd5PrefixSuffix,
        key,
        ReplayProtection::default(),
    );
    let req = RegistrationRequest {
        flags: RequestFlags {
            t: true,
            ..Default::default()
        },
        lifetime: 1800,
        home_address: Ipv4Addr::new(10, 50, 60, 100),
        home_agent: Ipv4Addr::new(10, 1, 0, 1),
        care_of_address: Ipv4Addr::new(68, 0, 0, 31),
        identification: 0xEB00_0000_1234_5678,
        extensions: vec![Extension::Nai(b"herbert@left.com".to_vec())],
    };
    let mut wire = req.to_bytes();
    append_auth_extension(&mut wire, AuthKind::MnHa, sa.spi(), 16, |c| {
        sa.authenticator(c)
    })
    .unwrap();

    let parse = || {
        let pkt = RegistrationRequestPacket::new_checked(black_box(&wire[..])).unwrap();
        let regions = auth_regions(pkt.as_bytes(), 24).unwrap();
        black_box((pkt.home_address(), pkt.identification(), regions.len()));
    };
    let regions = auth_regions(&wire, 24).unwrap();
    let region = regions[0];
    let verify = || {
        assert!(sa.verify(black_box(region.covered), black_box(region.authenticator)));
    };
    let keyed = <Hmac<Md5> as KeyInit>::new_from_slice(sa.key().expose_secret()).unwrap();
    let bare_cached = || {
        let mut m = keyed.clone();
        m.update(black_box(region.covered));
        black_box(m.finalize().into_bytes());
    };
    let bare_fresh = || {
        let mut m = <Hmac<Md5> as KeyInit>::new_from_slice(sa.key().expose_secret()).unwrap();
        m.update(black_box(region.covered));
        black_box(m.finalize().into_bytes());
    };
    let mut reply_buf = Vec::with_capacity(64);
    let mut build_reply = |id: u64| {
        let reply = RegistrationReply {
            code: ReplyCode::from(0),
            lifetime: 1800,
            home_address: Ipv4Addr::new(10, 50, 60, 100),
            home_agent: Ipv4Addr::new(10, 1, 0, 1),
            identification: id,
            extensions: Vec::new(),
        };
        reply_buf.clear();
        reply_buf.resize(reply.buffer_len(), 0);
        reply.emit(&mut reply_buf);
        append_auth_extension(&mut reply_buf, AuthKind::MnHa, sa.spi(), 16, |c| {
            sa.authenticator(c)
        })
        .unwrap();
        black_box(reply_buf.len());
    };

    // The authenticator work of one registration: verify the request's MN-HA authenticator
    // (over `region.covered`) and sign a reply (its covered bytes: 20-byte header plus the
    // extension's type, length and SPI).
    let mut reply_covered = vec![0u8; 26];
    reply_covered[0] = 3;
    reply_covered[20..].copy_from_slice(&[32, 20, 0, 0, 1, 0]);
    // A longer message too: 100 covered bytes.
    let long_covered = [0x5a_u8; 100];
    let ps_auth = ps.authenticator(region.covered);
    let hmac_long = sa.authenticator(&long_covered);
    let ps_long = ps.authenticator(&long_covered);
    let sa_verify_sign = |sa: &SecurityAssociation, auth: &[u8]| {
        assert!(sa.verify(black_box(region.covered), black_box(auth)));
        black_box(sa.authenticator(black_box(&reply_covered)));
    };
    let crate_hmac_verify_sign = || {
        let mut m = keyed.clone();
        m.update(black_box(region.covered));
        let a: [u8; 16] = m.finalize().into_bytes().into();
        assert!(bool::from(subtle::ConstantTimeEq::ct_eq(
            &a[..],
            black_box(region.authenticator)
        )));
        let mut m = keyed.clone();
        m.update(black_box(&reply_covered));
        black_box(m.finalize().into_bytes());
    };
    let mut prefix = Md5::new();
    prefix.update(ps.key().expose_secret());
    let crate_ps = |data: &[u8]| -> [u8; 16] {
        let mut h = prefix.clone();
        h.update(data);
        h.update(ps.key().expose_secret());
        h.finalize().into()
    };
    let crate_ps_verify_sign = || {
        let a = crate_ps(black_box(region.covered));
        assert!(bool::from(subtle::ConstantTimeEq::ct_eq(
            &a[..],
            black_box(&ps_auth[..])
        )));
        black_box(crate_ps(black_box(&reply_covered)));
    };

    // Many SAs, one key each; the request's authenticator under each is precomputed.
    let many = |algorithm: Algorithm| -> Vec<(SecurityAssociation, [u8; 16])> {
        let n = if quick { 16 } else { COLD_SAS };
        (0..n)
            .map(|i| {
                let mut k = [0x5c_u8; 16];
                k[..8]
                    .copy_from_slice(&(i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
                let sa = SecurityAssociation::new(
                    i as u32,
                    algorithm,
                    Key::from_bytes(&k).unwrap(),
                    ReplayProtection::Nonce,
                );
                let auth = sa.authenticator(region.covered);
                (sa, auth)
            })
            .collect()
    };
    let cold_hmac = many(Algorithm::HmacMd5);
    let cold_ps = many(Algorithm::KeyedMd5PrefixSuffix);
    let mut step = 0_usize;
    let mut cold_verify_sign = |sas: &[(SecurityAssociation, [u8; 16])]| {
        step = step.wrapping_add(1);
        // Fibonacci hashing of a counter: a scrambled visiting order.
        let (sa, auth) = &sas[(step.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 20) % sas.len()];
        sa_verify_sign(sa, auth);
    };

    if quick {
        cold_verify_sign(&cold_hmac);
        cold_verify_sign(&cold_ps);
        sa_verify_sign(&sa, region.authenticator);
        sa_verify_sign(&ps, &ps_auth);
        crate_hmac_verify_sign();
        crate_ps_verify_sign();
        assert!(sa.verify(&long_covered, &hmac_long));
        assert!(ps.verify(&long_covered, &ps_long));
        parse();
        verify();
        bare_cached();
        bare_fresh();
        build_reply(1);
        println!(
            "registration bench: quick pass ok (run `cargo bench -p mip-security` for figures)"
        );
        return;
    }

    let t_parse = median_ns(parse);
    let t_verify = median_ns(verify);
    let t_bare = median_ns(bare_cached);
    let t_fresh = median_ns(bare_fresh);
    let t_reply = median_ns(|| build_reply(0xEB00_0000_1234_5678));
    let t_all = median_ns(|| {
        let pkt = RegistrationRequestPacket::new_checked(black_box(&wire[..])).unwrap();
        let regions = auth_regions(pkt.as_bytes(), 24).unwrap();
        let r = &regions[0];
        assert!(sa.verify(r.covered, r.authenticator));
        let id = pkt.identification();
        build_reply(id);
    });

    let t_hmac_vs = median_ns(|| sa_verify_sign(&sa, region.authenticator));
    let t_hmac_vs_crate = median_ns(crate_hmac_verify_sign);
    let t_ps_vs = median_ns(|| sa_verify_sign(&ps, &ps_auth));
    let t_ps_vs_crate = median_ns(crate_ps_verify_sign);
    let t_hmac_long = median_ns(|| assert!(sa.verify(black_box(&long_covered), &hmac_long)));
    let t_ps_long = median_ns(|| assert!(ps.verify(black_box(&long_covered), &ps_long)));
    let t_cold_hmac = median_ns(|| cold_verify_sign(&cold_hmac));
    let t_cold_ps = median_ns(|| cold_verify_sign(&cold_ps));

    println!(
        "registration message path ({} bytes request, HMAC-MD5), median of 9 x {ITERS}",
        wire.len()
    );
    println!("  parse request + locate MN-HA auth    {t_parse:8.1} ns");
    println!("  verify HMAC-MD5 (SA, cached state)   {t_verify:8.1} ns");
    println!("  bare HMAC-MD5, cached key (baseline) {t_bare:8.1} ns");
    println!("  bare HMAC-MD5, keyed each time       {t_fresh:8.1} ns");
    println!("  build + sign reply                   {t_reply:8.1} ns");
    println!("  whole sequence                       {t_all:8.1} ns   (target <= 2000 ns)");
    println!(
        "  ratio verify / bare HMAC (cached)    {:8.2}      (target <= 1.50)",
        t_verify / t_bare
    );
    println!(
        "  ratio verify / bare HMAC (fresh)     {:8.2}",
        t_verify / t_fresh
    );
    println!(
        "authenticators of one registration: verify request ({} covered bytes) + sign reply \
         ({} covered bytes)",
        region.covered.len(),
        reply_covered.len()
    );
    println!("  HMAC-MD5, SA                         {t_hmac_vs:8.1} ns");
    println!("  HMAC-MD5, hmac crate, cached state   {t_hmac_vs_crate:8.1} ns");
    println!("  keyed-MD5 prefix+suffix, SA          {t_ps_vs:8.1} ns");
    println!("  keyed-MD5, md-5 crate, cached prefix {t_ps_vs_crate:8.1} ns");
    println!("verify one {}-byte message", long_covered.len());
    println!("  HMAC-MD5, SA                         {t_hmac_long:8.1} ns");
    println!("  keyed-MD5 prefix+suffix, SA          {t_ps_long:8.1} ns");
    println!(
        "verify + sign as above, {COLD_SAS} SAs in a scrambled order (cache-cold keyed state)"
    );
    println!("  HMAC-MD5                             {t_cold_hmac:8.1} ns");
    println!("  keyed-MD5 prefix+suffix              {t_cold_ps:8.1} ns");
}
