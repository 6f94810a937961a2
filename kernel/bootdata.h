/* bootdata.h - proof that the heap never got the loader's data: the command line and every
 * module are checksummed at boot, before the heap has any memory, and again after the
 * self-tests have churned through all of it. */
#ifndef KERNEL_BOOTDATA_H
#define KERNEL_BOOTDATA_H

#include "multiboot.h"

void     bootdata_record(const struct boot_info *boot);
/* Prints one line per changed item and one verdict line; returns how many items changed. */
unsigned bootdata_verify(const struct boot_info *boot);

#endif
