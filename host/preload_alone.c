/* preload_alone.c - blocks of a large alignment, each in a mapping of its own.
 *
 * The heap serves an aligned request from a free block that holds the request plus the whole
 * slack (the placement rule at the top of lib/heap.c), so posix_memalign(1 << 40, 100) would
 * grow the heap by a 2 TiB region whose tables every heap_check reads (16 GiB of maps: 8 s a
 * check). From ALONE_ALIGN on, the block is mapped alone instead: a reservation of size +
 * alignment is made, the aligned part is kept and the rest goes back at once, so only the
 * block's pages are mapped and the heap never sees it.
 *
 * A table of these blocks (ptr_table.h, in its own mmap'd memory, under
 * seam.c's heap lock, which the arenas never take: this table is its only user in the drop-in,
 * and it is never held with another lock) lets free, realloc and malloc_usable_size find them;
 * the entry points look only when one exists. A block given back is noted in arena 0's ring of
 * returned memory, so a second free of it, which no arena owns, is reported as a free of memory
 * already returned (MEM_ERR_RETURNED). */
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>
#include "arena.h"
#include "mem.h"
#include "preload.h"
#include "ptr_table.h"

static struct ptr_table table;      /* block (the start of its mapping) -> mapping size */
static atomic_size_t live;          /* table.live, read without the lock by alone_any */

int alone_any(void) { return atomic_load_explicit(&live, memory_order_relaxed) != 0; }

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
    int ok = ptr_room(&table) == 0;
    if (ok) {
        ptr_add(&table, (uintptr_t)start, 0, bytes);
        atomic_store_explicit(&live, table.live, memory_order_relaxed);
    }
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
    struct ptr_slot *a = ptr_find(&table, (uintptr_t)p);
    size_t bytes = a ? a->size : 0;
    mem_unlock(s);
    return bytes;
}

int alone_free(void *p)
{
    unsigned long s = mem_lock();
    struct ptr_slot *a = ptr_find(&table, (uintptr_t)p);
    size_t bytes = a ? a->size : 0;
    if (a) {
        ptr_remove(&table, a);
        atomic_store_explicit(&live, table.live, memory_order_relaxed);
    }
    mem_unlock(s);
    if (bytes) {
        /* noted before the unmap: a double free racing with it is still named */
        arena_note_returned(preload_arenas(), 0, p, bytes);
        munmap(p, bytes);
    }
    return bytes != 0;
}
