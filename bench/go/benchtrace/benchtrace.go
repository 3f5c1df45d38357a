// Package benchtrace lets a Go twin write Go's execution trace (runtime/trace) the
// way gort's runtime does when GORT_TRACE names a file, for the benchmark driver's
// `trace` benchmark (tracing on against off). A package of its own, so that only
// the twins that call it link runtime/trace.
package benchtrace

import (
	"fmt"
	"os"
	"runtime/trace"
)

// Start starts the execution trace into the file GORT_TRACE names (created or
// truncated) and returns the function that stops it and closes the file; with
// GORT_TRACE unset or empty it does nothing. A file that cannot be created or a
// trace that cannot start ends the program with exit status 1.
func Start() (stop func()) {
	path := os.Getenv("GORT_TRACE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = trace.Start(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: GORT_TRACE:", err)
		os.Exit(1)
	}
	return func() {
		trace.Stop()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: GORT_TRACE:", err)
			os.Exit(1)
		}
	}
}
