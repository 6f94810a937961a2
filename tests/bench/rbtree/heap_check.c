/* Frozen benchmark baseline: the red-black-tree design of lib/heap_check.c at commit 6dbb346, copied
 * unchanged below this comment for tests/bench (bench-rbtree). Do not edit; see README.md here. */
/* heap_check.c - looking inside a heap: the walker, the full validator, stats and the dump.
 *
 * These are O(blocks) and never on the allocation path. The validator trusts nothing it reads:
 * every size is checked before it is used to step, so a corrupted heap gets a report, never a
 * crash or an endless walk. */
#include "annotate.h"
#include "heap_internal.h"

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

static void out_kv(struct out *o, const char *key, uintmax_t v)
{
    out_str(o, " ");
    out_str(o, key);
    out_str(o, " ");
    out_num(o, v, 10, 0);
}

/* ---- Walking ----------------------------------------------------------------------------- */

/* Can the walk step over b to the next block? (b lies in [first, end) of r.) */
static int step_ok(const struct region *r, const block *b)
{
    size_t size = bsize(b);
    return size >= GRANULE && size <= (size_t)(r->end - (const char *)b);
}

void heap_walk(struct heap *h, heap_visit_fn visit, void *ctx)
{
    ANNOTATE_ENTER();
    for (struct region *r = region_first(h); r; r = region_next(r))
        for (block *b = block_at(r->first); (char *)b < r->end && step_ok(r, b); b = bnext(b))
            if (!(b->head & F_PAD))
                visit(ctx, bpayload(b), bsize(b) - WORD, bused(b));
    ANNOTATE_LEAVE();
}

/* ---- The validator ---------------------------------------------------------------------- */

struct checker {
    struct out *o;
    int problems;
};

static void problem(struct checker *c, const char *what, const void *where)
{
    c->problems++;
    if (c->o && c->o->write) {
        out_str(c->o, "check: ");
        out_str(c->o, what);
        out_str(c->o, " at 0x");
        out_num(c->o, (uintptr_t)where, 16, 0);
        out_str(c->o, "\n");
    }
}

struct totals {
    size_t total, used, free, used_blocks, free_blocks, largest;
};

/* Set bits in the bitmap. It is mostly zeros, so whole zero words are skipped (the bitmap
 * starts word-aligned, right after the region descriptor). */
static size_t bits_set(const uint8_t *map, size_t bytes)
{
    size_t n = 0, i = 0;
    for (; i + WORD <= bytes; i += WORD) {
        size_t v = *(const size_t *)(const void *)(map + i);
        for (; v; v &= v - 1)
            n++;
    }
    for (; i < bytes; i++)
        for (unsigned v = map[i]; v; v &= v - 1)
            n++;
    return n;
}

/* Walk one region's blocks, checking invariants 1-5 and adding up the totals. */
static void check_region(struct checker *c, struct heap *h, struct region *r, struct totals *t)
{
    size_t blocks = 0;
    int prev_used = 1;
    block *b = block_at(r->first);
    (void)h;
    while ((char *)b < r->end) {
        size_t size = bsize(b);
        int used = bused(b), pad = (b->head & F_PAD) != 0;
        if (size % GRANULE || size < (pad ? GRANULE : MIN_BLOCK) ||
            size > (size_t)(r->end - (char *)b)) {
            problem(c, "block size out of range", b);
            return;
        }
        if (pad && (!used || size >= MIN_BLOCK || !(bnext(b)->head & F_ALIGNED) || !bused(bnext(b))))
            problem(c, "pad not in front of an aligned block", b);
        if (!is_start(r, b))
            problem(c, "block start missing from the bitmap", b);
        if (bprev_used(b) != prev_used)
            problem(c, "prev-used flag disagrees with the previous block", b);
        if (!used) {
            if (*bfooter(b) != size)
                problem(c, "free block's foot differs from its head", b);
            if (!prev_used)
                problem(c, "two free blocks are adjacent", b);
            if (b->head & (F_ALIGNED | F_PAD))
                problem(c, "free block has allocation flags", b);
            t->free += size;
            t->free_blocks++;
            if (size > t->largest)
                t->largest = size;
        } else {
            t->used += size;
            t->used_blocks += !pad;
        }
        t->total += size;
        blocks++;
        prev_used = used;
        b = bnext(b);
    }
    if ((char *)b != r->end)
        problem(c, "blocks overrun the region's end", b);
    if (block_at(r->end)->head != (F_USED | (prev_used ? F_PREV_USED : 0)))
        problem(c, "end marker overwritten", r->end);
    if (!is_start(r, r->end))
        problem(c, "end marker missing from the bitmap", r->end);
    char *top = (char *)(((uintptr_t)r->base + r->reserve) & ~(GRANULE - 1)) - WORD;
    size_t map_bytes = ((size_t)(top - r->first) / GRANULE + 1 + 7) / 8;  /* up to the reserve */
    if (bits_set(r->starts, map_bytes) != blocks + 1)
        problem(c, "bitmap marks starts that are not blocks", r->starts);
}

