# tests/model/build.mk - the reference model, the differential test and the libFuzzer harness.
#
#   make diff-test            regression inputs, then the random differential test, against both
#                             indexes (libkheap.a and libkheap-list.a), then the first-fit property
#                             on every trace in tests/traces/ (tests/model/traces.c); part of
#                             host-test. TRACE_MODEL_OPS, TRACE_CHECK_EVERY: see traces.c
#                             DIFF_SEED, DIFF_OPS, DIFF_RUN_OPS, DIFF_CHECK_ALL, DIFF_CHECK_EVERY:
#                             see tests/model/diff.c
#   make fuzz                 libFuzzer (clang, ASan + UBSan) for FUZZ_SECONDS (60) from
#                             tests/model/corpus; new inputs go to build/fuzz/corpus, crashes to
#                             build/fuzz/artifacts/ (copy them into tests/model/regress/)
#   make fuzz-replay FILES=.. run inputs through the replay build (shrinks and prints a failure)

MODEL_DIR    := $(BUILD)/model/$(TOOLCHAIN)
MODEL_COMMON := $(MODEL_DIR)/model.o $(MODEL_DIR)/harness.o
MODEL_BINS   := $(MODEL_DIR)/diff-tree $(MODEL_DIR)/diff-list $(MODEL_DIR)/replay-tree \
                $(MODEL_DIR)/replay-list $(MODEL_DIR)/traces-tree

$(MODEL_DIR)/%.o: tests/model/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(MODEL_DIR)/replay.o: tests/model/fuzz.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -DFUZZ_REPLAY -c $< -o $@

$(MODEL_DIR)/diff-tree: $(MODEL_DIR)/diff.o $(MODEL_COMMON) $(HOST_LIB)
	$(CC) -o $@ $^
$(MODEL_DIR)/diff-list: $(MODEL_DIR)/diff.o $(MODEL_COMMON) $(HOST_LIB_LIST)
	$(CC) -o $@ $^
$(MODEL_DIR)/traces-tree: $(MODEL_DIR)/traces.o $(MODEL_DIR)/model.o $(HOST_LIB)
	$(CC) -o $@ $^
$(MODEL_DIR)/replay-tree: $(MODEL_DIR)/replay.o $(MODEL_COMMON) $(HOST_LIB)
	$(CC) -o $@ $^
$(MODEL_DIR)/replay-list: $(MODEL_DIR)/replay.o $(MODEL_COMMON) $(HOST_LIB_LIST)
	$(CC) -o $@ $^

.PHONY: diff-test model-bins fuzz fuzz-replay
model-bins: $(MODEL_BINS)

host-test: diff-test

# Every step runs even when an earlier one fails, so one report shows all of them.
diff-test: $(MODEL_BINS)
	@rc=0; \
	$(MODEL_DIR)/replay-tree tests/model/regress tests/model/corpus || rc=1; \
	$(MODEL_DIR)/replay-list tests/model/regress tests/model/corpus || rc=1; \
	$(MODEL_DIR)/diff-tree tree || rc=1; \
	$(MODEL_DIR)/diff-list list || rc=1; \
	$(MODEL_DIR)/traces-tree tree tests/traces/*.rep.gz || rc=1; \
	if [ $$rc = 0 ]; then echo "diff-test: passed"; else echo "diff-test: FAILED"; fi; exit $$rc

fuzz-replay: $(MODEL_DIR)/replay-tree $(MODEL_DIR)/replay-list
	$(MODEL_DIR)/replay-tree $(FILES)
	$(MODEL_DIR)/replay-list $(FILES)

# ---- libFuzzer: always clang, whatever CC is --------------------------------------------------
FUZZ_SECONDS ?= 60
FUZZ_CC      := clang
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=c11 $(WARN) -O1 -g -D_GNU_SOURCE -Ilib -MMD -MP $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link
FUZZ_OBJS    := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_TREE) $(HOST_SEAM) tests/model/model.c \
                  tests/model/harness.c tests/model/fuzz.c)
FUZZ_BIN     := $(FUZZ_DIR)/fuzz-model

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BIN): $(FUZZ_OBJS) | fuzz-deps
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

# The first directory receives new inputs; the checked-in corpus is only read. libFuzzer exits
# non-zero when it finds a crash (the input is written to $(FUZZ_DIR)/artifacts/).
fuzz: fuzz-deps $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	@echo "$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) ... $(FUZZ_DIR)/corpus tests/model/corpus"
	@$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -max_len=2048 -len_control=0 \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus tests/model/corpus || \
	{ echo "make fuzz: FAILED - the input is in $(FUZZ_DIR)/artifacts/; see it shrunk with"; \
	  echo "  make fuzz-replay FILES=$(FUZZ_DIR)/artifacts/<file>"; \
	  echo "and keep it as a regression test: cp it to tests/model/regress/<what-it-shows>"; exit 1; }

# libFuzzer and the sanitizer runtimes come with clang and compiler-rt (tools/bootstrap clang).
.PHONY: fuzz-deps
fuzz-deps:
	@tools/bootstrap clang
