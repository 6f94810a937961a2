/* shell.h - the interactive heap shell on the serial console (`make run` without `exit`). */
#ifndef KERNEL_SHELL_H
#define KERNEL_SHELL_H

/* Prompts "kheap> " and runs commands until `quit`, which leaves QEMU with success. */
void shell_run(void) __attribute__((noreturn));

#endif
