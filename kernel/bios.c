/* bios.c - the firmware's low memory, for acpi.c and mptable.c (see bios.h). */
#include "bios.h"
#include "string.h"

#define EBDA_SEGMENT_PTR 0x40Eu
#define BASE_MEMORY_KIB  0x413u

int bios_sums_to_zero(const uint8_t *p, uint32_t n)
{
    uint8_t sum = 0;

    while (n--)
        sum = (uint8_t)(sum + *p++);
    return sum == 0;
}

/* The EBDA and the end of base memory lie between 512 KiB and the video area at 640 KiB:
 * anything else is not what the BIOS data area should hold. */
uint32_t bios_ebda(void)
{
    uint32_t ebda = (uint32_t)*(const volatile uint16_t *)bios_phys(EBDA_SEGMENT_PTR) << 4;

    return ebda >= 0x80000 && ebda < 0xA0000 ? ebda : 0;
}

uint32_t bios_base_end(void)
{
    uint32_t end = (uint32_t)*(const volatile uint16_t *)bios_phys(BASE_MEMORY_KIB) * 1024;

    return end >= 0x80000 && end <= 0xA0000 ? end : 0;
}

uint32_t bios_scan(uint32_t start, uint32_t end, const char *signature, uint32_t len, uint32_t bytes)
{
    for (uint32_t a = start; a + bytes <= end; a += 16)
        if (memcmp(bios_phys(a), signature, len) == 0 && bios_sums_to_zero(bios_phys(a), bytes))
            return a;
    return 0;
}
