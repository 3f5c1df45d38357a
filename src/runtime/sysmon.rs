//! sysmon, after Go's proc.go sysmon and retake: a monitor thread that runs on an M
//! of its own without a P, so it never competes with goroutines for a P and keeps
//! running when every P is busy. It counts in `sched.nmsys`, so checkdead does not
//! take it for a running thread, except while it holds what a running M would: a P
//! it retakes, or goroutines its network poll made ready (see `incidlelocked`).
//!
//! # The loop
//!
//! sysmon sleeps 20 us between looks while it keeps finding work; after 50 idle
//! looks the sleep doubles each time, up to 10 ms. Each look:
//!
//! - **retake**: for every P, compare its ticks with the last look (P.sysmontick).
//!   A P running (or in a system call) on the same schedtick for 10 ms has a
//!   goroutine, or a chain of goroutines handing off through runnext, that has had
//!   its slice: `preemptone` asks it to yield (preempt.rs). A P whose timer is due
//!   while one goroutine has held it since the last look (its fairtick has not
//!   moved) is asked at once, and sysmon looks again when such a P's next timer is
//!   due; a P that goes through the scheduler runs its timers itself and costs
//!   sysmon nothing. A P in PSYSCALL with the
//!   same syscalltick as at the last look has been in one system call for at least
//!   one tick: sysmon takes it (CAS PSYSCALL -> PIDLE, racing the M's own
//!   exitsyscall) and hands it off (handoffp) so its other goroutines run. A P with
//!   nothing queued is left for up to 10 ms while other Ps are idle or spinning.
//! - **schedtrace**, every N ms with GODEBUG=schedtrace=N.
//! - with GORT_PREEMPTSTORM=N, every running goroutine is asked to yield every N us
//!   (a test knob for the preemption paths).
//!
//! # Deep sleep
//!
//! When every P is idle (or the world is stopped) there is nothing to watch: sysmon
//! sets `sched.sysmonwait` under sched.lock and sleeps on `sched.sysmonnote` until
//! `sched.sysmon_until`: a minute (as Go) with no timer pending, else until the
//! earliest timer is due, but at least SYSMON_SLACK_NS (1 ms). Everything that
//! makes a P run again goes through pidleget or start_the_world, both under
//! sched.lock, and they wake it (`sysmon_wake_locked`): start_the_world always,
//! pidleget only if the sleep would last past SYSMON_SLACK_NS from now, so a
//! program whose timers make a P run every millisecond does not pay a thread
//! wake-up for sysmon each time (that was half of its CPU; Go's pidleget wakes
//! nobody). A goroutine that enters a system call while sysmon sleeps wakes it
//! (Go's entersyscall_sysmon), so a long call is handed off as promptly as ever.
//! So an idle program uses no CPU, and a running P is watched within 1 ms of
//! starting to run (and after that at sysmon's usual look interval). Only a forced
//! wake starts the 20 us looks over (Go's syscallWake); after a pidleget wake the
//! interval comes down to SYSMON_SLACK_NS if it was longer, with a look by the
//! earliest timer. A server whose Ps all idle between requests otherwise paid a
//! thread wake-up every 20 us after each of thousands of such wakes a second
//! (echo at 50 connections: 3,000 sysmon wake-ups a second, now about 170). A
//! forced wake that comes before sysmon is up from an unforced one still counts
//! (`sysmon_woken`, `sysmon_forced`). Before a deep
//! sleep sysmon stamps the goroutines waiting (`waitsince`, for listings), a walk
//! over every G, at most once a second: a sleep that follows a recent walk ends
//! when the next walk is due.
//!
//! # The signal thread
//!
//! sysmon's thread is also Go's sigM: a signal the process started with blocked
//! stays blocked on every M (minit keeps the inherited mask), except on sysmon's
//! thread while os::signal wants it (`sigm_set`, `sigm_check`), so it is delivered
//! there, and blocked everywhere again after stop or reset. sysmon sleeps between
//! looks in a futex wait on `SYSMON_BELL` (not nanosleep) so that a change of the
//! set wakes it at once; the requester waits until the mask is applied.
//!
//! # Work stuck behind a system call
//!
//! A goroutine inside gort::blocking that makes another runnable while no other M
//! will come for it rings the same bell (`syscall_work_stuck`): sysmon looks at
//! once and then at its shortest interval, so the P the call holds is taken at
//! the second look, about 20 us in, however far sysmon had backed off.

use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};

