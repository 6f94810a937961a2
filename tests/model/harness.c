/* harness.c - one operation at a time on the real heap and on the model, compared (see harness.h).
 *
 * After every operation: the same address (or NULL) as the model, the same enum mem_error from
 * the return value and from the error handler (called exactly once, with the pointer), and every
 * field of heap_stats equal to the model's. After the first check_all operations and every
 * check_every-th one after: heap_check(h) == 0 and heap_walk equal to the model block for block.
 * Every live block is filled with a pattern over its whole usable size, verified before it is
 * freed or reallocated, and all of them are swept every 256 operations and at the end. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

/* ---- The arena: one static buffer, its base aligned to 1 MiB so that addresses (and so the
 * alignment realloc keeps) are the same on every run. ------------------------------------------ */

#define ARENA_ALIGN ((uintptr_t)1 << 20)
#define ARENA_SPAN  ((size_t)1 << 20)

static unsigned char arena_buf[ARENA_SPAN + ARENA_ALIGN];

uintptr_t arena_base(void) { return ((uintptr_t)arena_buf + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1); }
size_t arena_span(void) { return ARENA_SPAN; }

struct region_spec { size_t off, size; };
static const struct {
    const char *name;
    struct region_spec r[4];
} layouts[H_LAYOUTS] = {
    { "one region of 128 KiB", { { 0x10, 0x20000 } } },
    { "two regions, the second added below the first",
      { { 0x40003, 0x10002 }, { 0x100, 0x30000 } } },
    { "three small regions (6 KiB, 16 KiB, 2.25 KiB), out of order",
      { { 0x1000, 0x1800 }, { 0x8008, 0x4000 }, { 0x4000, 0x900 } } },
    { "one region of 256 KiB at an odd address", { { 0x7fff9, 0x40017 } } },
    { "three regions: 1 KiB, 8 KiB, 64 KiB", { { 0x200, 0x400 }, { 0x1000, 0x2000 }, { 0x10000, 0x10000 } } },
};

const char *layout_name(int layout) { return layouts[layout % H_LAYOUTS].name; }

/* Region i of a layout may grow (heap_region_extend) up to the next region above it or the
 * arena's end; the first one is set up by heap_init, with no reserve. */
static size_t region_reserve(int layout, int i)
{
    const struct region_spec *r = layouts[layout % H_LAYOUTS].r;
    size_t top = ARENA_SPAN;
    if (i == 0)
        return r[0].size;
    for (int j = 0; j < 4 && r[j].size; j++)
        if (r[j].off > r[i].off && r[j].off < top)
            top = r[j].off;
    /* Up to the next region, and at most 16 times its size: the tables cover the reserve, and
     * a small region must still hold its tables and blocks. */
    return top - r[i].off < 16 * r[i].size ? top - r[i].off : 16 * r[i].size;
}

/* ---- The error handler: records every report. ------------------------------------------------ */

static int rec_count;
static enum mem_error rec_err;
static const void *rec_ptr;

static void recorder(enum mem_error err, const void *ptr)
{
    rec_count++;
    rec_err = err;
    rec_ptr = ptr;
}

static void rec_reset(void) { rec_count = 0; rec_err = MEM_OK; rec_ptr = NULL; }

/* ---- A run ------------------------------------------------------------------------------------ */

struct slot {
    uintptr_t p;     /* live payload, 0 when empty */
    size_t usable;   /* bytes filled with the pattern */
    uint8_t tag;     /* the pattern's seed */
    uintptr_t prev;  /* what p was before the last free */
};

struct ctx {
    const struct harness_opts *o;
    struct heap h;
    struct model m;
    struct slot s[H_SLOTS];
    unsigned gen;
    struct run_result *res;
    size_t opi;
    int trace;
    char note[160];  /* trace: what the op returned */
};

static int fail(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->res->msg, sizeof c->res->msg, fmt, ap);
    va_end(ap);
    return 1;
}

static const char *fmt_addr(char *buf, uintptr_t p)
{
    uintptr_t a = arena_base();
    if (!p)
        snprintf(buf, 32, "NULL");
    else if (p >= a && p - a < ARENA_SPAN + 0x1000)
        snprintf(buf, 32, "A+0x%lx", (unsigned long)(p - a));
    else
        snprintf(buf, 32, "0x%lx", (unsigned long)p);
    return buf;
}

