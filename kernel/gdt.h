/* gdt.h - the kernel's flat segments. The loader's GDT is undefined once kmain runs, so the
 * kernel installs its own before anything can fault. */
#ifndef KERNEL_GDT_H
#define KERNEL_GDT_H

#define GDT_KERNEL_CODE 0x08 /* selector: ring 0 code, base 0, limit 4 GiB */
#define GDT_KERNEL_DATA 0x10 /* selector: ring 0 data, base 0, limit 4 GiB */

#ifndef __ASSEMBLER__
#include <stdint.h>

void gdt_init(void);
/* The limit and linear base that lgdt takes, for the AP trampoline (smp.c). */
void gdt_describe(uint16_t *limit, uint32_t *base);
#endif

#endif