use super::debug::{schedtrace, SCHEDDETAIL, SCHEDTRACE};
use super::preempt::{preemptall, preemptone, PREEMPT_STORM_US};
use super::proc::{
    allp, allp_len, checkdead, earliest_timer, gomaxprocs, handoffp, incidlelocked, newm, sched,
    sched_shared,
};
use super::runq::{globrunq_nonempty, runqempty};
use super::runtime2::{P, PIDLE, PRUNNING, PSYSCALL};
use super::vdso_linux::nanotime;

/// A goroutine's time slice (Go's forcePreemptNS).
const FORCE_PREEMPT_NS: i64 = 10_000_000;
/// The longest deep sleep (Go's forcegcperiod/2).
const DEEP_SLEEP_NS: i64 = 60_000_000_000;
/// How often sysmon stamps waiting goroutines' waitsince (a walk over every G).
const STAMP_NS: i64 = 1_000_000_000;
/// The longest a P that starts running may go without sysmon awake to watch it:
/// a deep sleep that ends sooner is not cut short (see "Deep sleep").
pub(crate) const SYSMON_SLACK_NS: i64 = 1_000_000;

/// Ps retaken from system calls (handed off by sysmon). Relaxed statistics counter.
pub(crate) static RETAKES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// The signals os::signal wants that the process started with blocked (bit n-1 for
/// signal n): unblocked on sysmon's thread alone, as Go unblocks them on its sigM
/// thread (ensureSigM); every other M keeps the mask the process started with.
/// Written by `sigm_set`, one caller at a time (os::signal's handlers lock).
static SIGM_WANT: AtomicU64 = AtomicU64::new(0);
/// Bumped by each change of SIGM_WANT (then SYSMON_BELL is rung).
static SIGM_GEN: AtomicU32 = AtomicU32::new(0);
/// The last SIGM_GEN whose mask sysmon's thread has applied; sigm_set waits on it.
static SIGM_DONE: AtomicU32 = AtomicU32::new(0);

/// sysmon sleeps between looks in a futex wait on this word: `ring` bumps it and
/// wakes the wait, so a ring between sysmon's reading the word and its wait is not
/// lost (the wait then returns at once). Rung by sigm_set (a new signal set to
/// apply) and by syscall_work_stuck.
static SYSMON_BELL: AtomicU32 = AtomicU32::new(0);
/// Set by syscall_work_stuck, cleared by sysmon when it reads it (see there).
static STUCK_KICK: AtomicBool = AtomicBool::new(false);

/// Wake sysmon from its sleep between looks (not from its deep sleep, which
/// sysmon_wake_locked ends). Any thread; a system call.
fn ring() {
    // Release: what the ringer stored before (SIGM_GEN, STUCK_KICK) is seen by
    // sysmon once it reads the new bell value (Acquire, at the top of its loop).
    SYSMON_BELL.fetch_add(1, Release);
    super::sys_linux::futex_wake(&SYSMON_BELL, 1);
}

/// A goroutine inside gort::blocking has made another runnable (ready, or `go`)
/// while its P waits for it in PSYSCALL and no other M will come for the new work
/// (no P idle, no M spinning): sysmon takes such a P at its second look at the
/// call, but its looks may be 10 ms apart by now, so the work would wait up to
/// 20 ms (one goroutine feeding another from a blocking loop at GOMAXPROCS=1).
/// Ask sysmon to look now and then at its shortest interval again, as after
/// entersyscall_sysmon: the P is then taken about 20 us into the call, as
/// `blocking` promises, and a call that ends sooner keeps it. Once per call (a
/// loop of `go` inside one call rang sysmon every few spawns, a system call
/// each, and made it take the P back and forth: twice the time); nothing outside
/// a system call, or if sysmon has been asked already and not looked yet. Runs
/// on the goroutine (in GSYSCALL), no lock held.
pub(crate) fn syscall_work_stuck() {
    let ss = sched_shared();
    // Relaxed (all): hints. A missed kick leaves the work to sysmon's usual looks;
    // an extra one costs a look.
    if ss.npidle.load(Relaxed) != 0 || ss.nmspinning.load(Relaxed) != 0 {
        return;
    }
    let mp = super::proc::getm();
    // SAFETY: mp is our M (a GSYSCALL goroutine does not move); oldp, syscall_seq
    // and kicked_seq are owner-only; Ps are never freed and status is atomic.
    let stuck = unsafe {
        let pp = (*mp).oldp;
        let first = (*mp).kicked_seq != (*mp).syscall_seq;
        (*mp).kicked_seq = (*mp).syscall_seq;
        first && !pp.is_null() && (*pp).status.load(Relaxed) == PSYSCALL
    };
    if !stuck || STUCK_KICK.load(Relaxed) {
        return;
    }
    STUCK_KICK.store(true, Relaxed);
    ring();
}

