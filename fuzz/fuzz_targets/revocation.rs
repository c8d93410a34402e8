//! Registration Revocation (type 7) and Revocation Acknowledgement (type 15).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mip_fuzz::revocation(data);
});
