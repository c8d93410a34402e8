//! IP-in-IP decapsulation; re-encapsulating the inner datagram decapsulates to it again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mip_fuzz::tunnel_ipip(data);
    // Again with valid checksums and lengths, to get past the checksum checks.
    mip_fuzz::tunnel_ipip(&mip_fuzz::fixup(data));
});
