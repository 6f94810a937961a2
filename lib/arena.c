/* arena.c - several heaps behind one API (see arena.h).
 *
 * The range table maps addresses to arenas. It changes only when a region comes or goes, under
 * the table lock; frees read it without any lock, as a seqlock: read seq (even), search, read seq
 * again, and retry if it moved. A free that read a stale owner still frees under that arena's
 * lock, and the heap itself then decides whether the pointer is one of its blocks, so a stale
 * read can cost a retry but never a wrong free.
 *
 * Lock order: the table lock, then one arena's. No path holds two arena locks at once, so a
 * caller may take all of them (before fork, say) in any fixed order after the table's. Growth
 * asks the platform for memory with no lock held, then enters the region under both. */
#include "arena.h"
#include "core.h"
#include "heap_error.h"
#include "seam.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n); /* lib/ has no <string.h> */

/* Entries are stored with release and loaded with acquire, not ordered by fences: a reader that
 * sees any new entry then sees the odd seq stored before it, and TSan understands no fences.
 * (Both are plain moves on x86.) */
#define LOAD(p)      __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static unsigned long take(struct arena_set *s, void *ctx)
{
    return s->lock ? s->lock(ctx) : 0;
}

static void drop(struct arena_set *s, void *ctx, unsigned long st)
{
    if (s->unlock)
        s->unlock(ctx, st);
}

int arena_init(struct arena_set *s, struct arena *arenas, unsigned count,
               const struct arena_lock *ops, void *table_ctx,
               struct arena_range *ranges, size_t cap)
{
    if (!s || !arenas || !count || !ops || (!ops->lock != !ops->unlock) || (cap && !ranges))
        return -MEM_ERR_REGION_RANGE;
    s->lock = ops->lock;
    s->unlock = ops->unlock;
    s->arenas = arenas;
    s->count = count;
    s->table_ctx = table_ctx;
    s->ranges = ranges;
    s->cap = cap;
    s->nranges = 0;
    s->seq = 0;
    s->error_count = 0;
    s->flags = 0;
    for (unsigned i = 0; i < count; i++) {
        heap_init(&arenas[i].heap, NULL, 0);
        arenas[i].locking = (struct heap_locking){ ops->lock, ops->unlock, arenas[i].lock_ctx };
    }
    return 0;
}

/* The first index whose range ends above a; n if none. Reads may be torn by a writer: every
 * index stays below n, which the caller bounded by cap, so a torn read only returns a wrong
 * answer that the sequence check throws away. */
static size_t search(const struct arena_range *r, size_t n, uintptr_t a)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (LOAD(&r[mid].hi) <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* arena_owner's lookup, inline in the free path. */
static inline int owner_find(struct arena_set *s, uintptr_t a)
{
    for (;;) {
        unsigned q = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        if (q & 1)
            continue; /* a writer is in the middle of a change */
        size_t n = LOAD(&s->nranges);
        if (n > s->cap)
            n = s->cap;
        size_t i = search(s->ranges, n, a);
        int owner = -1;
        if (i < n && LOAD(&s->ranges[i].lo) <= a) {
            uintptr_t w = LOAD(&s->ranges[i].arena);
            owner = w < s->count ? (int)w : -1;
        }
        if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == q)
            return owner;
    }
}

int arena_owner(struct arena_set *s, const void *ptr) { return owner_find(s, (uintptr_t)ptr); }

