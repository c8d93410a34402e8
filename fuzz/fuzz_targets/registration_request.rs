//! Registration Request (type 1): view, owned parse, emit(parse(b)) == b.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mip_fuzz::registration_request(data);
});
