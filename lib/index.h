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
 * date. After a change the heap calls index_removed for every free block that went or shrank
 * (its start and its old size, in granules), then index_added for every free block that
 * appeared or grew (its start and its new size). Most calls cost a compare or two: a block
 * that was not its chunk's largest leaves the summary as it is. */
void   index_removed(struct heap *h, struct region *r, size_t g, size_t size);
void   index_added(struct heap *h, struct region *r, size_t g, size_t size);
/* In place of index_removed for a free block of `size` granules at `gone` that merged into the
 * free block at g below it (index_added(g, ...) follows): the summary of g's chunk only grows. */
void   index_merged(struct heap *h, struct region *r, size_t g, size_t gone, size_t size);

/* The lowest-addressed free block of at least `need` granules over all regions: its granule, its
 * region in *rp and its end (the next block's start) in *end; NONE if there is none. */
size_t index_find(struct heap *h, size_t need, struct region **rp, size_t *end);

size_t index_largest(struct heap *h);            /* granules of the largest free block, or 0 */
int    index_check(const struct region *r);      /* 0 when the summary matches the maps */

#endif
