//! Teardown that always happens: a [`LabGuard`] removes its lab when dropped (normal return,
//! error or panic unwinding), SIGINT/SIGTERM/SIGHUP request a stop that the run loop honours
//! (with a watchdog that tears down by itself if the main thread does not within
//! [`WATCHDOG`]), a second signal tears down at once, and a panic hook tears down before the
//! default hook prints. Child processes started by the lab are registered here too, so every
//! path kills them before deleting the namespaces (a process would otherwise keep its
//! namespace's links alive).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use crate::plan::Lab;
use crate::sh;
use crate::topology;

/// How long the main thread has to tear down after a signal before the signal thread does.
pub const WATCHDOG: Duration = Duration::from_secs(10);

static STOP: AtomicBool = AtomicBool::new(false);
static ACTIVE: Mutex<Vec<Lab>> = Mutex::new(Vec::new());
static CHILDREN: Mutex<Vec<i32>> = Mutex::new(Vec::new());
static TEARDOWN: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();

/// Whether a stop was requested by a signal.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Sleeps up to `d`, waking early (returning false) when a stop is requested.
pub fn sleep(d: Duration) -> bool {
    let end = std::time::Instant::now() + d;
    loop {
        if stop_requested() {
            return false;
        }
        let now = std::time::Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(20)));
    }
}

/// Installs the signal thread and the panic hook (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(mut signals) => {
                std::thread::Builder::new()
                    .name("mip-lab-signals".into())
                    .spawn(move || {
                        for sig in signals.forever() {
                            if !STOP.swap(true, Ordering::SeqCst) {
                                eprintln!(
                                    "mip-lab: signal {sig}: stopping and tearing the lab down"
                                );
                                std::thread::spawn(|| {
                                    std::thread::sleep(WATCHDOG);
                                    eprintln!(
                                        "mip-lab: still running after the signal; tearing down now"
                                    );
                                    emergency_teardown();
                                    std::process::exit(130);
                                });
                            } else {
                                eprintln!("mip-lab: second signal: tearing down now");
                                emergency_teardown();
                                std::process::exit(130);
                            }
                        }
                    })
                    .expect("spawn the signal thread");
            }
            Err(e) => eprintln!("mip-lab: cannot install signal handlers: {e}"),
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            eprintln!("mip-lab: panic: tearing the lab down");
            // Never wait here: the panic may come from inside a teardown holding the lock.
            if let Ok(_t) = TEARDOWN.try_lock() {
                teardown_all();
            }
        }));
    });
}

/// Registers a child process so every teardown path kills it.
pub fn register_child(pid: i32) {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
}

/// Forgets a child that has been reaped.
pub fn unregister_child(pid: i32) {
    CHILDREN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|&p| p != pid);
}

fn kill_children() {
    let pids: Vec<i32> = std::mem::take(&mut *CHILDREN.lock().unwrap_or_else(|e| e.into_inner()));
    sh::terminate(&pids, Duration::from_millis(1500));
}

/// Tears down every lab registered in this process (signal thread and watchdog).
pub fn emergency_teardown() {
    let _t = TEARDOWN.lock().unwrap_or_else(|e| e.into_inner());
    teardown_all();
}

fn teardown_all() {
    kill_children();
    let labs: Vec<Lab> = std::mem::take(&mut *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()));
    for lab in labs {
        if let Err(e) = topology::down(&lab) {
            eprintln!("mip-lab: teardown of {}: {e}", lab.id());
        }
    }
}

/// Removes its lab (and kills the registered children) when dropped, unless disarmed.
pub struct LabGuard {
    lab: Lab,
    armed: bool,
}

impl LabGuard {
    /// Guards `lab`: from now on every exit path tears it down.
    pub fn new(lab: &Lab) -> LabGuard {
        install();
        ACTIVE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(lab.clone());
        LabGuard {
            lab: lab.clone(),
            armed: true,
        }
    }

    /// Leaves the lab up on drop (`--keep`); children are still killed.
    pub fn disarm(&mut self) {
        self.armed = false;
        ACTIVE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|l| l != &self.lab);
    }
}

impl Drop for LabGuard {
    fn drop(&mut self) {
        let _t = TEARDOWN.lock().unwrap_or_else(|e| e.into_inner());
        kill_children();
        let mine = {
            let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
            let had = active.contains(&self.lab);
            active.retain(|l| l != &self.lab);
            had
        };
        if self.armed && mine {
            if let Err(e) = topology::down(&self.lab) {
                eprintln!("mip-lab: teardown of {}: {e}", self.lab.id());
            }
        }
    }
}
