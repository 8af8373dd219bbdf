# SPDX-License-Identifier: GPL-2.0
#
# rtun: out-of-tree Rust tun/tap driver.  Kbuild reads ./Kbuild; this
# Makefile drives everything else.  KDIR=<dir> builds against your own
# configured and built Rust-enabled kernel instead of the cached one.
#
#   make          build rtun.ko (kernel and dependencies set up on demand)
#   make run      set up, build, boot, and print the C vs Rust report
#   make shell    interactive guest shell with tun.ko and rtun.ko loaded
#   make check    all tests; the last line is "N passed, N failed"
#   make fuzz     run the host planner fuzzers, then the differential tester
#                 in the VM (FUZZ_SECONDS each, default 60)
#   make clean    remove build output from the tree

export KDIR
FUZZ_SECONDS ?= 60

.PHONY: all module run shell check fuzz host-test clean

all: module

module:
	@bash scripts/build-module.sh

run:
	@bash scripts/run.sh

shell: module
	@KDIR=$$(bash scripts/kdir.sh) bash scripts/vm-run.sh --interactive -- \
		bash scripts/guest-run.sh

check:
	@bash scripts/check.sh

fuzz:
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

host-test:
	@cd host && cargo test

clean:
	@kdir=$$(KDIR=$(KDIR) bash scripts/kdir.sh 2>/dev/null) && \
		$(MAKE) -C "$$kdir" M=$(CURDIR) clean || true
	@rm -rf host/target
	@$(MAKE) -C selftests/rtun clean >/dev/null 2>&1 || true

# Benchmarks, C tun vs rtun in the same VM boots (bench/, Documentation/benchmark.md).
# Not part of make check; timing never fails them.
#   make bench        3 boots x 10 alternating rounds per workload, updates the report
#   make bench-quick  1 round, a few seconds per workload, prints a table
#   make bench-icount guest instructions per operation (QEMU plugin
#                     bench/icount.c), every kernel, 2 boots; updates the
#                     report's instruction-count tables
.PHONY: bench bench-quick bench-icount

bench:
	@bash bench/run.sh

bench-quick:
	@bash bench/run.sh --quick

bench-icount:
	@bash bench/icount.sh $(if $(BENCH_ONLY),,--doc)
