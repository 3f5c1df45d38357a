# gort: build, run, test and benchmark. See README.md.
#
#   make run     build examples/hello (release, static, freestanding) and run it
#   make test    lint, unit tests on the host, every example natively and under
#                qemu-x86_64, and again natively with the runtime's debug checks on
#   make bench   start-up, size (and later scheduler/channel) figures beside Go
#   make lint    cargo fmt --check, clippy and rustdoc with warnings as errors

CARGO    ?= cargo
EXAMPLES := target/x86_64-unknown-linux-gnu/release/examples

.PHONY: all build run test unit integration checked lint deps bench clean

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
		--test boot --test chan --test sched --test sync --test time -- --test-threads=2

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --lib --examples --tests -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --quiet

test: lint unit integration checked

bench: build
	bash bench/run.sh

clean:
	$(CARGO) clean
