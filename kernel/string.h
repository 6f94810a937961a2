/* string.h - the kernel's own <string.h>. -Ikernel puts it ahead of the system header for kernel
 * builds, so lib/ and tests/cases/ get these declarations without a libc. Only what the kernel
 * defines in kernel/string.c is declared here. */
#ifndef KERNEL_STRING_H
#define KERNEL_STRING_H

#include <stddef.h>

void  *memcpy(void *restrict dst, const void *restrict src, size_t n);
void  *memmove(void *dst, const void *src, size_t n);
void  *memset(void *dst, int c, size_t n);
int    memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int    strcmp(const char *a, const char *b);
int    strncmp(const char *a, const char *b, size_t n);

#endif
