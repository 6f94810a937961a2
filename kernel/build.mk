# kernel/build.mk - the i386 kernel, build/kernel.elf, and the targets that boot it:
#   make kernel        build/kernel.elf: boot/*.S, kernel/*.{c,S}, the allocator core ($(LIB_TREE))
#                      and the shared allocator cases (tests/cases/*.c), linked at 1 MiB
#   make run           boot it in QEMU: self-tests, then the heap shell on this terminal (quit,
#                      or Ctrl-a x); MEM=128M (or QEMU_MEM=, the older name), CPUS=2 (QEMU
#                      -smp, 1 to 8) and KARGS="exit failtest smp ..." pass memory, processors
#                      and boot words
#   make iso           build/kheap.iso, a GRUB CD image that boots into the shell
#   make run-iso       boot build/kheap.iso in QEMU (-cdrom), the shell on this terminal
#   make kernel-test   boot the self-tests at 32 MiB and 3 GiB, through GRUB (build/kheap-test.iso,
#                      grub.cfg passes `exit`), short boots at 128 MiB and 1 GiB, boots with boot
#                      modules, SMP boots at 1, 2 and 4 CPUs, and prove the harness can fail;
#                      MEM=X boots them all at X, CPUS=N all but the SMP boots with N CPUs;
#                      last, smp-broken-test: a BROKEN_LOCK=1 kernel must fail the SMP case
#   make shell-test    drive the shell through QEMU's serial port with the scripted sessions in
#                      tests/shell/ (tools/shell-test), and once through GRUB from build/kheap.iso
# Objects go to build/kernel/ (the host build has build/host/). build/kernel/config records the
# toolchain and flags, so `make CC=clang` after `make` rebuilds everything instead of mixing.

KERNEL  := $(BUILD)/kernel.elf
KBUILD  := $(BUILD)/kernel
KQ      := $(if $(V),,@)

