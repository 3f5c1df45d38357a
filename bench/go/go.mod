// bench/go/go.mod — the module holding the Go twins of gort's benchmark programs
// (one package per benchmark, bench/go/NAME/). Built by bench/run.sh.
module gortbench

go 1.19
