# tools/heapmap/build.mk - build/host/heapmap: replay an allocation trace on a kheap instance and
# draw the heap over time as an SVG (address up, operations across, used and free in two colours,
# the peak extent marked).
#
#   make heapmap [TRACE=path/to/trace.rep[.gz]] [OUT=file.svg] [HEAPMAP_FLAGS='-s 800 -c']
#   make heapmap-smoke      a short generated trace, the SVG checked well-formed; error paths
#   make heapmap-example    regenerate tools/heapmap/example.svg (the README's picture)
#
# TRACE and OUT are taken from the command line only, so a TRACE or OUT set elsewhere (another
# fragment, the environment) cannot change what this target reads or writes.

HEAPMAP           := $(HOST_OBJ)/heapmap
HEAPMAP_SRC       := tools/heapmap/heapmap.c
HEAPMAP_TRACE      = $(if $(filter command line,$(origin TRACE)),$(TRACE),tests/traces/git-log-p.rep.gz)
HEAPMAP_OUT        = $(if $(filter command line,$(origin OUT)),$(OUT),$(BUILD)/heapmap.svg)
HEAPMAP_FLAGS     ?=
HEAPMAP_SMOKE_DIR := $(BUILD)/heapmap-smoke

$(HEAPMAP): $(HEAPMAP_SRC) $(HOST_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $(HEAPMAP_SRC) $(HOST_LIB) -lm

.PHONY: heapmap heapmap-smoke heapmap-example
heapmap: $(HEAPMAP)
	@mkdir -p $(dir $(HEAPMAP_OUT))
	$(HEAPMAP) $(HEAPMAP_FLAGS) -o $(HEAPMAP_OUT) $(HEAPMAP_TRACE)

heapmap-example: $(HEAPMAP)
	$(HEAPMAP) -o tools/heapmap/example.svg -t "git-log-p.rep.gz (git log -p -n 400)" \
	    tests/traces/git-log-p.rep.gz

heapmap-smoke: $(HEAPMAP)
	@tools/heapmap/smoke.sh $(HEAPMAP) $(HEAPMAP_SMOKE_DIR)

host-test: heapmap-smoke