# The shared cases' table lives in tests/cases/all.c; until it exists, kernel/nocases.c
# provides an empty one so that the kernel links and runs its own cases.
KERNEL_CASES := $(wildcard tests/cases/*.c)
KERNEL_C     := $(filter-out kernel/nocases.c,$(wildcard kernel/*.c))
ifeq ($(wildcard tests/cases/all.c),)
KERNEL_C     += kernel/nocases.c
endif
# lib/arena.c (several heaps behind one API: the CPUs' arenas, kernel/karena.c) is not part of
# lib/files.mk's core, so the kernel names it here; filtered first, so that it is compiled once
# should files.mk ever list it.
KERNEL_LIB := $(filter-out lib/arena.c,$(LIB_TREE)) lib/arena.c
KERNEL_SRC := $(wildcard boot/*.S) $(wildcard kernel/*.S) $(KERNEL_C) $(KERNEL_LIB) $(KERNEL_CASES)
# clang warns (-Watomic-alignment, an error here) that lib/arena.c's atomic load of its 64-bit
# error count is not 8-byte aligned on i386 (uint64_t is 4-byte aligned in a struct there), so it
# becomes a call to __atomic_load_8 (compiler-rt has it). lib/ is not the kernel's to change,
# and the slower load is of a diagnostic counter: the kernel accepts it for that file only.
ifeq ($(TOOLCHAIN),clang)
$(KBUILD)/lib/arena.o: KERNEL_CFLAGS += -Wno-atomic-alignment
endif
KERNEL_OBJ := $(addprefix $(KBUILD)/,$(addsuffix .o,$(basename $(KERNEL_SRC))))

# Nothing at boot enables SSE (CR4.OSFXSR), and clang's default i686 CPU has SSE2: keep the
# compilers to integer registers, or the first vectorised loop is a #UD.
KERNEL_CFLAGS := $(KCFLAGS) -mno-mmx -mno-sse -mno-sse2

# make kernel BROKEN_LOCK=1: the default heap's lock (kernel/seam.c) and the CPUs' arenas' locks
# (kernel/karena.c) only mask interrupts and take no spinlock, to prove that the SMP self-tests
# fail without them (CPUS=4 KARGS=smp, or KARGS=arena for the arenas' case alone).
# build/kernel/config records the flag, so the next build without it rebuilds everything.
KERNEL_CFLAGS += $(if $(BROKEN_LOCK),-DKHEAP_BROKEN_LOCK)

# --build-id=none: the note the Debian GCC driver adds can push the Multiboot header past 8 KiB.
ifeq ($(TOOLCHAIN),clang)
KERNEL_LINK := $(KLD) -T linker.ld --build-id=none
else
KERNEL_LINK := $(KCC) -m32 -nostdlib -static -no-pie -T linker.ld -Wl,--build-id=none
endif

.PHONY: kernel kernel-config
kernel: $(KERNEL)
kernel-config: ;

# Rewritten only when the toolchain or flags change; every kernel object depends on it. It also
# runs `deps` first, so a missing cross compiler is installed (or named) before any compile.
KERNEL_CONFIG := $(TOOLCHAIN); $(KCC) $(KERNEL_CFLAGS); $(KERNEL_LINK) $(KLIBS)
$(KBUILD)/config: kernel-config | deps
	$(call write_if_changed,$(KERNEL_CONFIG))

# The list of objects, likewise: when tests/cases/all.c appears or a file goes away, the kernel
# must be relinked even though no remaining object is newer than it.
$(KBUILD)/objects: kernel-config
	$(call write_if_changed,$(KERNEL_OBJ))

$(KBUILD)/%.o: %.c $(KBUILD)/config
	@mkdir -p $(@D)
	@$(if $(KQ),echo "  KCC     $<")
	$(KQ)$(KCC) $(KERNEL_CFLAGS) -c $< -o $@

$(KBUILD)/%.o: %.S $(KBUILD)/config
	@mkdir -p $(@D)
	@$(if $(KQ),echo "  KAS     $<")
	$(KQ)$(KCC) $(KERNEL_CFLAGS) -c $< -o $@

# Linked, then checked: QEMU's -kernel loads only ELF32, and only a file whose Multiboot header
# lies in its first 8 KiB. A kernel failing either is deleted rather than left to confuse QEMU.
$(KERNEL): $(KERNEL_OBJ) linker.ld $(KBUILD)/config $(KBUILD)/objects
	@$(if $(KQ),echo "  KLD     $@")
	$(KQ)$(KERNEL_LINK) -o $@ $(KERNEL_OBJ) $(KLIBS)
	$(KQ)if command -v grub-file >/dev/null && ! grub-file --is-x86-multiboot $@; then \
	    echo "kernel: $@ has no valid Multiboot header in its first 8 KiB" >&2; rm -f $@; exit 1; fi
	$(KQ)if ! readelf -h $@ | grep -Eq 'Class:[[:space:]]+ELF32'; then \
	    echo "kernel: $@ is not ELF32; QEMU's -kernel cannot load it" >&2; rm -f $@; exit 1; fi

# MEM= is the name to use; QEMU_MEM= still works. kernel-test keeps its own sizes unless MEM= is given.
QEMU_MEM ?= 128M
MEM      ?=
RUN_MEM  := $(or $(MEM),$(QEMU_MEM))
KARGS    ?=
# CPUS=N: QEMU -smp N (1 to 8; the scripts check). run and run-iso default to 2; kernel-test's
# boots keep QEMU's 1 unless CPUS= is given, and its SMP boots always use their own counts.
CPUS     ?=
RUN_CPUS := $(or $(CPUS),2)

run: deps $(KERNEL)
	@tools/qemu-run -m $(RUN_MEM) -p $(RUN_CPUS) -k $(KERNEL) $(KARGS)

# ---- GRUB CD images ---------------------------------------------------------------------------
# grub-mkrescue (grub-common, grub-pc-bin, xorriso, mtools) lays out a BIOS-bootable ISO from a
# directory: the kernel as /boot/kernel.elf and boot/grub.cfg with the boot words filled in.
ISO      := $(BUILD)/kheap.iso
TEST_ISO := $(BUILD)/kheap-test.iso

# $(call iso_image,IMAGE,STAGING_DIR,BOOT_WORDS)
define iso_image
	@$(if $(KQ),echo "  ISO     $(1)")
	$(KQ)rm -rf $(2) && mkdir -p $(2)/boot/grub
	$(KQ)cp $(KERNEL) $(2)/boot/kernel.elf
	$(KQ)sed 's|@WORDS@|$(3)|' boot/grub.cfg > $(2)/boot/grub/grub.cfg
	$(KQ)grub-mkrescue -o $(1) $(2) > $(2).log 2>&1 || \
	    { cat $(2).log >&2; rm -f $(1); echo "iso: grub-mkrescue failed (make deps installs it)" >&2; exit 1; }
endef

.PHONY: iso run-iso shell-test
iso: deps $(ISO)

$(ISO): $(KERNEL) boot/grub.cfg
	$(call iso_image,$@,$(KBUILD)/iso-shell,)

$(TEST_ISO): $(KERNEL) boot/grub.cfg
	$(call iso_image,$@,$(KBUILD)/iso-test,exit)

run-iso: deps $(ISO)
	@tools/qemu-run -m $(RUN_MEM) -p $(RUN_CPUS) -c $(ISO)

# The self-tests must pass at 32 MiB and at 3 GiB (QEMU's map then reaches the PCI hole), and
# booted by GRUB from the test ISO, which lays out the boot structures differently (and loads
# the kernel's symbol and debug sections after it); short boots (the word `quick`: no self-tests)
# at 128 MiB and 1 GiB prove the region arithmetic there. Every passing boot is checked by
# tools/boot-check (heap_bytes against the map, computed on the host). The 32 MiB run carries two
# modules and a 3000-byte command line, a fourth run 30 modules: the kernel checksums them before
# and after the self-tests. The last two boots must be judged failures, or the harness could not
# see a failure at all. MEM=X boots every run at X.
#
# SMP: with 1 CPU the SMP case (boot word smp: only that case) must say it had nothing to race;
# the full self-tests at 2 CPUs include it; the smp word at 4 CPUs must pass it with every CPU
# online (qemu-test -p checks cpus= on the summary line). At 2 and 4 CPUs its first part must
# also find every CPU on its own GDT and IDT, with %fs naming the CPU its APIC id gives
# (`percpu-test: ok`). The word ghostcpu adds an APIC id no CPU
# has: it must be reported as not started, and the rest must pass. Without ACPI (-machine
# acpi=off) the CPUs come from SeaBIOS's MP table, which lists one CPU per socket: hence
# sockets=4. CPUS=N boots the others at N.
KTEST_MODDIR  := $(KBUILD)/modules
KTEST_MODULES := $(KTEST_MODDIR)/a.bin,$(KTEST_MODDIR)/b.bin
KTEST_MANY    := $(shell seq -f '$(KTEST_MODDIR)/m%02g.bin' 1 30 | paste -sd, -)
KTEST_LONG    := pad=$(shell printf 'k%.0s' $$(seq 3000))
km = $(or $(MEM),$(1))
kp = -p $(or $(CPUS),1)

$(KTEST_MODDIR)/stamp:
	@mkdir -p $(@D)
	@head -c 65536 /dev/urandom > $(@D)/a.bin
	@head -c 300000 /dev/urandom > $(@D)/b.bin
	@for i in $$(seq -w 1 30); do head -c 5000 /dev/urandom > $(@D)/m$$i.bin; done
	@touch $@

kernel-test: deps $(KERNEL) $(TEST_ISO) $(KTEST_MODDIR)/stamp
	@tools/qemu-test -k $(KERNEL) -n selftest-$(call km,32M) -m $(call km,32M) $(kp) -i $(KTEST_MODULES) \
	    -g '^boot data: command line and 2 module\(s\) unchanged' exit $(KTEST_LONG)
	@tools/qemu-test -k $(KERNEL) -n selftest-$(call km,3G) -m $(call km,3G) $(kp)
	@tools/qemu-test -k $(KERNEL) -n quick-$(call km,128M) -m $(call km,128M) $(kp) quick
	@tools/qemu-test -k $(KERNEL) -n quick-$(call km,1G) -m $(call km,1G) $(kp) quick
	@tools/qemu-test -k $(KERNEL) -n modules-30 -m $(call km,32M) $(kp) -i $(KTEST_MANY) \
	    -g '^boot data: command line and 30 module\(s\) unchanged'
	@tools/qemu-test -c $(TEST_ISO) -n selftest-grub -m $(call km,32M) $(kp) -g '^boot loader: GRUB'
	@tools/qemu-test -k $(KERNEL) -n smp-1cpu -m $(call km,32M) -p 1 \
	    -g '^smp-test: skipped, 1 CPU online' -g '^cpu 0 online \(apic id 0\)' -g '^arena-test: ok: 1 CPU, 1 arena' \
	    -g '^  0x0000[0-9a-f]{4}-0x0000[0-9a-f]{4}  kernel: AP start-up trampoline' smp
	@tools/qemu-test -k $(KERNEL) -n selftest-2cpus -m $(call km,32M) -p 2 \
	    -g '^smp-test: ok: 2 CPUs' -g '^cpu 1 online \(apic id 1\)' -g '^arena-test: ok: 2 CPUs, 2 arenas' \
	    -g '^percpu-test: ok: 2 CPU\(s\), each on its own GDT and IDT'
	@tools/qemu-test -k $(KERNEL) -n smp-4cpus -m $(call km,32M) -p 4 \
	    -g '^smp-test: ok: 4 CPUs' -g '^cpu 3 online \(apic id 3\)' -g '^arena-test: ok: 4 CPUs, 4 arenas' \
	    -g '^percpu-test: ok: 4 CPU\(s\), each on its own GDT and IDT' smp
	@tools/qemu-test -k $(KERNEL) -n smp-ghost -m $(call km,32M) -p 2 \
	    -g '^cpu 2 \(apic id 126\) did not start' -g '^smp-test: ok: 2 CPUs' ghostcpu smp
	@tools/qemu-test -k $(KERNEL) -n smp-mptable -m $(call km,32M) -p 4,sockets=4 -a '-machine acpi=off' \
	    -g '^mptable: .*: 4 processor\(s\)' -g '^smp-test: ok: 4 CPUs' smp
	@tools/qemu-test -c $(TEST_ISO) -n selftest-grub-2cpus -m $(call km,32M) -p 2 -g '^smp-test: ok: 2 CPUs'
	@tools/qemu-test -k $(KERNEL) -n fault -m $(call km,32M) $(kp) -x -s 35 -g '^FAULT: vector 6 ' fault
	@tools/qemu-test -k $(KERNEL) -n failtest -m $(call km,32M) $(kp) -x -s 35 -g '^not ok [0-9]+ - .*failtest' failtest
	@$(MAKE) --no-print-directory smp-broken-test

# The SMP cases must be able to fail: the kernel built with BROKEN_LOCK=1 (in its own build
# directory, so build/kernel.elf stays as it is) must be judged a failure at 4 CPUs, once with
# both SMP cases (boot word smp) and once with the arena case alone (boot word arena: the arena
# locks, not the default heap's, must be what it misses). A race is likely, not certain, so up
# to three boots each; the first that fails ends it. Each must reach the point where all four
# CPUs are online, so a boot that fails for another reason does not count.
BROKEN_BUILD := $(BUILD)/broken-lock
.PHONY: smp-broken-test
smp-broken-test: deps
	@$(MAKE) --no-print-directory BUILD=$(BROKEN_BUILD) BROKEN_LOCK=1 kernel
	@for word in smp arena; do \
	    for run in 1 2 3; do \
	        tools/qemu-test -k $(BROKEN_BUILD)/kernel.elf -n $$word-broken-lock-$$run -m $(call km,32M) -p 4 -x \
	            -g '^cpu 3 online \(apic id 3\)' $$word && continue 2; \
	    done; echo "smp-broken-test: FAIL: the $$word case(s) passed 3 times without the spinlocks" >&2; exit 1; \
	done

# Each session boots the kernel once and must end with the guest's own `quit` (status 33).
# tools/shell-test bounds each session (90 s); timeout bounds the whole run. The GRUB session and
# tests/shell/run-test (`make run` and `make run-iso` without a terminal) run alongside the direct
# sessions: most of a boot is the timer self-test waiting on the clock, so boots overlap well.
# Every part runs to its end, so one run shows every failure.
SHELL_SESSIONS := tests/shell/normal.session tests/shell/bad-input.session tests/shell/terminal.session \
                  tests/shell/escape.session tests/shell/control.session

shell-test: deps $(KERNEL) $(ISO)
	@timeout -k 5 300 tools/shell-test -k $(KERNEL) $(SHELL_SESSIONS) & direct=$$!; \
	 timeout -k 5 120 tools/shell-test -i $(ISO) tests/shell/grub.session & grub=$$!; \
	 timeout -k 5 120 tests/shell/run-test $(KERNEL) $(ISO) & run=$$!; \
	 ok=1; for job in $$direct $$grub $$run; do wait $$job || ok=0; done; [ $$ok -eq 1 ]

test: shell-test
