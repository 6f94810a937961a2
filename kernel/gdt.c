/* gdt.c - one Global Descriptor Table per CPU: null, flat code and data spanning 4 GiB from 0
 * (segmentation then does nothing, which is what a kernel without paging wants), and a small
 * per-CPU data segment over that CPU's struct cpu, for %fs. The per-CPU segment is why each CPU
 * needs a table of its own: a descriptor's base is the only thing that can differ between CPUs
 * that all load the same selector. */
#include <stdint.h>
#include "gdt.h"
#include "smp.h"

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

#define GDT_ENTRIES 4 /* null, code, data, per-CPU */

/* 8-byte aligned, as the SDM advises for the GDT's base (fewer split loads on a segment load). */
static uint64_t gdts[SMP_CPUS_MAX][GDT_ENTRIES] __attribute__((aligned(8)));
static struct gdt_pointer gdt_ptrs[SMP_CPUS_MAX];

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

/* CS can only change through a far jump; the data registers just take the new selector. %fs
 * gets the per-CPU segment instead, and nothing else reloads it (vectors.S leaves it alone). */
static void gdt_switch(const struct gdt_pointer *ptr)
{
    __asm__ volatile(
        "lgdt (%0)\n\t"
        "ljmp %1, $1f\n"
        "1:\n\t"
        "movw %w2, %%ds\n\t"
        "movw %w2, %%es\n\t"
        "movw %w2, %%gs\n\t"
        "movw %w2, %%ss\n\t"
        "movw %w3, %%fs"
        : : "r"(ptr), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_PERCPU) : "memory");
}

void gdt_setup(unsigned cpu, uint32_t percpu_base, uint32_t percpu_size)
{
    uint8_t flat = SEG_GRANULARITY_4K | SEG_32BIT;
    uint64_t *gdt = gdts[cpu];

    gdt[0] = 0; /* the CPU requires a null descriptor first */
    gdt[1] = gdt_entry(0, 0xFFFFF, SEG_PRESENT | SEG_RING0 | SEG_CODE_DATA | SEG_EXECUTABLE | SEG_RW, flat);
    gdt[2] = gdt_entry(0, 0xFFFFF, SEG_PRESENT | SEG_RING0 | SEG_CODE_DATA | SEG_RW, flat);
    /* byte granularity: the limit is the record's last byte, so a stray %fs offset past it faults */
    gdt[3] = gdt_entry(percpu_base, percpu_size - 1, SEG_PRESENT | SEG_RING0 | SEG_CODE_DATA | SEG_RW,
                       SEG_32BIT);
    gdt_ptrs[cpu].limit = sizeof(gdts[cpu]) - 1;
    gdt_ptrs[cpu].base = (uint32_t)(uintptr_t)gdt;
}

void gdt_load(unsigned cpu)
{
    gdt_switch(&gdt_ptrs[cpu]);
}

/* An AP's trampoline loads its table with its own lgdt, while still in real mode. */
void gdt_describe(unsigned cpu, uint16_t *limit, uint32_t *base)
{
    *limit = gdt_ptrs[cpu].limit;
    *base = gdt_ptrs[cpu].base;
}
