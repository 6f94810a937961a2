/* uart.c - the 16550 UART at COM1 (0x3F8): 115200 baud, 8N1, FIFOs on. Output is polled, so
 * it works from any context, panics and faults included. Input is read by polling too; the
 * receive interrupt (IRQ 4) only exists to wake a CPU that waits in hlt (uart_wait_byte), so
 * an idle shell sleeps instead of spinning on the status register.
 *
 * With several CPUs (smp.c) the port is shared: every output call holds the console lock, and
 * kvprintf (kprintf.c) holds it for a whole formatted call, so two CPUs' lines never mix. The
 * lock is a ticket spinlock with interrupts masked, and it nests on the CPU that holds it:
 * kvprintf calls uart_putc, and a fault report may come while its own CPU is printing. */
#include "uart.h"
#include "io.h"
#include "pic.h"
#include "smp.h"
#include "spinlock.h"
#include "trap.h"

#define COM1 0x3F8

/* Register offsets from the base port. With LCR_DLAB set, +0/+1 are the divisor latch. */
#define UART_RBR 0 /* receive buffer register (read) */
#define UART_THR 0 /* transmit holding register (write) */
#define UART_DLL 0 /* divisor latch, low byte (DLAB=1) */
#define UART_IER 1 /* interrupt enable register */
#define UART_DLM 1 /* divisor latch, high byte (DLAB=1) */
#define UART_FCR 2 /* FIFO control register (write) */
#define UART_LCR 3 /* line control register */
#define UART_MCR 4 /* modem control register */
#define UART_LSR 5 /* line status register */

#define LCR_8N1  0x03 /* 8 data bits, no parity, 1 stop bit */
#define LCR_DLAB 0x80 /* divisor latch access */

#define FCR_ENABLE    0x01 /* FIFOs on */
#define FCR_CLEAR_RX  0x02
#define FCR_CLEAR_TX  0x04
#define FCR_TRIGGER1  0x00 /* receive interrupt as soon as 1 byte is in */

#define IER_RX_DATA 0x01 /* interrupt when received data is available */

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT2 0x08 /* gates the UART's IRQ line on PC hardware */

#define LSR_DATA_READY 0x01 /* a received byte waits in RBR (or the FIFO) */
#define LSR_TX_EMPTY 0x20   /* transmit holding register can take a byte */

#define UART_IRQ 4 /* COM1's line on the master PIC */

#define UART_CLOCK 115200 /* the divisor is UART_CLOCK / baud */
#define UART_BAUD  115200

/* How many status polls before we give up on one byte: a missing or wedged UART must not hang a
 * panic. At 115200 baud a byte takes ~87 us, far below this many port reads. */
#define UART_SPIN_LIMIT 100000

void uart_init(void)
{
    unsigned divisor = UART_CLOCK / UART_BAUD;

    if (divisor == 0)
        divisor = 1;
    outb(COM1 + UART_IER, 0x00);                      /* no interrupts until uart_wait_byte */
    outb(COM1 + UART_LCR, LCR_DLAB);                  /* expose the divisor latch */
    outb(COM1 + UART_DLL, divisor & 0xFF);
    outb(COM1 + UART_DLM, (divisor >> 8) & 0xFF);
    outb(COM1 + UART_LCR, LCR_8N1);                   /* 8N1, and DLAB off again */
    outb(COM1 + UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX | FCR_TRIGGER1);
    outb(COM1 + UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
}

static struct spinlock console_lock;
static int console_owner = -1;  /* the CPU that holds console_lock, or -1 */
static unsigned console_depth;  /* how many times it took it */

uint32_t uart_lock(void)
{
    uint32_t flags = read_eflags();
    int me = (int)smp_cpu_index();

    cpu_cli();
    /* only this CPU ever stores its own index here, so seeing it means we hold the lock */
    if (__atomic_load_n(&console_owner, __ATOMIC_RELAXED) != me) {
        spin_acquire(&console_lock);
        __atomic_store_n(&console_owner, me, __ATOMIC_RELAXED);
    }
    console_depth++;
    return flags;
}

void uart_unlock(uint32_t flags)
{
    if (--console_depth == 0) {
        __atomic_store_n(&console_owner, -1, __ATOMIC_RELAXED);
        spin_release(&console_lock);
    }
    if (flags & EFLAGS_IF)
        cpu_sti();
}

static void uart_put_raw(char c)
{
    for (int spins = 0; spins < UART_SPIN_LIMIT; spins++)
        if (inb(COM1 + UART_LSR) & LSR_TX_EMPTY)
            break;
    outb(COM1 + UART_THR, (unsigned char)c);
}

static void put_char(char c)
{
    if (c == '\n')
        uart_put_raw('\r'); /* terminals want CR LF */
    uart_put_raw(c);
}

void uart_putc(char c)
{
    uint32_t flags = uart_lock();

    put_char(c);
    uart_unlock(flags);
}

void uart_write(const char *text, size_t len)
{
    uint32_t flags = uart_lock();

    for (size_t i = 0; i < len; i++)
        put_char(text[i]);
    uart_unlock(flags);
}

int uart_try_getc(void)
{
    if (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
        return -1;
    return inb(COM1 + UART_RBR);
}

/* Nothing to do: the interrupt only ends a hlt, and the byte stays for uart_try_getc. The
 * PIC's lines are edge-triggered, so leaving it unread does not raise the IRQ again. */
static void uart_rx_irq(void)
{
}

static void uart_rx_irq_enable(void)
{
    static int enabled;

    if (enabled)
        return;
    enabled = 1;
    trap_set_irq_handler(UART_IRQ, uart_rx_irq);
    outb(COM1 + UART_IER, IER_RX_DATA);
    pic_unmask(UART_IRQ);
}

/* cli, test, then sti;hlt: sti takes effect only after the next instruction, so an IRQ that
 * arrives after the test still ends the hlt instead of being lost before it. Returns with
 * interrupts in the state the caller had them. */
int uart_wait_byte(void)
{
    uint32_t flags = read_eflags();
    int c;

    uart_rx_irq_enable();
    for (;;) {
        cpu_cli();
        c = uart_try_getc();
        if (c >= 0)
            break;
        __asm__ volatile("sti; hlt" : : : "memory");
    }
    if (flags & EFLAGS_IF)
        cpu_sti();
    return c;
}
