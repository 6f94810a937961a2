# host/preload.mk - libkheap.so, the drop-in malloc: lib/ (with lib/arena.c) + host/seam.c +
# host/preload*.c, built -fPIC -fvisibility=hidden and linked with a version script that exports
# only the malloc family (host/libkheap.map) and -Bsymbolic, so the library always calls itself. Also `make install`.
# Included by the top Makefile after host/build.mk.

PRELOAD_SRCS := $(LIB_TREE) lib/arena.c $(HOST_SEAM) host/preload.c host/preload_trace.c \
                host/preload_alone.c host/ptr_table.c host/preload_arena.c
PRELOAD_OBJS := $(patsubst %.c,$(HOST_OBJ)/so/%.o,$(PRELOAD_SRCS))
PRELOAD_SO   := $(HOST_OBJ)/libkheap.so
PRELOAD_SONAME := libkheap.so.1
PRELOAD_CFLAGS := $(HOST_CFLAGS) -fPIC -fvisibility=hidden -fno-semantic-interposition \
                  -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc
PRELOAD_LDFLAGS := -shared -Wl,-soname,$(PRELOAD_SONAME) -Wl,--version-script=host/libkheap.map \
                   -Wl,-Bsymbolic -Wl,-z,now -Wl,-z,relro -Wl,--no-undefined

# seam.c must link before preload.c: their constructors register fork handlers in that order
# (see preload.c), and .init_array runs in link order. lib/ is freestanding, as in libkheap.a.
$(HOST_OBJ)/so/%.o: %.c $(HOST_CONFIG)
	@mkdir -p $(dir $@)
	$(CC) $(PRELOAD_CFLAGS) $(if $(filter lib/%,$<),-ffreestanding) -c $< -o $@

$(PRELOAD_SO): $(PRELOAD_OBJS) host/libkheap.map
	$(CC) $(PRELOAD_LDFLAGS) -o $@ $(PRELOAD_OBJS) -pthread
	ln -sf libkheap.so $(HOST_OBJ)/$(PRELOAD_SONAME)

host-lib: $(PRELOAD_SO)

# ---- make install [PREFIX=/usr/local] [DESTDIR=] ------------------------------------------------
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
KHEAP_VERSION := 1.0

.PHONY: install
install: $(HOST_LIB) $(PRELOAD_SO)
	install -d $(DESTDIR)$(INCLUDEDIR)/kheap $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 lib/heap.h lib/mem.h $(DESTDIR)$(INCLUDEDIR)/kheap/
	install -m 644 $(HOST_LIB) $(DESTDIR)$(LIBDIR)/libkheap.a
	install -m 755 $(PRELOAD_SO) $(DESTDIR)$(LIBDIR)/$(PRELOAD_SONAME)
	ln -sf $(PRELOAD_SONAME) $(DESTDIR)$(LIBDIR)/libkheap.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(KHEAP_VERSION)|' host/kheap.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/kheap.pc
	@echo "installed kheap in $(DESTDIR)$(PREFIX)"