static const char *err_name(int e)
{
    static const char *const names[MEM_ERR_COUNT] = {
        [MEM_OK] = "OK", [MEM_ERR_NOT_IN_HEAP] = "NOT_IN_HEAP", [MEM_ERR_MISALIGNED] = "MISALIGNED",
        [MEM_ERR_NOT_A_BLOCK] = "NOT_A_BLOCK", [MEM_ERR_DOUBLE_FREE] = "DOUBLE_FREE",
        [MEM_ERR_CORRUPT] = "CORRUPT", [MEM_ERR_USE_AFTER_FREE] = "USE_AFTER_FREE",
        [MEM_ERR_REGION_SMALL] = "REGION_SMALL", [MEM_ERR_REGION_OVERLAP] = "REGION_OVERLAP",
        [MEM_ERR_REGION_RANGE] = "REGION_RANGE", [MEM_ERR_FREED_POINTER] = "FREED_POINTER",
        [MEM_ERR_FREE_MEMORY] = "FREE_MEMORY", [MEM_ERR_RETURNED] = "RETURNED",
    };
    return e >= 0 && e < MEM_ERR_COUNT && names[e] ? names[e] : "?";
}

static uint8_t pat(uint8_t tag, size_t i) { return (uint8_t)(tag ^ (i * 0x9d) ^ (i >> 8)); }

static void fill(struct slot *s)
{
    unsigned char *p = (unsigned char *)s->p;
    for (size_t i = 0; i < s->usable; i++)
        p[i] = pat(s->tag, i);
}

/* The first n bytes of p hold tag's pattern? Returns the first bad offset, or -1. */
static long verify(uintptr_t p, uint8_t tag, size_t n)
{
    const unsigned char *q = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        if (q[i] != pat(tag, i))
            return (long)i;
    return -1;
}

static int check_fill(struct ctx *c, unsigned k)
{
    struct slot *s = &c->s[k];
    long bad = s->p ? verify(s->p, s->tag, s->usable) : -1;
    char b[32];
    if (bad >= 0)
        return fail(c, "fill of s%u (%s, %zu usable bytes) overwritten at byte %ld", k,
                    fmt_addr(b, s->p), s->usable, bad);
    return 0;
}

/* The error handler was called iff e is an error, once, with (e, p). */
static int check_report(struct ctx *c, enum mem_error e, uintptr_t p, const char *what)
{
    char b[32], b2[32];
    if (e == MEM_OK && rec_count)
        return fail(c, "%s: handler called (%s at %s), model expects no report", what,
                    err_name(rec_err), fmt_addr(b, (uintptr_t)rec_ptr));
    if (e != MEM_OK && (rec_count != 1 || rec_err != e || (uintptr_t)rec_ptr != p))
        return fail(c, "%s: handler called %d times, last (%s, %s); model expects once (%s, %s)",
                    what, rec_count, err_name(rec_err), fmt_addr(b, (uintptr_t)rec_ptr),
                    err_name(e), fmt_addr(b2, p));
    return 0;
}

/* A fresh block in slot k: same address as the model, aligned, the usable size the model says. */
static int got_block(struct ctx *c, unsigned k, uintptr_t q, uintptr_t mq, size_t align,
                     size_t zeroed, const char *what)
{
    char b[32], b2[32];
    if (q != mq)
        return fail(c, "%s returned %s, model expects %s", what, fmt_addr(b, q), fmt_addr(b2, mq));
    snprintf(c->note, sizeof c->note, "-> %s", fmt_addr(b, q));
    if (!q)
        return 0;
    if (q % MEM_ALIGN || (align && q % align))
        return fail(c, "%s returned %s, not aligned to %zu", what, fmt_addr(b, q),
                    align > MEM_ALIGN ? align : (size_t)MEM_ALIGN);
    size_t usable = model_usable(&c->m, q);
    rec_reset();
    size_t real = heap_usable_size(&c->h, (void *)q);
    if (real != usable || rec_count)
        return fail(c, "usable_size(%s) after %s = %zu (reports %d), model expects %zu",
                    fmt_addr(b, q), what, real, rec_count, usable);
    for (size_t i = 0; i < zeroed; i++)
        if (((unsigned char *)q)[i])
            return fail(c, "%s: byte %zu of %s not zeroed", what, i, fmt_addr(b, q));
    struct slot *s = &c->s[k];
    s->p = q;
    s->usable = usable;
    s->tag = (uint8_t)(++c->gen * 37 + k);
    fill(s);
    return 0;
}

