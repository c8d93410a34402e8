//! Extension framing and typed extensions at several start offsets and at every offset.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mip_fuzz::extensions(data);
});
