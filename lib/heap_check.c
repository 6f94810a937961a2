/* heap_check.c - looking inside a heap: the walker, the full validator, stats and the dump.
 *
 * These are O(blocks + tables) and never on the allocation path. They read the region tables
 * only, never a block's bytes, so whatever was written over the blocks cannot make them fault.
 * The validator also distrusts the tables themselves: it checks a region's descriptor against
 * the layout its base and sizes give before it follows any of its pointers, and the maps word
 * by word before it walks them, so a damaged table gets a report, never a crash or an endless
 * walk. The region tree's links, by which it finds the regions, are sealed (rbtree.c): it
 * follows none whose seal does not match. */
#include "annotate.h"
#include "index.h"
#include "heap_error.h"

/* ---- Walking ----------------------------------------------------------------------------- */

void heap_walk(struct heap *h, heap_visit_fn visit, void *ctx)
{
    for (struct region *r = region_first(h); r; r = region_next(r))
        for (size_t g = 0, end; g < r->granules; g = end) {
            end = start_after(r, g);
            visit(ctx, gran_addr(r, g), (end - g) * GRANULE, !is_free(r, g));
        }
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
    size_t total, used, free, used_blocks, free_blocks, overhead;
};

static mapword word_mask(size_t from, size_t to, size_t w)  /* bits of word w in [from, to) */
{
    size_t lo = w * MAP_BITS, hi = lo + MAP_BITS;
    mapword m = ~(mapword)0;
    if (from > lo)
        m &= from - lo >= MAP_BITS ? 0 : ~(mapword)0 << (from - lo);
    if (to < hi)
        m &= to <= lo ? 0 : ~(mapword)0 >> (hi - to);
    return m;
}

/* The maps, word by word, before anything walks them: the sentinel, nothing beyond it, every
 * skip bit right. 0 if a walk is safe. */
static int check_maps(struct checker *c, const struct region *r)
{
    int before = c->problems;
    if (r->granules == 0 || r->granules > r->capacity || !is_start(r, 0) || !is_start(r, r->granules))
        problem(c, "block map has lost its first block or its end", r->first);
    for (size_t w = (r->granules + 1) / MAP_BITS; w < r->map_words; w++) {
        mapword beyond = word_mask(r->granules + 1, (r->map_words) * MAP_BITS, w);
        if ((r->start[w] | r->mark[w]) & beyond) {
            problem(c, "block map marks granules beyond the region's end", gran_addr(r, w * MAP_BITS));
            break;
        }
    }
    if (map_get(r->mark, r->granules))
        problem(c, "end sentinel marked free", region_end(r));
    for (size_t k = 0; k < r->skip_levels; k++) {
        const mapword *below = k ? r->skip[k - 1] : r->start;
        size_t n = r->map_words;
        for (size_t i = 0; i < k; i++)
            n = (n + MAP_BITS - 1) / MAP_BITS;
        mapword want = 0;                /* skip word i / MAP_BITS, built from the words below */
        for (size_t i = 0; i < n; i++) {
            want |= (mapword)(below[i] != 0) << (i % MAP_BITS);
            if (i % MAP_BITS == MAP_BITS - 1 || i == n - 1) {
                if (r->skip[k][i / MAP_BITS] != want) {
                    problem(c, "skip bits disagree with the start map", r->skip[k]);
                    return 1;
                }
                want = 0;
            }
        }
    }
    return c->problems != before;
}

/* The descriptor, before any of its pointers is followed: every pointer and size of the layout
 * as region_layout gives it for the descriptor's own base, given and reserve (a wild write
 * changes one of them, or the base, which moves the expected descriptor off r), and the sizes
 * the tables are walked by within it. Arithmetic on the descriptor's words only. 0 if intact. */
static int check_descriptor(struct checker *c, const struct region *r)
{
    uintptr_t lo = (uintptr_t)r->base, hi = lo + r->given, top = lo + r->reserve;
    struct layout l;
    struct region want;
    int ok = hi >= lo && top >= hi && region_layout(lo, hi, top, &l) && l.desc == (uintptr_t)r &&
             l.first == (uintptr_t)r->first;
    if (ok) {
        tables_layout(&want, (char *)l.tables, l.capacity);
        ok = r->capacity == want.capacity && r->map_words == want.map_words &&
             r->start == want.start && r->mark == want.mark && r->leaf == want.leaf &&
             r->skip_levels == want.skip_levels && r->sum_levels == want.sum_levels &&
             r->granules >= 1 && r->granules <= r->capacity &&
             (uintptr_t)region_end(r) <= hi && r->sum_reach >= 1 && r->sum_reach <= r->sum_levels &&
             (r->wild == NONE || r->wild < r->granules) &&
             (r->cut == NONE || (r->cut < r->cut_end && r->cut_end < r->granules)) &&
             r->top >= r->first && r->top <= region_end(r) &&
             r->clean >= r->first && r->clean <= region_end(r);
        for (size_t k = 0; ok && k < want.skip_levels; k++)
            ok = r->skip[k] == want.skip[k];
        for (size_t k = 0; ok && k < want.sum_levels; k++)
            ok = r->sum[k] == want.sum[k] && r->sat[k] == want.sat[k] && r->sum_size[k] == want.sum_size[k];
    }
    if (!ok)
        problem(c, "region descriptor damaged (not the layout its base and sizes give)", r);
    return !ok;
}

