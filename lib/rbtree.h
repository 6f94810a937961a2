/* rbtree.h - an augmented red-black tree, keyed by node address: each node carries a size and
 * knows the largest size in its subtree. The heap's region tree (heap.c, index_tree.c). It knows
 * nothing of blocks or regions: a node is embedded in whatever it indexes. */
#ifndef KHEAP_RBTREE_H
#define KHEAP_RBTREE_H

#include <stddef.h>
#include <stdint.h>

struct rb_node {
    uintptr_t parent_color;     /* parent pointer; low bit 1 = red */
    struct rb_node *child[2];   /* [0] lower, [1] higher addresses */
    uintptr_t seal;             /* the three words above mixed with the node's address */
    size_t size;                /* this node's own value */
    size_t max;                 /* the largest size in this subtree */
};

void rb_insert(struct rb_node **root, struct rb_node *n);  /* n->size set by the caller */
void rb_erase(struct rb_node **root, struct rb_node *n);
void rb_update_max(struct rb_node *n);                     /* n->size changed: fix maxima up */
struct rb_node *rb_first(struct rb_node *root);
struct rb_node *rb_next(struct rb_node *n);
/* 0 when every tree rule holds. It follows only links whose node's seal is intact, so a tree
 * damaged by a wild write is reported, never walked into: rb_first and rb_next are safe after. */
int rb_check(const struct rb_node *root);

#endif
