/* acpi.c - finds the processors from ACPI's MADT. The chain is RSDP -> RSDT -> MADT:
 *   RSDP   "RSD PTR " on a 16-byte boundary in the first KiB of the EBDA (its segment is the
 *          word at 0x40E) or in the BIOS area 0xE0000-0xFFFFF; the first 20 bytes sum to 0.
 *   RSDT   a table header ("RSDT") and then 32-bit physical pointers to the other tables.
 *          (The XSDT of ACPI 2.0 holds 64-bit pointers; a 32-bit kernel without paging can
 *          only follow those below 4 GiB anyway, and every firmware that has one has an RSDT.)
 *   MADT   signature "APIC": the local APIC address, flags, then variable-length entries;
 *          type 0 is one processor (ACPI id, APIC id, flags: bit 0 enabled), type 5 a 64-bit
 *          override of the local APIC address.
 * Every table's bytes must sum to 0 (mod 256), or it is not used. QEMU's SeaBIOS builds these
 * for -smp N: N type 0 entries, all enabled, APIC ids 0..N-1. */
#include <stddef.h>
#include "acpi.h"
#include "bios.h"
#include "kprintf.h"
#include "string.h"

#define EBDA_SCAN_BYTES  1024
#define RSDP_V1_BYTES    20
#define SDT_HEADER_BYTES 36
#define TABLE_MAX_BYTES  (1u << 20) /* a length beyond this is a broken table, not a big one */

#define MADT_LOCAL_APIC          0
#define MADT_LAPIC_OVERRIDE      5
#define MADT_LOCAL_APIC_ENABLED  0x1

struct rsdp {
    char     signature[8];
    uint8_t  checksum;
    char     oem[6];
    uint8_t  revision;
    uint32_t rsdt;
} __attribute__((packed));

struct sdt_header {
    char     signature[4];
    uint32_t length;
    uint8_t  revision;
    uint8_t  checksum;
    char     oem[6];
    char     oem_table[8];
    uint32_t oem_revision;
    uint32_t creator;
    uint32_t creator_revision;
} __attribute__((packed));

static uint32_t rsdp_find(void)
{
    uint32_t ebda = bios_ebda(), found = 0;

    if (ebda)
        found = bios_scan(ebda, ebda + EBDA_SCAN_BYTES, "RSD PTR ", 8, RSDP_V1_BYTES);
    return found ? found : bios_scan(BIOS_AREA_START, BIOS_AREA_END, "RSD PTR ", 8, RSDP_V1_BYTES);
}

/* A table's header and bytes are sane: signature, a length that holds the header, checksum. */
static const struct sdt_header *table_at(uint32_t address, const char *signature)
{
    const struct sdt_header *h = (const struct sdt_header *)bios_phys(address);

    if (address == 0 || memcmp(h->signature, signature, 4) != 0)
        return NULL;
    if (h->length < SDT_HEADER_BYTES || h->length > TABLE_MAX_BYTES ||
        (uint64_t)address + h->length > 0x100000000ull)
        return NULL;
    return bios_sums_to_zero((const uint8_t *)h, h->length) ? h : NULL;
}

static void madt_entries(const struct sdt_header *madt, struct acpi_madt_info *out)
{
    const uint8_t *p = (const uint8_t *)madt + SDT_HEADER_BYTES + 8; /* after address and flags */
    const uint8_t *end = (const uint8_t *)madt + madt->length;

    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        if (p[0] == MADT_LOCAL_APIC && p[1] >= 8) {
            uint32_t flags;

            memcpy(&flags, p + 4, sizeof(flags));
            if (out->cpu_count < ACPI_CPUS_MAX)
                out->cpus[out->cpu_count++] = (struct acpi_cpu){ p[3], (flags & MADT_LOCAL_APIC_ENABLED) != 0 };
            else
                out->cpus_dropped++;
        } else if (p[0] == MADT_LAPIC_OVERRIDE && p[1] >= 12) {
            uint64_t address;

            memcpy(&address, p + 4, sizeof(address));
            if (address < 0x100000000ull)
                out->lapic_address = (uint32_t)address;
        }
        p += p[1];
    }
}

int acpi_find_cpus(struct acpi_madt_info *out)
{
    const struct rsdp *rsdp;
    const struct sdt_header *rsdt, *madt = NULL;
    unsigned tables;

    memset(out, 0, sizeof(*out));
    if (!(out->rsdp = rsdp_find())) {
        kprintf("acpi: no RSDP in the EBDA or at 0xe0000-0xfffff\n");
        return -1;
    }
    rsdp = (const struct rsdp *)bios_phys(out->rsdp);
    if (!(rsdt = table_at(rsdp->rsdt, "RSDT"))) {
        kprintf("acpi: RSDP at 0x%08x, but no valid RSDT at 0x%08x\n", out->rsdp, rsdp->rsdt);
        return -1;
    }
    out->rsdt = rsdp->rsdt;
    tables = (rsdt->length - SDT_HEADER_BYTES) / 4;
    for (unsigned i = 0; i < tables && !madt; i++) {
        uint32_t address;

        memcpy(&address, (const uint8_t *)rsdt + SDT_HEADER_BYTES + 4 * i, sizeof(address));
        if ((madt = table_at(address, "APIC")))
            out->madt = address;
    }
    if (!madt || madt->length < SDT_HEADER_BYTES + 8) {
        kprintf("acpi: RSDT at 0x%08x lists no valid MADT (\"APIC\")\n", out->rsdt);
        return -1;
    }
    memcpy(&out->lapic_address, (const uint8_t *)madt + SDT_HEADER_BYTES, sizeof(uint32_t));
    madt_entries(madt, out);
    kprintf("acpi: RSDP 0x%08x, RSDT 0x%08x, MADT 0x%08x: %u processor(s), local APIC at 0x%08x\n",
            out->rsdp, out->rsdt, out->madt, out->cpu_count + out->cpus_dropped, out->lapic_address);
    return 0;
}
