/* heap_error.c - misuse reports: the names of enum mem_error, the error handler shared by the
 * heap_* and mem_* layers, and its default, which prints one line and stops; and the text
 * output that the dump and the checker share with it (heap_error.h). */
#include "heap_error.h"
#include "seam.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n);

/* ---- Text without libc ---------------------------------------------------------------------- */

void out_str(struct out *o, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    if (o->write)
        o->write(o->ctx, s, n);
}

void out_num(struct out *o, uintmax_t v, unsigned base, int width)
{
    char buf[32];
    int i = sizeof buf;
    buf[--i] = 0;
    do {
        buf[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (i > 0 && (int)sizeof buf - 1 - i < width)
        buf[--i] = base == 16 ? '0' : ' ';
    out_str(o, buf + i);
}

/* ---- Error texts and the handler ------------------------------------------------------------ */

static const char *const error_names[MEM_ERR_COUNT] = {
    [MEM_OK]                 = "no error",
    [MEM_ERR_NOT_IN_HEAP]    = "pointer outside the heap",
    [MEM_ERR_MISALIGNED]     = "misaligned pointer",
    [MEM_ERR_NOT_A_BLOCK]    = "not the start of a block (interior pointer or heap metadata)",
    [MEM_ERR_DOUBLE_FREE]    = "double free (the block is free already)",
    [MEM_ERR_CORRUPT]        = "heap corrupted (its tables disagree)",
    [MEM_ERR_USE_AFTER_FREE] = "write after free (freed block's fill changed)",
    [MEM_ERR_REGION_SMALL]   = "region too small",
    [MEM_ERR_REGION_OVERLAP] = "region overlaps an existing region",
    [MEM_ERR_REGION_RANGE]   = "region is NULL or wraps the address space",
    [MEM_ERR_FREED_POINTER]  = "use of a freed pointer (the block is free)",
    [MEM_ERR_FREE_MEMORY]    = "pointer into free memory (never handed out, or freed and merged)",
    [MEM_ERR_RETURNED]       = "pointer into memory the heap returned (its block was freed already)",
};

const char *mem_strerror(enum mem_error err)
{
    return (unsigned)err < MEM_ERR_COUNT ? error_names[err] : "unknown error";
}

/* A one-line report, written without libc: "kheap: <cause> at 0x<ptr>\n". */
static void buffer_write(void *ctx, const char *text, size_t len)
{
    char **at = ctx;
    memcpy(*at, text, len);
    *at += len;
}

static void default_handler(enum mem_error err, const void *ptr)
{
    char line[128], *at = line;
    struct out o = { buffer_write, &at };
    out_str(&o, "kheap: ");
    out_str(&o, mem_strerror(err));
    out_str(&o, " at 0x");
    out_num(&o, (uintptr_t)ptr, 16, 0);
    out_str(&o, "\n");
    seam_fatal(line, (size_t)(at - line));
}

static mem_error_fn error_handler = default_handler;

mem_error_fn mem_set_error_handler(mem_error_fn fn)
{
    mem_error_fn old = error_handler;
    error_handler = fn ? fn : default_handler;
    return old == default_handler ? NULL : old;
}

/* Record a detected misuse in the heap (under its lock); the report goes out later. */
void fault_set(struct heap *h, struct fault *f, enum mem_error err, const void *ptr)
{
    h->error_count++;
    f->err = err;
    f->ptr = ptr;
}

/* Call the handler, outside any lock. */
void fault_report(const struct fault *f)
{
    error_handler(f->err, f->ptr);
}
