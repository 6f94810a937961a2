/* idt.c - fills the IDT with interrupt gates to the stubs in vectors.S and loads it.
 * Vectors 0-47 get gates; the rest stay not-present, so a stray `int` to them raises #GP,
 * which is reported like any other exception. */
#include <stdint.h>
#include "gdt.h"
#include "idt.h"
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

static struct idt_gate idt[IDT_ENTRIES];
static struct idt_pointer idt_ptr;

static void idt_set_gate(unsigned vector, uint32_t handler)
{
    idt[vector].offset_low = handler & 0xFFFF;
    idt[vector].selector = GDT_KERNEL_CODE;
    idt[vector].zero = 0;
    idt[vector].type = GATE_PRESENT | GATE_RING0 | GATE_INTERRUPT;
    idt[vector].offset_high = handler >> 16;
}

void idt_init(void)
{
    for (unsigned v = 0; v < TRAP_STUBS; v++)
        idt_set_gate(v, trap_stubs[v]);
    idt_ptr.limit = sizeof(idt) - 1;
    idt_ptr.base = (uint32_t)(uintptr_t)idt;
    idt_load();
}

/* IDTR is per CPU: each AP loads the one shared table for itself (smp.c, ap_main). */
void idt_load(void)
{
    __asm__ volatile("lidt (%0)" : : "r"(&idt_ptr) : "memory");
}

/* For vectors above the PIC's that do not go through trap.c (lapic.c: wake-up IPI, spurious). */
void idt_set_handler(unsigned vector, void (*entry)(void))
{
    if (vector >= TRAP_STUBS && vector < IDT_ENTRIES)
        idt_set_gate(vector, (uint32_t)(uintptr_t)entry);
}
