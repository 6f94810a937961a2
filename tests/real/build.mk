# tests/real/build.mk - make real-test: libkheap.so under real Debian programs (tests/real/run, the
# cases in tests/real/cases.sh, packages in tests/real/packages.txt), after the library's own
# checks (tests/real/preload-test: exports, glibc semantics, knobs, traces, make install).
# REAL_CASES="jq git" runs a subset. tests/real/bench-real times the same programs (make real-bench).

REAL_SO := $(BUILD)/host/libkheap.so

.PHONY: real-test preload-test real-bench
preload-test: $(REAL_SO) $(HOST_LIB)
	tests/real/preload-test $(CC) $(REAL_SO) $(BUILD)

real-test: real-deps preload-test
	tests/real/run $(REAL_SO) $(BUILD) $(REAL_CASES)

real-bench: $(REAL_SO)
	tests/real/bench-real $(REAL_SO) $(BUILD) $(REAL_CASES)

test: real-test

# The programs themselves: installed by tools/bootstrap when root (or named, when not).
.PHONY: real-deps
real-deps:
	@tools/bootstrap real
