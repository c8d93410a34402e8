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

/// What a role's loop must offer so [`dispatch`] can carry out its events. The home agent
/// and foreign agent loops share the handling (panic containment, SIGHUP, stop) this way.
pub trait EventTarget {
    /// Carries out a control request.
    fn control(&mut self, request: Request) -> Answer;
    /// Reloads the configuration (SIGHUP); failures are the role's to log.
    fn reload_config(&mut self);
    /// Ends the loop after the current turn.
    fn stop_loop(&mut self);
    /// Counts a control request, and whether it panicked.
    fn count_control(&mut self, panicked: bool);
}

/// Carries out one event. A control request that panics is answered with an error (and
/// counted) instead of taking the daemon down.
pub fn dispatch(target: &mut impl EventTarget, event: Event) {
    match event {
        Event::Control { request, reply } => {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target.control(request)));
            target.count_control(result.is_err());
            let answer = result.unwrap_or_else(|_| {
                tracing::error!("a control request panicked in the daemon's loop");
                mip_control::Response::error("internal error (logged by the daemon)").into()
            });
            let _ = reply.send(answer);
        }
        Event::Reload => {
            tracing::info!("SIGHUP: reloading the configuration");
            target.reload_config();
        }
        Event::Shutdown(sig) => {
            tracing::info!("{sig}: stopping");
            target.stop_loop();
        }
    }
}