/// Make sysmon's thread unblock exactly `want` (signals the process started with
/// blocked), and wait until it has: when os::signal's notify returns, such a
/// signal can be delivered; when stop or reset returns, it is blocked everywhere
/// again (Go's enableSigChan and disableSigChan handshake). Runs on a goroutine,
/// under os::signal's handlers lock (so one caller at a time); the wait is a
/// system call for the scheduler (the P may be handed off meanwhile).
pub(crate) fn sigm_set(want: u64) {
    // Relaxed: only callers, serialised by the handlers lock, write it.
    if SIGM_WANT.load(Relaxed) == want {
        return;
    }
    SIGM_WANT.store(want, Relaxed);
    // Release: publishes SIGM_WANT to sysmon's Acquire load of the generation.
    let gen = SIGM_GEN.fetch_add(1, Release).wrapping_add(1);
    // Between looks sysmon waits on SYSMON_BELL; in its deep sleep, on sysmonnote.
    ring();
    let ss = sched_shared();
    ss.lock.lock();
    // SAFETY: sched.lock is held. Forced: the deep sleep may have a minute to go.
    unsafe { super::proc::sysmon_wake_locked(true) };
    ss.lock.unlock();
    let entered = super::proc::entersyscall();
    loop {
        // Acquire: pairs with sigm_check's Release (nothing else to see, but the
        // mask change is done once the generation shows).
        let done = SIGM_DONE.load(Acquire);
        if done == gen {
            break;
        }
        super::sys_linux::futex_wait(&SIGM_DONE, done);
    }
    super::proc::exitsyscall(entered);
}

/// On sysmon's thread: apply SIGM_WANT if it changed since `applied`; return the
/// generation seen (the value to sleep on). Runs on sysmon's g0, no lock held.
fn sigm_check(applied: &mut u32) -> u32 {
    // Acquire: pairs with sigm_set's Release; SIGM_WANT is then at least as new.
    let gen = SIGM_GEN.load(Acquire);
    if gen != *applied {
        // Relaxed: ordered by the Acquire above.
        let want = SIGM_WANT.load(Relaxed);
        super::sys_linux::sigprocmask_set(
            super::proc::init_sigmask() & !super::signal_linux::unblocked_signals() & !want,
        );
        *applied = gen;
        // Release: the requester sees the mask applied (the system call is done).
        SIGM_DONE.store(gen, Release);
        super::sys_linux::futex_wake(&SIGM_DONE, u32::MAX >> 1);
    }
    gen
}

/// Start sysmon. Runs in runtime main, on goroutine 1 (newm needs the heap).
pub(crate) fn start_sysmon() {
    newm(Some(sysmon), core::ptr::null_mut(), -1);
}

