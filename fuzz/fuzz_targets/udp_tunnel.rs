//! UDP tunnel data (type 4) and the payload its Next Header names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mip_fuzz::udp_tunnel(data);
    // Again with valid checksums and lengths, to get past the checksum checks.
    mip_fuzz::udp_tunnel(&mip_fuzz::fixup(data));
});
