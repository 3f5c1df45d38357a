// bench/go/select/main.go — the Go twin of bench/select.rs: two producer goroutines
// each send N/2 values (1, 2, …, N/2; default N = 1,000,000) on their own unbuffered
// channel; main runs a two-case select (receive from a or from b) N times, counting and
// summing per channel, and checks each channel gave exactly N/2 values summing to
// (N/2)(N/2+1)/2 (exits 1 if not, or if a receive reports a closed channel). Prints
// ns_per_select= (wall time / N).
package main

import (
	"fmt"
	"os"
	"time"

	"gortbench/benchutil"
)

func main() {
	n := uint64(benchutil.Arg(1, 1_000_000)) &^ 1 // even: N/2 per producer
	if n == 0 {
		fmt.Fprintln(os.Stderr, "bench: N must be at least 2")
		os.Exit(1)
	}
	half := n / 2
	a, b := make(chan uint64), make(chan uint64)
	t0 := time.Now()
	for _, c := range []chan uint64{a, b} {
		go func(c chan uint64) {
			for i := uint64(1); i <= half; i++ {
				c <- i
			}
		}(c)
	}
	var count, sum [2]uint64
	for j := uint64(0); j < n; j++ {
		var i int
		var v uint64
		var ok bool
		select {
		case v, ok = <-a:
			i = 0
		case v, ok = <-b:
			i = 1
		}
		if !ok {
			fmt.Fprintln(os.Stderr, "bench: select: a receive reported a closed channel")
			os.Exit(1)
		}
		count[i]++
		sum[i] += v
	}
	el := time.Since(t0)
	want := half * (half + 1) / 2
	if count != [2]uint64{half, half} || sum != [2]uint64{want, want} {
		fmt.Fprintf(os.Stderr, "bench: select: counts=%v sums=%v, want %d and %d per channel\n", count, sum, half, want)
		os.Exit(1)
	}
	fmt.Printf("ns_per_select=%.1f\n", float64(el.Nanoseconds())/float64(n))
}
