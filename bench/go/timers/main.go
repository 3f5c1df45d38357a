// bench/go/timers/main.go — the Go twin of bench/timers.rs: N goroutines (default
// 10,000) each time.Sleep MS milliseconds (default 1) ROUNDS times (default 100),
// counting their wake-ups; main waits on a WaitGroup and checks the count is
// N × ROUNDS (exits 1 if not). Prints wakeups_per_sec= (N × ROUNDS / wall time) and
// cpu_per_wall= (process CPU time, all threads, from clock_gettime(
// CLOCK_PROCESS_CPUTIME_ID) by system call as in gort, over the same window / wall time).
package main

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"gortbench/benchutil"
)

const clockProcessCputimeID = 2

var (
	wg    sync.WaitGroup
	wakes uint64
)

// cpuNs is the process's CPU time (all threads) in nanoseconds: the clock_gettime
// system call on CLOCK_PROCESS_CPUTIME_ID, as bench/common.rs reads it.
func cpuNs() int64 {
	var ts syscall.Timespec
	_, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCputimeID, uintptr(unsafe.Pointer(&ts)), 0)
	if e != 0 {
		fmt.Fprintln(os.Stderr, "bench: clock_gettime failed:", e)
		os.Exit(1)
	}
	return ts.Nano()
}

func main() {
	n, ms, rounds := benchutil.Arg(1, 10_000), benchutil.Arg(2, 1), benchutil.Arg(3, 100)
	d := time.Duration(ms) * time.Millisecond
	t0, c0 := time.Now(), cpuNs()
	wg.Add(n)
	for j := 0; j < n; j++ {
		go func() {
			for r := 0; r < rounds; r++ {
				time.Sleep(d)
				atomic.AddUint64(&wakes, 1)
			}
			wg.Done()
		}()
	}
	wg.Wait()
	wall, c1 := time.Since(t0), cpuNs()
	w := atomic.LoadUint64(&wakes)
	if w != uint64(n)*uint64(rounds) {
		fmt.Fprintf(os.Stderr, "bench: timers: %d wake-ups, want %d\n", w, uint64(n)*uint64(rounds))
		os.Exit(1)
	}
	fmt.Printf("wakeups_per_sec=%.0f\n", float64(w)/wall.Seconds())
	fmt.Printf("cpu_per_wall=%.3f\n", float64(c1-c0)/float64(wall.Nanoseconds()))
	fmt.Printf("cpu_ns_per_wakeup=%.0f\n", float64(c1-c0)/float64(w))
}
