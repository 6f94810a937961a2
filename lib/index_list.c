/* index_list.c - the reference free index: one list of free blocks sorted by address, walked
 * from the start. This is the textbook first fit (and FreeRTOS heap_4's): obviously right and
 * O(n). It stays in the tree as the oracle that index_tree.c must agree with, block for block,
 * and as the baseline `make bench` measures against. Built instead of index_tree.c. */
#include "annotate.h"
#include "heap_internal.h"

#define PREV 0
#define NEXT 1

const char *heap_index_name(void) { return "list"; }

static block *at(struct heap_node *n) { return n ? node_block(n) : NULL; }

/* Link n between p and q (either may be NULL). */
static void link_between(struct heap *h, struct heap_node *p, struct heap_node *n, struct heap_node *q)
{
    n->child[PREV] = p;
    n->child[NEXT] = q;
    if (p)
        p->child[NEXT] = n;
    else
        h->free_index = n;
    if (q)
        q->child[PREV] = n;
}

void free_insert(struct heap *h, block *b)
{
    struct heap_node *p = NULL, *q = h->free_index, *n = bnode(b);
    ANNOTATE_DEFINED(n, sizeof *n);      /* heap metadata: defined to memcheck (annotate.h) */
    while (q && q < n) {
        p = q;
        q = q->child[NEXT];
    }
    link_between(h, p, n, q);
}

void free_remove(struct heap *h, block *b)
{
    struct heap_node *n = bnode(b);
    if (n->child[PREV])
        n->child[PREV]->child[NEXT] = n->child[NEXT];
    else
        h->free_index = n->child[NEXT];
    if (n->child[NEXT])
        n->child[NEXT]->child[PREV] = n->child[PREV];
}

void free_replace(struct heap *h, block *old, block *b)
{
    struct heap_node *o = bnode(old);
    ANNOTATE_DEFINED(bnode(b), sizeof(struct heap_node));
    link_between(h, o->child[PREV], bnode(b), o->child[NEXT]);
}

void free_resized(struct heap *h, block *b) { (void)h; (void)b; }

block *free_find(struct heap *h, size_t size)
{
    for (struct heap_node *n = h->free_index; n; n = n->child[NEXT])
        if (node_size(n) >= size)
            return node_block(n);
    return NULL;
}

block *free_floor(struct heap *h, const void *addr)
{
    block *best = NULL;
    for (struct heap_node *n = h->free_index; n && (const char *)at(n) <= (const char *)addr;
         n = n->child[NEXT])
        best = at(n);
    return best;
}

size_t free_largest(struct heap *h)
{
    size_t m = 0;
    for (struct heap_node *n = h->free_index; n; n = n->child[NEXT])
        if (node_size(n) > m)
            m = node_size(n);
    return m;
}

block *free_first(struct heap *h) { return at(h->free_index); }
block *free_next(struct heap *h, block *b) { (void)h; return at(bnode(b)->child[NEXT]); }

/* Every link has its mirror, and the head has no predecessor. */
int free_index_check(struct heap *h)
{
    struct heap_node *n = h->free_index;
    if (n && n->child[PREV])
        return 1;
    for (; n; n = n->child[NEXT])
        if (n->child[NEXT] && n->child[NEXT]->child[PREV] != n)
            return 1;
    return 0;
}
