# host/build.mk - the Linux build of lib/: build/host/libkheap.a (fast index) and
# build/host/libkheap-list.a (the sorted-list reference, same block format).

HOST_OBJ      := $(BUILD)/host
HOST_SEAM     := host/seam.c
host_objs      = $(patsubst %.c,$(HOST_OBJ)/$(1)/%.o,$(2))

HOST_LIB      := $(HOST_OBJ)/libkheap.a
HOST_LIB_LIST := $(HOST_OBJ)/libkheap-list.a

# build/host/config holds the compiler and flags of the objects under build/host and the
# bench's: rewritten only when they change, so that `make bench` after `make host-test CC=clang`
# compiles with gcc again instead of linking clang's objects (tests/host/config.sh checks it).
HOST_CONFIG   := $(HOST_OBJ)/config
HOST_CONFIG_LINE := $(CC) $(HOST_CFLAGS)
$(HOST_CONFIG): host-config
	$(call write_if_changed,$(HOST_CONFIG_LINE))
.PHONY: host-config
host-config: ;

# lib/ is compiled freestanding here too, as in the kernel: the compiler may then not turn a
# loop into a call to a libc function that lib/ does not use (strlen, say).
# (Two rules, not one with two targets: make would take that for one recipe making both.)
# lib/ also gets stricter warnings, so it builds clean in kernels with stricter flags than ours.
LIB_STRICT     := -pedantic -Wshadow -Wcast-align -Wmissing-prototypes -Wstrict-prototypes
host_lib_flags = $(if $(filter lib/%,$<),-ffreestanding $(LIB_STRICT)) -fPIC

$(HOST_OBJ)/tree/%.o: %.c $(HOST_CONFIG)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(host_lib_flags) -c $< -o $@

$(HOST_OBJ)/list/%.o: %.c $(HOST_CONFIG)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(host_lib_flags) -c $< -o $@

# The archives export the API alone (mem_*, heap_*): the objects are linked into one, and every
# other global name, the seam's included, is made local, so none can clash with a program's.
define host_archive
	@rm -f $@
	$(LD) -r -o $(@:.a=.o) $^
	objcopy -w --keep-global-symbol='mem_*' --keep-global-symbol='heap_*' $(@:.a=.o)
	ar rcs $@ $(@:.a=.o)
endef

$(HOST_LIB): $(call host_objs,tree,$(LIB_TREE) $(HOST_SEAM))
	$(host_archive)

$(HOST_LIB_LIST): $(call host_objs,list,$(LIB_LIST) $(HOST_SEAM))
	$(host_archive)

.PHONY: host-lib
host-lib: $(HOST_LIB) $(HOST_LIB_LIST)
