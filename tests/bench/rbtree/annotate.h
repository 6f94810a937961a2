/* Frozen benchmark baseline: the red-black-tree design of lib/annotate.h at commit 6dbb346, copied
 * unchanged below this comment for tests/bench (bench-rbtree). Do not edit; see README.md here. */
/* annotate.h - optional hints that let valgrind's memcheck see the heap's blocks as it sees
 * malloc's: build with -DKHEAP_VALGRIND=1 (host only). The arena is marked unaddressable, each
 * allocation addressable for exactly the bytes requested, each free unaddressable again, so an
 * overrun or a use after free in the caller's code is reported. The heap's own reads and
 * writes of its metadata happen with error reporting switched off (ANNOTATE_ENTER/LEAVE), and
 * every metadata word it writes is marked defined, so memcheck's view of it stays exact. The
 * price: a freed block that heads a free run holds the index node in its first 32 bytes (16
 * on i386), and a read there after free goes unreported; anywhere else it is caught.
 * Without the flag every macro is empty: no cost, and lib/ stays freestanding. */
#ifndef KHEAP_ANNOTATE_H
#define KHEAP_ANNOTATE_H

#if defined(KHEAP_VALGRIND) && KHEAP_VALGRIND
#include <valgrind/memcheck.h>
#define ANNOTATE_ENTER()           VALGRIND_DISABLE_ERROR_REPORTING
#define ANNOTATE_LEAVE()           VALGRIND_ENABLE_ERROR_REPORTING
#define ANNOTATE_ALLOC(p, n)       VALGRIND_MALLOCLIKE_BLOCK((p), (n), 0, 0)
#define ANNOTATE_FREE(p)           VALGRIND_FREELIKE_BLOCK((p), 0)
#define ANNOTATE_NOACCESS(p, n)    VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define ANNOTATE_DEFINED(p, n)     VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define ANNOTATE_ENTER()           ((void)0)
#define ANNOTATE_LEAVE()           ((void)0)
#define ANNOTATE_ALLOC(p, n)       ((void)(p), (void)(n))
#define ANNOTATE_FREE(p)           ((void)(p))
#define ANNOTATE_NOACCESS(p, n)    ((void)(p), (void)(n))
#define ANNOTATE_DEFINED(p, n)     ((void)(p), (void)(n))
#endif

#endif
