/* preload_alone.c - blocks of a large alignment, each in a mapping of its own.
 *
 * The heap serves an aligned request from a free block that holds the request plus the whole
 * slack (the placement rule at the top of lib/heap.c), so posix_memalign(1 << 40, 100) would
 * grow the heap by a 2 TiB region whose tables every heap_check reads (16 GiB of maps: 8 s a
 * check). From ALONE_ALIGN on, the block is mapped alone instead: a reservation of size +
 * alignment is made, the aligned part is kept and the rest goes back at once, so only the
 * block's pages are mapped and the heap never sees it.
 *
 * A table of these blocks (open addressing on the address, in its own mmap'd memory, under
 * seam.c's heap lock, which the arenas never take: this table is its only user in the drop-in,
 * and it is never held with another lock) lets free, realloc and malloc_usable_size find them;
 * the entry points look only when one exists. A block given back is noted in arena 0's ring of
 * returned memory, so a second free of it, which no arena owns, is reported as a free of memory
 * already returned (MEM_ERR_RETURNED). */
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "arena.h"
#include "mem.h"
#include "preload.h"

#define SLOT_EMPTY ((uintptr_t)0)
#define SLOT_GONE  ((uintptr_t)1)   /* a removed entry: probing goes on past it */
#define TABLE_MIN  ((size_t)256)

struct alone {
    uintptr_t start;                /* the block, and the start of its mapping; or SLOT_* */
    size_t bytes;                   /* the mapping: the request rounded up to pages */
};

static struct alone *table;
static size_t table_cap, table_used, table_live;  /* used: live and removed slots */
static atomic_size_t live;          /* table_live, read without the lock by alone_any */

int alone_any(void) { return atomic_load_explicit(&live, memory_order_relaxed) != 0; }

static size_t slot_hash(uintptr_t key, size_t cap)
{
    return (size_t)(((uint64_t)(key >> 20) * 0x9E3779B97F4A7C15ull) >> 24) & (cap - 1);
}

static struct alone *slot_find(uintptr_t key)
{
    if (!table)
        return NULL;
    for (size_t i = slot_hash(key, table_cap);; i = (i + 1) & (table_cap - 1)) {
        if (table[i].start == key)
            return &table[i];
        if (table[i].start == SLOT_EMPTY)
            return NULL;
    }
}

/* A table with room for twice the live entries, without the removed ones. */
static int table_rebuild(void)
{
    size_t cap = TABLE_MIN;
    while (cap < (table_live + 1) * 4)
        cap *= 2;
    struct alone *t = mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return -1;
    for (size_t i = 0; i < table_cap; i++) {
        if (table[i].start <= SLOT_GONE)
            continue;
        size_t j = slot_hash(table[i].start, cap);
        while (t[j].start != SLOT_EMPTY)
            j = (j + 1) & (cap - 1);
        t[j] = table[i];
    }
    if (table)
        munmap(table, table_cap * sizeof *table);
    table = t;
    table_cap = cap;
    table_used = table_live;
    return 0;
}

static int slot_add(uintptr_t start, size_t bytes)
{
    if ((table_used + 1) * 10 > table_cap * 7 && table_rebuild() != 0)
        return -1;
    size_t i = slot_hash(start, table_cap);
    while (table[i].start > SLOT_GONE)
        i = (i + 1) & (table_cap - 1);
    if (table[i].start == SLOT_EMPTY)
        table_used++;
    table[i] = (struct alone){ start, bytes };
    atomic_store_explicit(&live, ++table_live, memory_order_relaxed);
    return 0;
}

static size_t page_up(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (n + page - 1) & ~(page - 1);
}

void *alone_alloc(size_t alignment, size_t size)
{
    size_t bytes = page_up(size ? size : 1);
    if (size > ((size_t)-1 >> 2) || alignment > (size_t)-1 - bytes)
        return NULL;
    char *m = mmap(NULL, bytes + alignment, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *start = (char *)(((uintptr_t)m + alignment - 1) & ~(uintptr_t)(alignment - 1));
    char *end = m + bytes + alignment;
    if (start > m)
        munmap(m, (size_t)(start - m));
    if (end > start + bytes)
        munmap(start + bytes, (size_t)(end - start - bytes));
    unsigned long s = mem_lock();
    int ok = slot_add((uintptr_t)start, bytes) == 0;
    mem_unlock(s);
    if (!ok) {
        munmap(start, bytes);
        return NULL;
    }
    return start;
}

size_t alone_size(const void *p)
{
    unsigned long s = mem_lock();
    struct alone *a = slot_find((uintptr_t)p);
    size_t bytes = a ? a->bytes : 0;
    mem_unlock(s);
    return bytes;
}

int alone_free(void *p)
{
    unsigned long s = mem_lock();
    struct alone *a = slot_find((uintptr_t)p);
    size_t bytes = a ? a->bytes : 0;
    if (a) {
        a->start = SLOT_GONE;
        atomic_store_explicit(&live, --table_live, memory_order_relaxed);
    }
    mem_unlock(s);
    if (bytes) {
        /* noted before the unmap: a double free racing with it is still named */
        arena_note_returned(preload_arenas(), 0, p, bytes);
        munmap(p, bytes);
    }
    return bytes != 0;
}
