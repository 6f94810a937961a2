/* Frozen benchmark baseline: the red-black-tree design of lib/heap_error.c at commit 6dbb346, copied
 * unchanged below this comment for tests/bench (bench-rbtree). Do not edit; see README.md here. */
/* heap_error.c - misuse reports: the names of enum mem_error, the error handler shared by the
 * heap_* and mem_* layers, and its default, which prints one line and stops.
 *
 * A misuse is found under the heap's lock (fault_set) and reported after it (fault_raise), so a
 * handler may print or stop without deadlocking on the heap. */
#include "heap_internal.h"
#include "seam.h"

static const char *const error_names[MEM_ERR_COUNT] = {
    [MEM_OK]                 = "no error",
    [MEM_ERR_NOT_IN_HEAP]    = "pointer outside the heap",
    [MEM_ERR_MISALIGNED]     = "misaligned pointer",
    [MEM_ERR_NOT_A_BLOCK]    = "not the start of a block (interior pointer or heap metadata)",
    [MEM_ERR_DOUBLE_FREE]    = "double free (pointer into free memory)",
    [MEM_ERR_CORRUPT]        = "heap corrupted around the block (overwritten header)",
    [MEM_ERR_USE_AFTER_FREE] = "write after free (freed block's fill changed)",
    [MEM_ERR_REGION_SMALL]   = "region too small",
    [MEM_ERR_REGION_OVERLAP] = "region overlaps an existing region",
    [MEM_ERR_REGION_RANGE]   = "region is NULL or wraps the address space",
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
struct fault *fault_set(struct heap *h, struct fault *f, enum mem_error err, const void *ptr)
{
    h->error_count++;
    f->err = err;
    f->ptr = ptr;
    return f;
}

/* Call the handler, outside any lock. */
void fault_report(const struct fault *f)
{
    error_handler(f->err, f->ptr);
}
