/* kprintf.h - formatted output on the serial console.
 * Conversions: %s %c %d %i %u %x %p %%, length modifiers l ll z, a field width, and the
 * flags '0' (zero-pad) and '-' (left-justify). Nothing else: it is a kernel, not libc. */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>
#include <stdint.h>

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list args);
/* A byte count for people, in the largest unit (GiB, MiB, KiB) of which there are at least
 * `least` whole ones (rounded down), else in bytes; `padded` right-aligns it for tables. */
void kprint_size(uint64_t n, unsigned least, int padded);

#endif
