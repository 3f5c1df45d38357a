// bench/go/binarytrees/main.go — the Go twin of bench/binarytrees.rs: the Computer
// Language Benchmarks Game's binary-trees as Go's reference program does it (a
// goroutine per depth), default depth 17. Every check is verified; exit 1 on a wrong
// one. Prints seconds= (wall time of the whole computation).
package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"gortbench/benchutil"
)

type Node struct{ left, right *Node }

func bottomUpTree(depth int) *Node {
	if depth <= 0 {
		return &Node{}
	}
	return &Node{bottomUpTree(depth - 1), bottomUpTree(depth - 1)}
}

func (n *Node) itemCheck() int {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.itemCheck() + n.right.itemCheck()
}

func nodes(d int) int { return (1 << (d + 1)) - 1 }

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "bench:", msg)
	os.Exit(1)
}

func main() {
	n := benchutil.Arg(1, 17)
	minDepth := 4
	maxDepth := n
	if minDepth+2 > n {
		maxDepth = minDepth + 2
	}
	t0 := time.Now()
	stretch := maxDepth + 1
	if bottomUpTree(stretch).itemCheck() != nodes(stretch) {
		fail("wrong stretch tree check")
	}
	longLived := bottomUpTree(maxDepth)

	checks := make([]int, maxDepth+1)
	var wg sync.WaitGroup
	for d := minDepth; d <= maxDepth; d += 2 {
		wg.Add(1)
		go func(depth int) {
			iterations := 1 << uint(maxDepth-depth+minDepth)
			check := 0
			for i := 0; i < iterations; i++ {
				check += bottomUpTree(depth).itemCheck()
			}
			checks[depth] = check
			wg.Done()
		}(d)
	}
	wg.Wait()
	for d := minDepth; d <= maxDepth; d += 2 {
		iterations := 1 << uint(maxDepth-d+minDepth)
		if checks[d] != iterations*nodes(d) {
			fail("wrong check")
		}
	}
	if longLived.itemCheck() != nodes(maxDepth) {
		fail("wrong long-lived tree check")
	}
	fmt.Printf("seconds=%.3f\n", time.Since(t0).Seconds())
}
