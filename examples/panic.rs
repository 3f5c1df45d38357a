//! Panics in the way named by its argument, for the panic tests:
//! `message` (an explicit panic!), `index` (a bounds check), `unwrap` (None.unwrap()),
//! `concurrent N` (N goroutines panic at once, each with a message that takes a
//! while to format: exactly one report must come out, whole), `nested` (formatting
//! the panic message panics: Go's "panic during panic"), `mixed N` (as concurrent,
//! but every other goroutine dies of a fatal runtime error instead: unlocking an
//! unlocked mutex; still exactly one report, the panic's or the fatal error's),
//! `fmt-error` (the panic value's Display fails halfway), `main-returns` (main
//! returns while a goroutine's panic is being reported: the report must come out
//! whole, and the status be 2, not main's 0), `display-sleeps` (the panic value's
//! Display sleeps), `display-locks` (it locks a mutex another goroutine holds),
//! `display-blocks` (main returns while a goroutine's panic value blocks for ever:
//! Go's deadlock report, not a silent exit 0), `display-sleeps-in-blocking` (the
//! panic is inside `gort::blocking`, where sleeping works too).
#![no_std]
#![no_main]

gort::main!(main);

fn main() {
    let how = gort::env::args()
        .nth(1)
        .and_then(|a| a.to_str())
        .unwrap_or("message");
    gort::println!("about to panic");
    match how {
        "message" => panic!("something went wrong: {}", 42),
        "index" => {
            let v = [1, 2, 3];
            let i = gort::env::args().len() + 3; // 5, not known at compile time
            gort::println!("{}", v[i]);
        }
        "unwrap" => {
            let none: Option<u8> = gort::env::var("GORT_NO_SUCH_VARIABLE").map(|_| 1);
            gort::println!("{}", none.unwrap());
        }
        "concurrent" | "mixed" => {
            let n: usize = gort::env::args()
                .nth(2)
                .and_then(|a| a.to_str()?.parse().ok())
                .unwrap_or(2);
            let ready = alloc::sync::Arc::new(core::sync::atomic::AtomicUsize::new(0));
            for i in 0..n {
                let ready = ready.clone();
                gort::go(move || {
                    // Start together: each yields until all are running.
                    ready.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
                    while ready.load(core::sync::atomic::Ordering::SeqCst) < n {
                        gort::gosched();
                    }
                    if how == "mixed" && i % 2 == 1 {
                        gort::sync::RawMutex::new().unlock(); // fatal error
                    }
                    panic!("goroutine {i} failed: {}", Slow(i));
                });
            }
            loop {
                gort::gosched();
            }
        }
        "nested" => panic!("outer: {}", Nested),
        "fmt-error" => panic!("failed at: {}", Failing),
        "main-returns" => {
            gort::go(|| panic!("goroutine 0 failed: {}", Announced(Slow(0))));
            // Return once the report is under way (its value is being formatted).
            // A plain spin (no yield): with 2 Ps the goroutine runs on the other
            // one, and main returns mid-report; with 1, sysmon preempts main for it.
            while !REPORTING.load(core::sync::atomic::Ordering::SeqCst) {
                core::hint::spin_loop();
            }
        }
        "display-sleeps" => panic!("value: {}", Sleepy),
        "display-sleeps-in-blocking" => gort::blocking(|| panic!("value: {}", Sleepy)),
        "display-locks" => {
            let held = gort::chan::chan(0);
            let h = held.clone();
            gort::go(move || {
                let _g = LOCK.lock();
                h.send(());
                gort::time::sleep(core::time::Duration::from_millis(50));
            });
            held.recv();
            panic!("value: {}", Locking);
        }
        "display-blocks" => {
            gort::go(|| panic!("value: {}", Blocking));
            while !REPORTING.load(core::sync::atomic::Ordering::SeqCst) {
                gort::gosched();
            }
        }
        other => gort::eprintln!("unknown mode {other}"),
    }
}

extern crate alloc;

/// Formats slowly (~10 ms of work per character run) and in many pieces: a report
/// interrupted by another panicking thread would show torn or missing text.
struct Slow(usize);

impl core::fmt::Display for Slow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for piece in 0..20 {
            let mut x = 0u64;
            for k in 0..200_000u64 {
                x = core::hint::black_box(x.wrapping_add(k));
            }
            write!(f, "[{}.{piece}]", self.0)?;
            core::hint::black_box(x);
        }
        Ok(())
    }
}

/// Set once Announced starts being formatted (a panic report is under way).
static REPORTING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Formats as its content, after setting REPORTING.
struct Announced(Slow);

impl core::fmt::Display for Announced {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        REPORTING.store(true, core::sync::atomic::Ordering::SeqCst);
        self.0.fmt(f)
    }
}

/// Writes half of itself, then fails (a Display that returns fmt::Error).
struct Failing;

impl core::fmt::Display for Failing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("half")?;
        Err(core::fmt::Error)
    }
}

/// Panics while being formatted.
struct Nested;

impl core::fmt::Display for Nested {
    fn fmt(&self, _f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        panic!("inner")
    }
}

/// Sleeps before it writes: formatting it parks the panicking goroutine.
struct Sleepy;

impl core::fmt::Display for Sleepy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        gort::time::sleep(core::time::Duration::from_millis(20));
        f.write_str("slept")
    }
}

/// Held by another goroutine when Locking is formatted.
static LOCK: gort::sync::Mutex<u32> = gort::sync::Mutex::new(7);

/// Locks LOCK to write its content: formatting it waits for the holder.
struct Locking;

impl core::fmt::Display for Locking {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "locked {}", *LOCK.lock())
    }
}

/// Receives from a channel nobody sends on, after setting REPORTING.
struct Blocking;

impl core::fmt::Display for Blocking {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        REPORTING.store(true, core::sync::atomic::Ordering::SeqCst);
        let never = gort::chan::chan::<u32>(0);
        write!(f, "{}", never.recv().unwrap_or(0))
    }
}
