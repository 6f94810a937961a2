/* parse.c - numbers as a person types them: decimal, 0x hex, and binary K/M/G suffixes on
 * sizes. Every digit is checked against overflow, so "5000M" on a 32-bit kernel is "too large",
 * never a wrapped small number that would then be allocated. */
#include "parse.h"

#define SIZE_LIMIT ((uint64_t)SIZE_MAX)

int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int is_space(char c)
{
    return c == ' ';
}

int parse_words(char *line, char **words, int max)
{
    int n = 0;

    for (char *s = line; *s;) {
        while (is_space(*s))
            *s++ = '\0';
        if (!*s)
            break;
        if (n == max)
            return -1;
        words[n++] = s;
        while (*s && !is_space(*s))
            s++;
    }
    return n;
}

/* The value of digit c in base, or -1. */
static int digit_value(char c, unsigned base)
{
    int v = -1;

    c = (char)ascii_lower(c);
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
    return v >= 0 && (unsigned)v < base ? v : -1;
}

/* Reads the digits at *sp (0x for hex) into *value, stopping at the first non-digit. */
static enum parse_error read_digits(const char **sp, uint64_t *value)
{
    const char *s = *sp;
    unsigned base = 10;
    int ndigits = 0, d;

    if (s[0] == '0' && ascii_lower(s[1]) == 'x') {
        base = 16;
        s += 2;
    }
    *value = 0;
    for (; (d = digit_value(*s, base)) >= 0; s++, ndigits++) {
        if (*value > (SIZE_LIMIT - (uint64_t)d) / base)
            return PARSE_TOO_LARGE;
        *value = *value * base + (uint64_t)d;
    }
    *sp = s;
    return ndigits ? PARSE_OK : PARSE_MALFORMED;
}

static unsigned suffix_shift(char c)
{
    switch (ascii_lower(c)) {
    case 'k': return 10;
    case 'm': return 20;
    case 'g': return 30;
    default:  return 0;
    }
}

static enum parse_error parse_scaled(const char *s, size_t *out, int allow_suffix)
{
    uint64_t value;
    unsigned shift = 0;
    enum parse_error err;

    if (!s || !*s)
        return PARSE_EMPTY;
    if ((err = read_digits(&s, &value)) != PARSE_OK)
        return err;
    if (allow_suffix && *s && (shift = suffix_shift(*s)) != 0)
        s++;
    if (*s)
        return PARSE_MALFORMED;
    if (value > (SIZE_LIMIT >> shift))
        return PARSE_TOO_LARGE;
    *out = (size_t)(value << shift);
    return PARSE_OK;
}

enum parse_error parse_number(const char *s, size_t *out)
{
    return parse_scaled(s, out, 0);
}

enum parse_error parse_size(const char *s, size_t *out)
{
    return parse_scaled(s, out, 1);
}

enum parse_error parse_id(const char *s, unsigned *out)
{
    size_t value;
    enum parse_error err;

    if (s && *s == '#')
        s++;
    if (s && s[0] == '0' && ascii_lower(s[1]) == 'x')
        return PARSE_MALFORMED; /* an id is decimal; 0x... is an address */
    if ((err = parse_number(s, &value)) != PARSE_OK)
        return err;
    *out = (unsigned)value; /* size_t is 32 bits here, as unsigned is */
    return PARSE_OK;
}

const char *parse_strerror(enum parse_error err)
{
    switch (err) {
    case PARSE_OK:        return "ok";
    case PARSE_EMPTY:     return "missing number";
    case PARSE_MALFORMED: return "not a number";
    case PARSE_TOO_LARGE: return "too large";
    default:              return "bad number";
    }
}