static int free_slot(struct ctx *c, unsigned k)
{
    struct slot *s = &c->s[k];
    char b[32];
    if (check_fill(c, k))
        return 1;
    uintptr_t p = s->p;
    enum mem_error me = model_free(&c->m, p);
    rec_reset();
    int re = heap_free(&c->h, (void *)p);
    if (re != (int)me)
        return fail(c, "free(%s) returned %s, model expects %s", fmt_addr(b, p), err_name(re),
                    err_name(me));
    if (check_report(c, me, p, "free"))
        return 1;
    if (p && me == MEM_OK) {
        s->prev = p;
        s->p = 0;
    }
    snprintf(c->note, sizeof c->note, "-> %d", re);
    return 0;
}

static int realloc_slot(struct ctx *c, unsigned k, size_t n)
{
    struct slot *s = &c->s[k];
    char b[32], b2[32], b3[32];
    if (check_fill(c, k))
        return 1;
    uintptr_t p = s->p;
    enum mem_error me;
    uintptr_t mq = model_realloc(&c->m, p, n, &me);
    rec_reset();
    uintptr_t q = (uintptr_t)heap_realloc(&c->h, (void *)p, n);
    if (q != mq)
        return fail(c, "realloc(%s, %zu) returned %s, model expects %s", fmt_addr(b, p), n,
                    fmt_addr(b2, q), fmt_addr(b3, mq));
    if (check_report(c, me, p, "realloc"))
        return 1;
    snprintf(c->note, sizeof c->note, "-> %s", fmt_addr(b, q));
    if (!p)
        return q ? got_block(c, k, q, mq, 0, 0, "realloc(NULL)") : 0;
    if (me != MEM_OK)
        return 0;
    if (n == 0) {
        s->prev = p;
        s->p = 0;
        return 0;
    }
    if (!q)                                    /* failed: the old block stays, intact */
        return check_fill(c, k);
    size_t usable = model_usable(&c->m, q);
    size_t keep = usable < s->usable ? usable : s->usable;
    long bad = verify(q, s->tag, keep);
    if (bad >= 0)
        return fail(c, "realloc(%s, %zu) -> %s lost the data at byte %ld of %zu", fmt_addr(b, p),
                    n, fmt_addr(b2, q), bad, keep);
    if (q != p)
        s->prev = p;
    s->p = 0;
    return got_block(c, k, q, mq, 0, 0, "realloc");
}

/* The pointer a BAD op names, or 0 when it names nothing (the op is then skipped). */
static uintptr_t bad_pointer(struct ctx *c, const struct op *op)
{
    struct slot *s = &c->s[op->slot % H_SLOTS];
    switch (op->target % BT_KINDS) {
    case BT_PREV:  return s->prev;
    case BT_OFF:   return s->p ? s->p + (uintptr_t)op->off : 0;
    case BT_ARENA: return arena_base() + (uintptr_t)op->off % (ARENA_SPAN + 0x1000);
    default:       return (uintptr_t)op->off;
    }
}

