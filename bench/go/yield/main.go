// bench/go/yield/main.go — the Go twin of bench/yield.rs: with GOMAXPROCS=1, two
// goroutines each call runtime.Gosched() K times (default 1,000,000). Prints
// ns_per_switch= (wall time / 2K).
// GORT_TRACE=path traces the run into path (runtime/trace), as gort does.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"gortbench/benchtrace"
	"gortbench/benchutil"
)

var wg sync.WaitGroup

func main() {
	defer benchtrace.Start()()
	k := benchutil.Arg(1, 1_000_000)
	runtime.GOMAXPROCS(1)
	if runtime.GOMAXPROCS(0) != 1 {
		fmt.Fprintln(os.Stderr, "bench: GOMAXPROCS is not 1")
		os.Exit(1)
	}
	t0 := time.Now()
	wg.Add(2)
	for j := 0; j < 2; j++ {
		go func() {
			for i := 0; i < k; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	fmt.Printf("ns_per_switch=%.1f\n", float64(el.Nanoseconds())/float64(2*k))
}
