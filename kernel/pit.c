/* pit.c - the 8254 timer. Channel 0 counts down from a divisor of its 1.193182 MHz input and
 * raises IRQ 0 at every wrap in mode 2 (rate generator). Only the IRQ self-test uses it, to
 * run allocations from interrupt context; the rest of the time IRQ 0 stays masked. */
#include "io.h"
#include "pic.h"
#include "pit.h"

#define PIT_CHANNEL0 0x40
#define PIT_COMMAND  0x43

#define PIT_INPUT_HZ 1193182u

#define PIT_SELECT_CHANNEL0 0x00
#define PIT_ACCESS_LOHI     0x30 /* the divisor follows as low byte, then high byte */
#define PIT_MODE_RATE       0x04 /* mode 2: one pulse per period */
#define PIT_BINARY          0x00

#define PIT_IRQ 0

static unsigned pit_divisor(unsigned hz)
{
    unsigned d = hz ? PIT_INPUT_HZ / hz : 0;

    if (d < 2)
        d = 2;          /* 1 is not allowed in mode 2 */
    if (d > 0xFFFF)
        d = 0;          /* 0 stands for 65536, the slowest rate */
    return d;
}

void pit_start(unsigned hz, trap_irq_fn tick)
{
    unsigned divisor = pit_divisor(hz);

    outb(PIT_COMMAND, PIT_SELECT_CHANNEL0 | PIT_ACCESS_LOHI | PIT_MODE_RATE | PIT_BINARY);
    outb(PIT_CHANNEL0, divisor & 0xFF);
    outb(PIT_CHANNEL0, (divisor >> 8) & 0xFF);
    trap_set_irq_handler(PIT_IRQ, tick);
    pic_unmask(PIT_IRQ);
}

void pit_stop(void)
{
    pic_mask(PIT_IRQ);
    trap_set_irq_handler(PIT_IRQ, 0);
}
