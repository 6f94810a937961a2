/* qemu.h - ending the run: QEMU's isa-debug-exit device, and halting for good. */
#ifndef KERNEL_QEMU_H
#define KERNEL_QEMU_H

/* QEMU exits with status (code << 1) | 1: 33 for success, 35 for failure. */
#define QEMU_EXIT_SUCCESS 0x10
#define QEMU_EXIT_FAILURE 0x11

void qemu_exit(unsigned code) __attribute__((noreturn)); /* halts if there is no such device */
void halt_forever(void) __attribute__((noreturn));      /* interrupts off, hlt */
void idle_forever(void) __attribute__((noreturn));      /* interrupts on, hlt: wait for the user */

#endif
