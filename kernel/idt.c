/* idt.c - fills the IDT with interrupt gates to the stubs in vectors.S and loads it.
 * Vectors 0-47 get gates; the rest stay not-present, so a stray `int` to them raises #GP,
 * which is reported like any other exception.
 *
 * The BSP fills one template; every CPU then runs on a copy of its own (idt_load), loaded with
 * lidt on that CPU. All the copies are the same today, but a vector that only one CPU should
 * take (a CPU's own timer, an IPI meant for one CPU) can then be set in that CPU's table alone,
 * and a CPU's table is never written while another CPU's lidt points at it. */
#include <stdint.h>
#include "gdt.h"
#include "idt.h"
#include "smp.h"
#include "string.h"
#include "trap.h"

#define IDT_ENTRIES 256

/* Gate type byte: present, ring 0, 32-bit interrupt gate (the CPU clears IF on entry, so a
 * handler is never interrupted by an IRQ). */
#define GATE_PRESENT   0x80
#define GATE_RING0     0x00
#define GATE_INTERRUPT 0x0E

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t  zero;
    uint8_t  type;
    uint16_t offset_high;
} __attribute__((packed));

struct idt_pointer {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static struct idt_gate idt_template[IDT_ENTRIES];
/* 8-byte aligned, as the SDM advises for the IDT's base. */
static struct idt_gate idts[SMP_CPUS_MAX][IDT_ENTRIES] __attribute__((aligned(8)));
static struct idt_pointer idt_ptrs[SMP_CPUS_MAX];
static uint32_t idt_loaded; /* bit cpu: that CPU runs on idts[cpu] */

static void idt_set_gate(struct idt_gate *table, unsigned vector, uint32_t handler)
{
    table[vector].offset_low = handler & 0xFFFF;
    table[vector].selector = GDT_KERNEL_CODE;
    table[vector].zero = 0;
    table[vector].type = GATE_PRESENT | GATE_RING0 | GATE_INTERRUPT;
    table[vector].offset_high = handler >> 16;
}

void idt_init(void)
{
    for (unsigned v = 0; v < TRAP_STUBS; v++)
        idt_set_gate(idt_template, v, trap_stubs[v]);
    idt_load(0);
}

/* IDTR is per CPU: each CPU loads its own copy for itself (the BSP in idt_init, each AP in
 * smp.c's ap_main). The copy is taken then, so it has every handler set before that CPU came up. */
void idt_load(unsigned cpu)
{
    memcpy(idts[cpu], idt_template, sizeof(idt_template));
    idt_ptrs[cpu].limit = sizeof(idts[cpu]) - 1;
    idt_ptrs[cpu].base = (uint32_t)(uintptr_t)idts[cpu];
    __asm__ volatile("lidt (%0)" : : "r"(&idt_ptrs[cpu]) : "memory");
    __atomic_fetch_or(&idt_loaded, 1u << cpu, __ATOMIC_RELEASE);
}

uint32_t idt_base(unsigned cpu)
{
    return (uint32_t)(uintptr_t)idts[cpu];
}

/* For vectors above the PIC's that do not go through trap.c (lapic.c: wake-up IPI, spurious).
 * Called at boot, on the BSP, before the APs start; the loaded copies (the BSP's) get it too,
 * so a handler set after idt_init still reaches the CPU that set it. */
void idt_set_handler(unsigned vector, void (*entry)(void))
{
    uint32_t loaded = __atomic_load_n(&idt_loaded, __ATOMIC_ACQUIRE);

    if (vector < TRAP_STUBS || vector >= IDT_ENTRIES)
        return;
    idt_set_gate(idt_template, vector, (uint32_t)(uintptr_t)entry);
    for (unsigned cpu = 0; cpu < SMP_CPUS_MAX; cpu++)
        if (loaded & (1u << cpu))
            idt_set_gate(idts[cpu], vector, (uint32_t)(uintptr_t)entry);
}
