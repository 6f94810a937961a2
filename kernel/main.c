/* main.c - kmain, where boot/entry.S lands: CPU tables first, then the console, then the boot
 * information, the heap's regions, and the self-tests. Boot words (QEMU -append):
 *   exit      after the verdict, end QEMU through isa-debug-exit (33 all passed, 35 otherwise)
 *   fault     raise a real CPU exception right after the banner (tests the fault report)
 *   failtest  add a self-test that fails on purpose (tests that failures are seen)
 *   quick     run no self-tests: the boot, the regions, the boot-data check and the summary
 *   smp       run only the SMP self-tests (kcase_smp.c: every CPU in the default heap at once;
 *             kcase_arena.c: every CPU in its own arena, with cross-CPU frees and the timer)
 *   arena     run only the arena self-test (kcase_arena.c)
 *   ghostcpu  start one more CPU than there is (an APIC id nobody has): it must be reported as
 *             not started, and the boot must go on without it
 * After the self-tests, one line sums the boot up for scripts (the README documents it):
 *   kheap-summary heap_bytes=N metadata_bytes=N regions=N tests=N failed=N cpus=N mem_map_usable=N
 * (cpus=: the CPUs online, the boot CPU and every AP that smp.c started).
 * Without `exit` the kernel runs the heap shell on the serial console (shell.c); its `quit`
 * ends QEMU with success, as does Ctrl-a x. */
#include <stdint.h>
#include "bootdata.h"
#include "cmdline.h"
#include "idt.h"
#include "karena.h"
#include "kprintf.h"
#include "mem.h"
#include "multiboot.h"
#include "pic.h"
#include "qemu.h"
#include "regions.h"
#include "selftest.h"
#include "shell.h"
#include "smp.h"
#include "uart.h"

void kmain(uint32_t magic, uint32_t info) __attribute__((noreturn));

extern char _kernel_start[], _kernel_end[]; /* from linker.ld */

static struct boot_info boot; /* too big for the 16 KiB boot stack's comfort */

/* ud2 is an instruction guaranteed to be invalid: a #UD that no compiler can optimise away. */
static void provoke_fault(void)
{
    kprintf("fault: executing ud2 on purpose; expect a #UD report and a failed run\n");
    __asm__ volatile("ud2");
}

static void banner(void)
{
    kprintf("\nkheap: first-fit heap self-test kernel (i386, Multiboot 1)\n");
    kprintf("kernel image 0x%08x-0x%08x (%u KiB)\n", (unsigned)(uintptr_t)_kernel_start,
            (unsigned)(uintptr_t)_kernel_end - 1,
            (unsigned)((uintptr_t)(_kernel_end - _kernel_start) / 1024));
}

static void check_loader(uint32_t magic, uint32_t info)
{
    if (multiboot_parse(magic, info, &boot) < 0) {
        kprintf("PANIC: not started by a Multiboot loader (eax 0x%08x)\n", magic);
        qemu_exit(QEMU_EXIT_FAILURE);
    }
    kprintf("boot loader: %s; command line: \"%s\"%s\n", boot.loader_name, boot.cmdline,
            boot.cmdline_truncated ? " (truncated)" : "");
}

/* heap_bytes: bytes in blocks of every heap (the default heap and the CPUs' arenas); with
 * metadata_bytes (descriptors, tables) they add up to the regions of the memory map, whose
 * pieces the heaps share. tools/boot-check recomputes those from the log. */
static void summary(unsigned regions, unsigned tests, unsigned failed)
{
    struct mem_stats s;

    karena_stats_all(&s);
    kprintf("kheap-summary heap_bytes=%zu metadata_bytes=%zu regions=%u tests=%u failed=%u cpus=%u "
            "mem_map_usable=%llu\n", s.total_bytes, s.overhead_bytes, regions, tests, failed,
            smp_cpus_online(), regions_usable_above_1m());
}

void kmain(uint32_t magic, uint32_t info)
{
    unsigned failed, tests, regions;

    smp_boot_cpu_init(); /* our own segments (CPU 0's GDT, %fs on its record: the console lock */
    idt_init();          /* reads it) and exception handlers before anything can fault */
    pic_init();     /* IRQs off the exception vectors, all masked */
    uart_init();
    banner();
    check_loader(magic, info);
    if (cmdline_has(boot.cmdline, "fault"))
        provoke_fault();
    bootdata_record(&boot);
    smp_reserve(&boot); /* the AP trampoline's page joins the boot structures the heap avoids */
    /* The other CPUs (ACPI MADT) before the heaps: the RAM is split among the CPUs online
     * (karena.h), so their number must be known. Nothing here allocates. */
    smp_start(cmdline_has(boot.cmdline, "ghostcpu"));
    karena_init(smp_cpus_online());
    regions = regions_setup_with(&boot, karena_add_region);
    failed = selftest_run(cmdline_has(boot.cmdline, "failtest"), cmdline_has(boot.cmdline, "quick"),
                          cmdline_has(boot.cmdline, "smp") ? SELFTEST_SMP | SELFTEST_ARENA
                          : cmdline_has(boot.cmdline, "arena") ? SELFTEST_ARENA : 0, &tests);
    failed += bootdata_verify(&boot);
    summary(regions, tests, failed);
    if (cmdline_has(boot.cmdline, "exit"))
        qemu_exit(failed ? QEMU_EXIT_FAILURE : QEMU_EXIT_SUCCESS);
    shell_run();
}
