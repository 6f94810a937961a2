/* model.c - the reference model (see model.h): a plain sorted array of spans, linear searches,
 * no index, no bitmaps. Written from the policy text of lib/heap.c, so that the
 * real allocator and this agree only if both implement that text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

uint64_t model_paths[MP_COUNT];
const char *const model_path_names[MP_COUNT] = {
    "split", "whole", "aligned-gap0", "aligned-gap-free", "merge-prev", "merge-next", "shrink-split", "shrink-merge", "shrink-keep", "grow-split",
    "grow-whole", "move", "move-aligned", "move-fail", "no-fit", "bad-size", "NOT_IN_HEAP",
    "MISALIGNED", "NOT_A_BLOCK", "DOUBLE_FREE", "FREED_POINTER", "FREE_MEMORY", "RETURNED",
    "region-removed",
    "region-busy", "region-readded", "region-extended",
};
#define PATH(p) (model_paths[p]++)

static uintptr_t up(uintptr_t v, uintptr_t a) { return (v + a - 1) / a * a; }
static int pow2(size_t a) { return a && !(a & (a - 1)); }

size_t model_block_size(size_t n, int aligned)
{
    if (n == 0 || n > M_MAX)
        return 0;
    size_t s = up(n, M_GRANULE), min = aligned ? M_MIN_ALIGNED : M_MIN;
    return s < min ? min : s;
}

void model_init(struct model *m)
{
    memset(m, 0, sizeof *m);
}

void model_destroy(struct model *m)
{
    free(m->s);
    memset(m, 0, sizeof *m);
}

/* ---- The span array -------------------------------------------------------------------------- */

static void insert_at(struct model *m, size_t i, struct mspan s)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 256;
        m->s = realloc(m->s, m->cap * sizeof *m->s);
        if (!m->s) {
            fprintf(stderr, "model: out of memory\n");
            abort();
        }
    }
    memmove(&m->s[i + 1], &m->s[i], (m->n - i) * sizeof *m->s);
    m->s[i] = s;
    m->n++;
}

static void remove_at(struct model *m, size_t i)
{
    memmove(&m->s[i], &m->s[i + 1], (m->n - i - 1) * sizeof *m->s);
    m->n--;
}

