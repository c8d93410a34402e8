//! Random numbers from a caller-supplied seed: HMAC-MD5(seed, counter), as the home agent core
//! makes its nonces. The core never reads a system random source; the daemon fills the seed
//! from one.

use mip_security::digest::hmac_md5;

#[derive(Clone)]
pub(crate) struct Random {
    seed: [u8; 16],
    counter: u64,
}

impl Random {
    pub fn new(seed: [u8; 16]) -> Random {
        Random { seed, counter: 0 }
    }

    pub fn next_u32(&mut self) -> u32 {
        self.counter = self.counter.wrapping_add(1);
        let h = hmac_md5(&self.seed, &[&self.counter.to_be_bytes()]);
        u32::from_be_bytes([h[0], h[1], h[2], h[3]])
    }
}

impl core::fmt::Debug for Random {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Random").finish_non_exhaustive()
    }
}
