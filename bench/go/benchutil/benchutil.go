// Package benchutil holds what the Go twins of gort's benchmarks share: reading
// their positional arguments the same way the gort programs do (bench/common.rs).
package benchutil

import (
	"fmt"
	"os"
	"strconv"
)

// Arg returns os.Args[i] as a positive integer, or def when absent; anything else
// ends the program with a message and exit status 1.
func Arg(i int, def int) int {
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
