/* readline.c - a line editor for the serial console. What each byte does:
 *
 * Ending a line. A terminal sends CR for Enter, a pipe sends LF: both end the line, and the LF of
 * a CR LF pair is dropped. CR and LF end the line in every state, inside an unfinished escape
 * sequence too, so no sequence can eat the Enter key.
 *
 * Editing. BS and DEL erase the last character, Ctrl-U the whole line; Ctrl-C cancels the line;
 * TAB is a space. There is no cursor: a line is edited at its end only.
 *
 * Escape sequences, which terminals send for arrow, function and editing keys, are consumed
 * whole and ignored (an arrow key does nothing):
 *   CSI  ESC [, then any parameter (0x30-0x3F) and intermediate (0x20-0x2F) bytes, then one
 *        final byte 0x40-0x7E: ESC [ A, ESC [ 12 ; 34 H, ESC [ 2 SP q;
 *   SS3  ESC O, then any parameter bytes, then one final byte: ESC O A, ESC O P.
 * ESC followed by any other byte is a lone ESC (the Escape key; Alt-x sends ESC x): only the ESC
 * is dropped, and the byte is handled as if no ESC had come. In the same way, a byte that cannot
 * continue a sequence (a control byte, ESC, DEL, a byte above 0x7E) ends the unfinished sequence
 * and is then handled as usual: a sequence never eats a backspace, the next ESC or Enter. What
 * cannot be told apart: an unfinished CSI followed by text ends at the text's first letter, which
 * is a valid final byte (ESC [ then "alloc 1" leaves "lloc 1").
 *
 * Control bytes. NUL and the other C0 control characters with no meaning above (Ctrl-A, Ctrl-D,
 * Ctrl-L, ...) are kept in the line and echoed in caret notation (^@, ^D), and the line is
 * rejected as a whole when it ends (READLINE_CONTROL). Dropping them silently, or cutting the
 * line at an embedded NUL, would run a command other than the one sent. Backspace and Ctrl-U
 * take such a byte back out like any other. Bytes 0x80-0xFF are kept as text (UTF-8 from a
 * terminal); no command takes them, so they get a command's own error.
 *
 * Length. The buffer is bounded: characters past it are not stored, and the line is rejected as
 * a whole when it ends (READLINE_TOO_LONG, which is reported before READLINE_CONTROL), so a long
 * paste can never overflow anything. */
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

/* Where we are in an escape sequence: just after ESC, or inside a CSI or SS3 sequence. */
enum escape { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

struct line {
    char *buf;
    size_t size, len;
    int overflow;           /* a character did not fit: the line will be rejected */
    enum escape escape;
};

static int after_cr; /* the last line ended with CR: a LF right after it is that line's end too */

/* ---- Bytes -------------------------------------------------------------------------------- */

static int is_control(unsigned char c)
{
    return c < 0x20;
}

static int is_parameter(unsigned char c)
{
    return c >= 0x30 && c <= 0x3F;
}

static int is_intermediate(unsigned char c)
{
    return c >= 0x20 && c <= 0x2F;
}

static int is_final(unsigned char c)
{
    return c >= 0x40 && c <= 0x7E;
}

/* ---- The line ----------------------------------------------------------------------------- */

/* A control byte shows as two columns (^@ for NUL, ^D for Ctrl-D), so that it can be seen, and
 * erased, like the rest of the line. */
static void echo_char(unsigned char c)
{
    if (is_control(c)) {
        uart_putc('^');
        c += 0x40;
    }
    uart_putc((char)c);
}

static void line_erase_char(struct line *l)
{
    if (l->len == 0)
        return;
    l->len--;
    uart_write("\b \b", 3);
    if (is_control((unsigned char)l->buf[l->len]))
        uart_write("\b \b", 3);
}

static void line_erase_all(struct line *l)
{
    while (l->len > 0)
        line_erase_char(l);
}

static void line_add(struct line *l, unsigned char c)
{
    if (l->len + 1 >= l->size) {
        l->overflow = 1;
        return;
    }
    l->buf[l->len++] = (char)c;
    echo_char(c);
}

/* Feeds c to the escape sequence in progress. Returns 1 when c belongs to the sequence (and so
 * is swallowed); 0 when it is to be handled as usual: there was no sequence, or c cannot
 * continue it, which ends the sequence without c. */
static int in_escape(struct line *l, unsigned char c)
{
    enum escape state = l->escape;

    l->escape = ESC_NONE;
    switch (state) {
    case ESC_START:
        if (c == '[')
            l->escape = ESC_CSI;
        else if (c == 'O')
            l->escape = ESC_SS3;
        return l->escape != ESC_NONE; /* anything else: a lone ESC, dropped on its own */
    case ESC_CSI:
        if (is_parameter(c) || is_intermediate(c)) {
            l->escape = ESC_CSI;
            return 1;
        }
        return is_final(c);
    case ESC_SS3:
        if (is_parameter(c)) {
            l->escape = ESC_SS3;
            return 1;
        }
        return is_final(c);
    default:
        return 0;
    }
}

/* Handles one byte; returns 1 when the line has ended. */
static int line_feed(struct line *l, unsigned char c)
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
        line_add(l, c); /* a control byte too: it makes the line an error when it ends */
        return 0;
    }
}

/* The line's length, or why it is rejected. */
static int line_verdict(const struct line *l, int *control)
{
    if (l->overflow)
        return READLINE_TOO_LONG;
    for (size_t i = 0; i < l->len; i++) {
        if (is_control((unsigned char)l->buf[i])) {
            *control = (unsigned char)l->buf[i];
            return READLINE_CONTROL;
        }
    }
    return (int)l->len;
}

int readline(char *buf, size_t size, int *control)
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
        if (line_feed(&l, (unsigned char)c))
            break;
    }
    uart_putc('\n');
    buf[l.len] = '\0';
    return line_verdict(&l, control);
}
