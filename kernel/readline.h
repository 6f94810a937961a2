/* readline.h - one line of input from the serial console, edited as a terminal sends it. */
#ifndef KERNEL_READLINE_H
#define KERNEL_READLINE_H

#include <stddef.h>

#define READLINE_TOO_LONG  (-1) /* more than size - 1 characters: the whole line is rejected */
#define READLINE_CANCELLED (-2) /* Ctrl-C */

/* Reads one line into buf (NUL-terminated, without its end), echoing what it keeps. Returns
 * the length, or one of the negative codes above. */
int readline(char *buf, size_t size);

#endif
