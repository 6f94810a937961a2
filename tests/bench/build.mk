# tests/bench/build.mk - `make bench` (kheap against its previous design, the sorted-list first
# fit, the textbook first fit and glibc, side by side) and `make bench-smoke` (seconds; a
# prerequisite of host-test so the benchmark never rots).
#
#   make bench                  the full run: table on stdout, progress on stderr,
#                               build/bench/results.csv and build/bench/results.json
#   make bench BENCH_QUICK=1    fewer pairs, shorter caps, two traces
#   make bench-smoke            tiny sizes, one run each: binaries work, CSV written
#   make bench BENCH_REAL=0     without tests/real/bench-real at the end
#   make bench BENCH_SPACE_CAP=60  the textbook space runs' cap in seconds (default: the same
#                               cap as every process, 10 s; quick 1 s)
#
# One source, tests/bench/bench.c, one binary per allocator (the heap.h libraries export the
# same names, hence one binary each):
#   bench-kheap       -DALLOC_KHEAP, libkheap.a (lib/, the fast index)
#   bench-rbtree      -DALLOC_RBTREE, the frozen copies in tests/bench/rbtree/ (commit 6dbb346),
#                     built from there alone: -Itests/bench/rbtree, never -Ilib, objects in
#                     build/bench/rbtree/, so it keeps building whatever lib/ becomes
#   bench-list        -DALLOC_LIST, libkheap-list.a (lib/ with the sorted-list index)
#   bench-textbook16  -DALLOC_TEXTBOOK=16, tests/bench/textbook.c with TEXTBOOK_ALIGN=16
#   bench-textbook8   the same at 8-byte alignment
#   bench-glibc       -DALLOC_GLIBC
# tests/bench/run.py drives them. The i386 .text figure compiles the allocator core (lib/'s
# tree build without the checker and the default heap) alone at -Os with the kernel's cross
# compiler.

BENCH_DIR      := $(BUILD)/bench
BENCH_SRC      := tests/bench/bench.c
BENCH_DRIVER   := tests/bench/run.py
BENCH_CORE     := $(filter-out lib/mem.c lib/heap_check.c,$(LIB_TREE))
BENCH_CORE_OBJ := $(patsubst %.c,$(BENCH_DIR)/i386/%.o,$(BENCH_CORE))
BENCH_CORE_FLAGS := -std=c11 $(WARN) -m32 -Os -ffreestanding -fno-pie -fno-stack-protector -Ilib -Ikernel

# The baselines are compiled without lib/ on the include path.
BENCH_NOLIB_CFLAGS = $(filter-out -Ilib,$(HOST_CFLAGS))

$(BENCH_DIR)/bench-kheap: $(BENCH_SRC) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DALLOC_KHEAP $< $(HOST_LIB) -lm -o $@

$(BENCH_DIR)/bench-list: $(BENCH_SRC) $(HOST_LIB_LIST)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DALLOC_LIST $< $(HOST_LIB_LIST) -lm -o $@

$(BENCH_DIR)/bench-glibc: $(BENCH_SRC) $(HOST_CONFIG)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DALLOC_GLIBC $< -lm -o $@

# ---- The previous design (tests/bench/rbtree/), compiled as host/build.mk compiles lib/
BENCH_RB_SRC_DIR := tests/bench/rbtree
BENCH_RB_DIR     := $(BENCH_DIR)/rbtree
BENCH_RB_LIB     := heap.c heap_error.c heap_check.c rbtree.c index_tree.c
BENCH_RB_OBJ     := $(patsubst %.c,$(BENCH_RB_DIR)/%.o,$(BENCH_RB_LIB)) $(BENCH_RB_DIR)/seam_stub.o
BENCH_RB_CFLAGS   = -I$(BENCH_RB_SRC_DIR) $(BENCH_NOLIB_CFLAGS)

