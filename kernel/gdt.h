/* gdt.h - the kernel's segments, one GDT per CPU. The loader's GDT is undefined once kmain
 * runs, so the kernel installs its own before anything can fault. Every CPU's table has the
 * same flat code and data descriptors (so the selectors below mean the same on every CPU) and
 * one more, GDT_PERCPU, a data segment over that CPU's own record (smp.h, struct cpu), which
 * %fs holds from the CPU's first C instruction on: this_cpu() is then one load through %fs. */
#ifndef KERNEL_GDT_H
#define KERNEL_GDT_H

#define GDT_KERNEL_CODE 0x08 /* selector: ring 0 code, base 0, limit 4 GiB */
#define GDT_KERNEL_DATA 0x10 /* selector: ring 0 data, base 0, limit 4 GiB */
#define GDT_PERCPU      0x18 /* selector: ring 0 data over this CPU's struct cpu (in %fs) */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Fills CPU cpu's table: the flat descriptors, and GDT_PERCPU over [base, base + size). */
void     gdt_setup(unsigned cpu, uint32_t percpu_base, uint32_t percpu_size);
/* Loads CPU cpu's table on the calling CPU: CS, DS, ES, GS, SS flat, FS = GDT_PERCPU. */
void     gdt_load(unsigned cpu);
/* The limit and linear base that lgdt takes, for the AP trampoline (smp.c) and the self-test. */
void     gdt_describe(unsigned cpu, uint16_t *limit, uint32_t *base);
#endif

#endif
