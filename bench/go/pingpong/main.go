// bench/go/pingpong/main.go — the Go twin of bench/pingpong.rs: main sends i on the
// unbuffered channel a; an echo goroutine receives it and sends i+1 on the unbuffered
// channel b; main receives it and checks it is i+1 (exits 1 if not). N round trips
// (default 1,000,000) at the default GOMAXPROCS; then a is closed. Prints
// ns_per_roundtrip= (wall time / N).
// GORT_TRACE=path traces the run into path (runtime/trace), as gort does.
package main

import (
	"fmt"
	"os"
	"time"

	"gortbench/benchtrace"
	"gortbench/benchutil"
)

func main() {
	defer benchtrace.Start()()
	n := uint64(benchutil.Arg(1, 1_000_000))
	a, b := make(chan uint64), make(chan uint64)
	t0 := time.Now()
	go func() {
		for v := range a {
			b <- v + 1
		}
	}()
	for i := uint64(0); i < n; i++ {
		a <- i
		if v := <-b; v != i+1 {
			fmt.Fprintln(os.Stderr, "bench: pingpong: wrong reply")
			os.Exit(1)
		}
	}
	el := time.Since(t0)
	close(a)
	fmt.Printf("ns_per_roundtrip=%.1f\n", float64(el.Nanoseconds())/float64(n))
}