static int exec_bad(struct ctx *c, const struct op *op)
{
    char b[32];
    uintptr_t p = bad_pointer(c, op);
    if (!p) {
        snprintf(c->note, sizeof c->note, "(names no pointer: skipped)");
        return 0;
    }
    unsigned call = op->call % BC_KINDS;
    enum mem_error me = model_classify(&c->m, p, call != BC_FREE);
    if (me == MEM_OK) {                        /* a live block after all (reused): a legal call */
        unsigned k;
        for (k = 0; k < H_SLOTS && c->s[k].p != p; k++)
            ;
        if (k == H_SLOTS)
            return fail(c, "model: %s is a live block that no slot holds", fmt_addr(b, p));
        snprintf(c->note, sizeof c->note, "(%s is live: legal, as s%u)", fmt_addr(b, p), k);
        if (call == BC_FREE)
            return free_slot(c, k);
        if (call == BC_REALLOC)
            return realloc_slot(c, k, op->a);
        return check_fill(c, k);
    }
    rec_reset();
    enum mem_error got;
    const char *what;
    if (call == BC_FREE) {
        what = "free";
        model_free(&c->m, p);
        got = (enum mem_error)heap_free(&c->h, (void *)p);
    } else if (call == BC_REALLOC) {
        what = "realloc";
        enum mem_error e;
        model_realloc(&c->m, p, op->a, &e);
        void *q = heap_realloc(&c->h, (void *)p, op->a);
        got = rec_count ? rec_err : MEM_OK;
        if (q)
            return fail(c, "realloc(%s, %zu) returned %p for a bad pointer (%s)", fmt_addr(b, p),
                        op->a, q, err_name(me));
    } else {
        what = "usable_size";
        enum mem_error e;
        model_usable_size(&c->m, p, &e);
        size_t u = heap_usable_size(&c->h, (void *)p);
        got = rec_count ? rec_err : MEM_OK;
        if (u)
            return fail(c, "usable_size(%s) = %zu for a bad pointer (%s)", fmt_addr(b, p), u,
                        err_name(me));
    }
    if (got != me)
        return fail(c, "%s(%s) reported %s, model expects %s", what, fmt_addr(b, p),
                    err_name(got), err_name(me));
    snprintf(c->note, sizeof c->note, "%s(%s) -> %s", what, fmt_addr(b, p), err_name(me));
    return check_report(c, me, p, what);
}

static size_t layout_regions(int layout)
{
    size_t n = 0;
    while (n < 4 && layouts[layout % H_LAYOUTS].r[n].size)
        n++;
    return n;
}

static int full_check(struct ctx *c);

/* Region k is the model's k-th region: regions in address order (the initial walk's order). */
static int exec_region(struct ctx *c, const struct op *op)
{
    size_t k = op->a % layout_regions(c->o->layout);
    const struct mregion *mr = &c->m.r[k];
    char b[32], b2[32], b3[32];
    int rc, mrc;
    rec_reset();
    switch (op->b % 5) {
    case 0:
        if (mr->present) {
            mrc = model_remove_region(&c->m, k);
            rc = heap_remove_region(&c->h, (void *)mr->base);
            snprintf(c->note, sizeof c->note, "remove region %zu -> %d", k, rc);
        } else {                  /* the memory was the caller's meanwhile: it holds anything */
            memset((void *)mr->base, 0xA5, mr->given);
            mrc = model_readd_region(&c->m, k);
            rc = heap_add_region_reserve(&c->h, (void *)mr->base, mr->given, mr->reserve, 0);
            snprintf(c->note, sizeof c->note, "add region %zu back -> %d", k, rc);
        }
        if (rc != mrc)
            return fail(c, "%s: returned %d, model expects %d", c->note, rc, mrc);
        break;
    case 1: {
        uintptr_t p = mr->base + (uintptr_t)op->off % mr->given, mb = 0, rb = 0;
        size_t mg = 0, rg = 0;
        void *start = NULL;
        mrc = model_region_if_empty(&c->m, p, &mb, &mg);
        rc = heap_region_if_empty(&c->h, (void *)p, &start, &rg);
        rb = rc ? (uintptr_t)start : 0;
        rg = rc ? rg : 0;
        snprintf(c->note, sizeof c->note, "region_if_empty(%s) -> %d", fmt_addr(b, p), rc);
        if (rc != mrc || rb != mb || rg != mg)
            return fail(c, "region_if_empty(%s) = %d (%s, %zu), model expects %d (%s, %zu)",
                        fmt_addr(b, p), rc, fmt_addr(b2, rb), rg, mrc, fmt_addr(b3, mb), mg);
        break;
    }
    case 2: {
        size_t size = 4096 + op->c % 65536;
        uintptr_t lo = mr->base + (uintptr_t)op->off % mr->given - (uintptr_t)op->c % size;
        if (!model_overlaps(&c->m, lo, size)) {
            snprintf(c->note, sizeof c->note, "(overlaps nothing: skipped)");
            return 0;
        }
        rc = heap_add_region(&c->h, (void *)lo, size);
        snprintf(c->note, sizeof c->note, "add_region(%s, %zu) -> %d", fmt_addr(b, lo), size, rc);
        if (rc != -MEM_ERR_REGION_OVERLAP)
            return fail(c, "%s, expected %d (overlap)", c->note, -MEM_ERR_REGION_OVERLAP);
        break;
    }
    case 4: {                 /* shrink (refused), keep, grow, or past the reserve */
        size_t room = mr->reserve - mr->given, given = mr->given;
        size_t size = op->c % 4 == 0 ? given - op->c / 4 % 64 : given + op->c / 4 % (room + 129);
        mrc = model_extend_region(&c->m, k, size);
        rc = heap_region_extend(&c->h, (void *)mr->base, size);
        snprintf(c->note, sizeof c->note, "extend region %zu from %zu to %zu -> %d", k, given,
                 size, rc);
        if (rc != mrc)
            return fail(c, "%s: model expects %d", c->note, mrc);
        break;
    }
    case 3: {
        static const char *const kinds[] = { "NULL", "wrapping", "small" };
        uintptr_t lo = op->c % 3 == 0 ? 0 : op->c % 3 == 1 ? ~(uintptr_t)4095 : mr->base;
        size_t size = op->c % 3 == 2 ? op->c / 3 % 128 : 8192;
        int want = op->c % 3 == 2 ? -MEM_ERR_REGION_SMALL : -MEM_ERR_REGION_RANGE;
        rc = heap_add_region(&c->h, (void *)lo, size);
        snprintf(c->note, sizeof c->note, "add_region(%s, %zu) [%s] -> %d", fmt_addr(b, lo), size,
                 kinds[op->c % 3], rc);
        if (rc != want)
            return fail(c, "%s, expected %d", c->note, want);
    }
    }
    if (rec_count)
        return fail(c, "region call reported %s to the error handler", err_name(rec_err));
    return full_check(c);
}

