/* seam_stub.c - the one seam function the frozen rbtree copies need in bench-rbtree: the
 * default misuse report's end (heap_error.c). Nothing else of seam.h is linked: the copies
 * leave out mem.c, the default heap, which is the only user of the rest. */
#include <stdlib.h>
#include <unistd.h>

#include "seam.h"

void seam_fatal(const char *line, size_t len)
{
    while (len) {
        ssize_t n = write(2, line, len);
        if (n <= 0)
            break;
        line += n;
        len -= (size_t)n;
    }
    abort();
}
