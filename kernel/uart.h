/* uart.h - the 16550 serial port at COM1, the kernel's only console. */
#ifndef KERNEL_UART_H
#define KERNEL_UART_H

#include <stddef.h>

void uart_init(void);
void uart_putc(char c);                      /* '\n' goes out as "\r\n" */
void uart_write(const char *text, size_t len);

#endif