static int exec_op(struct ctx *c, const struct op *op)
{
    unsigned k = op->slot % H_SLOTS;
    struct slot *s = &c->s[k];
    c->note[0] = 0;
    switch (op->kind % OP_KINDS) {
    case OP_ALLOC:
    case OP_CALLOC:
    case OP_ALIGNED: {
        if (s->p && free_slot(c, k))
            return 1;
        uintptr_t q, mq;
        size_t align = 0, zeroed = 0;
        const char *what;
        rec_reset();
        if (op->kind == OP_ALLOC) {
            what = "alloc";
            mq = model_alloc(&c->m, op->a);
            q = (uintptr_t)heap_alloc(&c->h, op->a);
        } else if (op->kind == OP_CALLOC) {
            what = "calloc";
            mq = model_calloc(&c->m, op->a, op->b);
            q = (uintptr_t)heap_calloc(&c->h, op->a, op->b);
            zeroed = q ? op->a * op->b : 0;
        } else {
            what = "aligned_alloc";
            mq = model_aligned_alloc(&c->m, op->a, op->b);
            q = (uintptr_t)heap_aligned_alloc(&c->h, op->a, op->b);
            align = op->a;
        }
        if (check_report(c, MEM_OK, 0, what))
            return 1;
        return got_block(c, k, q, mq, align, zeroed, what);
    }
    case OP_REALLOC:
        return realloc_slot(c, k, op->a);
    case OP_FREE:
        return free_slot(c, k);
    case OP_USABLE: {
        enum mem_error me;
        size_t mu = model_usable_size(&c->m, s->p, &me);
        rec_reset();
        size_t u = heap_usable_size(&c->h, (void *)s->p);
        if (u != mu || rec_count)
            return fail(c, "usable_size(s%u) = %zu (%d reports), model expects %zu", k, u,
                        rec_count, mu);
        snprintf(c->note, sizeof c->note, "-> %zu", u);
        return check_fill(c, k);
    }
    case OP_BAD:
        return exec_bad(c, op);
    default:
        return exec_region(c, op);
    }
}

/* ---- Whole-state comparisons ------------------------------------------------------------------- */

static int compare_stats(struct ctx *c)
{
    struct mem_stats r;
    struct mstats m;
    heap_stats(&c->h, &r);
    model_stats(&c->m, &m);
#define SAME(f)                                                                               \
    if ((uint64_t)r.f != (uint64_t)m.f)                                                       \
        return fail(c, "stats." #f " = %llu, model expects %llu", (unsigned long long)r.f,    \
                    (unsigned long long)m.f);
    SAME(total_bytes) SAME(free_bytes) SAME(used_bytes) SAME(largest_free) SAME(free_blocks)
    SAME(used_blocks) SAME(peak_used_bytes) SAME(min_free_bytes) SAME(region_count)
    SAME(overhead_bytes)
    SAME(alloc_count) SAME(free_count) SAME(failed_count) SAME(error_count)
#undef SAME
    if (m.used_bytes != c->m.used)
        return fail(c, "model inconsistent: used %zu by spans, %zu counted", m.used_bytes, c->m.used);
    return 0;
}

