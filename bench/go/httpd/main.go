// bench/go/httpd/main.go — the Go twin of examples/httpd.rs: an HTTP/1.1 keep-alive
// responder doing the same work (read the request head up to the blank line, answer
// 200 with "hello, world\n", pipelining kept), on net and one goroutine per
// connection. `httpd ADDR` prints listening=ADDR and serves until killed.
package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
)

var ok = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n")

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 8192)
	have := 0
	for {
		for {
			end := bytes.Index(buf[:have], []byte("\r\n\r\n"))
			if end < 0 {
				break
			}
			end += 4
			if _, err := c.Write(ok); err != nil {
				return
			}
			copy(buf, buf[end:have])
			have -= end
		}
		if have == len(buf) {
			return
		}
		n, err := c.Read(buf[have:])
		if n == 0 || err != nil {
			return
		}
		have += n
	}
}

func main() {
	addr := "127.0.0.1:8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpd:", err)
		os.Exit(1)
	}
	fmt.Printf("listening=%s\n", l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go serve(c)
	}
}
