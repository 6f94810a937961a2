/* mptable.c - the fallback when there is no ACPI MADT: the MultiProcessor Specification 1.4
 * tables, which older firmware (and SeaBIOS, e.g. QEMU's -machine acpi=off) still builds.
 *   floating pointer  "_MP_", 16 bytes on a 16-byte boundary in the first KiB of the EBDA, the
 *                     last KiB of base memory, or 0xF0000-0xFFFFF; its bytes sum to 0; at +4
 *                     the physical address of the configuration table (0: one of the spec's
 *                     "default configurations", which this kernel does not handle)
 *   configuration     "PCMP" header (44 bytes: length at +4, entry count at +34, local APIC
 *                     address at +36), its base table summing to 0, then entries: type 0
 *                     processor (20 bytes: APIC id at +1, flags at +3, bit 0 enabled), types
 *                     1-4 (bus, I/O APIC, interrupt assignments) 8 bytes each
 * It fills the same list as acpi.c's MADT reader, so smp.c does not care which one it got.
 * SeaBIOS lists only the first logical CPU of each package here (QEMU's -smp 4 is one socket
 * of four cores: one entry); -smp 4,sockets=4 lists all four. */
#include <stddef.h>
#include "acpi.h"
#include "bios.h"
#include "kprintf.h"
#include "mptable.h"
#include "string.h"

#define MP_HEADER_BYTES    44
#define MP_PROCESSOR       0
#define MP_PROCESSOR_BYTES 20
#define MP_OTHER_BYTES     8
#define MP_LAST_TYPE       4
#define MP_CPU_ENABLED     0x1

/* The floating pointer: signature and checksum, and a length of one 16-byte paragraph. */
static uint32_t scan(uint32_t start, uint32_t end)
{
    uint32_t a = start;

    while ((a = bios_scan(a, end, "_MP_", 4, 16)) && bios_phys(a)[8] != 1)
        a += 16;
    return a;
}

static uint32_t floating_pointer_find(void)
{
    uint32_t ebda = bios_ebda(), base_end = bios_base_end(), found = 0;

    if (ebda)
        found = scan(ebda, ebda + 1024);
    if (!found && base_end)
        found = scan(base_end - 1024, base_end);
    return found ? found : scan(0xF0000, BIOS_AREA_END);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

int mptable_find_cpus(struct acpi_madt_info *out)
{
    uint32_t fp = floating_pointer_find(), config;
    const uint8_t *table, *p, *end;
    unsigned entries;

    memset(out, 0, sizeof(*out));
    if (!fp) {
        kprintf("mptable: no MP floating pointer either\n");
        return -1;
    }
    config = get32(bios_phys(fp) + 4);
    table = bios_phys(config);
    if (config == 0 || memcmp(table, "PCMP", 4) != 0 || get16(table + 4) < MP_HEADER_BYTES ||
        !bios_sums_to_zero(table, get16(table + 4))) {
        kprintf("mptable: floating pointer at 0x%08x, but no valid configuration table (0x%08x)\n",
                fp, config);
        return -1;
    }
    out->lapic_address = get32(table + 36);
    entries = get16(table + 34);
    p = table + MP_HEADER_BYTES;
    end = table + get16(table + 4);
    for (unsigned i = 0; i < entries && p < end && p[0] <= MP_LAST_TYPE; i++) {
        if (p[0] == MP_PROCESSOR) {
            if (p + MP_PROCESSOR_BYTES > end)
                break;
            if (out->cpu_count < ACPI_CPUS_MAX)
                out->cpus[out->cpu_count++] = (struct acpi_cpu){ p[1], (p[3] & MP_CPU_ENABLED) != 0 };
            else
                out->cpus_dropped++;
            p += MP_PROCESSOR_BYTES;
        } else {
            p += MP_OTHER_BYTES;
        }
    }
    kprintf("mptable: floating pointer 0x%08x, configuration table 0x%08x: %u processor(s), local APIC "
            "at 0x%08x\n", fp, config, out->cpu_count + out->cpus_dropped, out->lapic_address);
    return 0;
}
