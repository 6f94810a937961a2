/* heapmap.c - replay an allocation trace on a kheap instance and draw the heap over time as SVG.
 *
 *   heapmap [-o out.svg] [-s samples] [-a arena-bytes] [-t title] [-c] [-q] trace.rep[.gz]
 *
 * The trace is the CS:APP malloc-lab format (tests/traces/README.md, and what KHEAP_TRACE
 * records): an optional header of up to four numbers, then one operation per line:
 *   a <id> <size>   allocate      r <id> <size>   realloc      f <id>   free
 * Blank lines and lines starting with '#' are skipped. A gzip file (by its magic bytes) is read
 * through `gzip -dc`; "-" reads plain text from stdin.
 *
 * The trace is parsed and checked completely first (so a malformed line or an unknown id is
 * reported before anything is written), then replayed twice on one heap over a large mmap'd
 * arena: the first replay finds the peak extent, which fixes the vertical scale; the second
 * samples the heap (heap_walk) at evenly spaced operation counts and draws each sample as one
 * column. Offsets are measured from the start of the heap's first block, so the region's own
 * metadata (descriptor, start bitmap) is not counted.
 *
 * Each column is classified per pixel row by the share of its bytes (below the current top of the
 * heap) that lie in allocated blocks, rounded to quarters: all used, all free, or one of three
 * mixtures of the two colours (rows where small blocks and small holes interleave); rows above
 * the highest allocated byte are left blank. Runs of equal rows are merged, vertically within a
 * column and horizontally across columns, so the SVG stays small whatever the trace. A step line
 * marks the highest byte in use at any time during each column's operations (a snapshot can miss
 * a short-lived block at the top), and a dashed line the peak extent over the whole trace.
 *
 * Exit status: 0 on success, 1 on any error (one line on stderr), 2 on bad usage. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "heap.h"

/* ---- Drawing constants ------------------------------------------------------------------- */

#define COLOUR_USED  "#2f6db5"
#define COLOUR_FREE  "#f5a142"
#define COLOUR_PEAK  "#d62728"
#define COLOUR_TOP   "#8c1d18"
#define COLOUR_LIVE  "#1a1a1a"
#define COLOUR_EMPTY "#f6f6f4"

#define PLOT_W   960   /* plot area, pixels */
#define PLOT_H   560
#define MARGIN_L 88
#define MARGIN_R 28
#define MARGIN_T 108
#define MARGIN_B 62
#define SVG_W    (MARGIN_L + PLOT_W + MARGIN_R)
#define SVG_H    (MARGIN_T + PLOT_H + MARGIN_B)

#define DEFAULT_SAMPLES 640
#define DEFAULT_ARENA   ((size_t)1 << 30)
#define MAX_ID          ((uint64_t)1 << 26)
#define HEADROOM        1.06   /* draw up to this much above the peak extent */

/* ---- Errors -------------------------------------------------------------------------------- */

static const char *progname = "heapmap";

/* While a gzip'd trace is read: the pipe, so an error in what it delivered can first ask whether
 * gzip itself failed (a truncated file ends in a torn line: the real cause is gzip's). */
static FILE       *gz_pipe;
static const char *gz_path;

/* 0 when the gzip -dc behind f succeeded (or was stopped by SIGPIPE after we stopped reading). */
static int gz_close(FILE *f)
{
    int status = pclose(f);
    if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE)
        return 0;
    return status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    if (gz_pipe) {
        FILE *f = gz_pipe;
        gz_pipe = NULL;
        if (gz_close(f))
            die("%s: gzip -dc failed (corrupt or truncated gzip file?)", gz_path);
    }
    va_list ap;
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die("out of memory (%zu bytes)", n);
    return q;
}

/* ---- Growable text buffer ---------------------------------------------------------------- */

struct buf {
    char  *data;
    size_t len, cap;
};

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data ? b->data + b->len : NULL, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            die("formatting failed");
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
}

/* Text for an XML attribute or element: escaped, non-printable bytes replaced. */
static void buf_xml(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': buf_printf(b, "&amp;"); break;
        case '<': buf_printf(b, "&lt;"); break;
        case '>': buf_printf(b, "&gt;"); break;
        case '"': buf_printf(b, "&quot;"); break;
        default:  buf_printf(b, "%c", c >= 0x20 && c < 0x7f ? c : '?');
        }
    }
}

/* ---- Number formatting -------------------------------------------------------------------- */

