/* uart.h - the 16550 serial port at COM1, the kernel's only console. */
#ifndef KERNEL_UART_H
#define KERNEL_UART_H

#include <stddef.h>

void uart_init(void);
void uart_putc(char c);                      /* '\n' goes out as "\r\n" */
void uart_write(const char *text, size_t len);
int  uart_try_getc(void);                    /* a received byte, or -1 if none is waiting */
int  uart_wait_byte(void);                   /* sleeps (hlt) until a byte arrives; returns it */

#endif