/* Index of the span holding address a, or m->n when none does. */
static size_t span_at(const struct model *m, uintptr_t a)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {                     /* first span whose addr > a */
        size_t mid = lo + (hi - lo) / 2;
        if (m->s[mid].addr <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return m->n;
    const struct mspan *s = &m->s[lo - 1];
    return a < s->addr + s->size ? lo - 1 : m->n;
}

/* Do spans i and i + 1 touch (same region)? */
static int touching(const struct model *m, size_t i)
{
    return i + 1 < m->n && m->s[i].addr + m->s[i].size == m->s[i + 1].addr;
}

static void note_used(struct model *m)
{
    if (m->used > m->peak)
        m->peak = m->used;
    if (m->total - m->used < m->min_free)
        m->min_free = m->total - m->used;
}

static int put_region(struct model *m, size_t k);

int model_add_region(struct model *m, uintptr_t base, size_t given, size_t reserve, uintptr_t first,
                     uintptr_t end)
{
    if (m->nr == MODEL_MAX_REGIONS || end <= first)
        return -1;
    m->r[m->nr++] = (struct mregion){ base, given, reserve, first, end, first, 0 };
    return put_region(m, m->nr - 1);
}

int model_readd_region(struct model *m, size_t k)
{
    PATH(MP_REGION_READDED);
    return put_region(m, k);
}

static int put_region(struct model *m, size_t k)
{
    struct mregion *r = &m->r[k];
    if (k >= m->nr || r->present)
        return -1;
    size_t i = 0;
    while (i < m->n && m->s[i].addr < r->first)
        i++;
    insert_at(m, i, (struct mspan){ r->first, r->end - r->first, 0, 0 });
    r->present = 1;
    r->top = r->first;
    m->total += r->end - r->first;
    m->min_free += r->end - r->first;
    return 0;
}

/* The index of present region r's only span if that span is free and covers it, else m->n. */
static size_t empty_span(const struct model *m, const struct mregion *r)
{
    size_t i = r->present ? span_at(m, r->first) : m->n;
    return i < m->n && !m->s[i].used && m->s[i].addr + m->s[i].size == r->end ? i : m->n;
}

int model_remove_region(struct model *m, size_t k)
{
    if (k >= m->nr)
        return -1;
    struct mregion *r = &m->r[k];
    size_t i = empty_span(m, r), bytes = r->end - r->first;
    PATH(i == m->n ? MP_REGION_BUSY : MP_REGION_REMOVED);
    if (i == m->n)
        return -1;
    remove_at(m, i);
    r->present = 0;
    m->total -= bytes;
    m->min_free = m->min_free > bytes ? m->min_free - bytes : 0;
    return 0;
}

/* The end moves up to the last granule boundary of the new size; the new bytes lengthen a free
 * last block, or stand as a free block of their own. */
int model_extend_region(struct model *m, size_t k, size_t size)
{
    struct mregion *r = &m->r[k];
    if (k >= m->nr || !r->present || size < r->given || size > r->reserve)
        return -MEM_ERR_REGION_RANGE;
    uintptr_t end = (r->base + size) & ~(uintptr_t)(M_GRANULE - 1);
    size_t more = end - r->end, i = span_at(m, r->end - 1);
    int last_free = !m->s[i].used;
    if (more) {
        if (last_free)
            m->s[i].size += more;
        else
            insert_at(m, i + 1, (struct mspan){ r->end, more, 0, 0 });
        r->end = end;
        m->total += more;
        m->min_free += more;
    }
    r->given = size;
    PATH(MP_REGION_EXTENDED);
    return 0;
}

int model_overlaps(const struct model *m, uintptr_t lo, size_t size)
{
    for (size_t k = 0; k < m->nr; k++)
        if (m->r[k].present && m->r[k].base < lo + size && m->r[k].base + m->r[k].reserve > lo)
            return 1;
    return 0;
}

/* ---- Policies ---------------------------------------------------------------------------------- */

/* The lowest-addressed free span of at least `size` bytes, or m->n. */
static size_t first_fit(const struct model *m, size_t size)
{
    for (size_t i = 0; i < m->n; i++)
        if (!m->s[i].used && m->s[i].size >= size)
            return i;
    return m->n;
}

/* Span i was handed out or grew: its region's top rises to its end. */
static void raise_top(struct model *m, size_t i)
{
    uintptr_t end = m->s[i].addr + m->s[i].size;
    for (size_t k = 0; k < m->nr; k++)
        if (m->r[k].present && m->s[i].addr >= m->r[k].first && m->s[i].addr < m->r[k].end &&
            end > m->r[k].top)
            m->r[k].top = end;
}

/* Hand out the low `need` bytes of free span i; the rest stays free if it can stand. */
static void take(struct model *m, size_t i, size_t need, int aligned)
{
    struct mspan *s = &m->s[i];
    if (s->size - need >= M_MIN) {
        struct mspan rest = { s->addr + need, s->size - need, 0, 0 };
        s->size = need;
        insert_at(m, i + 1, rest);
        s = &m->s[i];
        PATH(MP_SPLIT);
    } else {
        PATH(MP_WHOLE);
    }
    s->used = 1;
    s->aligned = (unsigned char)aligned;
    m->used += s->size;
    raise_top(m, i);
    note_used(m);
}

uintptr_t model_alloc(struct model *m, size_t n)
{
    size_t need = model_block_size(n, 0);
    size_t i = need ? first_fit(m, need) : m->n;
    if (i == m->n) {
        PATH(need ? MP_NO_FIT : MP_BAD_SIZE);
        m->failed++;
        return 0;
    }
    take(m, i, need, 0);
    m->allocs++;
    return m->s[i].addr;
}

uintptr_t model_calloc(struct model *m, size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size) {
        m->failed++;
        return 0;
    }
    if (count * size == 0) {
        m->failed++;
        return 0;
    }
    return model_alloc(m, count * size);
}

uintptr_t model_aligned_alloc(struct model *m, size_t align, size_t n)
{
    if (pow2(align) && align <= M_GRANULE)
        return model_alloc(m, n);
    size_t need = model_block_size(n, 1);
    if (!need || !pow2(align) || align > M_MAX / 2 || need > M_MAX - align) {
        PATH(MP_BAD_SIZE);
        m->failed++;
        return 0;
    }
    size_t i = first_fit(m, need + align - M_GRANULE);
    if (i == m->n) {
        PATH(MP_NO_FIT);
        m->failed++;
        return 0;
    }
    uintptr_t at = m->s[i].addr;
    uintptr_t payload = up(at, align);
    size_t gap = payload - at;
    PATH(gap == 0 ? MP_GAP0 : MP_GAP_FREE);
    if (gap == 0) {
        take(m, i, need, 1);
    } else {                                  /* the gap stays a free block */
        struct mspan b = { payload, m->s[i].size - gap, 0, 0 };
        m->s[i].size = gap;
        insert_at(m, i + 1, b);
        take(m, i + 1, need, 1);
    }
    m->allocs++;
    return payload;
}