/// The sysmon M's start function: runs on its g0, without a P, forever. It holds no
/// lock while it sleeps; it allocates only when handoffp starts a new M.
fn sysmon() {
    let ss = sched_shared();
    ss.lock.lock();
    // SAFETY: sched.lock (held) protects nmsys, and checkdead needs it held.
    unsafe {
        (*sched()).nmsys += 1;
        checkdead();
    }
    ss.lock.unlock();
    // Relaxed (all knobs): set at boot, before any other thread exists.
    let trace_ns = SCHEDTRACE.load(Relaxed) as i64 * 1_000_000;
    let storm_us = PREEMPT_STORM_US.load(Relaxed) as u64;
    let mut lasttrace = 0i64;
    let mut laststamp = 0i64; // the last stamp_waiting
    let mut laststorm = 0i64; // the last preemptall of GORT_PREEMPTSTORM
    let mut idle = 0u32; // how many looks found nothing to do
    let mut delay = 0u64; // microseconds
    let mut timer_cap = u64::MAX; // microseconds to the next timer of a running P
    let mut woke_idle = false; // this look follows an unforced wake (pidleget)
    let mut sigm_applied = 0u32; // the SIGM_GEN our mask reflects
    loop {
        // Acquire: pairs with ring's Release: a SIGM_GEN change or a kick made
        // before the ring that produced this value is seen below; one made after
        // it changes the word, so the wait below returns at once.
        let bell = SYSMON_BELL.load(Acquire);
        // A goroutine's work is stuck behind a system call (syscall_work_stuck):
        // look again at the shortest interval. Relaxed: ordered by the bell.
        if STUCK_KICK.swap(false, Relaxed) {
            idle = 0;
        }
        if idle == 0 {
            delay = 20; // start with 20us sleep...
        } else if idle > 50 {
            delay *= 2; // start doubling the sleep after 1ms...
        }
        delay = delay.min(10_000); // up to 10ms

        // A storm shortens the sleep to its interval, never lengthens it (a long
        // one must not keep sysmon from its own work).
        let sleep_us = match storm_us {
            0 => delay.min(timer_cap),
            s => delay.min(timer_cap).min(s),
        };
        // A futex wait rather than nanosleep, so that a ring wakes us.
        sigm_check(&mut sigm_applied);
        let ns = sleep_us * 1000;
        super::sys_linux::futex_wait_timeout(&SYSMON_BELL, bell, ns.min(i64::MAX as u64) as i64);
        sigm_check(&mut sigm_applied);
        // Kicked while we slept: this look comes now, and the next after the
        // shortest interval (the P in the call is taken at that second look).
        // Relaxed: the ring's futex wake came after the store (a system call
        // each side); a kick missed here is seen at the top of the next round.
        if STUCK_KICK.swap(false, Relaxed) {
            idle = 0;
            delay = 20;
        }
        let mut now = nanotime();
        // Relaxed (gcwaiting, npidle): hints, re-checked under sched.lock.
        if trace_ns <= 0
            && storm_us == 0
            && (ss.gcwaiting.load(Relaxed) || ss.npidle.load(Relaxed) as usize == gomaxprocs())
        {
            // Goroutines waiting now will have waited at least from now on: stamp
            // them before a long sleep, but walk every G at most once a STAMP_NS:
            // Ps may all go idle thousands of times a second (a goroutine sleeping
            // 1 ms in a loop beside 100,000 parked ones spent 0.8 s of CPU per
            // 1,000 sleeps in these walks). If the last walk is more recent, the
            // sleep ends when the next is due, so a stamp is never more than
            // STAMP_NS late.
            let mut deep_ns = DEEP_SLEEP_NS;
            if now - laststamp >= STAMP_NS {
                super::traceback::stamp_waiting(now);
                laststamp = now;
                // The walk may take a while (a millisecond at 100,000 Gs).
                now = nanotime();
            } else {
                deep_ns = laststamp + STAMP_NS - now;
            }
            // With a timer pending, a P will likely run when it is due: wake then
            // (but not sooner than SYSMON_SLACK_NS), so that the P that runs it
            // need not wake us (see sysmon_wake_locked).
            let next = earliest_timer();
            if next != 0 {
                deep_ns = deep_ns.min((next - now).max(SYSMON_SLACK_NS));
            }
            ss.lock.lock();
            // Relaxed: written under sched.lock, which we hold.
            // Acquire (SIGM_GEN): as in sigm_check; a change made before this
            // check is applied first, one made after it wakes us (sigm_set takes
            // sched.lock to wake the deep sleep).
            if (ss.gcwaiting.load(Relaxed) || ss.npidle.load(Relaxed) as usize == gomaxprocs())
                && SIGM_GEN.load(Acquire) == sigm_applied
            {
                // From a fresh clock: sleep_timeout measures deep_ns from its own.
                // SAFETY: sched.lock (held) protects sysmon_until, sysmon_woken and
                // sysmon_forced.
                unsafe {
                    let sp = sched();
                    (*sp).sysmon_until = nanotime() + deep_ns;
                    (*sp).sysmon_woken = false;
                    (*sp).sysmon_forced = false;
                }
                ss.sysmonwait.store(true, Relaxed);
                ss.lock.unlock();
                ss.sysmonnote.sleep_timeout(deep_ns);
                ss.lock.lock();
                // Relaxed: under sched.lock. An unforced wake leaves sysmonwait
                // set until here, so a forced one that comes meanwhile counts.
                ss.sysmonwait.store(false, Relaxed);
                ss.sysmonnote.clear();
                // A forced wake (a system call, start-the-world) starts the 20 us
                // looks over, as Go's syscallWake: a P may need taking from a call
                // soon. A P leaving the idle list does not: that happens each time
                // a poll or a timer ends an idle moment (a server between
                // requests, thousands of times a second), and looking every 20 us
                // after each cost a thread wake-up per look. The look interval
                // comes down to SYSMON_SLACK_NS if it was longer, and the next
                // look comes by the earliest timer, so a goroutine that holds the
                // P past a due timer is seen within about that.
                // SAFETY: as above.
                let (woken, forced) =
                    unsafe { ((*sched()).sysmon_woken, (*sched()).sysmon_forced) };
                if forced {
                    idle = 0;
                    delay = 20;
                } else if woken {
                    woke_idle = true;
                    // Halved: the top of the loop doubles it (idle > 50).
                    delay = delay.min(SYSMON_SLACK_NS as u64 / 2000);
                }
                now = nanotime();
            }
            ss.lock.unlock();
            sigm_check(&mut sigm_applied);
        }
        // Poll the network if nobody did for 10 ms (every M busy running goroutines):
        // goroutines whose fds became ready go to the global queue (Go's sysmon).
        // Relaxed: LASTPOLL is a hint; the CAS makes one poller of sysmon and the
        // non-blocking polls race harmlessly (netpoll hands each G out once).
        let lastpoll = super::netpoll::LASTPOLL.load(Relaxed);
        if super::netpoll::netpollinited()
            && lastpoll != 0
            && lastpoll + 10_000_000 < now
            && super::netpoll::LASTPOLL
                .compare_exchange(lastpoll, now, Relaxed, Relaxed)
                .is_ok()
        {
            // Invariant (checkdead's): every goroutine that can still run is
            // visible to checkdead (queued GRUNNABLE with an M counted as running
            // on its way to it, or parked on the poller while a counted M polls)
            // or is in the hands of an M counted as running. sysmon is not counted
            // (nmsys), yet netpoll takes a goroutine off its PollDesc, still
            // GWAITING and no longer a poller waiter, and from then until
            // injectglist's wakep has handed an idle P to an M, only sysmon knows
            // it can run. If the last running M finds nothing meanwhile, it parks
            // (it has no poller waiter to poll for), and checkdead in its mput saw
            // "all goroutines are asleep" (the G still GWAITING) or "runnable g"
            // (queued, but its P still in wakep's hands). So sysmon counts itself
            // as running, as it does around a retake, from before the poll until
            // the hand-off is done. Go's sysmon does this around injectglist only:
            // its netpoll keeps the waiter count until the goroutines are injected,
            // so an M going idle meanwhile blocks in the poller instead; gort's
            // drops it in netpollunblock. The counts are plain fields under
            // sched.lock, which incidlelocked takes; incidlelocked(1) runs
            // checkdead again once the goroutines are queued and an M is on its
            // way (or no P is idle, so a counted M holds each).
            incidlelocked(-1);
            let list = super::netpoll::netpoll(0);
            if !list.head.is_null() {
                idle = 0;
                super::netpoll::injectglist(list);
            }
            incidlelocked(1);
        }
        let mut next_timer = i64::MAX;
        if retake(now, &mut next_timer) != 0 {
            idle = 0;
        } else {
            idle += 1;
        }
        // Look again when the next timer of a running P is due (see retake), or
        // after an unforced wake, when the earliest timer is (retake has not seen
        // the P run long enough to call it stuck yet).
        if woke_idle {
            woke_idle = false;
            let next = earliest_timer();
            if next != 0 {
                next_timer = next_timer.min(next);
            }
        }
        if next_timer != i64::MAX {
            timer_cap = ((next_timer - nanotime()) / 1000).max(20) as u64;
        } else {
            timer_cap = u64::MAX;
        }
        if storm_us > 0 && now - laststorm >= (storm_us * 1000) as i64 {
            laststorm = now;
            preemptall();
        }
        // Stamp waiting goroutines' waitsince once a second (listings print how long
        // a goroutine has waited, in minutes).
        if now - laststamp >= STAMP_NS {
            laststamp = now;
            super::traceback::stamp_waiting(now);
        }
        if trace_ns > 0 && now - lasttrace >= trace_ns {
            lasttrace = now;
            // Relaxed: set at boot.
            schedtrace(SCHEDDETAIL.load(Relaxed) > 0);
        }
    }
}

