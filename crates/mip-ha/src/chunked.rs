//! A growable array kept in chunks of [`CHUNK`] elements, for the big arrays of the binding
//! table (binding slots, per-host counters).
//!
//! A `Vec` doubles its capacity as it grows: at a million elements it holds 2^20, and while it
//! grows it briefly holds the old and the new buffer and copies one into the other. In chunks,
//! growth allocates one more chunk and copies nothing, and the slack is less than one chunk.
//! An element is reached through the chunk's entry in a small array (a few KiB for a million
//! elements, which stays in the caches), then the element itself.
//!
//! The first chunk grows as a `Vec` does, so that small home agents pay only for what they
//! hold; the next ones are allocated whole.

use std::ops::{Index, IndexMut};

/// Elements per chunk (a power of two).
pub(crate) const CHUNK: usize = 4096;

/// See the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct Chunked<T> {
    /// Every chunk is full but the last; none is empty.
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `value`; returns its index.
    pub(crate) fn push(&mut self, value: T) -> usize {
        let i = self.len;
        let first = self.chunks.is_empty();
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => {
                if c.len() == c.capacity() {
                    // The first chunk, growing: double, up to a whole chunk.
                    let more = c.len().clamp(4, CHUNK - c.len());
                    c.reserve_exact(more);
                }
                c.push(value);
            }
            _ => {
                let mut c = if first {
                    Vec::new()
                } else {
                    Vec::with_capacity(CHUNK)
                };
                c.push(value);
                self.chunks.push(c);
            }
        }
        self.len += 1;
        i
    }

    /// Room for the chunk entries of `additional` more elements (the chunks themselves are
    /// allocated as they fill: growth copies nothing).
    pub(crate) fn reserve(&mut self, additional: usize) {
        let chunks = self.len.saturating_add(additional).div_ceil(CHUNK);
        self.chunks
            .reserve(chunks.saturating_sub(self.chunks.len()));
    }

    /// The element at `i`, if any.
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    /// Every element, by index.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }

    /// Bytes allocated, by capacity (for memory reports).
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Vec<T>>()
            + self
                .chunks
                .iter()
                .map(|c| c.capacity() * std::mem::size_of::<T>())
                .sum::<usize>()
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_like_a_vec_and_allocates_whole_chunks_after_the_first() {
        let mut c = Chunked::default();
        let mut v = Vec::new();
        for i in 0..3 * CHUNK + 5 {
            assert_eq!(c.push(i * 7), i);
            v.push(i * 7);
            if i == 2 {
                // The first chunk grows as a Vec would.
                assert!(c.allocated_bytes() < 64 * std::mem::size_of::<usize>());
            }
        }
        assert_eq!(c.len(), v.len());
        for (i, x) in v.iter().enumerate() {
            assert_eq!(c[i], *x);
            assert_eq!(c.get(i), Some(x));
        }
        assert_eq!(c.get(v.len()), None);
        assert!(c.iter().eq(v.iter()));
        c[CHUNK + 1] = 1;
        assert_eq!(c[CHUNK + 1], 1);
        // Four chunks of CHUNK elements (the first grew to exactly one chunk).
        let elements =
            c.allocated_bytes() - c.chunks.capacity() * std::mem::size_of::<Vec<usize>>();
        assert_eq!(elements, 4 * CHUNK * std::mem::size_of::<usize>());
        let mut r: Chunked<u8> = Chunked::default();
        r.reserve(10 * CHUNK);
        assert!(r.chunks.capacity() >= 10);
        assert_eq!(r.len(), 0);
    }
}
