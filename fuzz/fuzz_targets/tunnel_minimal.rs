//! Minimal encapsulation (copying and in place); re-encapsulation round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mip_fuzz::tunnel_minimal(data);
    // Again with valid checksums and lengths, to get past the checksum checks.
    mip_fuzz::tunnel_minimal(&mip_fuzz::fixup(data));
});
