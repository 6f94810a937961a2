/* readline.h - one line of input from the serial console, edited as a terminal sends it (the
 * rules for each byte are at the top of readline.c). */
#ifndef KERNEL_READLINE_H
#define KERNEL_READLINE_H

#include <stddef.h>

#define READLINE_TOO_LONG  (-1) /* more than size - 1 characters: the whole line is rejected */
#define READLINE_CANCELLED (-2) /* Ctrl-C */
#define READLINE_CONTROL   (-3) /* a NUL or another control byte: the whole line is rejected */

/* Reads one line into buf (NUL-terminated, without its end), echoing what it keeps. Returns
 * the length, or one of the negative codes above; with READLINE_CONTROL, *control is the
 * line's first control byte. */
int readline(char *buf, size_t size, int *control);

#endif
