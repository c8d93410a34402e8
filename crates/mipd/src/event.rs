//! What other threads hand to the daemon's loop.

use std::sync::mpsc::SyncSender;

use mip_control::Request;

use crate::control::Answer;

/// Work for the loop, delivered through a channel and a waker.
pub enum Event {
    /// A control request; the answer goes back through `reply`.
    Control {
        /// The request.
        request: Request,
        /// Where to send the answer.
        reply: SyncSender<Answer>,
    },
    /// SIGHUP: reload the configuration.
    Reload,
    /// SIGTERM or SIGINT: stop.
    Shutdown(&'static str),
}
