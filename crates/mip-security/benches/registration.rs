//! `cargo bench -p mip-security`: the cost of one registration's message
//! work — parse a Registration Request carrying an NAI and MN-HA
//! authentication, verify its HMAC-MD5 authenticator, build and sign the
//! reply — and the HMAC verify against a bare HMAC-MD5 over the same bytes,
//! measured in the same process (baseline), reported as a ratio.
//!
//! Each figure is the median of 9 runs of `ITERS` iterations.

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
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
    let sa = SecurityAssociation::new(0x100, Algorithm::HmacMd5, key, ReplayProtection::default());
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

    if quick {
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
}
