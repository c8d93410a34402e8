//! What the stable-Rust corpus tests that run the fuzz properties share: deterministic
//! pseudo-random numbers and the collection of failures (`crates/mip-wire/tests/corpus.rs`
//! and `crates/mip-io/tests/offload_corpus.rs` include this file). Not part of the fuzz
//! crate's library.

/// xorshift64 (Marsaglia 2003): tiny, deterministic, good enough for inputs.
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 would stay 0: it becomes 1).
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn byte(&mut self) -> u8 {
        (self.next() >> 32) as u8
    }

    pub fn u16(&mut self) -> u16 {
        (self.next() >> 24) as u16
    }

    pub fn u32(&mut self) -> u32 {
        (self.next() >> 16) as u32
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

// ----------------------------------------------------------------------- failures

thread_local! {
    static CAPTURING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Replaces the panic hook once: while a check runs on this thread, the panic's location and
/// message are kept for the report instead of printed.
fn install_panic_hook() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(std::cell::Cell::get) {
                LAST_PANIC.with(|l| *l.borrow_mut() = Some(info.to_string()));
            } else {
                default(info);
            }
        }));
    });
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One failure location: how many inputs hit it, and the shortest of them.
struct Failure {
    count: usize,
    origin: String,
    input: Vec<u8>,
    report: String,
}

/// The failures of checks run over a corpus, grouped by panic location (the first line of
/// the panic report, "panicked at file:line:col:"), each with its shortest input.
pub struct Failures(std::collections::BTreeMap<String, Failure>);

impl Failures {
    pub fn new() -> Failures {
        install_panic_hook();
        Failures(std::collections::BTreeMap::new())
    }

    /// Runs `check` for `input` (described by `origin`); `None`, and the failure recorded,
    /// when it panics.
    pub fn check<T>(
        &mut self,
        origin: &str,
        input: &[u8],
        check: impl FnOnce() -> T + std::panic::UnwindSafe,
    ) -> Option<T> {
        CAPTURING.with(|c| c.set(true));
        let result = std::panic::catch_unwind(check);
        CAPTURING.with(|c| c.set(false));
        if let Ok(r) = result {
            return Some(r);
        }
        let report = LAST_PANIC
            .with(|l| l.borrow_mut().take())
            .unwrap_or_else(|| "panic without a report".into());
        let key = report.lines().next().unwrap_or_default().to_string();
        let f = self.0.entry(key).or_insert_with(|| Failure {
            count: 0,
            origin: origin.to_string(),
            input: input.to_vec(),
            report: report.clone(),
        });
        f.count += 1;
        if input.len() < f.input.len() {
            (f.origin, f.input, f.report) = (origin.to_string(), input.to_vec(), report);
        }
        None
    }

    /// Panics with every failure (count, shortest input in hex, report), if there is any.
    pub fn assert_none(&self, name: &str) {
        if self.0.is_empty() {
            return;
        }
        let mut msg = format!("{name}: {} distinct failure(s)\n", self.0.len());
        for f in self.0.values() {
            msg += &format!(
                "\n--- {} input(s); shortest: {} ({} bytes)\n{}\n{}\n",
                f.count,
                f.origin,
                f.input.len(),
                hex(&f.input),
                f.report
            );
        }
        panic!("{msg}");
    }
}
