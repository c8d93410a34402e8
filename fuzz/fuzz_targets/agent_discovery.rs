//! ICMP Agent Advertisement / Solicitation (checksums fixed up on a second pass).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mip_fuzz::agent_discovery(data);
    // Again with valid checksums and lengths, to get past the checksum checks.
    mip_fuzz::agent_discovery(&mip_fuzz::fixup(data));
});
