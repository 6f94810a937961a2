/* util.c - the helpers of case_util.h: PRNG, stamps, walk snapshots, the recording handler. */
#include "case_util.h"

uint32_t case_seed_override;
unsigned case_scale = 1;

_Alignas(64) unsigned char case_arena_big[ARENA_BIG];
_Alignas(64) unsigned char case_arena_small[ARENA_SMALL];

size_t t_align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

size_t t_block_size(size_t n)
{
    size_t s = t_align_up(n + T_WORD, MEM_ALIGN);
    return s < T_MIN_BLOCK ? T_MIN_BLOCK : s;
}

uint32_t case_seed(uint32_t fallback) { return case_seed_override ? case_seed_override : fallback; }

/* ---- xorshift32 ----------------------------------------------------------------------- */

void rng_seed(struct rng *r, uint32_t seed) { r->s = seed ? seed : 0x9E3779B9u; }

uint32_t rng_next(struct rng *r)
{
    uint32_t x = r->s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return r->s = x;
}

uint32_t rng_below(struct rng *r, uint32_t n) { return rng_next(r) % n; }

/* ---- Stamps --------------------------------------------------------------------------- */

#define STAMP_BYTES 32

static unsigned char stamp_byte(uint32_t tag, size_t i)
{
    return (unsigned char)((tag * 2654435761u) >> 24 ^ (uint32_t)i * 37u ^ 0x5Au);
}

/* The first and the last STAMP_BYTES bytes (the whole block when it is shorter). */
void stamp(void *p, size_t n, uint32_t tag)
{
    unsigned char *c = p;
    size_t head = n < STAMP_BYTES ? n : STAMP_BYTES;
    for (size_t i = 0; i < head; i++)
        c[i] = stamp_byte(tag, i);
    for (size_t i = n - head; i < n; i++)
        c[i] = stamp_byte(tag, i);
}

int stamp_ok(const void *p, size_t n, uint32_t tag)
{
    const unsigned char *c = p;
    size_t head = n < STAMP_BYTES ? n : STAMP_BYTES;
    for (size_t i = 0; i < head; i++)
        if (c[i] != stamp_byte(tag, i))
            return 0;
    for (size_t i = n - head; i < n; i++)
        if (c[i] != stamp_byte(tag, i))
            return 0;
    return 1;
}

int all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != v)
            return 0;
    return 1;
}

/* ---- Walks ---------------------------------------------------------------------------- */

static void walk_visit(void *ctx, void *ptr, size_t size, int used)
{
    struct walk *w = ctx;
    if (w->n == WALK_MAX) {
        w->overflow = 1;
        return;
    }
    w->b[w->n].ptr = (uintptr_t)ptr;
    w->b[w->n].size = size;
    w->b[w->n].used = used;
    w->n++;
}

void walk_take(struct heap *h, struct walk *w)
{
    w->n = 0;
    w->overflow = 0;
    heap_walk(h, walk_visit, w);
}

int walk_equal(const struct walk *a, const struct walk *b)
{
    if (a->n != b->n || a->overflow || b->overflow)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->b[i].ptr != b->b[i].ptr || a->b[i].size != b->b[i].size ||
            a->b[i].used != b->b[i].used)
            return 0;
    return 1;
}

long walk_find(const struct walk *w, const void *p)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->b[i].ptr == (uintptr_t)p)
            return (long)i;
    return -1;
}

static struct walk stats_walk;

int stats_match_walk(struct heap *h)
{
    struct mem_stats s;
    size_t used_blocks = 0, free_blocks = 0, free_bytes = 0, used_bytes = 0, largest = 0;
    heap_stats(h, &s);
    walk_take(h, &stats_walk);
    if (stats_walk.overflow)
        return 1;
    for (size_t i = 0; i < stats_walk.n; i++) {
        const struct wblock *b = &stats_walk.b[i];
        if (b->used) {
            used_blocks++;
            used_bytes += b->size + T_WORD;
        } else {
            free_blocks++;
            free_bytes += b->size + T_WORD;
            if (b->size > largest)
                largest = b->size;
        }
    }
    /* Pads (alignment slack in front of an aligned block) are used bytes the walk skips:
     * each is smaller than a minimum block, and only aligned blocks have one. */
    int ok = s.used_blocks == used_blocks && s.free_blocks == free_blocks &&
             s.free_bytes == free_bytes && s.largest_free == largest &&
             s.used_bytes >= used_bytes && s.used_bytes - used_bytes < used_blocks * T_MIN_BLOCK + 1 &&
             s.total_bytes == s.used_bytes + s.free_bytes;
    if (!ok)
        case_printf("stats: used %zu/%zu blocks %zu/%zu free %zu/%zu blocks %zu/%zu largest %zu/%zu "
                    "(stats/walk)", s.used_bytes, used_bytes, s.used_blocks, used_blocks,
                    s.free_bytes, free_bytes, s.free_blocks, free_blocks, s.largest_free, largest);
    return !ok;
}

int stats_state_equal(const struct mem_stats *a, const struct mem_stats *b)
{
    return a->free_bytes == b->free_bytes && a->used_bytes == b->used_bytes &&
           a->largest_free == b->largest_free && a->free_blocks == b->free_blocks &&
           a->used_blocks == b->used_blocks && a->total_bytes == b->total_bytes;
}

/* ---- Exact snapshots ---------------------------------------------------------------------- */

struct walk snap_walk;
static struct walk snap_walk_now;
static unsigned char snap_copy[ARENA_SMALL];

void snapshot_take(struct heap *h, struct snapshot *s, const void *mem, size_t len)
{
    heap_stats(h, &s->stats);
    walk_take(h, &snap_walk);
    s->mem = mem;
    s->len = len <= sizeof snap_copy ? len : sizeof snap_copy;
    memcpy(snap_copy, mem, s->len);
}

int snapshot_same(struct heap *h, const struct snapshot *s, uint64_t errors, uint64_t failed)
{
    struct mem_stats now = { 0 }, want = s->stats;
    heap_stats(h, &now);
    walk_take(h, &snap_walk_now);
    want.error_count += errors;
    want.failed_count += failed;
    int same_stats = memcmp(&now, &want, sizeof now) == 0;
    int same_walk = walk_equal(&snap_walk, &snap_walk_now);
    int same_bytes = memcmp(snap_copy, s->mem, s->len) == 0;
    if (!same_stats || !same_walk || !same_bytes)
        case_printf("heap changed: stats %s, walk %s, bytes %s (errors %lu, expected %lu; "
                    "failed %lu, expected %lu)",
                    same_stats ? "same" : "DIFFER", same_walk ? "same" : "DIFFER",
                    same_bytes ? "same" : "DIFFER", (unsigned long)now.error_count,
                    (unsigned long)want.error_count, (unsigned long)now.failed_count,
                    (unsigned long)want.failed_count);
    return same_stats && same_walk && same_bytes ? 0 : 1;
}

/* ---- The recording handler ---------------------------------------------------------------- */

struct err_log err_log;

static void err_record(enum mem_error err, const void *ptr)
{
    err_log.count++;
    err_log.err = err;
    err_log.ptr = ptr;
}

void err_log_clear(void)
{
    err_log.count = 0;
    err_log.err = MEM_OK;
    err_log.ptr = NULL;
}

mem_error_fn err_record_begin(void)
{
    err_log_clear();
    return mem_set_error_handler(err_record);
}

void err_record_end(mem_error_fn previous)
{
    mem_set_error_handler(previous);
}
