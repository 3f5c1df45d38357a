# gort: build, run, test and benchmark. See README.md.
#
#   make run     build examples/hello (release, static, freestanding) and run it
#   make test    lint, unit tests on the host, every example natively and under
#                qemu-x86_64, and again natively with the runtime's debug checks on
#   make bench   every benchmark beside its Go twin (bench/driver), into bench/RESULTS.md
#   make lint    cargo fmt --check, clippy and rustdoc with warnings as errors

CARGO    ?= cargo
EXAMPLES := target/x86_64-unknown-linux-gnu/release/examples

.PHONY: all build run test unit loom integration checked lint deps bench bench-one clean

all: build

build:
	$(CARGO) build --release --examples

run: build
	$(EXAMPLES)/hello

# Tools the tests need (qemu-user), installed with apt-get when missing.
deps:
	@bash .ci/deps qemu

unit:
	$(CARGO) test --lib

integration: deps build
	$(CARGO) test --tests --release -- --test-threads=2

# The same programs built with the runtime's debug checks on (profile `checked`: lock
# ranks, assertLockHeld, status transitions, pinning, no allocation under a lock), run
# natively.
checked: build
	GORT_TEST_PROFILE=checked GORT_TEST_MODES=native $(CARGO) test --release \
		--test boot --test chan --test sched --test sync --test time --test preempt --test net --test process --test heap --test fs -- --test-threads=2

# Model checks (loom) of the run queue and the spinning handshake, in a target
# directory of their own (cfg(loom) rebuilds everything).
loom:
	RUSTFLAGS="--cfg loom" $(CARGO) test --quiet --lib --release --target-dir target/loom loom

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --lib --examples --tests -- -D warnings
	$(CARGO) clippy --lib -- -D warnings -D clippy::undocumented_unsafe_blocks
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --quiet
	$(CARGO) fmt --check --manifest-path macros/Cargo.toml
	$(CARGO) fmt --check --manifest-path template/Cargo.toml
	$(CARGO) clippy --quiet --manifest-path macros/Cargo.toml --target-dir target/macros -- -D warnings
	$(CARGO) fmt --check --manifest-path bench/driver/Cargo.toml
	$(CARGO) clippy --quiet --manifest-path bench/driver/Cargo.toml --target-dir target/bench/driver \
		--all-targets -- -D warnings

test: lint unit loom integration checked

# The benchmark driver (bench/driver, a std program of its own): every benchmark beside
# its Go twin, ratios in bench/RESULTS.md.
BENCH := $(CARGO) run --quiet --release --manifest-path bench/driver/Cargo.toml \
	--target-dir target/bench/driver --

bench: build
	$(BENCH)

# make bench-one B="spawn yield": only those; the report goes to target/bench/RESULTS.md.
bench-one: build
	@test -n "$(B)" || { echo 'usage: make bench-one B="spawn yield"' >&2; exit 2; }
	$(BENCH) $(B)

clean:
	$(CARGO) clean