$(BENCH_RB_DIR)/seam_stub.o: $(BENCH_RB_SRC_DIR)/seam_stub.c $(HOST_CONFIG)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_RB_CFLAGS) -fPIC -c $< -o $@

$(BENCH_RB_DIR)/%.o: $(BENCH_RB_SRC_DIR)/%.c $(HOST_CONFIG)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_RB_CFLAGS) -ffreestanding -fPIC -c $< -o $@

$(BENCH_DIR)/bench-rbtree: $(BENCH_SRC) $(BENCH_RB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_RB_CFLAGS) -DALLOC_RBTREE $< $(BENCH_RB_OBJ) -lm -o $@

# ---- The textbook first fit (tests/bench/textbook.c), once per alignment
BENCH_TB_ALIGNS := 16 8
BENCH_TB_OBJ    := $(foreach a,$(BENCH_TB_ALIGNS),$(BENCH_DIR)/textbook$(a).o)
BENCH_TB_BINS   := $(foreach a,$(BENCH_TB_ALIGNS),$(BENCH_DIR)/bench-textbook$(a))

$(BENCH_TB_OBJ): $(BENCH_DIR)/textbook%.o: tests/bench/textbook.c $(HOST_CONFIG)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_NOLIB_CFLAGS) -DTEXTBOOK_ALIGN=$* -c $< -o $@

$(BENCH_TB_BINS): $(BENCH_DIR)/bench-textbook%: $(BENCH_SRC) $(BENCH_DIR)/textbook%.o
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_NOLIB_CFLAGS) -DALLOC_TEXTBOOK=$* $< $(BENCH_DIR)/textbook$*.o -lm -o $@

BENCH_BINS := $(addprefix $(BENCH_DIR)/bench-,kheap rbtree list glibc) $(BENCH_TB_BINS)

# ---- The i386 .text figure
$(BENCH_DIR)/i386/%.o: %.c $(HOST_CONFIG)
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
	    $(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(if $(BENCH_RUNS),--runs $(BENCH_RUNS)) \
	    $(if $(BENCH_SPACE_CAP),--space-cap $(BENCH_SPACE_CAP))

bench-smoke: $(BENCH_BINS) $(BENCH_CORE_OBJ)
	python3 $(BENCH_DRIVER) $(BENCH_ARGS) --out $(BENCH_DIR)/smoke --smoke

host-test: bench-smoke

# ---- Arenas: one arena's cost (instructions), and the multi-threaded bench ---------------------
# make bench-arena-cost   callgrind instructions per alloc+free pair, bare heap against one
#                         arena (no lock, and a mutex either way); fails over 5%
$(BENCH_DIR)/arena-cost: tests/bench/arena-cost.c $(call host_objs,tree,lib/arena.c $(LIB_TREE) $(HOST_SEAM))
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $^ -lpthread -o $@

.PHONY: bench-arena-cost
bench-arena-cost: $(BENCH_DIR)/arena-cost
	tests/bench/arena-cost $<

# make bench-mt           tests/bench/mt.c (larson-like hand-off, per-thread churn) at 1 and 2
#                         threads under glibc, jemalloc, mimalloc, tcmalloc and libkheap.so:
#                         time and peak RSS, medians of 3 (BENCH_QUICK=1: one short run;
#                         BENCH_MT_BEFORE=OTHER.so: another libkheap.so in a column beside it);
#                         part of make bench
$(BENCH_DIR)/mt: tests/bench/mt.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O2 -g -D_GNU_SOURCE $< -lpthread -o $@

.PHONY: bench-mt
bench-mt: $(BENCH_DIR)/mt $(PRELOAD_SO)
	python3 tests/bench/mt-run --bin $(BENCH_DIR)/mt --kheap $(PRELOAD_SO) \
	    $(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(if $(BENCH_RUNS),--runs $(BENCH_RUNS)) \
	    $(if $(BENCH_MT_BEFORE),--before $(BENCH_MT_BEFORE))
bench: bench-mt