struct walkcmp {
    const struct model *m;
    size_t i;
    char msg[200];
};

static void walk_visit(void *ctx, void *ptr, size_t size, int used)
{
    struct walkcmp *w = ctx;
    char b[32], b2[32];
    if (w->msg[0])
        return;
    if (w->i == w->m->n) {
        snprintf(w->msg, sizeof w->msg, "walk: real heap has an extra block %s (%zu, %s)",
                 fmt_addr(b, (uintptr_t)ptr), size, used ? "used" : "free");
        return;
    }
    const struct mspan *s = &w->m->s[w->i++];
    if ((uintptr_t)ptr != s->addr || size != s->size || !used != !s->used)
        snprintf(w->msg, sizeof w->msg, "walk: real block %s (%zu usable, %s), model %s (%zu, %s)",
                 fmt_addr(b, (uintptr_t)ptr), size, used ? "used" : "free",
                 fmt_addr(b2, s->addr), s->size, s->used ? "used" : "free");
}

static int full_check(struct ctx *c)
{
    int problems = heap_check(&c->h);
    if (problems)
        return fail(c, "heap_check found %d problem(s)", problems);
    struct walkcmp w = { &c->m, 0, "" };
    heap_walk(&c->h, walk_visit, &w);
    if (!w.msg[0] && w.i != c->m.n)
        snprintf(w.msg, sizeof w.msg, "walk: real heap lacks the model's blocks from #%zu", w.i);
    if (w.msg[0])
        return fail(c, "%s", w.msg);
    c->res->checks++;
    return 0;
}

static int sweep_fills(struct ctx *c)
{
    for (unsigned k = 0; k < H_SLOTS; k++)
        if (check_fill(c, k))
            return 1;
    return 0;
}

/* ---- Setting up ---------------------------------------------------------------------------- */

struct initwalk {
    struct ctx *c;
    int bad;
};

static void init_visit(void *ctx, void *ptr, size_t size, int used)
{
    struct initwalk *iw = ctx;
    struct ctx *c = iw->c;
    uintptr_t first = (uintptr_t)ptr, a = arena_base();
    const struct region_spec *r = layouts[c->o->layout % H_LAYOUTS].r;
    for (int i = 0; i < 4 && r[i].size; i++)
        if (first >= a + r[i].off && first < a + r[i].off + r[i].size) {
            if (used || model_add_region(&c->m, a + r[i].off, r[i].size,
                                         region_reserve(c->o->layout, i), first,
                                         first + size) != 0)
                iw->bad = 1;
            return;
        }
    iw->bad = 1;
}

static int setup(struct ctx *c)
{
    const struct region_spec *r = layouts[c->o->layout % H_LAYOUTS].r;
    uintptr_t a = arena_base();
    mem_set_error_handler(recorder);
    model_init(&c->m);
    for (int i = 0; i < 4 && r[i].size; i++)       /* not zero unless declared so */
        memset((void *)(a + r[i].off), c->o->zeroed ? 0 : 0xA5, r[i].size);
    int rc = heap_init(&c->h, (void *)(a + r[0].off), r[0].size);
    for (int i = 1; rc == 0 && i < 4 && r[i].size; i++)
        rc = heap_add_region_reserve(&c->h, (void *)(a + r[i].off), r[i].size,
                                     region_reserve(c->o->layout, i), 0);
    if (rc)
        return fail(c, "setup: heap_init/add_region refused layout %d: %d", c->o->layout, rc);
    struct initwalk iw = { c, 0 };
    heap_walk(&c->h, init_visit, &iw);
    size_t n = 0;
    for (int i = 0; i < 4 && r[i].size; i++)
        n++;
    if (iw.bad || c->m.nr != n)
        return fail(c, "setup: the fresh heap's walk is not one free block per region");
    for (int i = 0; c->o->zeroed && i < 4 && r[i].size; i++)
        heap_region_zeroed(&c->h, (void *)(a + r[i].off));
    if (c->o->poison)
        heap_set_poison(&c->h, 1);
    return compare_stats(c) || full_check(c);
}

