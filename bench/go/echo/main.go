// bench/go/echo/main.go — the Go twin of examples/echo.rs `serve`: a TCP echo
// server, one goroutine per connection. `echo serve ADDR` prints listening=ADDR and
// serves until killed.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	addr := "127.0.0.1:0"
	if len(os.Args) > 2 {
		addr = os.Args[2]
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	fmt.Printf("listening=%s\n", l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 16<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}(c)
	}
}
