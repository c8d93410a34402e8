//! Linux I/O.
