/* regions.h - the default heap's memory: chosen from the boot memory map, then added. */
#ifndef KERNEL_REGIONS_H
#define KERNEL_REGIONS_H

#include <stddef.h>
#include <stdint.h>
#include "multiboot.h"

/* Prints the loader's memory map, the regions chosen for the heap and why the rest was left
 * out, then adds each region with mem_add_region. Returns how many regions were added. */
unsigned regions_setup(const struct boot_info *boot);

/* The choice alone, without adding anything (regions_setup's first half; tests/host uses it
 * with synthetic maps): prints the report, returns how many regions it chose. */
unsigned regions_choose(const struct boot_info *boot, uint64_t kernel_start, uint64_t kernel_end);
int      regions_chosen(unsigned i, uint64_t *start, uint64_t *end); /* [start, end), or -1 */
/* Usable bytes at or above 1 MiB in the map (overlaps counted once), for the summary line. */
uint64_t regions_usable_above_1m(void);

/* The regions the heap accepted, in address order. -1 if there is no region i. */
unsigned regions_count(void);
int      regions_get(unsigned i, uintptr_t *start, size_t *size);

#endif
