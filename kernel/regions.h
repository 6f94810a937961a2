/* regions.h - the default heap's memory: chosen from the boot memory map, then added. */
#ifndef KERNEL_REGIONS_H
#define KERNEL_REGIONS_H

#include "multiboot.h"

/* Prints the loader's memory map, the regions chosen for the heap and why the rest was left
 * out, then adds each region with mem_add_region. Returns how many regions were added. */
unsigned regions_setup(const struct boot_info *boot);

#endif
