//! Message::parse_udp / parse_icmp / parse_any and Message::to_bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mip_fuzz::message_any(data);
    // Again with valid checksums and lengths, to get past the checksum checks.
    mip_fuzz::message_any(&mip_fuzz::fixup(data));
});
