/* index.h - the free index: finds the lowest-addressed free block of a size, over every region of
 * a heap, from the maps alone (format.h). Two implementations, chosen at build time:
 *
 *   index_tree.c  the summary tree: per chunk (one map word) its largest free block, and a
 *                 16-way tree of maxima over the chunks, so a search descends a few cache lines
 *                 and then picks the lowest fitting free start in one chunk. O(log n).
 *   index_list.c  the reference: the free starts walked in address order (the textbook
 *                 sorted-list first fit). O(n). The oracle the tree must agree with.
 *
 * Both return the same block for every request, since both return the lowest one that fits. */
#ifndef KHEAP_INDEX_H
#define KHEAP_INDEX_H

#include "format.h"

const char *heap_index_name(void);   /* "tree" or "list" (heap.h) */

/* A region's summary (laid out by heap.c with its maps) is all zeros until index_added is
 * called for its first free block. */

/* The maps changed: bring the summary, and the region's place in the heap's region tree, up to
 * date. Three kinds of change, each told once, after the maps were written:
 *   index_cut     an allocation took the front of free block [g, g + size) up to `rest`: what is
 *                 left, [rest, g + size), stays free (rest == g + size: nothing is left);
 *   index_freed   used block [g, end) was freed into free block [lo, hi): merged with the free
 *                 block below when lo < g, with the one above when end < hi;
 *   index_added   a free block of `size` granules starts at g, new or grown into new memory.
 * Most calls cost a compare or two: a block that was not its chunk's largest leaves the summary
 * as it is. */
void   index_cut(struct heap *h, struct region *r, size_t g, size_t size, size_t rest);
void   index_freed(struct heap *h, struct region *r, size_t lo, size_t g, size_t end, size_t hi);
void   index_added(struct heap *h, struct region *r, size_t g, size_t size);

/* The lowest-addressed free block of at least `need` granules over all regions: its granule, its
 * region in *rp and its end (the next block's start) in *end; NONE if there is none. */
size_t index_find(struct heap *h, size_t need, struct region **rp, size_t *end);

size_t index_largest(struct heap *h);            /* granules of the largest free block, or 0 */
int    index_check(const struct region *r);      /* 0 when the summary matches the maps */

#endif
