// bench/go/parked/main.go — the Go twin of bench/parked.rs: N goroutines (default
// 100,000) each call started.Done() and park in gate.Wait(); once all have started,
// main reads RSS (/proc/self/statm, field 2 × 4096) and prints bytes_per_goroutine=
// ((RSS now − RSS before the first spawn) / N). No runtime.GC or debug.FreeOSMemory
// anywhere. Then the gate opens and main checks all N finish.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"gortbench/benchutil"
)

var started, gate, finished sync.WaitGroup

// rss is the resident set size in bytes: field 2 of /proc/self/statm (pages) × 4096.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: cannot read /proc/self/statm:", err)
		os.Exit(1)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		fmt.Fprintln(os.Stderr, "bench: cannot parse /proc/self/statm")
		os.Exit(1)
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: cannot parse /proc/self/statm")
		os.Exit(1)
	}
	return pages * 4096
}

func main() {
	n := benchutil.Arg(1, 100_000)
	gate.Add(1)
	started.Add(n)
	finished.Add(n)
	before := rss()
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			gate.Wait()
			finished.Done()
		}()
	}
	started.Wait()
	parked := rss()
	gate.Done()
	finished.Wait()
	var per uint64
	if parked > before {
		per = (parked - before) / uint64(n)
	}
	fmt.Printf("bytes_per_goroutine=%d\n", per)
}
