/* mptable.h - the processors from the MultiProcessor Specification's tables, for firmware
 * without an ACPI MADT (smp.c tries acpi.c first). */
#ifndef KERNEL_MPTABLE_H
#define KERNEL_MPTABLE_H

#include "acpi.h"

/* Fills *out as acpi_find_cpus does (the rsdp/rsdt/madt fields stay 0). 0, or -1 with a line
 * saying why. */
int mptable_find_cpus(struct acpi_madt_info *out);

#endif
