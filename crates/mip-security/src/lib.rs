//! Mobility security: see modules.
