/* readline.c - a line editor for the serial console. A terminal sends CR for Enter and DEL or
 * BS for backspace; a pipe sends LF; both end a line, and the LF of a CR LF pair is dropped.
 * The buffer is bounded: characters past it are not stored, and the line is rejected as a whole
 * when it ends, so a long paste can never overflow anything. Escape sequences (arrow keys) and
 * other control characters are swallowed. Ctrl-C cancels the line, Ctrl-U erases it. */
#include "readline.h"
#include "uart.h"

#define CH_CTRL_C 0x03
#define CH_BS     0x08
#define CH_TAB    0x09
#define CH_LF     0x0A
#define CH_CR     0x0D
#define CH_CTRL_U 0x15
#define CH_ESC    0x1B
#define CH_DEL    0x7F

/* Where we are in an escape sequence: ESC, then '[' or 'O', then bytes up to a final letter. */
enum escape { ESC_NONE, ESC_START, ESC_BODY };

struct line {
    char *buf;
    size_t size, len;
    int overflow;           /* a character did not fit: the line will be rejected */
    enum escape escape;
};

static int after_cr; /* the last line ended with CR: a LF right after it is that line's end too */

static void echo_erase(void)
{
    uart_write("\b \b", 3);
}

static void line_erase_char(struct line *l)
{
    if (l->len == 0)
        return;
    l->len--;
    echo_erase();
}

static void line_erase_all(struct line *l)
{
    while (l->len > 0)
        line_erase_char(l);
}

static void line_add(struct line *l, char c)
{
    if (l->len + 1 >= l->size) {
        l->overflow = 1;
        return;
    }
    l->buf[l->len++] = c;
    uart_putc(c);
}

/* Returns 1 while c is part of an escape sequence (and so is swallowed). */
static int in_escape(struct line *l, char c)
{
    switch (l->escape) {
    case ESC_START:
        l->escape = (c == '[' || c == 'O') ? ESC_BODY : ESC_NONE;
        return 1;
    case ESC_BODY:
        if (c >= 0x40 && c <= 0x7E)
            l->escape = ESC_NONE; /* the final byte */
        return 1;
    default:
        return 0;
    }
}

/* Handles one byte; returns 1 when the line has ended. */
static int line_feed(struct line *l, char c)
{
    if (in_escape(l, c))
        return 0;
    switch (c) {
    case CH_CR:
    case CH_LF:
        return 1;
    case CH_BS:
    case CH_DEL:
        line_erase_char(l);
        return 0;
    case CH_CTRL_U:
        line_erase_all(l);
        return 0;
    case CH_ESC:
        l->escape = ESC_START;
        return 0;
    case CH_TAB:
        line_add(l, ' ');
        return 0;
    default:
        if ((unsigned char)c >= 0x20)
            line_add(l, c);
        return 0; /* other control characters mean nothing here */
    }
}

int readline(char *buf, size_t size)
{
    struct line l = { buf, size, 0, 0, ESC_NONE };
    int c;

    for (;;) {
        c = uart_wait_byte();
        if (c == CH_LF && after_cr) {
            after_cr = 0;
            continue;
        }
        after_cr = (c == CH_CR);
        if (c == CH_CTRL_C) {
            uart_write("^C\n", 3);
            return READLINE_CANCELLED;
        }
        if (line_feed(&l, (char)c))
            break;
    }
    uart_putc('\n');
    buf[l.len] = '\0';
    return l.overflow ? READLINE_TOO_LONG : (int)l.len;
}