/// retake: preempt goroutines that ran past their slice or hold up a due timer, and
/// take Ps from system calls that last (see the file head). Returns how many Ps it
/// took or preempted for a timer (activity: sysmon's look interval starts over), and
/// lowers next_timer to the earliest timer of a running P. Runs on
/// sysmon's g0, without a P or a lock.
fn retake(now: i64, next_timer: &mut i64) -> u32 {
    let ss = sched_shared();
    let mut n = 0;
    for i in 0..allp_len() {
        let pp = allp(i);
        // SAFETY: Ps are never freed; we use their atomics only, and sysmontick,
        // which only sysmon touches.
        let p = unsafe { &*pp };
        // SAFETY: as above: the cell is sysmon's alone.
        let pd = unsafe { &mut *p.sysmontick.get() };
        // Relaxed (statuses, ticks): snapshots; the CAS below decides a retake.
        let s = p.status.load(Relaxed);
        let mut sysretake = false;
        // The fairtick is recorded whatever the status, so the next look compares
        // with this one: a P taken off the idle list after this look has moved on
        // by one (acquirep), and its goroutine gets one more look's time.
        let ft = p.fairtick.load(Relaxed);
        let stuck = pd.fairtick == ft;
        pd.fairtick = ft;
        if s == PRUNNING || s == PSYSCALL {
            // Preempt G if it's running on the same schedtick for too long. This
            // could be from a single long-running goroutine or a sequence of
            // goroutines run via runnext, which share a single schedtick time slice.
            let t = p.schedtick.load(Relaxed);
            // A timer of this P that is due waits for its goroutine to yield: when
            // one goroutine has run since the last look at least, ask it now rather
            // than after its whole slice, so timers run on time beside loops that
            // never block (Go leaves them up to a slice and two sysmon looks late).
            // A P that has been through the scheduler since the last look (its
            // fairtick moved: one per round, runnext hand-offs included) runs its
            // due timers itself at its next round: no preemption, and no early look
            // (a busy P with timers always pending would otherwise keep sysmon
            // looking every 20 us: 13% of a CPU, and a signal per look).
            let w = p.timers.wake_time();
            let timer_waits = s == PRUNNING && stuck && w != 0 && w <= now;
            if s == PRUNNING && stuck && w != 0 {
                // Look again when it is due, or soon if it already is (a goroutine
                // that started since the last look gets one more look's time).
                *next_timer = (*next_timer).min(w);
            }
            if pd.schedtick != t {
                pd.schedtick = t;
                pd.schedwhen = now;
            } else if timer_waits {
                preemptone(pp);
                // Activity: look often for a while (a goroutine that sleeps in a
                // loop beside a busy one re-arms its timer at once).
                n += 1;
            } else if pd.schedwhen + FORCE_PREEMPT_NS <= now {
                preemptone(pp);
                // In case of syscall, preemptone() doesn't work, because there is
                // no M wired to P.
                sysretake = true;
            }
        }
        if s == PSYSCALL {
            // Retake P from syscall if it's there for more than 1 sysmon tick (at
            // least 20us).
            let t = p.syscalltick.load(Relaxed);
            if !sysretake && pd.syscalltick != t {
                pd.syscalltick = t;
                pd.syscallwhen = now;
                continue;
            }
            // On the one hand we don't want to retake Ps if there is no other work
            // to do, but on the other hand we want to retake them eventually because
            // they can prevent the sysmon thread from deep sleep. A due timer is
            // work.
            // Relaxed: hints for a heuristic.
            if runqempty(p)
                && !globrunq_nonempty()
                && !timer_due(p, now)
                && ss.nmspinning.load(Relaxed) + ss.npidle.load(Relaxed) as u32 > 0
                && pd.syscallwhen + FORCE_PREEMPT_NS > now
            {
                continue;
            }
            // Count one more M as running before the CAS (see incidlelocked): else the
            // M we take the P from can leave its call, queue its goroutine and go idle,
            // and checkdead would see no M running while the P is in our hands.
            incidlelocked(-1);
            if p.cas_status(PSYSCALL, PIDLE) {
                n += 1;
                let t = &p.syscalltick;
                // Relaxed: pp is ours since the CAS.
                t.store(t.load(Relaxed).wrapping_add(1), Relaxed);
                // Relaxed: a statistics counter.
                RETAKES.fetch_add(1, Relaxed);
                // SAFETY: the CAS made pp ours: idle, with no M.
                unsafe { handoffp(pp) };
            }
            incidlelocked(1);
        }
    }
    n
}

/// Whether p has a timer due by now.
fn timer_due(p: &P, now: i64) -> bool {
    // SeqCst: as every reader of wake_time (the timer sleeper's handshake); a
    // plain load on x86-64.
    let w = p.timers.wake_time();
    w != 0 && w <= now
}
