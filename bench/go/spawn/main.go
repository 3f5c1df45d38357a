// bench/go/spawn/main.go — the Go twin of bench/spawn.rs: main creates N goroutines
// (default 1,000,000), calling wg.Add(1) before each spawn; each goroutine only calls
// wg.Done(); main waits. Prints ns_per_goroutine= (wall time / N).
package main

import (
	"fmt"
	"sync"
	"time"

	"gortbench/benchutil"
)

var wg sync.WaitGroup

func main() {
	n := benchutil.Arg(1, 1_000_000)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
	}
	wg.Wait()
	el := time.Since(t0)
	fmt.Printf("ns_per_goroutine=%.1f\n", float64(el.Nanoseconds())/float64(n))
}
