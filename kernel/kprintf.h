/* kprintf.h - formatted output on the serial console.
 * Conversions: %s %c %d %i %u %x %p %%, length modifiers l ll z, a field width, and the
 * flags '0' (zero-pad) and '-' (left-justify). Nothing else: it is a kernel, not libc. */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list args);

#endif
