//! `mip_io::net::offload`: virtio_net_hdr, partial checksums, TCP segmentation, received
//! super-segments and GRO (the first byte selects which; see `fuzz/src/offload.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/offload.rs"]
mod offload;

fuzz_target!(|data: &[u8]| {
    offload::offload(data);
});