static void describe_op(char *buf, size_t len, const struct op *op);

static int due(const struct harness_opts *o, size_t i)
{
    return i < o->check_all || (o->check_every && (i + 1) % o->check_every == 0);
}

static void run(const struct harness_opts *o, const struct op *ops, size_t n,
                struct run_result *res, int trace)
{
    static struct ctx c;            /* large; one run at a time */
    memset(&c, 0, sizeof c);
    c.o = o;
    c.res = res;
    c.trace = trace;
    res->fail_at = -1;
    res->msg[0] = 0;
    res->ops_done = res->checks = 0;
    if (setup(&c)) {
        res->fail_at = 0;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        c.opi = i;
        res->current = i;
        if (trace) {
            char d[160];
            describe_op(d, sizeof d, &ops[i]);
            printf("  #%-6zu %-44s ", i, d);
            fflush(stdout);
        }
        int bad = exec_op(&c, &ops[i]) || compare_stats(&c) ||
                  (due(o, i) && full_check(&c)) || ((i + 1) % 256 == 0 && sweep_fills(&c)) ||
                  (i + 1 == n && (full_check(&c) || sweep_fills(&c)));
        res->ops_done = i + 1;
        if (trace) {
            printf("%s\n", c.note);
            fflush(stdout);
        }
        if (bad) {
            res->fail_at = (long)i;
            break;
        }
    }
out:
    res->allocs = c.m.allocs;
    res->frees = c.m.frees;
    res->failed = c.m.failed;
    res->errors = c.m.errors;
    model_destroy(&c.m);
}

void run_ops(const struct harness_opts *o, const struct op *ops, size_t n, struct run_result *res)
{
    run(o, ops, n, res, 0);
}

/* Run in a child process, so that a crash of the real heap is a result like any other. */
static void run_child(const struct harness_opts *o, const struct op *ops, size_t n,
                      struct run_result *res, int trace)
{
    static struct run_result *shared;
    if (!shared) {
        shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared == MAP_FAILED) {
            perror("mmap");
            exit(2);
        }
    }
    memset(shared, 0, sizeof *shared);
    shared->current = (size_t)-1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        run(o, ops, n, shared, trace);
        memcpy(shared->paths, model_paths, sizeof model_paths);
        fflush(stdout);
        _exit(shared->fail_at >= 0 ? 1 : 0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    *res = *shared;
    if (WIFEXITED(status) && WEXITSTATUS(status) <= 1)
        memcpy(model_paths, shared->paths, sizeof model_paths);
    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) > 1)) {
        res->crashed = 1;
        res->fail_at = (long)shared->current;
        if (WIFSIGNALED(status))
            snprintf(res->msg, sizeof res->msg, "CRASH: signal %d (%s) during op #%ld",
                     WTERMSIG(status), strsignal(WTERMSIG(status)), res->fail_at);
        else
            snprintf(res->msg, sizeof res->msg, "CRASH: exit status %d during op #%ld",
                     WEXITSTATUS(status), res->fail_at);
        if (res->fail_at < 0)
            res->fail_at = 0;
    }
}

void run_ops_isolated(const struct harness_opts *o, const struct op *ops, size_t n,
                      struct run_result *res)
{
    run_child(o, ops, n, res, 0);
}

/* ---- Printing and shrinking ------------------------------------------------------------------- */

