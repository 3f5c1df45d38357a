// bench/go/spawn/main.go — the Go twin of bench/spawn.rs: main creates N goroutines
// (default 1,000,000), calling wg.Add(1) before each spawn; each goroutine only calls
// wg.Done(); main waits. Prints ns_per_goroutine= (wall time / N).
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

var wg sync.WaitGroup

func arg(i int, def int) int {
	if len(os.Args) <= i {
		return def
	}
	v, err := strconv.Atoi(os.Args[i])
	if err != nil || v <= 0 {
		fmt.Fprintln(os.Stderr, "bench: arguments must be positive integers")
		os.Exit(1)
	}
	return v
}

func main() {
	n := arg(1, 1_000_000)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
	}
	wg.Wait()
	el := time.Since(t0)
	fmt.Printf("ns_per_goroutine=%.1f\n", float64(el.Nanoseconds())/float64(n))
}