/* ---- Pointers handed back ------------------------------------------------------------------- */

static const struct mregion *region_holding(const struct model *m, uintptr_t p)
{
    for (size_t k = 0; k < m->nr; k++)
        if (m->r[k].present && p >= m->r[k].base && p - m->r[k].base < m->r[k].given)
            return &m->r[k];
    return NULL;
}

int model_region_if_empty(const struct model *m, uintptr_t p, uintptr_t *base, size_t *reserve)
{
    const struct mregion *r = region_holding(m, p);
    if (!r || empty_span(m, r) == m->n)
        return 0;
    *base = r->base;
    *reserve = r->reserve;
    return 1;
}

/* A region given back (heap_remove_region) and not added again holds p. */
static int returned_holding(const struct model *m, uintptr_t p)
{
    for (size_t k = 0; k < m->nr; k++)
        if (!m->r[k].present && p >= m->r[k].base && p - m->r[k].base < m->r[k].reserve)
            return 1;
    return 0;
}

/* Classify p as free sees it; on MEM_OK, *idx is the index of its span. */
static enum mem_error lookup(const struct model *m, uintptr_t p, size_t *idx)
{
    const struct mregion *r = region_holding(m, p);
    if (!r)
        return returned_holding(m, p) ? MEM_ERR_RETURNED : MEM_ERR_NOT_IN_HEAP;
    if (p % MEM_ALIGN)
        return MEM_ERR_MISALIGNED;
    if (p < r->first || p >= r->end)
        return MEM_ERR_NOT_A_BLOCK;            /* region metadata, tail slack */
    size_t i = span_at(m, p);
    if (i == m->n)
        return MEM_ERR_NOT_A_BLOCK;            /* cannot happen: blocks tile [first, end) */
    if (!m->s[i].used)                         /* a free block's start, or inside one */
        return m->s[i].addr == p && p < r->top ? MEM_ERR_DOUBLE_FREE : MEM_ERR_FREE_MEMORY;
    if (m->s[i].addr != p)
        return MEM_ERR_NOT_A_BLOCK;
    *idx = i;
    return MEM_OK;
}

/* Classify p as realloc and usable_size see it: a freed block's start is a use of it. */
static enum mem_error lookup_use(const struct model *m, uintptr_t p, size_t *idx)
{
    enum mem_error e = lookup(m, p, idx);
    return e == MEM_ERR_DOUBLE_FREE ? MEM_ERR_FREED_POINTER : e;
}

enum mem_error model_classify(const struct model *m, uintptr_t p, int use)
{
    size_t i;
    return !p ? MEM_OK : use ? lookup_use(m, p, &i) : lookup(m, p, &i);
}

size_t model_usable(const struct model *m, uintptr_t p)
{
    size_t i;
    return p && lookup(m, p, &i) == MEM_OK ? m->s[i].size : 0;
}

static void count_error(enum mem_error e)
{
    if (e == MEM_ERR_NOT_A_BLOCK)
        PATH(MP_ERR_NOT_A_BLOCK);
    else if (e == MEM_ERR_DOUBLE_FREE)
        PATH(MP_ERR_DOUBLE_FREE);
    else if (e == MEM_ERR_FREED_POINTER)
        PATH(MP_ERR_FREED_POINTER);
    else if (e == MEM_ERR_FREE_MEMORY)
        PATH(MP_ERR_FREE_MEMORY);
    else if (e == MEM_ERR_RETURNED)
        PATH(MP_ERR_RETURNED);
    else if (e == MEM_ERR_MISALIGNED)
        PATH(MP_ERR_MISALIGNED);
    else
        PATH(MP_ERR_NOT_IN_HEAP);
}

