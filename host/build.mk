# host/build.mk - the Linux build of lib/: build/host/libkheap.a (fast index) and
# build/host/libkheap-list.a (the sorted-list reference, same block format).

HOST_OBJ      := $(BUILD)/host
HOST_SEAM     := host/seam.c
host_objs      = $(patsubst %.c,$(HOST_OBJ)/$(1)/%.o,$(2))

HOST_LIB      := $(HOST_OBJ)/libkheap.a
HOST_LIB_LIST := $(HOST_OBJ)/libkheap-list.a

$(HOST_OBJ)/tree/%.o $(HOST_OBJ)/list/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -fPIC -c $< -o $@

$(HOST_LIB): $(call host_objs,tree,$(LIB_TREE) $(HOST_SEAM))
	@rm -f $@
	ar rcs $@ $^

$(HOST_LIB_LIST): $(call host_objs,list,$(LIB_LIST) $(HOST_SEAM))
	@rm -f $@
	ar rcs $@ $^

.PHONY: host-lib
host-lib: $(HOST_LIB) $(HOST_LIB_LIST)
