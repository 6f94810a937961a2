/* regions.h - the heaps' memory: chosen from the boot memory map, then added. */
#ifndef KERNEL_REGIONS_H
#define KERNEL_REGIONS_H

#include <stddef.h>
#include <stdint.h>
#include "multiboot.h"

/* Prints the loader's memory map, the regions chosen for the heap and why the rest was left
 * out, then adds each region with mem_add_region. Returns how many regions were added. */
unsigned regions_setup(const struct boot_info *boot);
/* The same, with add in mem_add_region's place: kernel/karena.c splits each region between the
 * default heap and the CPUs' arenas. add returns 0 or a negative enum mem_error, as
 * mem_add_region does; a region counts as added when it returns 0. */
unsigned regions_setup_with(const struct boot_info *boot, int (*add)(void *start, size_t size));

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
