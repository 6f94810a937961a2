/* lapic.c - the local APIC registers this kernel uses (Intel SDM vol. 3, ch. 10 "APIC"):
 *   0x020 ID (bits 24-31)        0x0B0 EOI             0x0F0 spurious vector, bit 8 = enable
 *   0x080 task priority          0x300/0x310 interrupt command (low/high; writing low sends)
 *   0x320 LVT timer  0x350 LINT0  0x360 LINT1  0x370 LVT error
 *   0x380 timer initial count    0x390 timer current count    0x3E0 timer divide configuration
 * Three interrupt vectors bypass trap.c, with stubs here: the wake-up IPI (an EOI and iret: all
 * it does is end an AP's hlt), the timer (the registers saved, the tick handler, an EOI) and the
 * APIC's spurious vector (iret only; the SDM says a spurious interrupt gets no EOI). */
#include "idt.h"
#include "lapic.h"
#include "pit.h"

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
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE  0x3E0

#define SVR_ENABLE      0x100
#define LVT_MASKED      0x10000
#define LVT_NMI         0x400
#define LVT_EXTINT      0x700
#define LVT_PERIODIC    0x20000
#define DIVIDE_BY_16    0x3     /* the divide register's encoding of 16 */
#define CALIBRATE_US    10000

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

static uint32_t timer_counts_per_ms;
static void (*volatile timer_tick)(void);

/* Interrupt gates: the CPU clears IF on entry, iret restores it. The timer's stub saves what the
 * C calling convention lets a callee clobber (pusha: all of them, simplest) and clears the
 * direction flag, which the ABI says a C function may assume clear. */
void lapic_wake_entry(void);
void lapic_spurious_entry(void);
void lapic_timer_entry(void);
void lapic_timer_dispatch(void);
__asm__(
    "    .text\n"
    "    .global lapic_wake_entry\n"
    "lapic_wake_entry:\n"
    "    pushl %eax\n"
    "    movl lapic_eoi_register, %eax\n"
    "    movl $0, (%eax)\n"
    "    popl %eax\n"
    "    iret\n"
    "    .global lapic_timer_entry\n"
    "lapic_timer_entry:\n"
    "    pusha\n"
    "    cld\n"
    "    call lapic_timer_dispatch\n"
    "    movl lapic_eoi_register, %eax\n"
    "    movl $0, (%eax)\n"
    "    popa\n"
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
    idt_set_handler(LAPIC_TIMER_VECTOR, lapic_timer_entry);
}

/* From the stub. A tick that was already pending when its CPU stopped the timer may still
 * arrive later; with no handler it is only acknowledged. */
void lapic_timer_dispatch(void)
{
    void (*tick)(void) = timer_tick;

    if (tick)
        tick();
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

/* One-shot from the largest count, masked (it counts all the same, and raises nothing), for a
 * PIT-timed 10 ms; what it counted down is the rate. */
void lapic_timer_calibrate(void)
{
    uint32_t left;

    if (!lapic_regs)
        return;
    reg_write(LAPIC_TIMER_DIVIDE, DIVIDE_BY_16);
    reg_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);
    reg_write(LAPIC_TIMER_INITIAL, 0xFFFFFFFFu);
    pit_delay_us(CALIBRATE_US);
    left = reg_read(LAPIC_TIMER_CURRENT);
    reg_write(LAPIC_TIMER_INITIAL, 0);
    timer_counts_per_ms = (0xFFFFFFFFu - left) / (CALIBRATE_US / 1000);
}

uint32_t lapic_timer_counts_per_ms(void)
{
    return timer_counts_per_ms;
}

int lapic_timer_start(unsigned hz, void (*tick)(void))
{
    uint32_t count;

    if (!lapic_regs || !timer_counts_per_ms || hz == 0)
        return -1;
    count = (uint32_t)((uint64_t)timer_counts_per_ms * 1000u / hz);
    timer_tick = tick;
    reg_write(LAPIC_TIMER_DIVIDE, DIVIDE_BY_16);
    reg_write(LAPIC_LVT_TIMER, LVT_PERIODIC | LAPIC_TIMER_VECTOR);
    reg_write(LAPIC_TIMER_INITIAL, count ? count : 1); /* writing the count starts it */
    return 0;
}

void lapic_timer_stop(void)
{
    if (!lapic_regs)
        return;
    reg_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);
    reg_write(LAPIC_TIMER_INITIAL, 0);
}
