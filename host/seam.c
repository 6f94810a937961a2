/* seam.c - the Linux side of lib/seam.h: regions from mmap, a mutex, stdout and stderr.
 *
 * The default heap grows in steps of at least KHEAP_STEP bytes; a request larger than that gets
 * a region of its own, which goes back to the kernel (munmap) as soon as it is entirely free.
 * Nothing here allocates: it must work under a malloc that is this very heap. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "seam.h"

#define KHEAP_STEP ((size_t)4 << 20)   /* 4 MiB: few regions, little untouched RSS */
#define PAGE       ((size_t)4096)

static pthread_mutex_t heap_mutex = PTHREAD_MUTEX_INITIALIZER;

unsigned long seam_lock(void)
{
    pthread_mutex_lock(&heap_mutex);
    return 0;
}

void seam_unlock(unsigned long state)
{
    (void)state;
    pthread_mutex_unlock(&heap_mutex);
}

/* fork() in another thread must not leave the child with the lock held forever. */
static void fork_prepare(void) { pthread_mutex_lock(&heap_mutex); }
static void fork_parent(void)  { pthread_mutex_unlock(&heap_mutex); }
static void fork_child(void)   { pthread_mutex_init(&heap_mutex, NULL); }

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

/* A step for ordinary growth; for a larger request, a region of exactly the size asked for
 * (mapped to the end of its last page, but the heap gets only `need`: spare room would draw
 * small blocks in, and one of them would keep the whole region mapped). */
int seam_grow(size_t need, void **start, size_t *size)
{
    size_t bytes = need > KHEAP_STEP ? need : KHEAP_STEP;
    if (bytes > (size_t)-1 - PAGE)
        return -1;
    void *p = mmap(NULL, (bytes + PAGE - 1) & ~(PAGE - 1), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    *start = p;
    *size = bytes;
    return 0;
}

/* Only regions made for one large request go back; the step-sized ones are kept for reuse. */
int seam_release_wanted(void *start, size_t size)
{
    (void)start;
    return size > KHEAP_STEP ? 0 : -1;
}

void seam_unmap(void *start, size_t size) { munmap(start, size); } /* to the end of the last page */
