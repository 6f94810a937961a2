/* bios.h - reading what the firmware left in low memory (paging is off: physical addresses are
 * pointers): the EBDA, and the signed, checksummed structures acpi.c and mptable.c look for. */
#ifndef KERNEL_BIOS_H
#define KERNEL_BIOS_H

#include <stdint.h>

#define BIOS_AREA_START 0xE0000u
#define BIOS_AREA_END   0x100000u

/* A physical address as a pointer. The empty asm hides the constant from GCC, which otherwise
 * takes a read at a small fixed address (0x40E) for an out-of-bounds access. */
static inline const uint8_t *bios_phys(uint32_t address)
{
    uintptr_t a = address;

    __asm__("" : "+r"(a));
    return (const uint8_t *)a;
}

int      bios_sums_to_zero(const uint8_t *p, uint32_t n);
/* The EBDA's start (its segment is the word at 0x40E), or 0 if that is not a plausible EBDA. */
uint32_t bios_ebda(void);
/* The end of base memory (the KiB count at 0x413), or 0 if implausible. */
uint32_t bios_base_end(void);
/* The first 16-byte boundary in [start, end) where `signature` (len bytes) begins a structure
 * whose first `bytes` bytes sum to 0; 0 if none. */
uint32_t bios_scan(uint32_t start, uint32_t end, const char *signature, uint32_t len, uint32_t bytes);

#endif
