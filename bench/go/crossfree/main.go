// bench/go/crossfree/main.go — the Go twin of bench/crossfree.rs: a producer
// goroutine allocates N (default 2,000,000) *[8]uint64 holding i and sends them over
// a channel of capacity 128; main receives and drops each, summing. Checks count and
// sum (exit 1). Prints ns_per_item= (wall time / N).
package main

import (
	"fmt"
	"os"
	"time"

	"gortbench/benchutil"
)

func main() {
	n := uint64(benchutil.Arg(1, 2_000_000))
	c := make(chan *[8]uint64, 128)
	t0 := time.Now()
	go func() {
		for i := uint64(0); i < n; i++ {
			b := new([8]uint64)
			for k := range b {
				b[k] = i
			}
			c <- b
		}
		close(c)
	}()
	var count, sum uint64
	for b := range c {
		count++
		sum += b[0] + b[7]
	}
	el := time.Since(t0)
	if count != n || sum != n*(n-1) {
		fmt.Fprintln(os.Stderr, "bench: wrong count or sum")
		os.Exit(1)
	}
	fmt.Printf("ns_per_item=%.1f\n", float64(el.Nanoseconds())/float64(n))
}
