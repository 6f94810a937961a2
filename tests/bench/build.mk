# tests/bench/build.mk - `make bench` (kheap vs the sorted-list first fit vs glibc, side by side)
# and `make bench-smoke` (seconds; a prerequisite of host-test so the benchmark never rots).
#
#   make bench                  the full run (~8 minutes): table on stdout, progress on stderr,
#                               build/bench/results.csv and build/bench/results.json
#   make bench BENCH_QUICK=1    ~1 minute: fewer pairs, shorter caps, one trace per size class
#   make bench-smoke            tiny sizes, one run each: binaries work, CSV written
#   make bench BENCH_REAL=0     without tests/real/bench-real at the end
#
# One source, three binaries: tests/bench/bench.c with -DALLOC_KHEAP (libkheap.a, tree index),
# -DALLOC_LIST (libkheap-list.a, sorted list: both libraries export the same names, hence one
# binary each) and -DALLOC_GLIBC. tests/bench/run.py drives them. The i386 .text figure compiles
# the allocator core alone at -Os with the kernel's cross compiler.

BENCH_DIR      := $(BUILD)/bench
BENCH_SRC      := tests/bench/bench.c
BENCH_DRIVER   := tests/bench/run.py
BENCH_BINS     := $(BENCH_DIR)/bench-kheap $(BENCH_DIR)/bench-list $(BENCH_DIR)/bench-glibc
BENCH_CORE     := lib/heap.c lib/rbtree.c lib/index_tree.c
BENCH_CORE_OBJ := $(patsubst lib/%.c,$(BENCH_DIR)/i386/%.o,$(BENCH_CORE))
BENCH_CORE_FLAGS := -std=c11 $(WARN) -m32 -Os -ffreestanding -fno-pie -fno-stack-protector -Ilib -Ikernel

$(BENCH_DIR)/bench-kheap: $(BENCH_SRC) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DALLOC_KHEAP $< $(HOST_LIB) -lm -o $@

$(BENCH_DIR)/bench-list: $(BENCH_SRC) $(HOST_LIB_LIST)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DALLOC_LIST $< $(HOST_LIB_LIST) -lm -o $@

$(BENCH_DIR)/bench-glibc: $(BENCH_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DALLOC_GLIBC $< -lm -o $@

$(BENCH_DIR)/i386/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(KCC) $(BENCH_CORE_FLAGS) -c $< -o $@

BENCH_ARGS = --bin $(BENCH_DIR) --traces tests/traces --core $(BENCH_CORE_OBJ) --cc '$(CC)'

# tests/real/bench-real (real programs under LD_PRELOAD, another suite's script) runs at the end
# of `make bench` when it exists and is executable (BENCH_REAL=0 skips it; with BENCH_QUICK=1 it
# runs with RUNS=1); it needs the preload library.
BENCH_REAL ?= 1
BENCH_REAL_SO := $(if $(and $(filter-out 0,$(BENCH_REAL)),$(wildcard tests/real/bench-real)),$(PRELOAD_SO))

.PHONY: bench bench-smoke
bench: $(BENCH_BINS) $(BENCH_CORE_OBJ) $(BENCH_REAL_SO)
	python3 $(BENCH_DRIVER) $(BENCH_ARGS) --out $(BENCH_DIR) \
	    $(if $(BENCH_REAL_SO),--real-args '$(PRELOAD_SO) $(BUILD)',--no-real) \
	    $(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(if $(BENCH_RUNS),--runs $(BENCH_RUNS))

bench-smoke: $(BENCH_BINS) $(BENCH_CORE_OBJ)
	python3 $(BENCH_DRIVER) $(BENCH_ARGS) --out $(BENCH_DIR)/smoke --smoke

host-test: bench-smoke
