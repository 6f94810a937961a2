/* acpi.h - the one thing this kernel wants from ACPI: the processors in the MADT (the "APIC"
 * table) and the physical address of their local APICs. Paging is off, so every table is read
 * where the firmware left it. */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdint.h>

#define ACPI_CPUS_MAX 64 /* MADT processor entries kept; smp.c starts at most SMP_CPUS_MAX */

struct acpi_cpu {
    uint8_t apic_id;
    uint8_t enabled;     /* MADT flag bit 0: the firmware says the CPU is usable */
};

struct acpi_madt_info {
    uint32_t lapic_address;      /* the MADT's, or its 64-bit override when that fits 32 bits */
    unsigned cpu_count;          /* entries in cpus[] (type 0, enabled or not) */
    unsigned cpus_dropped;       /* type 0 entries past ACPI_CPUS_MAX */
    struct acpi_cpu cpus[ACPI_CPUS_MAX];
    uint32_t rsdp, rsdt, madt;   /* where the tables were, for the boot log */
};

/* Finds the RSDP (EBDA, then 0xE0000-0xFFFFF), the RSDT and in it the MADT, checksums each,
 * and fills *out. 0 on success; -1 when there is no usable MADT (a line says why). */
int acpi_find_cpus(struct acpi_madt_info *out);

#endif