/* 1234567 -> "1,234,567" */
static const char *fmt_count(char *out, size_t cap, uint64_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}

/* 7340032 -> "7.00 MiB" (three significant digits) */
static const char *fmt_bytes(char *out, size_t cap, double n)
{
    static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;
    while (n >= 1024.0 && u < 4) {
        n /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%.0f B", n);
    else
        snprintf(out, cap, "%.*f %s", n < 10 ? 2 : n < 100 ? 1 : 0, n, unit[u]);
    return out;
}

/* A "nice" step (1, 2, 2.5 or 5 times a power of ten) close to raw. */
static double nice_step(double raw)
{
    if (raw <= 0)
        return 1;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

/* ---- The trace ---------------------------------------------------------------------------- */

enum { OP_ALLOC, OP_REALLOC, OP_FREE };

struct op {
    size_t   size;
    uint32_t id;
    uint32_t line;
    uint8_t  kind;
};

struct trace {
    struct op *ops;
    size_t     nops, cap;
    uint32_t   nids;          /* highest id + 1 */
    uint64_t   header[4];
    int        nheader;
};

/* Parse an unsigned decimal at *p (after blanks); advance past it. 0 on success. */
static int parse_num(const char **p, uint64_t *out)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    if (*s && *s != ' ' && *s != '\t')
        return -1;
    *p = s;
    *out = v;
    return 0;
}

static int at_end(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

static void read_trace(const char *path, struct trace *t)
{
    FILE *f;
    int piped = 0;
    if (strcmp(path, "-") == 0) {
        f = stdin;
    } else {
        f = fopen(path, "rb");
        if (!f)
            die("%s: %s", path, strerror(errno));
        int c0 = getc(f), c1 = getc(f);
        if (ferror(f))
            die("%s: %s", path, strerror(errno));
        if (c0 == 0x1f && c1 == 0x8b) {
            fclose(f);
            /* popen runs a shell: quote the path, ' becomes '\'' */
            struct buf cmd = { 0 };
            buf_printf(&cmd, "exec gzip -dc -- '");
            for (const char *s = path; *s; s++)
                buf_printf(&cmd, *s == '\'' ? "'\\''" : "%c", *s);
            buf_printf(&cmd, "' 2>/dev/null");
            f = popen(cmd.data, "r");
            free(cmd.data);
            if (!f)
                die("%s: cannot run gzip: %s", path, strerror(errno));
            piped = 1;
            gz_pipe = f;
            gz_path = path;
        } else {
            rewind(f);
        }
    }

    /* live[id]: 1 while the id holds a block (possibly of size 0) */
    uint8_t *live = NULL;
    size_t live_cap = 0;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    uint64_t lineno = 0;

    while ((len = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        if (memchr(line, '\0', (size_t)len))
            die("%s:%llu: malformed line (binary data; not a trace?)", path, (unsigned long long)lineno);
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        const char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '#')
            continue;

        /* the header: up to four numbers before the first operation */
        if (t->nops == 0 && *s >= '0' && *s <= '9') {
            uint64_t v = 0;
            const char *q = s;
            /* malloc-lab's weight may be written as a decimal fraction; only its integer part matters */
            int rc = parse_num(&q, &v);
            if (rc == -1 && t->nheader == 3) {
                char *end;
                errno = 0;
                double d = strtod(s, &end);
                if (end != s && at_end(end) && errno == 0 && d >= 0) {
                    v = (uint64_t)d;
                    q = end;
                    rc = 0;
                }
            }
            if (rc == -2)
                die("%s:%llu: malformed header: number out of range", path, (unsigned long long)lineno);
            if (rc != 0 || !at_end(q))
                die("%s:%llu: malformed header line: \"%.60s\"", path, (unsigned long long)lineno, s);
            if (t->nheader == 4)
                die("%s:%llu: malformed trace: more than four header numbers", path, (unsigned long long)lineno);
            t->header[t->nheader++] = v;
            continue;
        }

        struct op op = { 0 };
        switch (*s) {
        case 'a': op.kind = OP_ALLOC; break;
        case 'r': op.kind = OP_REALLOC; break;
        case 'f': op.kind = OP_FREE; break;
        default:
            die("%s:%llu: malformed line (expected 'a id size', 'r id size' or 'f id'): \"%.60s\"",
                path, (unsigned long long)lineno, s);
        }
        const char *q = s + 1;
        uint64_t id = 0, size = 0;
        int rc = (*q == ' ' || *q == '\t') ? parse_num(&q, &id) : -1;
        if (rc == 0 && op.kind != OP_FREE)
            rc = parse_num(&q, &size);
        if (rc == -2)
            die("%s:%llu: malformed line (number out of range): \"%.60s\"", path, (unsigned long long)lineno, s);
        if (rc != 0 || !at_end(q))
            die("%s:%llu: malformed line (expected 'a id size', 'r id size' or 'f id'): \"%.60s\"",
                path, (unsigned long long)lineno, s);
        if (id >= MAX_ID)
            die("%s:%llu: id %llu too large (ids must be below %llu)", path, (unsigned long long)lineno,
                (unsigned long long)id, (unsigned long long)MAX_ID);
        if (size > SIZE_MAX / 2)
            die("%s:%llu: size %llu out of range", path, (unsigned long long)lineno, (unsigned long long)size);
        if (lineno > UINT32_MAX)
            die("%s: more than %u lines", path, UINT32_MAX);

        if (id >= live_cap) {
            size_t n = live_cap ? live_cap : 1024;
            while (n <= id)
                n *= 2;
            live = xrealloc(live, n);
            memset(live + live_cap, 0, n - live_cap);
            live_cap = n;
        }
        if (op.kind == OP_ALLOC && live[id])
            die("%s:%llu: id %llu allocated again while still live", path, (unsigned long long)lineno,
                (unsigned long long)id);
        if (op.kind != OP_ALLOC && !live[id])
            die("%s:%llu: unknown id %llu (%s a block that was never allocated or is already freed)", path,
                (unsigned long long)lineno, (unsigned long long)id,
                op.kind == OP_FREE ? "frees" : "reallocs");
        live[id] = op.kind != OP_FREE;

        op.id = (uint32_t)id;
        op.size = (size_t)size;
        op.line = (uint32_t)lineno;
        if (id + 1 > t->nids)
            t->nids = (uint32_t)(id + 1);
        if (t->nops == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 65536;
            t->ops = xrealloc(t->ops, t->cap * sizeof *t->ops);
        }
        t->ops[t->nops++] = op;
    }
    int read_err = ferror(f) ? errno : 0;
    free(line);
    free(live);
    if (piped) {
        gz_pipe = NULL;
        if (gz_close(f))
            die("%s: gzip -dc failed (corrupt or truncated gzip file?)", path);
    } else if (f != stdin) {
        fclose(f);
    }
    if (read_err)
        die("%s: read error: %s", path, strerror(read_err));
    if (t->nops == 0)
        die("%s: no operations in the trace", path);
    if (t->nheader >= 3 && t->header[2] != t->nops)
        fprintf(stderr, "%s: warning: %s: header says %llu operations, found %zu (truncated?)\n", progname,
                path, (unsigned long long)t->header[2], t->nops);
}

/* ---- Replay ---------------------------------------------------------------------------------- */

struct replay {
    struct heap h;
    char       *arena;
    size_t      arena_size;
    char       *base;         /* start of the heap's first block: offsets count from here */
    void      **ptr;          /* per id: its payload (NULL for a size-0 block or none) */
    size_t     *req;          /* per id: requested bytes */
    uint64_t    live;         /* requested bytes live now */
    uint64_t    peak_live;
    size_t      peak_extent;  /* highest end offset of an allocated block, ever */
    size_t      peak_op;      /* operation count after which the peak extent was first reached */
    size_t      high;         /* highest end offset of a block allocated since the caller reset it */
};

static enum mem_error heap_error;
static const void   *heap_error_ptr;

static void on_heap_error(enum mem_error err, const void *ptr)
{
    if (!heap_error) {
        heap_error = err;
        heap_error_ptr = ptr;
    }
}

static void first_block(void *ctx, void *ptr, size_t size, int used)
{
    (void)size;
    (void)used;
    char **base = ctx;
    if (!*base)
        *base = (char *)ptr - sizeof(size_t);
}

static void replay_start(struct replay *r, const struct trace *t)
{
    if (!r->arena) {
        r->arena = mmap(NULL, r->arena_size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r->arena == MAP_FAILED)
            die("cannot map an arena of %zu bytes: %s", r->arena_size, strerror(errno));
        r->ptr = xrealloc(NULL, (size_t)t->nids * sizeof *r->ptr);
        r->req = xrealloc(NULL, (size_t)t->nids * sizeof *r->req);
    }
    int rc = heap_init(&r->h, r->arena, r->arena_size);
    if (rc != 0)
        die("heap_init over %zu bytes failed: %s", r->arena_size, mem_strerror((enum mem_error)-rc));
    memset(r->ptr, 0, (size_t)t->nids * sizeof *r->ptr);
    memset(r->req, 0, (size_t)t->nids * sizeof *r->req);
    r->base = NULL;
    heap_walk(&r->h, first_block, &r->base);
    if (!r->base)
        die("the fresh heap has no block");
    r->live = r->peak_live = 0;
    r->peak_extent = r->peak_op = 0;
}

/* Apply operation i (0-based) of the trace. */
static void replay_op(struct replay *r, const char *path, const struct trace *t, size_t i)
{
    const struct op *op = &t->ops[i];
    void **slot = &r->ptr[op->id];
    void *p = NULL;
    switch (op->kind) {
    case OP_ALLOC:
        if (op->size) {
            p = heap_alloc(&r->h, op->size);
            if (!p && !heap_error)
                goto no_room;
        }
        *slot = p;
        r->live += op->size;
        r->req[op->id] = op->size;
        break;
    case OP_REALLOC:
        if (op->size == 0) {          /* as glibc: realloc(p, 0) frees p */
            if (*slot)
                heap_free(&r->h, *slot);
        } else {
            p = heap_realloc(&r->h, *slot, op->size);
            if (!p && !heap_error)
                goto no_room;
        }
        *slot = p;
        r->live = r->live - r->req[op->id] + op->size;
        r->req[op->id] = op->size;
        break;
    case OP_FREE:
        if (*slot)
            heap_free(&r->h, *slot);
        *slot = NULL;
        r->live -= r->req[op->id];
        r->req[op->id] = 0;
        break;
    }
    if (heap_error)
        die("%s:%u: kheap reported \"%s\" at %p (operation %zu)", path, op->line, mem_strerror(heap_error),
            heap_error_ptr, i + 1);
    if (p) {
        size_t end = (size_t)((char *)p - r->base) + heap_usable_size(&r->h, p);
        if (end > r->high)
            r->high = end;
        if (end > r->peak_extent) {
            r->peak_extent = end;
            r->peak_op = i + 1;
        }
    }
    if (r->live > r->peak_live)
        r->peak_live = r->live;
    return;
no_room:
    die("%s:%u: %s of %zu bytes failed: the %zu-byte arena is full (try -a with a larger arena)", path,
        op->line, op->kind == OP_ALLOC ? "allocation" : "realloc", op->size, r->arena_size);
}

static void write_stderr(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    fwrite(text, 1, len, stderr);
}

/* ---- Sampling a column --------------------------------------------------------------------- */

/* A pixel row's class: the share of its bytes (below the current top) in allocated blocks,
 * rounded to quarters. LEVEL_FREE and LEVEL_USED are the two colours; the three between are
 * mixtures of them, for rows that hold both (small blocks and small holes interleaved). */
enum { LEVEL_FREE = 0, LEVEL_USED = 4, LEVELS = 5 };
static const char *const level_colour[LEVELS] = { COLOUR_FREE, "#c4945f", "#92877c", "#617a98", COLOUR_USED };
static const char *const level_id[LEVELS] = { "free", "used-1q", "used-2q", "used-3q", "used" };

struct column {
    const struct replay *r;
    double  bytes_per_row;
    double *cover;            /* per row: bytes in allocated blocks */
    size_t  top;              /* end offset of the highest allocated block */
};

static void sample_block(void *ctx, void *ptr, size_t size, int used)
{
    struct column *c = ctx;
    if (!used)
        return;
    size_t off = (size_t)((char *)ptr - c->r->base) - sizeof(size_t);
    size_t end = off + size + sizeof(size_t);
    if (end > c->top)
        c->top = end;
    double lo = (double)off / c->bytes_per_row, hi = (double)end / c->bytes_per_row;
    if (lo >= PLOT_H)
        return;
    if (hi > PLOT_H)
        hi = PLOT_H;
    size_t r0 = (size_t)lo, r1 = (size_t)hi;
    if (r0 == r1) {
        c->cover[r0] += (hi - lo) * c->bytes_per_row;
        return;
    }
    c->cover[r0] += ((double)(r0 + 1) - lo) * c->bytes_per_row;
    for (size_t k = r0 + 1; k < r1; k++)
        c->cover[k] += c->bytes_per_row;
    if (r1 < PLOT_H)
        c->cover[r1] += (hi - (double)r1) * c->bytes_per_row;
}

struct run {
    int y0, y1;   /* rows [y0, y1), row 0 at the bottom */
    int cls;
    int x0;       /* where the rectangle this run belongs to started */
};

/* Classify the rows of a sampled column into runs of equal level; rows above the top get none. */
static size_t column_runs(const struct column *c, struct run *out)
{
    size_t n = 0;
    for (int row = 0; row < PLOT_H; row++) {
        double lo = row * c->bytes_per_row;
        if (lo >= (double)c->top)
            break;
        double hi = (row + 1) * c->bytes_per_row;
        double below = (hi < (double)c->top ? hi : (double)c->top) - lo;
        double share = c->cover[row] / below;
        int cls = (int)(share * (LEVELS - 1) + 0.5);
        if (cls < LEVEL_FREE)
            cls = LEVEL_FREE;
        if (cls > LEVEL_USED)
            cls = LEVEL_USED;
        if (n && out[n - 1].cls == cls && out[n - 1].y1 == row) {
            out[n - 1].y1 = row + 1;
        } else {
            out[n].y0 = row;
            out[n].y1 = row + 1;
            out[n].cls = cls;
            out[n].x0 = 0;
            n++;
        }
    }
    return n;
}

static void emit_rect(struct buf *paths, const struct run *run, int x1)
{
    struct buf *b = &paths[run->cls];
    int x = MARGIN_L + run->x0, w = x1 - run->x0;
    int y = MARGIN_T + PLOT_H - run->y1, h = run->y1 - run->y0;
    if (w > 0)
        buf_printf(b, "M%d %dh%dv%dh-%dz", x, y, w, h, w);
}

/* ---- The SVG ------------------------------------------------------------------------------- */

struct options {
    const char *out;
    const char *title;
    size_t      samples;
    int         check;
    int         quiet;
};

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static double y_of(double bytes, double ymax) { return MARGIN_T + PLOT_H - bytes / ymax * PLOT_H; }

static void write_svg(const char *path, const struct trace *t, struct replay *r, const struct options *o)
{
    size_t n = t->nops;
    size_t samples = o->samples;
    if (samples > n)
        samples = n;
    if (samples > PLOT_W)
        samples = PLOT_W;
    double ymax = r->peak_extent ? (double)r->peak_extent * HEADROOM : 4096.0;

    struct buf paths[LEVELS] = { { 0 } }, live = { 0 }, top = { 0 }, svg = { 0 };
    struct column col = { .r = r, .bytes_per_row = ymax / PLOT_H };
    col.cover = xrealloc(NULL, PLOT_H * sizeof *col.cover);
    struct run *prev = xrealloc(NULL, PLOT_H * sizeof *prev), *cur = xrealloc(NULL, PLOT_H * sizeof *cur);
    size_t nprev = 0;
    size_t max_runs = 0;

    replay_start(r, t);
    size_t done = 0;
    for (size_t k = 0; k < samples; k++) {
        size_t upto = (size_t)(((uint64_t)(k + 1) * n + samples - 1) / samples);
        /* the highest byte in use during this column's operations: only allocations raise the top */
        r->high = col.top;
        for (; done < upto; done++)
            replay_op(r, path, t, done);
        if (o->check && heap_check(&r->h) != 0) {
            fprintf(stderr, "%s: heap_check failed after operation %zu:\n", progname, done);
            heap_check_report(&r->h, write_stderr, NULL);
            die("%s:%u: the heap is inconsistent after this operation", path, t->ops[done - 1].line);
        }
        memset(col.cover, 0, PLOT_H * sizeof *col.cover);
        col.top = 0;
        heap_walk(&r->h, sample_block, &col);
        size_t ncur = column_runs(&col, cur);
        if (ncur > max_runs)
            max_runs = ncur;

        /* carry runs that continue unchanged from the previous column; close the others */
        int x = (int)((uint64_t)k * PLOT_W / samples);
        size_t j = 0;
        for (size_t i = 0; i < ncur; i++) {
            cur[i].x0 = x;
            while (j < nprev && prev[j].y0 < cur[i].y0)
                emit_rect(paths, &prev[j++], x);
            if (j < nprev && prev[j].y0 == cur[i].y0 && prev[j].y1 == cur[i].y1 && prev[j].cls == cur[i].cls)
                cur[i].x0 = prev[j++].x0;
        }
        while (j < nprev)
            emit_rect(paths, &prev[j++], x);
        struct run *tmp = prev;
        prev = cur;
        cur = tmp;
        nprev = ncur;

        int xe = (int)((uint64_t)(k + 1) * PLOT_W / samples);
        size_t high = r->high > col.top ? r->high : col.top;
        if (k == 0)
            buf_printf(&top, "M%d %.1f", MARGIN_L + x, y_of((double)high, ymax));
        else
            buf_printf(&top, "V%.1f", y_of((double)high, ymax));
        buf_printf(&top, "H%d", MARGIN_L + xe);
        buf_printf(&live, "%s%.1f,%.1f", k ? " " : "", MARGIN_L + (x + xe) / 2.0, y_of((double)r->live, ymax));
    }
    for (size_t j = 0; j < nprev; j++)
        emit_rect(paths, &prev[j], PLOT_W);
    for (; done < n; done++)
        replay_op(r, path, t, done);

    char a[64], b[64], c[64], d[64];
    const char *name = o->title ? o->title : basename_of(path);
    double eff = r->peak_extent ? (double)r->peak_live / (double)r->peak_extent : 0;

    buf_printf(&svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    buf_printf(&svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
               SVG_W, SVG_H, SVG_W, SVG_H);
    buf_printf(&svg, "<title>kheap heap map: ");
    buf_xml(&svg, name);
    buf_printf(&svg, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W, SVG_H);

    /* title and summary */
    buf_printf(&svg, "<text x=\"%d\" y=\"26\" font-size=\"17\" font-weight=\"bold\">kheap heap map: ", MARGIN_L);
    buf_xml(&svg, name);
    buf_printf(&svg, "</text>\n<text x=\"%d\" y=\"46\" fill=\"#444\">", MARGIN_L);
    buf_printf(&svg, "%s operations, peak live %s, peak extent %s, efficiency %.1f%% (peak live / peak extent); "
               "first fit, 16-byte alignment", fmt_count(a, sizeof a, n), fmt_bytes(b, sizeof b, (double)r->peak_live),
               fmt_bytes(c, sizeof c, (double)r->peak_extent), eff * 100);
    buf_printf(&svg, "</text>\n");

    /* legend: the fills on one row, the lines on the next */
    int lx = MARGIN_L, ly = 68;
    buf_printf(&svg, "<g id=\"legend\">\n"
               "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"11\" fill=\"%s\"/>"
               "<text x=\"%d\" y=\"%d\">used (allocated blocks, headers included)</text>\n",
               lx, ly - 10, COLOUR_USED, lx + 19, ly);
    lx += 280;
    buf_printf(&svg, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"11\" fill=\"%s\"/>"
               "<text x=\"%d\" y=\"%d\">free (holes below the highest used block)</text>\n",
               lx, ly - 10, COLOUR_FREE, lx + 19, ly);
    lx += 280;
    for (int l = LEVEL_USED - 1; l > LEVEL_FREE; l--)
        buf_printf(&svg, "<rect x=\"%d\" y=\"%d\" width=\"8\" height=\"11\" fill=\"%s\"/>",
                   lx + (LEVEL_USED - 1 - l) * 8, ly - 10, level_colour[l]);
    buf_printf(&svg, "<text x=\"%d\" y=\"%d\">pixel rows 3/4, 1/2, 1/4 used (small blocks and holes mixed)"
               "</text>\n", lx + 29, ly);
    lx = MARGIN_L;
    ly += 19;
    buf_printf(&svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\"/>"
               "<text x=\"%d\" y=\"%d\">live bytes requested</text>\n",
               lx, ly - 4, lx + 18, ly - 4, COLOUR_LIVE, lx + 23, ly);
    lx += 170;
    buf_printf(&svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1\"/>"
               "<text x=\"%d\" y=\"%d\">highest byte in use during each column</text>\n",
               lx, ly - 4, lx + 18, ly - 4, COLOUR_TOP, lx + 23, ly);
    lx += 270;
    buf_printf(&svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" "
               "stroke-dasharray=\"5,3\"/><text x=\"%d\" y=\"%d\">peak extent (highest byte ever in use)</text>\n"
               "</g>\n",
               lx, ly - 4, lx + 18, ly - 4, COLOUR_PEAK, lx + 23, ly);

    /* plot background, grid, axes */
    buf_printf(&svg, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", MARGIN_L, MARGIN_T,
               PLOT_W, PLOT_H, COLOUR_EMPTY);
    double unit = ymax >= 2 * 1048576.0 ? 1048576.0 : ymax >= 2 * 1024.0 ? 1024.0 : 1.0;
    const char *uname = unit == 1048576.0 ? "MiB" : unit == 1024.0 ? "KiB" : "B";
    double ystep = nice_step(ymax / unit / 7) * unit;
    if (unit == 1.0 && ystep < 1)
        ystep = 1;
    buf_printf(&svg, "<g id=\"y-axis\" font-size=\"11\" text-anchor=\"end\">\n");
    for (double v = 0; v <= ymax + 1e-9; v += ystep) {
        double y = y_of(v, ymax);
        buf_printf(&svg, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>"
                   "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#555\"/>"
                   "<text x=\"%d\" y=\"%.1f\">%g %s</text>\n",
                   MARGIN_L, y, MARGIN_L + PLOT_W, y, MARGIN_L - 5, y, MARGIN_L, y, MARGIN_L - 8, y + 4,
                   v / unit, uname);
    }
    buf_printf(&svg, "</g>\n<text transform=\"translate(18 %d) rotate(-90)\" text-anchor=\"middle\">"
               "offset in the heap (from its first block)</text>\n", MARGIN_T + PLOT_H / 2);
    double xstep = nice_step((double)n / 8);
    if (xstep < 1)
        xstep = 1;
    buf_printf(&svg, "<g id=\"x-axis\" font-size=\"11\" text-anchor=\"middle\">\n");
    for (double v = 0; v <= (double)n + 1e-9; v += xstep) {
        double x = MARGIN_L + v / (double)n * PLOT_W;
        char label[32];
        if (xstep >= 1e6)
            snprintf(label, sizeof label, "%gM", v / 1e6);
        else if (xstep >= 1e3)
            snprintf(label, sizeof label, "%gk", v / 1e3);
        else
            snprintf(label, sizeof label, "%g", v);
        buf_printf(&svg, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#555\"/>"
                   "<text x=\"%.1f\" y=\"%d\">%s</text>\n",
                   x, MARGIN_T + PLOT_H, x, MARGIN_T + PLOT_H + 5, x, MARGIN_T + PLOT_H + 18, label);
    }
    buf_printf(&svg, "</g>\n<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">operations (allocations, reallocs and "
               "frees replayed; %zu samples)</text>\n",
               MARGIN_L + PLOT_W / 2, SVG_H - 16, samples);

    /* the map itself */
    for (int l = 0; l < LEVELS; l++) {
        buf_printf(&svg, "<path id=\"%s\" fill=\"%s\" shape-rendering=\"crispEdges\" d=\"", level_id[l],
                   level_colour[l]);
        if (paths[l].len)
            buf_printf(&svg, "%.*s", (int)paths[l].len, paths[l].data);
        buf_printf(&svg, "\"/>\n");
        free(paths[l].data);
    }
    buf_printf(&svg, "<path id=\"high\" fill=\"none\" stroke=\"%s\" stroke-width=\"1\" d=\"%.*s\"/>\n",
               COLOUR_TOP, (int)top.len, top.data);
    buf_printf(&svg, "<polyline id=\"live\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" "
               "stroke-linejoin=\"round\" points=\"%.*s\"/>\n", COLOUR_LIVE, (int)live.len, live.data);

    /* peak extent */
    double py = y_of((double)r->peak_extent, ymax);
    double px = MARGIN_L + (double)r->peak_op / (double)n * PLOT_W;
    buf_printf(&svg, "<g id=\"peak\">\n<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>\n"
               "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
               MARGIN_L, py, MARGIN_L + PLOT_W, py, COLOUR_PEAK, px, py, COLOUR_PEAK);
    int right = px > MARGIN_L + PLOT_W * 0.6;
    buf_printf(&svg, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" text-anchor=\"%s\" font-weight=\"bold\">"
               "peak extent %s (%s bytes) at op %s</text>\n</g>\n",
               right ? px - 6 : px + 6, py - 6, COLOUR_PEAK, right ? "end" : "start",
               fmt_bytes(b, sizeof b, (double)r->peak_extent), fmt_count(c, sizeof c, r->peak_extent),
               fmt_count(d, sizeof d, r->peak_op));
    buf_printf(&svg, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#555\"/>\n",
               MARGIN_L, MARGIN_T, PLOT_W, PLOT_H);
    buf_printf(&svg, "</svg>\n");

    /* write to a temporary name, then rename: a failed run leaves no half-written SVG */
    struct buf tmp = { 0 };
    buf_printf(&tmp, "%s.tmp", o->out);
    FILE *f = fopen(tmp.data, "w");
    if (!f)
        die("%s: cannot write: %s", o->out, strerror(errno));
    if (fwrite(svg.data, 1, svg.len, f) != svg.len || fclose(f) != 0) {
        int e = errno;
        remove(tmp.data);
        die("%s: write failed: %s", o->out, strerror(e));
    }
    if (rename(tmp.data, o->out) != 0) {
        int e = errno;
        remove(tmp.data);
        die("%s: %s", o->out, strerror(e));
    }
    free(tmp.data);
    free(svg.data);
    free(top.data);
    free(live.data);
    free(col.cover);
    free(prev);
    free(cur);
}

/* ---- main ------------------------------------------------------------------------------------ */

static size_t parse_size_arg(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || *s == '-')
        goto bad;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    }
    if (*end || v == 0 || v > (SIZE_MAX >> shift))
        goto bad;
    return (size_t)v << shift;
bad:
    fprintf(stderr, "%s: bad %s: \"%s\"\n", progname, what, s);
    exit(2);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: %s [-o out.svg] [-s samples] [-a arena-bytes[K|M|G]] [-t title] [-c] [-q] trace.rep[.gz]\n"
            "  -o  SVG to write (default heapmap.svg)\n"
            "  -s  number of time samples, i.e. columns (default %d, at most %d)\n"
            "  -a  size of the arena the heap is replayed in (default 1G; untouched pages cost nothing)\n"
            "  -t  name shown in the title (default: the trace's file name)\n"
            "  -c  run heap_check at every sample\n"
            "  -q  no summary line\n",
            progname, DEFAULT_SAMPLES, PLOT_W);
    exit(2);
}

int main(int argc, char **argv)
{
    struct options o = { .out = "heapmap.svg", .samples = DEFAULT_SAMPLES };
    struct replay r = { .arena_size = DEFAULT_ARENA };
    const char *path = NULL;

    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (s[0] == '-' && s[1] && !s[2] && strchr("osta", s[1])) {
            if (i + 1 >= argc)
                usage();
            const char *v = argv[++i];
            switch (s[1]) {
            case 'o': o.out = v; break;
            case 't': o.title = v; break;
            case 's': o.samples = parse_size_arg(v, "sample count"); break;
            case 'a': r.arena_size = parse_size_arg(v, "arena size"); break;
            }
        } else if (strcmp(s, "-c") == 0) {
            o.check = 1;
        } else if (strcmp(s, "-q") == 0) {
            o.quiet = 1;
        } else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            usage();
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "%s: unknown option %s\n", progname, s);
            usage();
        } else if (path) {
            fprintf(stderr, "%s: more than one trace given\n", progname);
            usage();
        } else {
            path = s;
        }
    }
    if (!path)
        usage();
    if (o.samples > PLOT_W)
        o.samples = PLOT_W;

    mem_set_error_handler(on_heap_error);
    struct trace t = { 0 };
    read_trace(path, &t);

    /* pass 1: the peak extent fixes the scale; pass 2 (in write_svg) samples and draws */
    replay_start(&r, &t);
    for (size_t i = 0; i < t.nops; i++)
        replay_op(&r, path, &t, i);
    size_t peak_extent = r.peak_extent, peak_op = r.peak_op;
    uint64_t peak_live = r.peak_live;

    write_svg(path, &t, &r, &o);
    if (r.peak_extent != peak_extent || r.peak_op != peak_op || r.peak_live != peak_live)
        die("the two replays of %s differ (peak extent %zu vs %zu): the heap is not deterministic", path,
            peak_extent, r.peak_extent);

    if (!o.quiet) {
        char b1[64], b2[64];
        printf("%s: %zu ops, peak live %llu B (%s), peak extent %zu B (%s) at op %zu, efficiency %.1f%% -> %s\n",
               basename_of(path), t.nops, (unsigned long long)peak_live, fmt_bytes(b1, sizeof b1, (double)peak_live),
               peak_extent, fmt_bytes(b2, sizeof b2, (double)peak_extent), peak_op,
               peak_extent ? 100.0 * (double)peak_live / (double)peak_extent : 0.0, o.out);
    }
    munmap(r.arena, r.arena_size);
    free(r.ptr);
    free(r.req);
    free(t.ops);
    return 0;
}
