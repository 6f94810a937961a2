/* pit.c - the 8254 timer. Channel 0 counts down from a divisor of its 1.193182 MHz input and
 * raises IRQ 0 at every wrap in mode 2 (rate generator). Only the IRQ self-test uses it, to
 * run allocations from interrupt context; the rest of the time IRQ 0 stays masked.
 * Channel 2 (the speaker's, gated through port 0x61) gives pit_delay_us a busy-wait that needs
 * no interrupt and leaves channel 0 alone: smp.c times the AP start-up with it. */
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

#define PIT_CHANNEL2        0x42
#define PIT_SELECT_CHANNEL2 0x80
#define PIT_MODE_TERMINAL   0x00 /* mode 0: OUT goes high when the count reaches zero */
#define SPEAKER_PORT        0x61
#define SPEAKER_GATE2       0x01 /* channel 2 counts only while its gate is high */
#define SPEAKER_DATA        0x02 /* speaker on: keep it off */
#define SPEAKER_OUT2        0x20 /* channel 2's OUT, read back */

#define PIT_DELAY_CHUNK_US  50000    /* 59659 counts: within the 16-bit counter */
#define PIT_POLL_LIMIT      50000000 /* reads of port 0x61: a bound if channel 2 never fires */

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

/* Busy-waits at least `us` microseconds (at 1.193 counts per us; 1193/1000 keeps the product
 * within 32 bits). Not reentrant: one CPU at a time (the BSP) may use channel 2. */
void pit_delay_us(unsigned us)
{
    while (us > 0) {
        unsigned chunk = us > PIT_DELAY_CHUNK_US ? PIT_DELAY_CHUNK_US : us;
        unsigned count = chunk * 1193u / 1000u;
        uint8_t speaker = inb(SPEAKER_PORT);

        if (count == 0)
            count = 1;
        outb(SPEAKER_PORT, (uint8_t)((speaker & ~SPEAKER_DATA) | SPEAKER_GATE2));
        outb(PIT_COMMAND, PIT_SELECT_CHANNEL2 | PIT_ACCESS_LOHI | PIT_MODE_TERMINAL | PIT_BINARY);
        outb(PIT_CHANNEL2, count & 0xFF);
        outb(PIT_CHANNEL2, (count >> 8) & 0xFF);
        for (unsigned polls = 0; polls < PIT_POLL_LIMIT; polls++)
            if (inb(SPEAKER_PORT) & SPEAKER_OUT2)
                break;
        us -= chunk;
    }
}
