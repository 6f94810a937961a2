# tests/build.mk - the host test suite (`make host-test`):
#   host-cases     the shared allocator cases (tests/cases/) under cmocka, linked once with the
#                  tree index (libkheap.a) and once with the sorted-list reference (libkheap-list.a)
#   host-default   host-only tests of the default heap: growth, own regions for big requests,
#                  mem_dump, aligned_alloc to 1 MiB, threads (volume: KHEAP_STRESS operations)
#   host-failtest  the runner built with -DKHEAP_FAILTEST must report its failing case
#   host-asan      lib and tests rebuilt under build/asan with ASan+UBSan, reduced volume
#   host-valgrind  the runner under valgrind memcheck, reduced volume
#   host-valgrind-annotate  lib built with -DKHEAP_VALGRIND=1: valgrind must catch the overrun
#                  and the use after free in tests/host/overrun.c
#   host-damage    a wild write over a region's descriptor or tables, byte by byte: heap_check
#                  reports it and never faults (tests/host/damage.c, under ASan and UBSan)
#   lib-symbols    lib/ calls nothing outside itself but mem* and the seam (nm -u)
#   recipe-test    the README's recipe names exactly lib/files.mk's LIB_SRC, which compiles
#                  freestanding and works against a stub seam
#   config-test    another compiler or other flags compile build/host and the bench again
#                  (tests/host/config.sh, in its own build directory)
# KHEAP_SEED=0x... replays a random case; KHEAP_SCALE multiplies the cases' operation counts.

TBUILD       := $(BUILD)/tests
ASAN_BUILD   := $(BUILD)/asan
TEST_CFLAGS   = $(HOST_CFLAGS) -Itests -Itests/cases -Itests/host
ASAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TEST_LIBS    := -lcmocka -lpthread
TAP          := CMOCKA_MESSAGE_OUTPUT=TAP

