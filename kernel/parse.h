/* parse.h - the shell's words: splitting a line, and reading numbers, sizes and block ids. */
#ifndef KERNEL_PARSE_H
#define KERNEL_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Why a number was refused; parse_strerror gives the text. */
enum parse_error { PARSE_OK = 0, PARSE_EMPTY, PARSE_MALFORMED, PARSE_TOO_LARGE };

/* Splits line in place at spaces; at most max words. Returns the count, or -1 if there were
 * more than max. */
int parse_words(char *line, char **words, int max);

/* 123, 0x7b; for sizes also a K, M or G suffix (binary: 4K = 4096). The result must fit a
 * size_t (a 32-bit one in this kernel). */
enum parse_error parse_number(const char *s, size_t *out);
enum parse_error parse_size(const char *s, size_t *out);
/* "#3" or "3". */
enum parse_error parse_id(const char *s, unsigned *out);

const char *parse_strerror(enum parse_error err);
int ascii_lower(int c);

#endif
