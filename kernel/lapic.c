/* lapic.c - the local APIC registers this kernel uses (Intel SDM vol. 3, ch. 10 "APIC"):
 *   0x020 ID (bits 24-31)        0x0B0 EOI             0x0F0 spurious vector, bit 8 = enable
 *   0x080 task priority          0x300/0x310 interrupt command (low/high; writing low sends)
 *   0x320 LVT timer  0x350 LINT0  0x360 LINT1  0x370 LVT error
 * Two interrupt vectors bypass trap.c, with stubs here: the wake-up IPI (an EOI and iret: all
 * it does is end an AP's hlt) and the APIC's spurious vector (iret only; the SDM says a
 * spurious interrupt gets no EOI). */
#include "idt.h"
#include "lapic.h"

#define LAPIC_ID       0x020
#define LAPIC_TPR      0x080
#define LAPIC_EOI      0x0B0
#define LAPIC_SVR      0x0F0
#define LAPIC_ICR_LOW  0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370

#define SVR_ENABLE      0x100
#define LVT_MASKED      0x10000
#define LVT_NMI         0x400
#define LVT_EXTINT      0x700

#define ICR_FIXED       0x000
#define ICR_INIT        0x500
#define ICR_STARTUP     0x600
#define ICR_PENDING     0x1000  /* delivery status: the IPI is not yet accepted */
#define ICR_ASSERT      0x4000
#define ICR_ALL_BUT_SELF 0xC0000
#define ICR_SPIN_LIMIT  1000000

static volatile uint32_t *lapic_regs;
volatile uint32_t *lapic_eoi_register; /* read by the wake stub below */

static uint32_t reg_read(uint32_t offset) { return lapic_regs[offset / 4]; }
static void reg_write(uint32_t offset, uint32_t value) { lapic_regs[offset / 4] = value; }

/* Interrupt gates: the CPU clears IF on entry, iret restores it. */
void lapic_wake_entry(void);
void lapic_spurious_entry(void);
__asm__(
    "    .text\n"
    "    .global lapic_wake_entry\n"
    "lapic_wake_entry:\n"
    "    pushl %eax\n"
    "    movl lapic_eoi_register, %eax\n"
    "    movl $0, (%eax)\n"
    "    popl %eax\n"
    "    iret\n"
    "    .global lapic_spurious_entry\n"
    "lapic_spurious_entry:\n"
    "    iret\n");

void lapic_set_base(uint32_t address)
{
    lapic_regs = (volatile uint32_t *)(uintptr_t)address;
    lapic_eoi_register = &lapic_regs[LAPIC_EOI / 4];
    idt_set_handler(LAPIC_WAKE_VECTOR, lapic_wake_entry);
    idt_set_handler(LAPIC_SPURIOUS_VECTOR, lapic_spurious_entry);
}

int lapic_present(void)
{
    return lapic_regs != 0;
}

uint32_t lapic_id(void)
{
    return reg_read(LAPIC_ID) >> 24;
}

void lapic_enable(int bsp)
{
    reg_write(LAPIC_TPR, 0);                       /* accept every priority */
    reg_write(LAPIC_LVT_TIMER, LVT_MASKED);
    reg_write(LAPIC_LVT_ERROR, LVT_MASKED);
    reg_write(LAPIC_LVT_LINT0, bsp ? LVT_EXTINT : LVT_MASKED | LVT_EXTINT);
    reg_write(LAPIC_LVT_LINT1, LVT_NMI);
    reg_write(LAPIC_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}

static void send_ipi(uint32_t apic_id, uint32_t command)
{
    reg_write(LAPIC_ICR_HIGH, apic_id << 24);
    reg_write(LAPIC_ICR_LOW, command);             /* this write sends it */
    for (unsigned spins = 0; spins < ICR_SPIN_LIMIT; spins++)
        if (!(reg_read(LAPIC_ICR_LOW) & ICR_PENDING))
            break;
}

void lapic_send_init(uint32_t apic_id)
{
    send_ipi(apic_id, ICR_INIT | ICR_ASSERT);
}

void lapic_send_startup(uint32_t apic_id, uint8_t page)
{
    send_ipi(apic_id, ICR_STARTUP | ICR_ASSERT | page);
}

void lapic_send_wake_others(void)
{
    send_ipi(0, ICR_ALL_BUT_SELF | ICR_FIXED | ICR_ASSERT | LAPIC_WAKE_VECTOR);
}