static void describe_op(char *buf, size_t len, const struct op *op)
{
    unsigned k = op->slot % H_SLOTS;
    static const char *const calls[] = { "free", "realloc", "usable_size" };
    char t[64], b[32];
    switch (op->kind % OP_KINDS) {
    case OP_ALLOC:   snprintf(buf, len, "s%u = alloc(%zu)", k, op->a); break;
    case OP_CALLOC:  snprintf(buf, len, "s%u = calloc(%zu, %zu)", k, op->a, op->b); break;
    case OP_ALIGNED: snprintf(buf, len, "s%u = aligned_alloc(%zu, %zu)", k, op->a, op->b); break;
    case OP_REALLOC: snprintf(buf, len, "s%u = realloc(s%u, %zu)", k, k, op->a); break;
    case OP_FREE:    snprintf(buf, len, "free(s%u)", k); break;
    case OP_USABLE:  snprintf(buf, len, "usable_size(s%u)", k); break;
    case OP_REGION: {
        static const char *const what[] = { "remove or re-add", "region_if_empty in",
                                             "add a range overlapping", "add a bad range at",
                                             "extend" };
        snprintf(buf, len, "%s region %zu (off %ld, c %zu)", what[op->b % 5], op->a,
                 (long)op->off, op->c);
        break;
    }
    default:
        switch (op->target % BT_KINDS) {
        case BT_PREV:  snprintf(t, sizeof t, "old s%u", k); break;
        case BT_OFF:   snprintf(t, sizeof t, "s%u %+ld", k, (long)op->off); break;
        case BT_ARENA: snprintf(t, sizeof t, "%s",
                                fmt_addr(b, arena_base() + (uintptr_t)op->off % (ARENA_SPAN + 0x1000)));
                       break;
        default:       snprintf(t, sizeof t, "%s", fmt_addr(b, (uintptr_t)op->off)); break;
        }
        if (op->call % BC_KINDS == BC_REALLOC)
            snprintf(buf, len, "bad realloc(%s, %zu)", t, op->a);
        else
            snprintf(buf, len, "bad %s(%s)", calls[op->call % BC_KINDS], t);
    }
}

void print_ops(const struct harness_opts *o, const struct op *ops, size_t n)
{
    struct run_result res;
    struct harness_opts full = *o;
    full.check_all = (size_t)-1;
    run_child(&full, ops, n, &res, 1);
    if (res.crashed)
        printf("\n");
    if (res.fail_at >= 0)
        printf("  FAILS at #%ld: %s\n", res.fail_at, res.msg);
    else
        printf("  (passes when replayed)\n");
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

size_t shrink_ops(const struct harness_opts *o, struct op *ops, size_t n)
{
    struct harness_opts full = *o;
    struct run_result res;
    full.check_all = (size_t)-1;
    run_ops_isolated(&full, ops, n, &res);
    if (res.fail_at < 0) {
        printf("shrink: the list passes with every check on: cannot shrink\n");
        return n;
    }
    n = (size_t)res.fail_at + 1;
    int crashed = res.crashed;              /* keep the kind of failure: a crash, or a difference */
    struct op *cand = malloc((n ? n : 1) * sizeof *cand);
    double start = now();
    size_t chunk = n / 2 ? n / 2 : 1, replays = 0;
    for (;;) {
        int progress = 0;
        for (size_t at = 0; at < n && n > 1;) {
            size_t len = chunk < n - at ? chunk : n - at;
            memcpy(cand, ops, at * sizeof *ops);
            memcpy(cand + at, ops + at + len, (n - at - len) * sizeof *ops);
            run_ops_isolated(&full, cand, n - len, &res);
            replays++;
            if (res.fail_at >= 0 && res.crashed == crashed) {
                n = (size_t)res.fail_at + 1;
                memcpy(ops, cand, n * sizeof *ops);
                progress = 1;
            } else {
                at += len;
            }
            if (now() - start > 120) {
                printf("shrink: stopped after 120 s (%zu replays); the list may not be minimal\n",
                       replays);
                free(cand);
                return n;
            }
        }
        if (!progress) {
            if (chunk == 1)
                break;
            chunk /= 2;
        } else if (chunk > n / 2 && n > 1) {
            chunk = n / 2;
        }
    }
    printf("shrink: %zu replays, %.1f s, %zu op(s) left (removing any one makes it pass)\n",
           replays, now() - start, n);
    free(cand);
    return n;
}

void report_failure(const struct harness_opts *o, struct op *ops, size_t n, const struct run_result *res)
{
    printf("MISMATCH at op #%ld (layout %d: %s%s%s): %s\n", res->fail_at, o->layout,
           layout_name(o->layout), o->poison ? ", poison on" : "",
           o->zeroed ? ", zeroed regions" : "", res->msg);
    size_t upto = (size_t)res->fail_at + 1;
    size_t m = shrink_ops(o, ops, upto < n ? upto : n);
    printf("minimal operation list (fresh heap, layout %d%s%s; A = arena base, 1 MiB aligned;"
           " sN = slot N):\n", o->layout, o->poison ? ", heap_set_poison(h, 1)" : "",
           o->zeroed ? ", regions zeroed + heap_region_zeroed" : "");
    print_ops(o, ops, m);
    fflush(stdout);
}
