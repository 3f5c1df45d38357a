// bench/go/holes/main.go — the Go twin of bench/holes.rs: 2 × HOLES (default 10,000)
// 48-byte slices, every other one dropped (holes), then M (default 20,000) timed
// allocations of zeroed byte slices of 300 to 400 bytes, all kept alive. Prints
// ns_per_alloc= (that loop's wall time / M); checks lengths and contents (exit 1).
package main

import (
	"fmt"
	"os"
	"time"

	"gortbench/benchutil"
)

func main() {
	holes := benchutil.Arg(1, 10_000)
	m := benchutil.Arg(2, 20_000)
	small := make([][]byte, 2*holes)
	for i := range small {
		small[i] = make([]byte, 48)
		for k := range small[i] {
			small[i][k] = byte(i)
		}
	}
	for i := 1; i < len(small); i += 2 {
		small[i] = nil
	}
	kept := make([][]byte, 0, m)
	t0 := time.Now()
	for j := 0; j < m; j++ {
		kept = append(kept, make([]byte, 300+(j*37)%101))
	}
	el := time.Since(t0)
	for j, v := range kept {
		if len(v) != 300+(j*37)%101 {
			fmt.Fprintln(os.Stderr, "bench: wrong vector")
			os.Exit(1)
		}
		for _, b := range v {
			if b != 0 {
				fmt.Fprintln(os.Stderr, "bench: wrong vector")
				os.Exit(1)
			}
		}
	}
	for i := 0; i < len(small); i += 2 {
		if small[i][0] != byte(i) {
			fmt.Fprintln(os.Stderr, "bench: a kept small object changed")
			os.Exit(1)
		}
	}
	fmt.Printf("ns_per_alloc=%.1f\n", float64(el.Nanoseconds())/float64(m))
}
