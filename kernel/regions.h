/* regions.h - the default heap's memory: chosen from the boot memory map, then added. */
#ifndef KERNEL_REGIONS_H
#define KERNEL_REGIONS_H

#include <stddef.h>
#include "multiboot.h"

/* Prints the loader's memory map, the regions chosen for the heap and why the rest was left
 * out, then adds each region with mem_add_region. Returns how many regions were added. */
unsigned regions_setup(const struct boot_info *boot);

/* The regions the heap accepted, in address order. -1 if there is no region i. */
unsigned regions_count(void);
int      regions_get(unsigned i, uintptr_t *start, size_t *size);

#endif
