/* gdt.c - a flat Global Descriptor Table: null, code and data, all spanning 4 GiB from 0.
 * Segmentation then does nothing, which is what a kernel without paging wants. */
#include <stdint.h>
#include "gdt.h"

/* Access byte bits */
#define SEG_PRESENT    0x80
#define SEG_RING0      0x00
#define SEG_CODE_DATA  0x10 /* a code/data segment, not a system one */
#define SEG_EXECUTABLE 0x08
#define SEG_RW         0x02 /* code: readable; data: writable */

/* Flag nibble bits */
#define SEG_GRANULARITY_4K 0x8
#define SEG_32BIT          0x4

struct gdt_pointer {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static uint64_t gdt[3];
static struct gdt_pointer gdt_ptr;

/* Packs one descriptor; the layout scatters base and limit for 286 compatibility. */
static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint64_t e = 0;

    e |= limit & 0xFFFF;
    e |= (uint64_t)(base & 0xFFFFFF) << 16;
    e |= (uint64_t)access << 40;
    e |= (uint64_t)((limit >> 16) & 0xF) << 48;
    e |= (uint64_t)(flags & 0xF) << 52;
    e |= (uint64_t)((base >> 24) & 0xFF) << 56;
    return e;
}

/* CS can only change through a far jump; the data registers just take the new selector. */
static void gdt_load(const struct gdt_pointer *ptr)
{
    __asm__ volatile(
        "lgdt (%0)\n\t"
        "ljmp %1, $1f\n"
        "1:\n\t"
        "movw %w2, %%ds\n\t"
        "movw %w2, %%es\n\t"
        "movw %w2, %%fs\n\t"
        "movw %w2, %%gs\n\t"
        "movw %w2, %%ss"
        : : "r"(ptr), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA) : "memory");
}

void gdt_init(void)
{
    uint8_t flags = SEG_GRANULARITY_4K | SEG_32BIT;

    gdt[0] = 0; /* the CPU requires a null descriptor first */
    gdt[1] = gdt_entry(0, 0xFFFFF, SEG_PRESENT | SEG_RING0 | SEG_CODE_DATA | SEG_EXECUTABLE | SEG_RW, flags);
    gdt[2] = gdt_entry(0, 0xFFFFF, SEG_PRESENT | SEG_RING0 | SEG_CODE_DATA | SEG_RW, flags);
    gdt_ptr.limit = sizeof(gdt) - 1;
    gdt_ptr.base = (uint32_t)(uintptr_t)gdt;
    gdt_load(&gdt_ptr);
}

/* The AP trampoline loads this same table with its own lgdt, while still in real mode. */
void gdt_describe(uint16_t *limit, uint32_t *base)
{
    *limit = gdt_ptr.limit;
    *base = gdt_ptr.base;
}
