/* pic.c - the 8259A pair. At power-on they deliver IRQ 0-7 on vectors 8-15, on top of the CPU
 * exceptions, so they are moved to 32-47 before anything else. Every line starts masked; a
 * driver unmasks its own (the timer for the IRQ self-test, the UART while the shell waits).
 * trap.c has an entry for each IRQ, so a spurious or unexpected one is reported instead of
 * taken for an exception. */
#include "io.h"
#include "pic.h"
#include "trap.h"

#define PIC1_COMMAND 0x20
#define PIC1_DATA    0x21
#define PIC2_COMMAND 0xA0
#define PIC2_DATA    0xA1

#define ICW1_INIT    0x10 /* start initialisation */
#define ICW1_ICW4    0x01 /* an ICW4 follows */
#define ICW3_SLAVE_AT_IRQ2 0x04 /* to the master: its slave hangs on line 2 */
#define ICW3_SLAVE_ID      0x02 /* to the slave: its cascade identity */
#define ICW4_8086    0x01 /* 8086 mode, not MCS-80 */

#define OCW2_EOI     0x20 /* non-specific end of interrupt */
#define OCW3_READ_ISR 0x0B /* the next command-port read returns the in-service register */

#define PIC_MASK_ALL     0xFF
#define PIC_CASCADE_IRQ  2    /* the slave's line on the master */

/* The mask currently programmed, bit n = IRQ n (master low byte, slave high byte). */
static unsigned pic_masked = 0xFFFF;

static void pic_write(unsigned port, unsigned value)
{
    outb(port, value);
    io_wait(); /* the 8259 needs time between initialisation words */
}

void pic_init(void)
{
    pic_write(PIC1_COMMAND, ICW1_INIT | ICW1_ICW4);
    pic_write(PIC2_COMMAND, ICW1_INIT | ICW1_ICW4);
    pic_write(PIC1_DATA, TRAP_IRQ_BASE);       /* ICW2: master's first vector */
    pic_write(PIC2_DATA, TRAP_IRQ_BASE + 8);   /* ICW2: slave's first vector */
    pic_write(PIC1_DATA, ICW3_SLAVE_AT_IRQ2);
    pic_write(PIC2_DATA, ICW3_SLAVE_ID);
    pic_write(PIC1_DATA, ICW4_8086);
    pic_write(PIC2_DATA, ICW4_8086);
    pic_write(PIC1_DATA, PIC_MASK_ALL);        /* OCW1: mask every line */
    pic_write(PIC2_DATA, PIC_MASK_ALL);
    pic_masked = 0xFFFF;
}

static void pic_write_masks(void)
{
    outb(PIC1_DATA, pic_masked & 0xFF);
    outb(PIC2_DATA, pic_masked >> 8);
}

void pic_unmask(unsigned irq)
{
    pic_masked &= ~(1u << irq);
    if (irq >= 8)
        pic_masked &= ~(1u << PIC_CASCADE_IRQ);
    pic_write_masks();
}

/* The cascade line stays open once opened: another slave IRQ may still need it. */
void pic_mask(unsigned irq)
{
    pic_masked |= 1u << irq;
    pic_write_masks();
}

static unsigned pic_in_service(unsigned command_port)
{
    outb(command_port, OCW3_READ_ISR);
    return inb(command_port);
}

/* IRQ 7 and 15 are what an 8259 raises when a request vanished before it was acknowledged:
 * then the line's in-service bit is clear. */
int pic_is_spurious(unsigned irq)
{
    if (irq == 7)
        return !(pic_in_service(PIC1_COMMAND) & 0x80);
    if (irq == 15)
        return !(pic_in_service(PIC2_COMMAND) & 0x80);
    return 0;
}

/* A slave IRQ came through the master's cascade line: both chips need the EOI. */
void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(PIC2_COMMAND, OCW2_EOI);
    outb(PIC1_COMMAND, OCW2_EOI);
}

/* A spurious IRQ gets no end-of-interrupt from the chip that made it up, but a spurious 15
 * still occupied the master's cascade line 2, which does need one. */
int pic_acknowledge(unsigned irq)
{
    int spurious = pic_is_spurious(irq);

    if (irq >= 8 && !spurious)
        outb(PIC2_COMMAND, OCW2_EOI);
    if (irq != 7 || !spurious)
        outb(PIC1_COMMAND, OCW2_EOI);
    return spurious;
}