/* Free used span i: merge it with free neighbours. */
static void release(struct model *m, size_t i)
{
    m->used -= m->s[i].size;
    m->s[i].used = m->s[i].aligned = 0;
    if (touching(m, i) && !m->s[i + 1].used) {
        m->s[i].size += m->s[i + 1].size;
        remove_at(m, i + 1);
        PATH(MP_MERGE_NEXT);
    }
    if (i > 0 && touching(m, i - 1) && !m->s[i - 1].used) {
        m->s[i - 1].size += m->s[i].size;
        remove_at(m, i);
        PATH(MP_MERGE_PREV);
    }
    m->frees++;
}

enum mem_error model_free(struct model *m, uintptr_t p)
{
    size_t i;
    if (!p)
        return MEM_OK;
    enum mem_error e = lookup(m, p, &i);
    if (e) {
        m->errors++;
        count_error(e);
        return e;
    }
    release(m, i);
    return MEM_OK;
}

size_t model_usable_size(struct model *m, uintptr_t p, enum mem_error *err)
{
    size_t i;
    *err = MEM_OK;
    if (!p)
        return 0;
    *err = lookup_use(m, p, &i);
    if (*err) {
        m->errors++;
        count_error(*err);
        return 0;
    }
    return m->s[i].size;
}

uintptr_t model_realloc(struct model *m, uintptr_t p, size_t n, enum mem_error *err)
{
    size_t i;
    *err = MEM_OK;
    if (!p)
        return model_alloc(m, n);
    *err = lookup_use(m, p, &i);
    if (*err) {
        m->errors++;
        count_error(*err);
        return 0;
    }
    if (n == 0) {
        release(m, i);
        return 0;
    }
    size_t need = model_block_size(n, m->s[i].aligned);
    if (!need) {
        m->failed++;
        return 0;
    }
    struct mspan *s = &m->s[i];
    if (need <= s->size) {                        /* shrink in place */
        size_t rest = s->size - need;
        if (rest >= M_MIN) {
            int merge = touching(m, i) && !m->s[i + 1].used;
            s->size = need;
            m->used -= rest;
            PATH(merge ? MP_SHRINK_MERGE : MP_SHRINK_SPLIT);
            if (merge) {
                m->s[i + 1].addr -= rest;
                m->s[i + 1].size += rest;
            } else {
                insert_at(m, i + 1, (struct mspan){ s->addr + need, rest, 0, 0 });
            }
        } else {
            PATH(MP_SHRINK_KEEP);
        }
        return p;
    }
    if (touching(m, i) && !m->s[i + 1].used && s->size + m->s[i + 1].size >= need) {
        size_t total = s->size + m->s[i + 1].size, old = s->size;
        if (total - need >= M_MIN) {              /* grow, the rest stays free */
            s->size = need;
            m->s[i + 1].addr = s->addr + need;
            m->s[i + 1].size = total - need;
            PATH(MP_GROW_SPLIT);
        } else {
            PATH(MP_GROW_WHOLE);                                  /* grow over the whole neighbour */
            s->size = total;
            remove_at(m, i + 1);
        }
        m->used += m->s[i].size - old;
        raise_top(m, i);
        note_used(m);
        return p;
    }
    size_t align = m->s[i].aligned ? (size_t)(p & -p) : MEM_ALIGN;
    uintptr_t q = model_aligned_alloc(m, align, n);
    PATH(!q ? MP_MOVE_FAIL : m->s[span_at(m, p)].aligned ? MP_MOVE_ALIGNED : MP_MOVE_PLAIN);
    if (!q)
        return 0;
    release(m, span_at(m, p));
    return q;
}

void model_stats(const struct model *m, struct mstats *o)
{
    memset(o, 0, sizeof *o);
    size_t largest = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct mspan *s = &m->s[i];
        o->total_bytes += s->size;
        if (s->used) {
            o->used_bytes += s->size;
            o->used_blocks++;
        } else {
            o->free_bytes += s->size;
            o->free_blocks++;
            if (s->size > largest)
                largest = s->size;
        }
    }
    o->largest_free = largest;
    o->peak_used_bytes = m->peak;
    o->min_free_bytes = m->min_free;
    for (size_t k = 0; k < m->nr; k++)
        if (m->r[k].present) {
            o->region_count++;
            o->overhead_bytes += m->r[k].given - (m->r[k].end - m->r[k].first);
        }
    o->alloc_count = m->allocs;
    o->free_count = m->frees;
    o->failed_count = m->failed;
    o->error_count = m->errors;
}
