// bench/go/mutex/main.go — the Go twin of bench/mutex.rs: G goroutines (default 8)
// each do M (default 1,000,000) lock / increment / unlock on one sync.Mutex, at the
// default GOMAXPROCS. Checks the count is exactly G*M (exits 1 if not); prints
// ns_per_op= (wall time / (G*M)).
package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"gortbench/benchutil"
)

var (
	mu    sync.Mutex
	count uint64
	wg    sync.WaitGroup
)

func main() {
	g, m := benchutil.Arg(1, 8), benchutil.Arg(2, 1_000_000)
	t0 := time.Now()
	wg.Add(g)
	for j := 0; j < g; j++ {
		go func() {
			for i := 0; i < m; i++ {
				mu.Lock()
				count++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	mu.Lock()
	c := count
	mu.Unlock()
	if c != uint64(g)*uint64(m) {
		fmt.Fprintf(os.Stderr, "bench: mutex: count=%d, want %d\n", c, uint64(g)*uint64(m))
		os.Exit(1)
	}
	fmt.Printf("ns_per_op=%.1f\n", float64(el.Nanoseconds())/float64(g*m))
}
