# kheap - one non-recursive make for the kernel, the host library, tests and benchmarks.
# `make help` lists the targets. Each directory's rules live in its own build.mk, included below;
# this file holds the toolchain choice and the targets a user types.

.DEFAULT_GOAL := help
BUILD  := build
SHELL  := /bin/bash

# ---- Toolchains ------------------------------------------------------------------------------
# `make CC=clang` switches both builds: the host to clang, the kernel to clang --target=i686-elf
# with ld.lld. The default is GCC: the host's gcc and Debian's i686-linux-gnu cross GCC.
ifeq ($(origin CC),default)
CC := gcc
endif
ifneq ($(findstring clang,$(CC)),)
TOOLCHAIN := clang
KCC       := $(CC) --target=i686-elf
KLD       := ld.lld
KLIBS      = $(shell $(CC) --target=i686-linux-gnu --rtlib=compiler-rt -print-libgcc-file-name)
else
TOOLCHAIN := gcc
KCC       := i686-linux-gnu-gcc
KLD       :=
KLIBS     := -lgcc
endif

WARN       := -Wall -Wextra -Werror
# make KHEAP_DEBUG_FILL=1 (after make clean): every heap, kernel and host, starts in debug-fill
# mode, which reports writes to freed memory (see lib/heap.h, heap_set_poison).
KHEAP_DEFS := $(if $(KHEAP_DEBUG_FILL),-DKHEAP_DEBUG_FILL=$(KHEAP_DEBUG_FILL))
# DWARF 4: valgrind 3.19 (Debian 12) cannot read the DWARF 5 that clang emits by default, and
# the bench runs callgrind on these objects.
HOST_CFLAGS := -std=c11 $(WARN) $(KHEAP_DEFS) -O2 -gdwarf-4 -D_GNU_SOURCE -Ilib -MMD -MP
KCFLAGS    := -std=c11 $(WARN) $(KHEAP_DEFS) -O2 -g -m32 -ffreestanding -fno-pie -fno-pic -fno-stack-protector \
              -fno-asynchronous-unwind-tables -fno-builtin -Ilib -Ikernel -Itests -MMD -MP

# A recipe that rewrites $@ with TEXT only when TEXT changed: a build records its compiler, flags
# or file list there (build/host/config, build/tests/config, build/kernel/config and objects), and
# what depends on the file is rebuilt exactly when they change. The rule that uses it depends on
# a phony target, so the recipe runs on every make.
write_if_changed = @mkdir -p $(@D); echo '$(1)' | cmp -s - $@ || echo '$(1)' > $@

# ---- The allocator (lib/) -------------------------------------------------------------------
# The core, with the fast free index (index_tree.c) or the reference sorted walk (index_list.c):
# the list lives in lib/files.mk, which the README's recipe names too.
include lib/files.mk
LIB_TREE  := $(LIB_SRC)
LIB_LIST  := $(LIB_SRC_LIST)

include tools/build.mk
include host/build.mk
include host/preload.mk
include tools/heapmap/build.mk
include kernel/build.mk
include tests/build.mk
include tests/model/build.mk
include tests/bench/build.mk
include tests/real/build.mk

# ---- What a user types -----------------------------------------------------------------------
.PHONY: help run test host-test kernel-test clean deps

# Fragments add their own suites as prerequisites (test: real-test, host-test: diff-test, ...).
test: deps host-test kernel-test
	@echo "make test: all suites passed"

help:
	@echo "kheap - a first-fit heap for kernels, proved in a multiboot kernel under QEMU"
	@echo
	@echo "  make run          boot the kernel in QEMU: self-tests, then the heap shell (quit, or Ctrl-a x); MEM=1G CPUS=2"
	@echo "  make test         everything: host tests, kernel self-tests in QEMU, shell, real programs"
	@echo "  make host-test    host unit, differential and thread tests only"
	@echo "  make kernel-test  self-tests in QEMU at 32 MiB and 3 GiB, through GRUB, at 1, 2 and 4 CPUs; boot checks"
	@echo "                    (MEM=X: all at X; CPUS=N: all but the SMP boots with N CPUs, 1 to 8)"
	@echo "  make shell-test   script the serial shell through QEMU: normal use, bad input, editing"
	@echo "  make real-test    real programs under LD_PRELOAD=build/host/libkheap.so, against glibc"
	@echo "  make iso          build/kheap.iso, a GRUB CD image that boots into the heap shell"
	@echo "  make run-iso      boot build/kheap.iso in QEMU, the shell on this terminal"
	@echo "  make host-lib     build/host/libkheap.a (link with -Ilib) and libkheap.so (LD_PRELOAD)"
	@echo "  make install      headers, libraries and kheap.pc under PREFIX (default /usr/local)"
	@echo "  make bench        speed and space against glibc and the sorted-list reference"
	@echo "  make fuzz         libFuzzer over operation sequences (FUZZ_SECONDS=60)"
	@echo "  make heapmap      draw a heap over time: TRACE=tests/traces/... OUT=build/heapmap.svg"
	@echo "  make clean        remove build/"
	@echo
	@echo "  CC=clang          build kernel and host with clang (kernel: --target=i686-elf, ld.lld)"
	@echo "  KHEAP_DEBUG_FILL=1  every heap starts in debug-fill mode (writes after free are reported)"
	@echo "  BROKEN_LOCK=1     kernel only: the heap lock masks interrupts but takes no spinlock"
	@echo "                    (proves the SMP test fails: make run BROKEN_LOCK=1 CPUS=4 KARGS='smp exit')"

deps:
	@tools/bootstrap $(TOOLCHAIN)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
