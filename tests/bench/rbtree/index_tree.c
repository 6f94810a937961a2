/* Frozen benchmark baseline: the red-black-tree design of lib/index_tree.c at commit 6dbb346, copied
 * unchanged below this comment for tests/bench (bench-rbtree). Do not edit; see README.md here. */
/* index_tree.c - the fast free index: free blocks in a red-black tree keyed by address, each
 * node knowing the largest free block below it (rbtree.c).
 *
 * First fit in O(log n): from the root, go left while the left subtree holds a block big
 * enough, else take this block if it fits, else go right. That visits exactly the blocks a
 * sorted-list walk would reject, compressed to one root-to-leaf path, so it returns the same
 * lowest-addressed fitting block as index_list.c, the reference. */
#include "annotate.h"
#include "heap_internal.h"

const char *heap_index_name(void) { return "tree"; }

/* A node is heap metadata: memcheck must see it as defined (annotate.h). */
void free_insert(struct heap *h, block *b)
{
    ANNOTATE_DEFINED(bnode(b), sizeof(struct heap_node));
    rb_insert(&h->free_index, bnode(b));
}
void free_remove(struct heap *h, block *b)  { rb_erase(&h->free_index, bnode(b)); }
void free_resized(struct heap *h, block *b) { (void)h; rb_update_max(bnode(b)); }

void free_replace(struct heap *h, block *old, block *b)
{
    ANNOTATE_DEFINED(bnode(b), sizeof(struct heap_node));
    rb_replace(&h->free_index, bnode(old), bnode(b));
}

block *free_find(struct heap *h, size_t size)
{
    struct heap_node *n = h->free_index;
    if (!n || n->max < size)
        return NULL;
    for (;;) {
        if (n->child[0] && n->child[0]->max >= size)
            n = n->child[0];
        else if (node_size(n) >= size)
            return node_block(n);
        else
            n = n->child[1]; /* n->max >= size, so the right subtree holds one */
    }
}

block *free_floor(struct heap *h, const void *addr)
{
    struct heap_node *n = h->free_index, *best = NULL;
    while (n) {
        if ((const char *)node_block(n) <= (const char *)addr) {
            best = n;
            n = n->child[1];
        } else {
            n = n->child[0];
        }
    }
    return best ? node_block(best) : NULL;
}

size_t free_largest(struct heap *h) { return h->free_index ? h->free_index->max : 0; }

block *free_first(struct heap *h)
{
    struct heap_node *n = rb_first(h->free_index);
    return n ? node_block(n) : NULL;
}

block *free_next(struct heap *h, block *b)
{
    (void)h;
    struct heap_node *n = rb_next(bnode(b));
    return n ? node_block(n) : NULL;
}

int free_index_check(struct heap *h) { return rb_check(h->free_index); }
