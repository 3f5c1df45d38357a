// bench/go/chanbuf/main.go — the Go twin of bench/chanbuf.rs: a producer goroutine
// sends 0, 1, …, N-1 (default N = 10,000,000) on a channel of capacity 128 and closes
// it; main ranges over the channel, summing, and checks the count is N and the sum
// N(N-1)/2 (exits 1 if not). Prints ns_per_item= (wall time / N).
package main

import (
	"fmt"
	"os"
	"time"

	"gortbench/benchutil"
)

const capacity = 128

func main() {
	n := uint64(benchutil.Arg(1, 10_000_000))
	c := make(chan uint64, capacity)
	t0 := time.Now()
	go func() {
		for i := uint64(0); i < n; i++ {
			c <- i
		}
		close(c)
	}()
	var count, sum uint64
	for v := range c {
		count++
		sum += v
	}
	el := time.Since(t0)
	// N(N-1)/2 without overflow in the product (the sum itself wraps like gort's).
	want := (n - 1) / 2 * n
	if n%2 == 0 {
		want = n / 2 * (n - 1)
	}
	if count != n || sum != want {
		fmt.Fprintf(os.Stderr, "bench: chanbuf: count=%d sum=%d, want count=%d sum=%d\n", count, sum, n, want)
		os.Exit(1)
	}
	fmt.Printf("ns_per_item=%.1f\n", float64(el.Nanoseconds())/float64(n))
}