/* Table changes, under the table lock: seq is odd while entries move. */
static void table_begin(struct arena_set *s)
{
    __atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

static void table_end(struct arena_set *s)
{
    __atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

static void entry_copy(struct arena_range *d, const struct arena_range *r)
{
    STORE(&d->lo, LOAD(&r->lo));
    STORE(&d->hi, LOAD(&r->hi));
    STORE(&d->arena, LOAD(&r->arena));
}

/* Enter [start, start + size) as a region of arena `which` that may grow to start + reserve
 * (the table covers the reserve, so a block grown into it is still found). grown: the region
 * was made for a request the arena refused, whose retry is the attempt that counts, so that
 * refusal comes off failed_count (as mem.c's grown() does). */
static int add_range(struct arena_set *s, unsigned which, void *start, size_t size,
                     size_t reserve, unsigned flags, int grown)
{
    uintptr_t lo = (uintptr_t)start, hi = lo + (reserve > size ? reserve : size);
    if (which >= s->count || !start || hi < lo)
        return -MEM_ERR_REGION_RANGE;
    struct arena *ar = &s->arenas[which];
    /* Table lock first, then the arena's (the order at the top). */
    unsigned long ts = take(s, s->table_ctx);
    size_t n = s->nranges, i = search(s->ranges, n, lo);
    if (n == s->cap || (i < n && s->ranges[i].lo < hi)) {
        drop(s, s->table_ctx, ts);
        return -MEM_ERR_REGION_OVERLAP;
    }
    /* The entry goes in before the arena's lock is dropped: once another thread of this arena
     * can allocate from the region, a free of that block must find it. */
    unsigned long as = take(s, ar->lock_ctx);
    int rc = heap_add_region_reserve(&ar->heap, start, size, reserve > size ? reserve : size, flags);
    if (rc == 0) {
        if (grown && ar->heap.failed_count)
            ar->heap.failed_count--;
        table_begin(s);
        for (size_t j = n; j > i; j--)
            entry_copy(&s->ranges[j], &s->ranges[j - 1]);
        STORE(&s->ranges[i].lo, lo);
        STORE(&s->ranges[i].hi, hi);
        STORE(&s->ranges[i].arena, (uintptr_t)which);
        STORE(&s->nranges, n + 1);
        table_end(s);
    }
    drop(s, ar->lock_ctx, as);
    drop(s, s->table_ctx, ts);
    return rc;
}

int arena_add_region(struct arena_set *s, unsigned which, void *start, size_t size)
{
    return add_range(s, which, start, size, size, 0, 0);
}

int arena_remove_region(struct arena_set *s, void *start)
{
    uintptr_t lo = (uintptr_t)start;
    unsigned long ts = take(s, s->table_ctx);
    size_t n = s->nranges, i = search(s->ranges, n, lo);
    int rc = -1;
    if (i < n && s->ranges[i].lo == lo) {
        struct arena *ar = &s->arenas[s->ranges[i].arena];
        unsigned long as = take(s, ar->lock_ctx); /* the table changes with the arena, as above */
        rc = heap_remove_region(&ar->heap, start);
        if (rc == 0) {
            table_begin(s);
            for (size_t j = i; j + 1 < n; j++)
                entry_copy(&s->ranges[j], &s->ranges[j + 1]);
            STORE(&s->nranges, n - 1);
            table_end(s);
        }
        drop(s, ar->lock_ctx, as);
    }
    drop(s, s->table_ctx, ts);
    return rc;
}

/* Out of line (GCC and clang): inlined, its registers would be saved on the one-arena path too. */
#define COLD __attribute__((noinline))

void *arena_alloc(struct arena_set *s, unsigned who, size_t size)
{
    /* One arena that does not grow: a tail call to the heap (with the lock around its core,
     * heap.c), so the layer costs three compares (make bench-arena-cost measures it). One test
     * for both callbacks: arena_init refuses one alone. Anything else takes the family's path
     * (the caller's arena, growth, the others), as arena_free does. */
    if (s->count != 1 || s->flags)
        return arena_aligned_alloc(s, who, MEM_ALIGN, size);
    if (!s->lock)
        return heap_alloc(&s->arenas->heap, size);
    return heap_alloc_locked(&s->arenas->heap, size, &s->arenas->locking);
}

/* A pointer in no arena's table range: one a heap gave back is named as the heap names it
 * (MEM_ERR_RETURNED), anything else is outside. Counted in the set's own error_count. */
static COLD enum mem_error foreign(struct arena_set *s, const void *ptr)
{
    uintptr_t a = (uintptr_t)ptr;
    enum mem_error err = MEM_ERR_NOT_IN_HEAP;
    for (unsigned i = 0; i < s->count && err == MEM_ERR_NOT_IN_HEAP; i++) {
        struct arena *ar = &s->arenas[i];
        unsigned long st = take(s, ar->lock_ctx);
        for (unsigned j = 0; j < HEAP_RETURNED; j++)
            if (a >= ar->heap.returned[j].lo && a < ar->heap.returned[j].hi)
                err = MEM_ERR_RETURNED;
        drop(s, ar->lock_ctx, st);
    }
    __atomic_fetch_add(&s->error_count, 1, __ATOMIC_RELAXED);
    struct fault f = { err, ptr };
    fault_report(&f);
    return err;
}

/* The arena to hand ptr to: with one arena, that one (its heap finds foreign pointers itself,
 * so the single-arena path does no table search); else the table's answer, or NULL. */
static struct arena *owner_of(struct arena_set *s, const void *ptr)
{
    if (s->count == 1)
        return &s->arenas[0];
    int w = arena_owner(s, ptr);
    return w < 0 ? NULL : &s->arenas[w];
}

/* ---- Growth and giving back (ARENA_F_GROW) ------------------------------------------------ */

/* Arena w found no room for a block of block_bytes (0: a request the heap refuses anyway): ask
 * the platform for a region that holds it (mem.c's platform_region) and enter it for w, with no
 * lock held while the platform maps. 1 if w grew. */
static COLD int grown(struct arena_set *s, unsigned w, size_t block_bytes)
{
    struct seam_region g;
    size_t size = (s->flags & ARENA_F_GROW) ? platform_region(block_bytes, &g) : 0;
    if (!size)
        return 0;
    if (add_range(s, w, g.start, size, g.reserve, HEAP_REGION_ZEROED, 1) != 0) {
        seam_unmap(g.start, g.reserve);
        return 0;
    }
    return 1;
}

/* Under ar's lock, after a free of p: the region left entirely free that should go back (its
 * start and reserve), or NULL. An arena keeps its last region, as the default heap does. */
static void *empty_region(struct arena_set *s, struct arena *ar, const void *p, size_t *size)
{
    void *start = NULL;
    if (!(s->flags & ARENA_F_GROW) || ar->heap.region_count < 2 ||
        !heap_region_if_empty(&ar->heap, p, &start, size) || seam_release_wanted(start, *size) != 0)
        return NULL;
    return start;
}

/* With no lock held: out of the table and the arena (arena_remove_region takes the table lock,
 * then the arena's, and finds the region still empty, or leaves it), then to the platform. */
static void give_back(struct arena_set *s, void *start, size_t size)
{
    if (start && arena_remove_region(s, start) == 0)
        seam_unmap(start, size);
}

/* Under ar's lock, a realloc of p to n found no room: if p's block ends a region that may grow,
 * grow the region just enough for the block to grow in place (mem.c's platform_extend). The table
 * already covers the reserve. 1 if it did. */
static int extended(struct arena_set *s, struct arena *ar, void *p, size_t n)
{
    if (!(s->flags & ARENA_F_GROW) || !platform_extend(&ar->heap, p, n))
        return 0;
    if (ar->heap.failed_count)
        ar->heap.failed_count--;
    return 1;
}

static COLD int free_any(struct arena_set *s, void *ptr)
{
    if (!ptr)
        return MEM_OK;
    int w = owner_find(s, (uintptr_t)ptr);
    if (w < 0)
        return foreign(s, ptr);
    struct arena *ar = &s->arenas[w];
    struct fault f = { MEM_OK, NULL };
    void *start = NULL;
    size_t size = 0;
    unsigned long st = take(s, ar->lock_ctx);
    if (heap_free_quiet(&ar->heap, ptr, &f) == MEM_OK)
        start = empty_region(s, ar, ptr, &size);
    drop(s, ar->lock_ctx, st);
    give_back(s, start, size);
    return fault_raise(&f);
}

int arena_free(struct arena_set *s, void *ptr)
{
    if (s->count != 1 || s->flags)
        return free_any(s, ptr);
    if (!s->lock)
        return heap_free(&s->arenas->heap, ptr);     /* tail calls, as in arena_alloc */
    return heap_free_locked(&s->arenas->heap, ptr, &s->arenas->locking);
}

/* ---- The rest of the malloc family ----------------------------------------------------------- */

/* The caller's arena: who modulo count, without the division when who is already in range (a
 * thread's slot always is), since a division costs more cycles than the rest of the choice. */
static inline unsigned home(const struct arena_set *s, unsigned who)
{
    return who < s->count ? who : who % s->count;
}

struct request {
    size_t align, size, count;  /* count: calloc's (0: not a calloc) */
};

static void *try_arena(struct arena_set *s, struct arena *ar, const struct request *q, struct fault *f)
{
    unsigned long st = take(s, ar->lock_ctx);
    void *p = q->count ? heap_calloc_quiet(&ar->heap, q->count, q->size, f)
                       : heap_aligned_alloc_quiet(&ar->heap, q->align, q->size, f);
    drop(s, ar->lock_ctx, st);
    return p;
}

/* The caller's arena `first` found no room: it grows; if it cannot, the others in turn. A
 * request the heap refuses for its size (fit_bytes 0) is refused once, not by every arena. */
static COLD void *alloc_more(struct arena_set *s, unsigned first, const struct request *q, struct fault *f)
{
    size_t bytes = fit_bytes(q->align, q->count ? calloc_bytes(q->count, q->size) : q->size);
    void *p = NULL;
    if (bytes && grown(s, first, bytes))
        p = try_arena(s, &s->arenas[first], q, f);
    for (unsigned k = 1; bytes && !p && !f->err && k < s->count; k++)
        p = try_arena(s, &s->arenas[(first + k) % s->count], q, f);
    return p;
}

/* The caller's arena first, then alloc_more. A write after free is reported and the block still
 * handed out (heap.h). */
static void *alloc_request(struct arena_set *s, unsigned who, const struct request *q)
{
    struct fault f = { MEM_OK, NULL };
    unsigned first = home(s, who);
    void *p = try_arena(s, &s->arenas[first], q, &f);
    if (!p && !f.err)
        p = alloc_more(s, first, q, &f);
    fault_raise(&f);
    return p;
}

void *arena_aligned_alloc(struct arena_set *s, unsigned who, size_t alignment, size_t size)
{
    struct request q = { alignment, size, 0 };
    if (alignment != MEM_ALIGN || !s->lock)
        return alloc_request(s, who, &q);
    /* malloc's case, as alloc_request but for its first try: the caller's arena in one call,
     * its lock held inside the heap's core (heap_alloc_locked, which reports what it finds; a
     * NULL from it carries no report). Moving this into try_arena instead measured 18-26 more
     * instructions per malloc (the general path inlined around it saves six registers). */
    unsigned first = home(s, who);
    struct arena *ar = &s->arenas[first];
    void *p = heap_alloc_locked(&ar->heap, size, &ar->locking);
    if (!p) {
        struct fault f = { MEM_OK, NULL };
        p = alloc_more(s, first, &q, &f);
        fault_raise(&f);
    }
    return p;
}

void *arena_calloc(struct arena_set *s, unsigned who, size_t count, size_t size)
{
    struct request q = { MEM_ALIGN, size, count };
    if (!count || !size) { /* heap_calloc's answer for an empty request, from the caller's arena */
        struct fault f = { MEM_OK, NULL };
        void *p = try_arena(s, &s->arenas[home(s, who)], &q, &f);
        fault_raise(&f);
        return p;
    }
    return alloc_request(s, who, &q);
}

/* A block of the caller's own arena: as mem_realloc, in that arena (the heap moves the block
 * inside it, keeping its alignment). NULL with *f clear: no room even after growing. */
static void *realloc_own(struct arena_set *s, unsigned w, void *ptr, size_t size, struct fault *f)
{
    struct arena *ar = &s->arenas[w];
    void *start = NULL;
    size_t bytes = 0, move = 0;
    unsigned long st = take(s, ar->lock_ctx);
    void *p = heap_realloc_quiet(&ar->heap, ptr, size, f);
    if (!p && !f->err) {
        if (extended(s, ar, ptr, size))
            p = heap_realloc_quiet(&ar->heap, ptr, size, f);
        else
            move = heap_move_size(&ar->heap, ptr, size);
    }
    if (p && p != ptr && !f->err)
        start = empty_region(s, ar, ptr, &bytes);
    drop(s, ar->lock_ctx, st);
    give_back(s, start, bytes);
    if (!p && !f->err && move && grown(s, w, move)) {
        st = take(s, ar->lock_ctx);
        p = heap_realloc_quiet(&ar->heap, ptr, size, f);
        if (p && p != ptr && !f->err)
            start = empty_region(s, ar, ptr, &bytes);
        drop(s, ar->lock_ctx, st);
        give_back(s, start, bytes);
    }
    return p;
}

void *arena_realloc(struct arena_set *s, unsigned who, void *ptr, size_t size)
{
    if (!ptr)
        return arena_aligned_alloc(s, who, MEM_ALIGN, size);
    if (!size) {
        arena_free(s, ptr);
        return NULL;
    }
    struct arena *ar = owner_of(s, ptr);
    if (!ar) {
        foreign(s, ptr);
        return NULL;
    }
    unsigned w = (unsigned)(ar - s->arenas), mine = home(s, who);
    struct fault f = { MEM_OK, NULL };
    void *p = NULL;
    if (w == mine) {
        p = realloc_own(s, w, ptr, size, &f);
        if (p || f.err) {
            fault_raise(&f);
            return p;
        }
    }
    /* Another arena's block shrinks in place there (its owner's lock only); one that must grow,
     * or one of our own that found no room even after growing, moves. */
    unsigned long st = take(s, ar->lock_ctx);
    size_t have = heap_usable_size_quiet(&ar->heap, ptr, &f);
    if (!f.err && w != mine && size <= have)
        p = heap_realloc_quiet(&ar->heap, ptr, size, &f);
    drop(s, ar->lock_ctx, st);
    if (p || f.err) {
        fault_raise(&f);
        return p;
    }
    p = arena_aligned_alloc(s, who, MEM_ALIGN, size);
    if (p) {
        memcpy(p, ptr, have < size ? have : size);
        arena_free(s, ptr);
    }
    return p;
}

void arena_set_poison(struct arena_set *s, int on)
{
    for (unsigned i = 0; i < s->count; i++) {
        struct arena *ar = &s->arenas[i];
        unsigned long st = take(s, ar->lock_ctx);
        heap_set_poison(&ar->heap, on);
        drop(s, ar->lock_ctx, st);
    }
}

void arena_note_returned(struct arena_set *s, unsigned which, const void *start, size_t size)
{
    if (which >= s->count)
        return;
    struct arena *ar = &s->arenas[which];
    unsigned long st = take(s, ar->lock_ctx);
    heap_note_returned(&ar->heap, start, size);
    drop(s, ar->lock_ctx, st);
}

size_t arena_usable_size(struct arena_set *s, const void *ptr)
{
    if (!ptr)
        return 0;
    struct arena *ar = owner_of(s, ptr);
    if (!ar) {
        foreign(s, ptr);
        return 0;
    }
    struct fault f = { MEM_OK, NULL };
    unsigned long st = take(s, ar->lock_ctx);
    size_t n = heap_usable_size_quiet(&ar->heap, ptr, &f);
    drop(s, ar->lock_ctx, st);
    fault_raise(&f);
    return n;
}

void arena_stats_add(struct mem_stats *t, const struct mem_stats *m)
{
    t->total_bytes += m->total_bytes;
    t->free_bytes += m->free_bytes;
    t->used_bytes += m->used_bytes;
    if (m->largest_free > t->largest_free)
        t->largest_free = m->largest_free;
    t->free_blocks += m->free_blocks;
    t->used_blocks += m->used_blocks;
    t->peak_used_bytes += m->peak_used_bytes;
    t->min_free_bytes += m->min_free_bytes;
    t->region_count += m->region_count;
    t->overhead_bytes += m->overhead_bytes;
    t->alloc_count += m->alloc_count;
    t->free_count += m->free_count;
    t->failed_count += m->failed_count;
    t->error_count += m->error_count;
}

void arena_stats(struct arena_set *s, unsigned which, struct mem_stats *out)
{
    unsigned lo = which == ARENA_ALL ? 0 : which, hi = which == ARENA_ALL ? s->count : which + 1;
    struct mem_stats t = { 0 };
    if (which != ARENA_ALL && which >= s->count) {
        *out = t;
        return;
    }
    for (unsigned i = lo; i < hi; i++) {
        struct mem_stats m;
        struct arena *ar = &s->arenas[i];
        unsigned long st = take(s, ar->lock_ctx);
        heap_stats(&ar->heap, &m);
        drop(s, ar->lock_ctx, st);
        arena_stats_add(&t, &m);
    }
    if (which == ARENA_ALL)
        t.error_count += __atomic_load_n(&s->error_count, __ATOMIC_RELAXED);
    *out = t;
}

/* The table: sorted, disjoint, each entry's arena in range, and every arena's region count
 * equal to its entries (so no region is missing from the table, and none listed twice). */
static int table_check(struct arena_set *s)
{
    int bad = 0;
    unsigned long ts = take(s, s->table_ctx);
    size_t n = s->nranges;
    for (unsigned w = 0; w < s->count; w++) {
        size_t mine = 0;
        for (size_t i = 0; i < n; i++)
            mine += s->ranges[i].arena == w;
        struct arena *ar = &s->arenas[w];
        unsigned long st = take(s, ar->lock_ctx);
        bad += mine != ar->heap.region_count;
        drop(s, ar->lock_ctx, st);
    }
    for (size_t i = 0; i < n; i++) {
        bad += s->ranges[i].lo >= s->ranges[i].hi || s->ranges[i].arena >= s->count;
        bad += i > 0 && s->ranges[i - 1].hi > s->ranges[i].lo;
    }
    drop(s, s->table_ctx, ts);
    return bad;
}

int arena_check(struct arena_set *s, unsigned which)
{
    if (which != ARENA_ALL && which >= s->count)
        return 1;
    unsigned lo = which == ARENA_ALL ? 0 : which, hi = which == ARENA_ALL ? s->count : which + 1;
    int bad = which == ARENA_ALL ? table_check(s) : 0;
    for (unsigned i = lo; i < hi; i++) {
        struct arena *ar = &s->arenas[i];
        unsigned long st = take(s, ar->lock_ctx);
        bad += heap_check(&ar->heap);
        drop(s, ar->lock_ctx, st);
    }
    return bad;
}

int arena_check_report(struct arena_set *s, heap_write_fn write, void *ctx)
{
    int bad = table_check(s);
    if (bad && write) {
        struct out o = { write, ctx };
        out_str(&o, "check: arena table: ");
        out_num(&o, (uintmax_t)bad, 10, 0);
        out_str(&o, " entries out of order, overlapping, or disagreeing with their arena's regions\n");
    }
    for (unsigned i = 0; i < s->count; i++) {
        struct arena *ar = &s->arenas[i];
        unsigned long st = take(s, ar->lock_ctx);
        bad += heap_check_report(&ar->heap, write, ctx);
        drop(s, ar->lock_ctx, st);
    }
    return bad;
}

void arena_dump(struct arena_set *s, heap_write_fn write, void *ctx)
{
    struct out o = { write, ctx };
    for (unsigned i = 0; i < s->count; i++) {
        struct arena *ar = &s->arenas[i];
        out_str(&o, "arena ");
        out_num(&o, i, 10, 0);
        out_str(&o, ":\n");
        unsigned long st = take(s, ar->lock_ctx);
        heap_dump(&ar->heap, write, ctx);
        drop(s, ar->lock_ctx, st);
    }
}