CASE_SRC     := $(wildcard tests/cases/*.c)
HARNESS_SRC  := tests/host/harness.c
RUNNER_SRC   := tests/host/run_cases.c $(HARNESS_SRC) $(CASE_SRC)
DEFAULT_SRC  := tests/host/test_default.c $(HARNESS_SRC) $(filter-out tests/cases/all.c,$(CASE_SRC))

tobj = $(patsubst %.c,$(1)/%.o,$(2))

RUN_CASES      := $(TBUILD)/run_cases
RUN_CASES_LIST := $(TBUILD)/run_cases_list
RUN_FAILTEST   := $(TBUILD)/run_cases_failtest
TEST_DEFAULT   := $(TBUILD)/test_default
ASAN_CASES     := $(ASAN_BUILD)/run_cases
ASAN_DEFAULT   := $(ASAN_BUILD)/test_default
VG_BUILD       := $(BUILD)/valgrind
VG_CASES       := $(RUN_CASES)
VG_OVERRUN     := $(VG_BUILD)/overrun
VG_DEFAULT     := $(VG_BUILD)/test_default

HOST_STRESS  ?= 200000
HOST_SCALE   ?= 32
REDUCED      := KHEAP_STRESS=20000 KHEAP_SCALE=1

# Rewritten only when the compiler or flags change, so `make host-test CC=clang` after a gcc
# build recompiles the tests instead of linking gcc's sanitizer objects with clang's runtime.
TEST_CONFIG := $(CC) $(TEST_CFLAGS) $(ASAN_FLAGS)
$(TBUILD)/config: test-config
	$(call write_if_changed,$(TEST_CONFIG))
.PHONY: test-config
test-config: ;

$(TBUILD)/%.o: %.c $(TBUILD)/config
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(TBUILD)/failtest/all.o: tests/cases/all.c $(TBUILD)/config
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -DKHEAP_FAILTEST -c $< -o $@

$(ASAN_BUILD)/%.o: %.c $(TBUILD)/config
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(ASAN_FLAGS) -c $< -o $@

$(RUN_CASES): $(call tobj,$(TBUILD),$(RUNNER_SRC)) $(HOST_LIB)
	$(CC) -o $@ $^ $(TEST_LIBS)

$(RUN_CASES_LIST): $(call tobj,$(TBUILD),$(RUNNER_SRC)) $(HOST_LIB_LIST)
	$(CC) -o $@ $^ $(TEST_LIBS)

$(RUN_FAILTEST): $(call tobj,$(TBUILD),$(filter-out tests/cases/all.c,$(RUNNER_SRC))) \
                 $(TBUILD)/failtest/all.o $(HOST_LIB)
	$(CC) -o $@ $^ $(TEST_LIBS)

$(TEST_DEFAULT): $(call tobj,$(TBUILD),$(DEFAULT_SRC)) $(HOST_LIB)
	$(CC) -o $@ $^ $(TEST_LIBS)

$(ASAN_CASES): $(call tobj,$(ASAN_BUILD),$(RUNNER_SRC) $(LIB_TREE) $(HOST_SEAM))
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(TEST_LIBS)

$(ASAN_DEFAULT): $(call tobj,$(ASAN_BUILD),$(DEFAULT_SRC) $(LIB_TREE) $(HOST_SEAM))
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(TEST_LIBS)

.PHONY: host-cases host-default host-failtest host-asan host-valgrind lib-symbols recipe-test host-test-build
host-test: host-cases host-default host-failtest host-asan host-valgrind lib-symbols recipe-test
	@echo "host-test: all host suites passed"

host-test-build: $(RUN_CASES) $(RUN_CASES_LIST) $(RUN_FAILTEST) $(TEST_DEFAULT) $(ASAN_CASES) $(ASAN_DEFAULT) \
                 $(VG_CASES) $(VG_OVERRUN)

host-cases: $(RUN_CASES) $(RUN_CASES_LIST)
	$(TAP) KHEAP_SCALE=$(HOST_SCALE) $(RUN_CASES)
	$(TAP) KHEAP_SCALE=$(HOST_SCALE) $(RUN_CASES_LIST)

host-default: $(TEST_DEFAULT)
	$(TAP) KHEAP_STRESS=$(HOST_STRESS) $(TEST_DEFAULT)

# The failing case must come out as `not ok` and the runner must exit non-zero.
host-failtest: $(RUN_FAILTEST)
	@out=$$($(TAP) $(RUN_FAILTEST) 2>&1); status=$$?; \
	if [ $$status -ne 0 ] && grep -Eq '^not ok [0-9]+ - failtest' <<<"$$out"; then \
	    echo "host-failtest: the deliberately failing case was reported (exit $$status)"; \
	else \
	    echo "$$out" | tail -20; echo "host-failtest: a failing case went unnoticed" >&2; exit 1; fi

host-asan: $(ASAN_CASES) $(ASAN_DEFAULT)
	$(TAP) $(REDUCED) ASAN_OPTIONS=halt_on_error=1:detect_leaks=0 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(ASAN_CASES)
	$(TAP) $(REDUCED) ASAN_OPTIONS=halt_on_error=1:detect_leaks=0 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(ASAN_DEFAULT)

host-valgrind: $(VG_CASES)
	@command -v valgrind >/dev/null || { echo "host-valgrind: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
	$(TAP) $(REDUCED) valgrind -q --error-exitcode=1 --leak-check=no $(VG_CASES)

lib-symbols: $(call host_objs,tree,$(LIB_TREE))
	@bash tests/host/lib_symbols.sh $^

recipe-test:
	@bash tests/host/recipe.sh '$(CC)' $(TBUILD)/recipe $(LIB_SRC)

# One target of each kind of rule that compiles under build/host and for the bench.
CONFIG_TARGETS := @/host/libkheap.a @/host/libkheap-list.a @/host/so/host/preload.o @/bench/rbtree/heap.o \
                  @/bench/textbook16.o @/bench/bench-glibc @/bench/i386/lib/heap.o
host-test: config-test
.PHONY: config-test
config-test:
	@bash tests/host/config.sh $(MAKE) '$(CC)' $(BUILD)/config-test $(CONFIG_TARGETS)

# ---- Valgrind builds --------------------------------------------------------------------------
# Valgrind runs the shared cases' own runner (host objects carry DWARF 4, which valgrind 3.19
# reads, HOST_CFLAGS). build/valgrind/annotated links lib/ built with -DKHEAP_VALGRIND=1
# (lib/annotate.h), so that memcheck sees each block as malloc's: tests/host/overrun.c must then
# be caught.

$(VG_BUILD)/annotated/%.o: %.c $(TBUILD)/config
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -DKHEAP_VALGRIND=1 -c $< -o $@

$(VG_OVERRUN): $(call tobj,$(VG_BUILD)/annotated,tests/host/overrun.c $(LIB_TREE) $(HOST_SEAM))
	$(CC) -o $@ $^ -lpthread

$(VG_DEFAULT): $(call tobj,$(VG_BUILD)/annotated,$(DEFAULT_SRC) $(LIB_TREE) $(HOST_SEAM))
	$(CC) -o $@ $^ $(TEST_LIBS)

# The default-heap tests use the heap as a program would (growth, calloc, realloc, aligned,
# four threads): under memcheck with every block annotated, they must run without one report.
# (The shared cases stay on the plain build: they poke at heap memory on purpose.)
.PHONY: host-valgrind-default
host-test: host-valgrind-default
host-valgrind-default: $(VG_DEFAULT)
	@command -v valgrind >/dev/null || { echo "$@: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
	$(TAP) $(REDUCED) valgrind -q --error-exitcode=1 --leak-check=no $(VG_DEFAULT)

# The deliberate overrun and use after free must both be reported, and fail the run.
.PHONY: host-valgrind-annotate
host-test: host-valgrind-annotate
host-valgrind-annotate: $(VG_OVERRUN)
	@command -v valgrind >/dev/null || { echo "$@: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
	@out=$$(valgrind --error-exitcode=99 --leak-check=no $(VG_OVERRUN) 2>&1); status=$$?; \
	if [ $$status -eq 99 ] && grep -q 'Invalid write of size 1' <<<"$$out" && \
	   [ "$$(grep -c 'Invalid read of size 1' <<<"$$out")" -ge 3 ]; then \
	    echo "$@: valgrind reported the overrun and the use after free (exit $$status)"; \
	else \
	    echo "$$out" | tail -30; echo "$@: valgrind missed the overrun or the use after free (exit $$status)" >&2; exit 1; fi

# heap_check against a wild write outside every block: white-box (it reads format.h to find the
# descriptor and the tables), under ASan and UBSan, so a fault would fail the run.
DAMAGE_TEST := $(ASAN_BUILD)/damage
$(DAMAGE_TEST): $(call tobj,$(ASAN_BUILD),tests/host/damage.c $(LIB_TREE) $(HOST_SEAM))
	$(CC) $(ASAN_FLAGS) -o $@ $^ -lpthread
.PHONY: host-damage
host-test: host-damage
host-damage: $(DAMAGE_TEST)
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(DAMAGE_TEST)

# The kernel's region chooser (kernel/regions.c) on the host, with synthetic memory maps. The
# kernel prints uint64_t with %llx, right on i386 (unsigned long long) and the same size on
# x86_64 (unsigned long): -Wno-format for this one foreign-ABI build, nothing else relaxed.
REGIONS_TEST := $(TBUILD)/regions_test
$(REGIONS_TEST): tests/host/regions_test.c kernel/regions.c kernel/regions.h kernel/multiboot.h
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -Wno-format -iquote kernel -o $@ tests/host/regions_test.c kernel/regions.c
.PHONY: host-regions
host-test: host-regions
host-regions: $(REGIONS_TEST)
	$(REGIONS_TEST)

# ---- Arenas (lib/arena.c) ---------------------------------------------------------------------
# host-arena         tests/host/arena.c: single-thread cases, then threads freeing each other's
#                    blocks; built plain, under ASan+UBSan and under TSan
# host-arena-broken  the same test with -DARENA_BROKEN_LOCK (the arena locks do nothing) must fail
ARENA_TEST_SRC := tests/host/arena.c lib/arena.c $(LIB_TREE) $(HOST_SEAM)
ARENA_TEST     := $(TBUILD)/arena
ARENA_ASAN     := $(ASAN_BUILD)/arena
ARENA_TSAN     := $(BUILD)/tsan/arena
ARENA_BROKEN   := $(TBUILD)/broken/arena
TSAN_FLAGS     := -fsanitize=thread -fno-omit-frame-pointer
ARENA_STRESS   ?= 200000

$(ARENA_TEST): $(TBUILD)/tests/host/arena.o $(call host_objs,tree,lib/arena.c $(LIB_TREE) $(HOST_SEAM))
	$(CC) -o $@ $^ -lpthread

$(ARENA_ASAN): $(call tobj,$(ASAN_BUILD),$(ARENA_TEST_SRC))
	$(CC) $(ASAN_FLAGS) -o $@ $^ -lpthread

$(BUILD)/tsan/%.o: %.c $(TBUILD)/config
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(TSAN_FLAGS) -c $< -o $@

$(ARENA_TSAN): $(call tobj,$(BUILD)/tsan,$(ARENA_TEST_SRC))
	$(CC) $(TSAN_FLAGS) -o $@ $^ -lpthread

$(TBUILD)/broken/%.o: %.c $(TBUILD)/config
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -DARENA_BROKEN_LOCK -c $< -o $@

$(ARENA_BROKEN): $(TBUILD)/broken/tests/host/arena.o $(call host_objs,tree,lib/arena.c $(LIB_TREE) $(HOST_SEAM))
	$(CC) -o $@ $^ -lpthread

.PHONY: host-arena host-arena-broken
host-test: host-arena host-arena-broken
host-arena: $(ARENA_TEST) $(ARENA_ASAN) $(ARENA_TSAN)
	KHEAP_STRESS=$(ARENA_STRESS) $(ARENA_TEST)
	KHEAP_STRESS=20000 ASAN_OPTIONS=halt_on_error=1:detect_leaks=0 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(ARENA_ASAN)
	KHEAP_STRESS=20000 TSAN_OPTIONS=halt_on_error=1 $(ARENA_TSAN)

# Without locks the threads must corrupt some arena, and the test must say so (any failure:
# a failed check, the heap's own misuse report, a timeout). A race may miss in one run on a
# quiet machine: up to three runs, and one failure is enough.
host-arena-broken: $(ARENA_BROKEN)
	@for try in 1 2 3; do \
	    KHEAP_STRESS=$(ARENA_STRESS) $(ARENA_BROKEN) >$(ARENA_BROKEN).log 2>&1; status=$$?; \
	    if [ $$status -ne 0 ]; then \
	        echo "$@: with the locks made no-ops the stress test failed (run $$try, exit $$status): $$(grep -v '^ok' $(ARENA_BROKEN).log | head -2 | tr '\n' ' ')"; \
	        exit 0; fi; \
	done; cat $(ARENA_BROKEN).log; echo "$@: the stress test passed three times with no locks: it cannot see a missing lock" >&2; exit 1
