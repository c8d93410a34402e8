//! IPv4 view, Ipv4Repr round trip and decrement_ttl (checksums fixed up on a second pass).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mip_fuzz::ipv4(data);
    // Again with valid checksums and lengths, to get past the checksum checks.
    mip_fuzz::ipv4(&mip_fuzz::fixup(data));
});
