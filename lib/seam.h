/* seam.h - everything lib/ needs from the platform, implemented once in kernel/seam.c and
 * once in host/seam.c. lib/ calls nothing else outside itself but memcpy, memmove, memset
 * and memcmp. */
#ifndef KHEAP_SEAM_H
#define KHEAP_SEAM_H

#include <stddef.h>

/* The default heap's lock. Kernel: save the interrupt flag, mask interrupts, then take a ticket
 * spinlock (kernel/seam.c; on one CPU the masking alone would do). Host: a mutex. The returned
 * state goes back to seam_unlock. */
unsigned long seam_lock(void);
void          seam_unlock(unsigned long state);

/* Write text to the platform console (kernel: serial; host: stdout). */
void seam_write(const char *text, size_t len);

/* The default error handler's end: write the one-line report and stop for good
 * (kernel: panic on serial and exit QEMU with failure; host: stderr, then abort). */
void seam_fatal(const char *line, size_t len);

/* A region the platform hands the default heap. Its memory must hold zeros, as fresh pages do
 * (calloc skips clearing it). */
struct seam_region {
    void  *start;
    size_t size;     /* bytes usable now */
    size_t reserve;  /* bytes it may grow to later through seam_extend (>= size) */
};

/* More memory for the default heap when a request found no room: a region of at least `need`
 * bytes. On success, fill *out and return 0. The kernel has no more memory: -1. */
int  seam_grow(size_t need, struct seam_region *out);

/* Make [start, start + size) usable, within the reserve seam_grow gave for the region at start:
 * 0, or -1 if it cannot. */
int  seam_extend(void *start, size_t size);

/* A region of the default heap became entirely free (size: its reserve). Return 0 if the
 * platform wants it back (the heap then drops it and calls seam_unmap, without holding the
 * lock), -1 to keep it. */
int  seam_release_wanted(void *start, size_t size);
void seam_unmap(void *start, size_t size);

#endif
