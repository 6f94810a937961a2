/* mem.c - the default heap: heap.c's operations on one instance, under the platform's lock,
 * with memory from the platform when the heap runs out (seam.h).
 *
 * Each call takes the lock, runs the quiet operation, drops the lock, and only then reports a
 * misuse, so an error handler may print, log or stop without deadlocking on the heap.
 *
 * Growing: a request that finds no room gets a new region from the platform (seam_grow), and a
 * region left empty by a free or a moving realloc goes back (seam_release_wanted). A region the
 * platform gave a reserve grows in place when realloc grows the block at its end and finds no
 * room. */
#include "core.h"
#include "mem.h"
#include "seam.h"

static struct heap default_heap = { .flags = KHEAP_DEBUG_FILL ? HEAP_F_POISON : 0 }; /* empty */

struct heap *mem_heap(void) { return &default_heap; }
unsigned long mem_lock(void) { return seam_lock(); }
void mem_unlock(unsigned long state) { seam_unlock(state); }

/* Ask the platform for a region that holds a block of block_bytes (0: a request the heap refuses
 * anyway, so no growing). A region with room to grow gets larger tables, so its size is worked
 * out again for its reserve. Returns the size to add over g (tables covering g->reserve), or 0
 * with nothing left mapped. Shared with lib/arena.c, whose arenas grow the same way. */
size_t platform_region(size_t block_bytes, struct seam_region *g)
{
    size_t want = block_bytes ? heap_region_size(block_bytes, 0) : 0;
    if (!want || seam_grow(want, g) != 0)
        return 0;
    size_t size = g->size;
    if (g->reserve > size) {
        size = heap_region_size(block_bytes, g->reserve);
        if (size > g->size && seam_extend(g->start, size) != 0)
            size = 0;
    }
    if (!size)
        seam_unmap(g->start, g->reserve);
    return size;
}

/* A realloc in h found no room: if p's block ends a region that may grow, grow the region just
 * enough for the block to grow in place (a buffer grown in small steps then moves only when the
 * reserve runs out, not at every step). 1 if it did. Shared with lib/arena.c. */
int platform_extend(struct heap *h, void *p, size_t n)
{
    void *start;
    size_t size = heap_growth_size(h, p, n, &start);
    return size && seam_extend(start, size) == 0 && heap_region_extend(h, start, size) == 0;
}

/* The first try found no room: a region for a block of block_bytes, added. The retry is then the
 * attempt that counts, so the first is taken off failed_count. 1 if the heap grew. */
static int grown(size_t block_bytes)
{
    struct seam_region g;
    size_t size = platform_region(block_bytes, &g);
    if (!size)
        return 0;
    if (heap_add_region_reserve(&default_heap, g.start, size, g.reserve, HEAP_REGION_ZEROED) != 0) {
        seam_unmap(g.start, g.reserve);
        return 0;
    }
    default_heap.failed_count--;
    return 1;
}

/* After a free: a region left entirely free goes back if the platform wants it. */
static void release_empty(const void *p, void **start, size_t *size)
{
    *start = NULL;
    if (default_heap.region_count > 1 && heap_region_if_empty(&default_heap, p, start, size) &&
        (seam_release_wanted(*start, *size) != 0 || heap_remove_region(&default_heap, *start) != 0))
        *start = NULL;
}

/* A realloc found no room: the block's region grows in place if it can (platform_extend),
 * counted as grown() counts. */
static int extended(void *ptr, size_t n)
{
    if (!platform_extend(&default_heap, ptr, n))
        return 0;
    default_heap.failed_count--;
    return 1;
}

void *mem_aligned_alloc(size_t alignment, size_t size)
{
    struct fault f = { MEM_OK, NULL };
    unsigned long s = seam_lock();
    void *p = heap_aligned_alloc_quiet(&default_heap, alignment, size, &f);
    if (!p && !f.err && grown(fit_bytes(alignment, size)))
        p = heap_aligned_alloc_quiet(&default_heap, alignment, size, &f);
    seam_unlock(s);
    fault_raise(&f);
    return p;
}

void *mem_alloc(size_t size) { return mem_aligned_alloc(MEM_ALIGN, size); }

void *mem_calloc(size_t count, size_t size)
{
    struct fault f = { MEM_OK, NULL };
    size_t bytes = calloc_bytes(count, size);
    unsigned long s = seam_lock();
    void *p = heap_calloc_quiet(&default_heap, count, size, &f);
    if (!p && !f.err && grown(fit_bytes(MEM_ALIGN, bytes)))
        p = heap_calloc_quiet(&default_heap, count, size, &f);
    seam_unlock(s);
    fault_raise(&f);
    return p;
}

void mem_free(void *ptr)
{
    struct fault f = { MEM_OK, NULL };
    void *start;
    size_t size;
    if (!ptr)
        return;
    unsigned long s = seam_lock();
    if (heap_free_quiet(&default_heap, ptr, &f) == MEM_OK)
        release_empty(ptr, &start, &size);
    else
        start = NULL;
    seam_unlock(s);
    if (start)
        seam_unmap(start, size);
    fault_raise(&f);
}

/* No room: the block's region grows, or the heap gets a region for the moved block (with the
 * alignment it keeps). After a move (or realloc(p, 0)) the old block is free, so its region
 * may be empty. */
void *mem_realloc(void *ptr, size_t size)
{
    struct fault f = { MEM_OK, NULL };
    void *start = NULL;
    size_t bytes;
    unsigned long s = seam_lock();
    void *p = heap_realloc_quiet(&default_heap, ptr, size, &f);
    if (!p && size && !f.err && (extended(ptr, size) ||
        grown(ptr ? heap_move_size(&default_heap, ptr, size) : fit_bytes(MEM_ALIGN, size))))
        p = heap_realloc_quiet(&default_heap, ptr, size, &f);
    if (ptr && p != ptr && !f.err)       /* a failed realloc keeps its block: nothing goes */
        release_empty(ptr, &start, &bytes);
    seam_unlock(s);
    if (start)
        seam_unmap(start, bytes);
    fault_raise(&f);
    return p;
}

size_t mem_usable_size(const void *ptr)
{
    struct fault f = { MEM_OK, NULL };
    unsigned long s = seam_lock();
    size_t n = heap_usable_size_quiet(&default_heap, ptr, &f);
    seam_unlock(s);
    fault_raise(&f);
    return n;
}

int mem_add_region(void *start, size_t size)
{
    unsigned long s = seam_lock();
    int err = heap_add_region(&default_heap, start, size);
    seam_unlock(s);
    return err;
}

static void console_write(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    seam_write(text, len);
}

void mem_dump(void)
{
    unsigned long s = seam_lock();
    heap_dump(&default_heap, console_write, NULL);
    seam_unlock(s);
}

int mem_check(void)
{
    unsigned long s = seam_lock();
    int problems = heap_check_report(&default_heap, console_write, NULL);
    seam_unlock(s);
    return problems;
}

void mem_stats(struct mem_stats *out)
{
    unsigned long s = seam_lock();
    heap_stats(&default_heap, out);
    seam_unlock(s);
}

void mem_set_poison(int on)
{
    unsigned long s = seam_lock();
    heap_set_poison(&default_heap, on);
    seam_unlock(s);
}
