/* uart.h - the 16550 serial port at COM1, the kernel's only console. */
#ifndef KERNEL_UART_H
#define KERNEL_UART_H

#include <stddef.h>
#include <stdint.h>

void uart_init(void);
void uart_putc(char c);                      /* '\n' goes out as "\r\n" */
void uart_write(const char *text, size_t len);
int  uart_try_getc(void);                    /* a received byte, or -1 if none is waiting */
int  uart_wait_byte(void);                   /* sleeps (hlt) until a byte arrives; returns it */
/* The console lock, for output that must reach the port in one piece (kvprintf): it nests on
 * one CPU and masks interrupts; uart_unlock gets back what uart_lock returned. */
uint32_t uart_lock(void);
void     uart_unlock(uint32_t flags);

#endif
