// bench/go/echoclient/main.go — the load generator of the echo benchmark, the same
// program for both servers: `echoclient ADDR CONNS MS SIZE` opens CONNS connections
// and on each, for MS milliseconds, writes SIZE bytes and reads them back (checking
// them), as fast as the server answers. Prints rt_per_s= (round trips per second,
// all connections together). Exits 1 on any error or wrong byte.
// With MS = 0 it holds the connections instead: one round trip on each, then it
// prints "ready" and keeps them open, idle, until its standard input closes (the
// benchmark driver measures the server's memory meanwhile).
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: echoclient ADDR CONNS MS SIZE")
		os.Exit(1)
	}
	addr := os.Args[1]
	conns, _ := strconv.Atoi(os.Args[2])
	ms, _ := strconv.Atoi(os.Args[3])
	size, _ := strconv.Atoi(os.Args[4])
	var total atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	start := make(chan struct{})
	var deadline time.Time
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "echoclient:", err)
			os.Exit(1)
		}
		cs[i] = c
	}
	if ms == 0 {
		msg := bytes.Repeat([]byte{'x'}, size)
		got := make([]byte, size)
		for _, c := range cs {
			if _, err := c.Write(msg); err != nil {
				fmt.Fprintln(os.Stderr, "echoclient:", err)
				os.Exit(1)
			}
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
				fmt.Fprintln(os.Stderr, "echoclient: bad echo")
				os.Exit(1)
			}
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		return
	}
	for i, c := range cs {
		wg.Add(1)
		go func(i int, c net.Conn) {
			defer wg.Done()
			msg := bytes.Repeat([]byte{byte('a' + i%26)}, size)
			got := make([]byte, size)
			<-start
			n := int64(0)
			for time.Now().Before(deadline) {
				if _, err := c.Write(msg); err != nil {
					failed.Store(true)
					return
				}
				if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
					failed.Store(true)
					return
				}
				n++
			}
			total.Add(n)
		}(i, c)
	}
	t0 := time.Now()
	deadline = t0.Add(time.Duration(ms) * time.Millisecond)
	close(start)
	wg.Wait()
	el := time.Since(t0)
	if failed.Load() {
		fmt.Fprintln(os.Stderr, "echoclient: a connection failed or read wrong bytes")
		os.Exit(1)
	}
	fmt.Printf("rt_per_s=%.0f\n", float64(total.Load())/el.Seconds())
}
