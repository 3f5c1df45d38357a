// bench/go/preempt/main.go — the Go twin of bench/preempt.rs: `preempt MODE [N]`.
// MODE 1: GOMAXPROCS spinning goroutines beside N (200) sleeps of 1 ms; prints
// late_max_us= and late_mean_us=; with a third argument US, each spinner calls
// syscall.Getpid every US microseconds of spinning. MODE 2: N (1,000,000) syscall.Getpid calls; prints
// ns_per_syscall=. MODE 3: 2 × GOMAXPROCS goroutines × N (100,000,000) iterations of
// a xorshift64 step; prints ns_per_iter=.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gortbench/benchutil"
)

var sink uint64

func lateness(n int, callUs int) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < runtime.GOMAXPROCS(0); i++ {
		wg.Add(1)
		go func() {
			x := uint64(1)
			if callUs == 0 {
				for !stop.Load() {
					x = x*6364136223846793005 + 1442695040888963407
				}
			} else {
				every := time.Duration(callUs) * time.Microsecond
				for !stop.Load() {
					t := time.Now()
					for time.Since(t) < every {
						x = x*6364136223846793005 + 1442695040888963407
					}
					x ^= uint64(syscall.Getpid())
				}
			}
			atomic.AddUint64(&sink, x)
			wg.Done()
		}()
	}
	var worst, total time.Duration
	for i := 0; i < n; i++ {
		t := time.Now()
		time.Sleep(time.Millisecond)
		late := time.Since(t) - time.Millisecond
		if late < 0 {
			late = 0
		}
		if late > worst {
			worst = late
		}
		total += late
	}
	stop.Store(true)
	wg.Wait()
	fmt.Printf("late_max_us=%.1f\n", float64(worst.Nanoseconds())/1e3)
	fmt.Printf("late_mean_us=%.1f\n", float64(total.Nanoseconds())/float64(n)/1e3)
}

func getpid(n int) {
	acc := 0
	t0 := time.Now()
	for i := 0; i < n; i++ {
		acc += syscall.Getpid()
	}
	el := time.Since(t0)
	sink = uint64(acc)
	fmt.Printf("ns_per_syscall=%.1f\n", float64(el.Nanoseconds())/float64(n))
}

func cpu(n int) {
	g := 2 * runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) {
			x := uint64(i + 1)
			for j := 0; j < n; j++ {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
			}
			atomic.AddUint64(&sink, x)
			wg.Done()
		}(i)
	}
	wg.Wait()
	el := time.Since(t0)
	fmt.Printf("ns_per_iter=%.3f\n", float64(el.Nanoseconds())/float64(g*n))
}

func main() {
	switch benchutil.Arg(1, 1) {
	case 1:
		lateness(benchutil.Arg(2, 200), benchutil.Arg(3, 0))
	case 2:
		getpid(benchutil.Arg(2, 1_000_000))
	case 3:
		cpu(benchutil.Arg(2, 100_000_000))
	default:
		fmt.Fprintln(os.Stderr, "bench: MODE is 1, 2 or 3")
		os.Exit(1)
	}
}
