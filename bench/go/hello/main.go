// bench/go/hello/main.go — the Go twin of gort's examples/hello.rs: the standard Go
// "hello, world", used by the benchmark driver (bench/driver) as the reference for start-up
// time and binary size.
package main

import "fmt"

func main() {
	fmt.Println("hello, world")
}
