/* kprintf.c - a small printf for the serial console. 64-bit conversions divide with libgcc's
 * __udivdi3/__umoddi3, which is why the kernel links -lgcc (or clang's builtins). */
#include <stddef.h>
#include <stdint.h>
#include "kprintf.h"
#include "uart.h"

enum length { LEN_INT, LEN_LONG, LEN_LLONG, LEN_SIZE };

/* One parsed conversion: %[flags][width][length]conv */
struct spec {
    int  width;
    int  left;      /* '-': pad on the right */
    char pad;       /* ' ' or '0' */
    enum length length;
};

static void put_repeat(char c, int count)
{
    while (count-- > 0)
        uart_putc(c);
}

static size_t text_length(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

static void put_text(const char *s, const struct spec *sp)
{
    int len = (int)text_length(s);

    if (!sp->left)
        put_repeat(' ', sp->width - len);
    uart_write(s, (size_t)len);
    if (sp->left)
        put_repeat(' ', sp->width - len);
}

/* Digits of value in base, least significant first; returns how many. */
static int to_digits(unsigned long long value, unsigned base, char *buf)
{
    int n = 0;

    do {
        buf[n++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    return n;
}

static void put_number(unsigned long long value, unsigned base, int negative, const struct spec *sp)
{
    char digits[24];
    int n = to_digits(value, base, digits);
    int fill = sp->width - n - negative;

    if (!sp->left && sp->pad == ' ')
        put_repeat(' ', fill);
    if (negative)
        uart_putc('-');
    if (!sp->left && sp->pad == '0')
        put_repeat('0', fill);
    while (n > 0)
        uart_putc(digits[--n]);
    if (sp->left)
        put_repeat(' ', fill);
}

static unsigned long long arg_unsigned(va_list *ap, enum length length)
{
    switch (length) {
    case LEN_LONG:  return va_arg(*ap, unsigned long);
    case LEN_LLONG: return va_arg(*ap, unsigned long long);
    case LEN_SIZE:  return va_arg(*ap, size_t);
    default:        return va_arg(*ap, unsigned int);
    }
}

static long long arg_signed(va_list *ap, enum length length)
{
    switch (length) {
    case LEN_LONG:  return va_arg(*ap, long);
    case LEN_LLONG: return va_arg(*ap, long long);
    case LEN_SIZE:  return (long long)va_arg(*ap, size_t); /* %zd: ssize_t has the same size */
    default:        return va_arg(*ap, int);
    }
}

static void put_signed(long long value, const struct spec *sp)
{
    /* negate in unsigned arithmetic so LLONG_MIN does not overflow */
    unsigned long long magnitude = value < 0 ? 0ull - (unsigned long long)value : (unsigned long long)value;

    put_number(magnitude, 10, value < 0, sp);
}

static void put_pointer(const void *ptr)
{
    struct spec sp = { .width = 8, .left = 0, .pad = '0', .length = LEN_INT };

    uart_write("0x", 2);
    put_number((uintptr_t)ptr, 16, 0, &sp);
}

/* Parses flags, width and length after the '%'; returns where the conversion letter is. */
static const char *parse_spec(const char *fmt, struct spec *sp)
{
    sp->width = 0;
    sp->left = 0;
    sp->pad = ' ';
    sp->length = LEN_INT;
    for (;; fmt++) {
        if (*fmt == '-')
            sp->left = 1;
        else if (*fmt == '0')
            sp->pad = '0';
        else
            break;
    }
    while (*fmt >= '0' && *fmt <= '9')
        sp->width = sp->width * 10 + (*fmt++ - '0');
    if (*fmt == 'z') {
        sp->length = LEN_SIZE;
        fmt++;
    } else if (*fmt == 'l') {
        sp->length = fmt[1] == 'l' ? LEN_LLONG : LEN_LONG;
        fmt += sp->length == LEN_LLONG ? 2 : 1;
    }
    return fmt;
}

static void put_conversion(char conv, const struct spec *sp, va_list *ap)
{
    const char *s;
    char c;

    switch (conv) {
    case 'd': case 'i': put_signed(arg_signed(ap, sp->length), sp); break;
    case 'u': put_number(arg_unsigned(ap, sp->length), 10, 0, sp); break;
    case 'x': put_number(arg_unsigned(ap, sp->length), 16, 0, sp); break;
    case 'p': put_pointer(va_arg(*ap, void *)); break;
    case 'c': c = (char)va_arg(*ap, int); uart_putc(c); break;
    case 's': s = va_arg(*ap, const char *); put_text(s ? s : "(null)", sp); break;
    case '%': uart_putc('%'); break;
    default:  uart_putc('%'); uart_putc(conv); break; /* show what we did not understand */
    }
}

/* The whole call holds the console lock (uart.c), so a line from one CPU is never cut by
 * another's. */
void kvprintf(const char *fmt, va_list args)
{
    va_list ap;
    struct spec sp;
    uint32_t console = uart_lock();

    va_copy(ap, args); /* a local copy, so helpers can take its address */
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            uart_putc(*fmt);
            continue;
        }
        fmt = parse_spec(fmt + 1, &sp);
        if (!*fmt)
            break;
        put_conversion(*fmt, &sp, &ap);
    }
    va_end(ap);
    uart_unlock(console);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void kprint_size(uint64_t n, unsigned least, int padded)
{
    static const char *const units[] = { "GiB", "MiB", "KiB" };
    for (unsigned i = 0; i < 3; i++) {
        unsigned shift = 30 - 10 * i;
        if (n >= (uint64_t)least << shift) {
            kprintf(padded ? "%6llu %s" : "%llu %s", (unsigned long long)(n >> shift), units[i]);
            return;
        }
    }
    kprintf(padded ? "%6llu B  " : "%llu bytes", (unsigned long long)n);
}
