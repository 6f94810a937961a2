/* seam.c - the Linux side of lib/seam.h: regions from mmap, a mutex, stdout and stderr.
 *
 * The default heap grows in steps of at least KHEAP_STEP bytes; a request larger than that gets
 * a region of its own, which may grow in place (see seam_grow) and goes back to the kernel
 * (munmap) as soon as it is entirely free.
 *
 * Every region's reservation is followed by one more page with no access (GUARD): mmap tends to
 * place a new mapping right under the last, so without it an overrun past the last block of a
 * region ran straight into the descriptor of the region above. With it, the overrun faults
 * where it happens, in the program's code.
 * Nothing here allocates: it must work under a malloc that is this very heap. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fork_lock.h"
#include "seam.h"

#define KHEAP_STEP ((size_t)4 << 20)   /* 4 MiB: few regions, little untouched RSS */
#define PAGE       ((size_t)4096)
#define GUARD      PAGE                /* no access, after every reservation */

static struct fork_lock heap_lock = FORK_LOCK_INIT;
FORK_LOCK_INSIDE(heap_inside);

unsigned long seam_lock(void)
{
    fork_lock_take(&heap_lock, &heap_inside);
    return 0;
}

void seam_unlock(unsigned long state)
{
    (void)state;
    fork_lock_drop(&heap_lock, &heap_inside);
}

/* fork() in another thread must not leave the child with the lock held forever, nor take it
 * in an order that deadlocks with stdio (fork_lock.h). */
static int stdio_taken;
static void fork_prepare(void)
{
    stdio_taken = fork_stdio_lock();
    fork_lock_prepare(&heap_lock, &heap_inside);
}
static void fork_parent(void)
{
    fork_lock_parent(&heap_lock);
    fork_stdio_unlock(stdio_taken);
}
static void fork_child(void) { fork_lock_child(&heap_lock); }

__attribute__((constructor)) static void seam_setup(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

void seam_write(const char *text, size_t len) { write_all(1, text, len); }

void seam_fatal(const char *line, size_t len)
{
    write_all(2, line, len);
    abort();
}

static size_t page_up(size_t n) { return (n + PAGE - 1) & ~(PAGE - 1); }

/* A step for ordinary growth. A larger request gets a region of its own, exactly the size
 * asked for (spare room would draw small blocks in, and one of them would keep the whole region
 * mapped), inside a reservation of twice that: address space with no access, which seam_extend
 * opens when a block at the region's end grows by realloc. A buffer grown in small steps then
 * moves only when it has doubled, as it does under an allocator that uses mremap. */
/* room bytes of address space with no access, and the guard page after them. */
static void *reserve(size_t room)
{
    void *p = mmap(NULL, room + GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int seam_grow(size_t need, struct seam_region *out)
{
    if (need > ((size_t)-1 >> 2))
        return -1;
    int saved = errno;              /* a malloc that succeeds leaves errno alone */
    int step = need <= KHEAP_STEP;  /* a step of ordinary growth, or a region of its own */
    size_t open = step ? KHEAP_STEP : need, room = step ? KHEAP_STEP : page_up(2 * need);
    void *p = reserve(room);
    if (!p && !step) {              /* under ulimit -v the reserve may not fit where the block does */
        room = page_up(need);
        p = reserve(room);
    }
    if (!p)
        return -1;
    errno = saved;
    if (seam_extend(p, open) != 0) {
        seam_unmap(p, room);
        return -1;
    }
    *out = (struct seam_region){ p, open, room };
    return 0;
}

int seam_extend(void *start, size_t size)
{
    return mprotect(start, page_up(size), PROT_READ | PROT_WRITE) == 0 ? 0 : -1;
}

/* Only regions made for one large request go back; the step-sized ones are kept for reuse.
 * size is the reservation, which seam_unmap gives back whole. */
int seam_release_wanted(void *start, size_t size)
{
    (void)start;
    return size > KHEAP_STEP ? 0 : -1;
}

/* The reservation and its guard page (size is the reservation, as seam_grow gave it). */
void seam_unmap(void *start, size_t size) { munmap(start, page_up(size) + GUARD); }
