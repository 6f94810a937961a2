/* trap.c - where every interrupt vector lands. A CPU exception is a kernel bug: report it in
 * one line on serial and end the run as a failure. An IRQ goes to the handler a driver set for
 * its line and is then ended at the PIC; a spurious IRQ (7 or 15 that no device raised) or one
 * nobody handles is reported, acknowledged, and execution goes on. */
#include "kprintf.h"
#include "io.h"
#include "pic.h"
#include "qemu.h"
#include "trap.h"
#include "uart.h"

#define VECTOR_PAGE_FAULT 14

static const char *const exception_names[TRAP_EXCEPTIONS] = {
    "#DE divide error",          "#DB debug",                 "NMI",
    "#BP breakpoint",            "#OF overflow",              "#BR bound range exceeded",
    "#UD invalid opcode",        "#NM device not available",  "#DF double fault",
    "coprocessor segment overrun", "#TS invalid TSS",         "#NP segment not present",
    "#SS stack-segment fault",   "#GP general protection",    "#PF page fault",
    "reserved",                  "#MF x87 floating-point",    "#AC alignment check",
    "#MC machine check",         "#XM SIMD floating-point",   "#VE virtualization",
    "#CP control protection",    "reserved",                  "reserved",
    "reserved",                  "reserved",                  "reserved",
    "reserved",                  "#HV hypervisor injection",  "#VC VMM communication",
    "#SX security",              "reserved",
};

static unsigned irq_reports;
static trap_irq_fn irq_handlers[TRAP_IRQS];

/* One line, so a test log shows the cause without a debugger. The run is over after it. */
static void exception_report(const struct trap_frame *f)
{
    (void)uart_lock(); /* the line in one piece with other CPUs printing; the run ends here */
    kprintf("\nFAULT: vector %u (%s), error 0x%x, eip 0x%08x, cs 0x%x, eflags 0x%08x",
            f->vector, exception_names[f->vector], f->error, f->eip, f->cs, f->eflags);
    if (f->vector == VECTOR_PAGE_FAULT)
        kprintf(", cr2 0x%08x", read_cr2());
    kprintf("\n");
    qemu_exit(QEMU_EXIT_FAILURE);
}

static void irq_report(unsigned irq)
{
    int spurious = pic_acknowledge(irq);

    irq_reports++;
    kprintf("IRQ %u: %s, ignored\n", irq, spurious ? "spurious" : "no handler assigned");
}

/* Handlers run with interrupts off (interrupt gates), so no IRQ nests inside another. */
static void irq_dispatch(unsigned irq)
{
    trap_irq_fn handler = irq_handlers[irq];

    if (!handler || pic_is_spurious(irq)) {
        irq_report(irq);
        return;
    }
    handler();
    pic_eoi(irq);
}

void trap_dispatch(struct trap_frame *frame)
{
    if (frame->vector < TRAP_EXCEPTIONS)
        exception_report(frame);
    else
        irq_dispatch(frame->vector - TRAP_IRQ_BASE);
}

void trap_set_irq_handler(unsigned irq, trap_irq_fn handler)
{
    if (irq < TRAP_IRQS)
        irq_handlers[irq] = handler;
}

unsigned trap_irq_reports(void)
{
    return irq_reports;
}
