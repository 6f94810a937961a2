/* textbook.h - the textbook first-fit allocator the benchmark measures kheap's space against
 * (textbook.c; built once per TEXTBOOK_ALIGN, 8 or 16). One instance over one arena. */
#ifndef BENCH_TEXTBOOK_H
#define BENCH_TEXTBOOK_H

#include <stddef.h>

void   tb_init(void *arena, size_t bytes); /* arena: ALIGN-aligned (a mapping is) */
void  *tb_alloc(size_t n);                 /* NULL for 0, absurd or no room */
void   tb_free(void *p);                   /* NULL is a no-op; no misuse checks */
void  *tb_realloc(void *p, size_t n);      /* C semantics; a failure leaves the block */
size_t tb_usable_size(const void *p);
size_t tb_alignment(void);                 /* TEXTBOOK_ALIGN it was built with */
/* Walk the arena: 0 if every invariant holds, else the number of violations; the block counts. */
int    tb_check(size_t *used_blocks, size_t *free_blocks);

#endif