/* Invariant 6: the index holds exactly the free blocks, in address order. */
static void check_index(struct checker *c, struct heap *h, const struct totals *t)
{
    size_t n = 0;
    block *last = NULL;
    for (block *f = free_first(h); f; f = free_next(h, f)) {
        struct region *r = region_of(h, f);
        if (!r || (char *)f < r->first || (char *)f >= r->end || !is_start(r, f) || bused(f)) {
            problem(c, "free index holds a block that is not free", f);
            return;
        }
        if (last && f <= last)
            problem(c, "free index out of address order", f);
        if (++n > t->free_blocks)
            break;
        last = f;
    }
    if (n != t->free_blocks)
        problem(c, "free index and the walk disagree on the free blocks", h);
    if (free_largest(h) != t->largest)
        problem(c, "free index's largest block is wrong", h);
    if (rb_check(h->regions) || free_index_check(h))
        problem(c, "tree links, colours or maxima broken", h);
}

static int check_all(struct heap *h, heap_write_fn write, void *ctx);

int heap_check_report(struct heap *h, heap_write_fn write, void *ctx)
{
    ANNOTATE_ENTER();
    int problems = check_all(h, write, ctx);
    ANNOTATE_LEAVE();
    return problems;
}

static int check_all(struct heap *h, heap_write_fn write, void *ctx)
{
    struct out o = { write, ctx };
    struct checker c = { &o, 0 };
    struct totals t = { 0, 0, 0, 0, 0, 0 };
    size_t regions = 0;
    for (struct region *r = region_first(h); r; r = region_next(r), regions++)
        check_region(&c, h, r, &t);
    if (c.problems)
        return c.problems;  /* the index would be walked over broken blocks */
    check_index(&c, h, &t);
    if (regions != h->region_count || t.total != h->total_bytes || t.used != h->used_bytes ||
        t.free != h->free_bytes || t.used_blocks != h->used_blocks ||
        t.free_blocks != h->free_blocks)
        problem(&c, "heap counters differ from the walk", h);
    return c.problems;
}

int heap_check(struct heap *h) { return heap_check_report(h, NULL, NULL); }

/* ---- Stats and dump --------------------------------------------------------------------- */

void heap_stats(struct heap *h, struct mem_stats *s)
{
    ANNOTATE_ENTER();
    size_t largest = free_largest(h);
    ANNOTATE_LEAVE();
    s->total_bytes = h->total_bytes;
    s->free_bytes = h->free_bytes;
    s->used_bytes = h->used_bytes;
    s->largest_free = largest ? largest - WORD : 0;
    if (s->largest_free > MAX_REQUEST)       /* a 32-bit heap can hold more than one request may ask */
        s->largest_free = MAX_REQUEST;
    s->free_blocks = h->free_blocks;
    s->used_blocks = h->used_blocks;
    s->peak_used_bytes = h->peak_used_bytes;
    s->min_free_bytes = h->min_free_bytes;
    s->region_count = h->region_count;
    s->overhead_bytes = h->overhead_bytes;
    s->alloc_count = h->alloc_count;
    s->free_count = h->free_count;
    s->failed_count = h->failed_count;
    s->error_count = h->error_count;
}

/* One line per block: payload address, offset of the block from its region, state, size. */
static void dump_region(struct out *o, size_t index, struct region *r)
{
    out_str(o, "region ");
    out_num(o, index, 10, 0);
    out_str(o, " at 0x");
    out_num(o, (uintptr_t)r->base, 16, 8);
    out_kv(o, "size", r->given);
    out_str(o, "\n");
    for (block *b = block_at(r->first); (char *)b < r->end && step_ok(r, b); b = bnext(b)) {
        out_str(o, "  0x");
        out_num(o, (uintptr_t)bpayload(b), 16, 8);
        out_str(o, " +0x");
        out_num(o, (uintptr_t)((char *)b - r->base), 16, 6);
        out_str(o, (b->head & F_PAD) ? " pad  " : bused(b) ? " used " : " free ");
        out_num(o, bsize(b), 10, 10);
        out_str(o, " bytes\n");
    }
}

void heap_dump(struct heap *h, heap_write_fn write, void *ctx)
{
    struct out o = { write, ctx };
    struct mem_stats s;
    size_t i = 0;
    ANNOTATE_ENTER();
    for (struct region *r = region_first(h); r; r = region_next(r))
        dump_region(&o, i++, r);
    heap_stats(h, &s);
    /* Fragmentation: the share of free memory outside the largest free block. */
    size_t largest = free_largest(h);
    uint64_t frag = s.free_bytes ? (uint64_t)(s.free_bytes - largest) * 10000 / s.free_bytes : 0;
    int problems = heap_check(h);
    ANNOTATE_LEAVE();
    out_str(&o, "summary:");
    out_kv(&o, "regions", s.region_count);
    out_kv(&o, "total", s.total_bytes);
    out_kv(&o, "used", s.used_bytes);
    out_kv(&o, "free", s.free_bytes);
    out_kv(&o, "largest", s.largest_free);
    out_kv(&o, "used_blocks", s.used_blocks);
    out_kv(&o, "free_blocks", s.free_blocks);
    out_str(&o, " fragmentation ");
    out_num(&o, frag / 100, 10, 0);
    out_str(&o, ".");
    out_num(&o, frag % 100 / 10, 10, 0);
    out_num(&o, frag % 10, 10, 0);
    out_str(&o, "% check ");
    if (problems) {
        out_num(&o, (uintmax_t)problems, 10, 0);
        out_str(&o, " problems\n");
    } else {
        out_str(&o, "ok\n");
    }
}
