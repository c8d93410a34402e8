//! Signals: SIGHUP reloads, SIGTERM and SIGINT stop. A thread turns each into an [`Event`]
//! for the loop (nothing is done inside a signal handler).

use std::io;
use std::sync::mpsc::Sender;

use mip_io::Waker;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::event::Event;

/// Installs the handlers and starts the thread.
///
/// # Errors
/// The handlers or the thread could not be set up.
pub fn spawn(events: Sender<Event>, waker: Waker) -> io::Result<()> {
    let mut signals = Signals::new([SIGHUP, SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("mipd-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let ev = match sig {
                    SIGHUP => Event::Reload,
                    SIGTERM => Event::Shutdown("SIGTERM"),
                    _ => Event::Shutdown("SIGINT"),
                };
                if events.send(ev).is_err() {
                    return;
                }
                waker.wake();
            }
        })
        .map(drop)
}
