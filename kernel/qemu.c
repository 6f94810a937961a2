/* qemu.c - the ways a run ends. Under test, QEMU's isa-debug-exit device (port 0xf4, as
 * configured on the QEMU command line) turns a port write into QEMU's exit status. On real
 * hardware or without the device the write does nothing, so every exit falls through to a halt. */
#include "io.h"
#include "qemu.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4

void halt_forever(void)
{
    for (;;) {
        cpu_cli();
        cpu_hlt();
    }
}

void qemu_exit(unsigned code)
{
    outb(QEMU_DEBUG_EXIT_PORT, code);
    halt_forever();
}

/* hlt with interrupts on: the CPU sleeps instead of spinning, and an IRQ still gets reported. */
void idle_forever(void)
{
    for (;;) {
        cpu_sti();
        cpu_hlt();
    }
}