/* Walk one region's blocks, checking invariants 1-3 and adding up the totals. */
static void check_region(struct checker *c, struct region *r, struct totals *t)
{
    t->overhead += r->given - r->granules * GRANULE;
    if (check_descriptor(c, r) || check_maps(c, r))
        return;
    int prev_free = 0;
    for (size_t g = 0, end; g < r->granules; g = end) {
        end = start_after(r, g);
        size_t size = (end - g) * GRANULE;
        int free = is_free(r, g);
        /* marks inside the block: none, but a used block's aligned mark at its second granule */
        for (size_t w = (g + 1) / MAP_BITS; w <= (end - 1) / MAP_BITS && end > g + 1; w++) {
            mapword inside = r->mark[w] & word_mask(g + 1, end, w);
            if (!free && (g + 1) / MAP_BITS == w)
                inside &= ~((mapword)1 << ((g + 1) % MAP_BITS));
            if (inside) {
                problem(c, "mark inside a block", gran_addr(r, g));
                break;
            }
        }
        if (free) {
            if (prev_free)
                problem(c, "two free blocks are adjacent", gran_addr(r, g));
            t->free += size;
            t->free_blocks++;
        } else {
            if (is_aligned(r, g) && end - g < MIN_ALIGNED)
                problem(c, "aligned block smaller than two granules", gran_addr(r, g));
            t->used += size;
            t->used_blocks++;
        }
        t->total += size;
        prev_free = free;
    }
    if (index_check(r))
        problem(c, "free-block summary disagrees with the maps", r->leaf);
}

static int check_all(struct heap *h, heap_write_fn write, void *ctx)
{
    struct out o = { write, ctx };
    struct checker c = { &o, 0 };
    struct totals t = { 0, 0, 0, 0, 0, 0 };
    size_t regions = 0;
    if (rb_check(h->regions)) {          /* its links cannot be trusted: nothing more to walk */
        problem(&c, "region tree links, colours or maxima broken", h);
        return c.problems;
    }
    for (struct region *r = region_first(h); r && regions <= h->region_count; r = region_next(r), regions++)
        check_region(&c, r, &t);
    if (regions != h->region_count || t.total != h->total_bytes || t.used != h->used_bytes ||
        t.free != h->free_bytes || t.used_blocks != h->used_blocks ||
        t.free_blocks != h->free_blocks || t.overhead != h->overhead_bytes)
        problem(&c, "heap counters differ from the walk", h);
    return c.problems;
}

int heap_check_report(struct heap *h, heap_write_fn write, void *ctx)
{
    ANNOTATE_ENTER();
    int problems = check_all(h, write, ctx);
    ANNOTATE_LEAVE();
    return problems;
}

int heap_check(struct heap *h) { return heap_check_report(h, NULL, NULL); }

/* ---- Stats and dump --------------------------------------------------------------------- */

void heap_stats(struct heap *h, struct mem_stats *s)
{
    size_t largest = index_largest(h) * GRANULE;
    s->total_bytes = h->total_bytes;
    s->free_bytes = h->free_bytes;
    s->used_bytes = h->used_bytes;
    s->largest_free = largest > MAX_REQUEST ? MAX_REQUEST : largest;
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

static void out_kv(struct out *o, const char *key, uintmax_t v)
{
    out_str(o, " ");
    out_str(o, key);
    out_str(o, " ");
    out_num(o, v, 10, 0);
}

/* One line per block: payload address, offset of the block from its region, state, size. */
static void dump_region(struct out *o, size_t index, const struct region *r)
{
    out_str(o, "region ");
    out_num(o, index, 10, 0);
    out_str(o, " at 0x");
    out_num(o, (uintptr_t)r->base, 16, 8);
    out_kv(o, "size", r->given);
    out_str(o, "\n");
    for (size_t g = 0, end; g < r->granules; g = end) {
        end = start_after(r, g);
        out_str(o, "  0x");
        out_num(o, (uintptr_t)gran_addr(r, g), 16, 8);
        out_str(o, " +0x");
        out_num(o, (uintptr_t)(gran_addr(r, g) - r->base), 16, 6);
        out_str(o, is_free(r, g) ? " free " : " used ");
        out_num(o, (end - g) * GRANULE, 10, 10);
        out_str(o, " bytes\n");
    }
}

void heap_dump(struct heap *h, heap_write_fn write, void *ctx)
{
    struct out o = { write, ctx };
    struct mem_stats s;
    size_t i = 0;
    for (struct region *r = region_first(h); r; r = region_next(r))
        dump_region(&o, i++, r);
    heap_stats(h, &s);
    /* Fragmentation: the share of free memory outside the largest free block. */
    size_t largest = index_largest(h) * GRANULE;
    uint64_t frag = s.free_bytes ? (uint64_t)(s.free_bytes - largest) * 10000 / s.free_bytes : 0;
    int problems = heap_check(h);
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
