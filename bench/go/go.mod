// bench/go/go.mod — the module holding the Go twins of gort's benchmark programs
// (one package per benchmark, bench/go/NAME/). Built by the benchmark driver
// (bench/driver, `make bench`).
module gortbench

go 1.19
