/* rbtree.c - a red-black tree of rb_nodes keyed by their address, each node knowing the
 * largest `size` in its subtree (rbtree.h). The heap keeps its regions in one: finding a
 * pointer's region and the first region with room are both O(log regions).
 *
 * Why red-black: insert and erase are O(log n) worst case with at most three rotations, the
 * colour fits in the low bit of the parent pointer, and the subtree maximum is cheap to keep:
 * a rotation changes the subtrees of only the two nodes it turns.
 *
 * The nodes live in the memory they index (a region's descriptor), where a wild write can reach
 * them. Each node seals its links (parent, colour, children) with its own address: every write
 * of a link goes through set_parent, set_red or set_child, which reseal the node written, and
 * rb_check trusts a node's links only when its seal matches. Links change only when a region
 * comes or goes, so sealing costs nothing on the allocation path. */
#include "rbtree.h"

#define RED ((uintptr_t)1)

static struct rb_node *parent(const struct rb_node *n)
{
    return (struct rb_node *)(n->parent_color & ~RED);
}
static int is_red(const struct rb_node *n) { return n && (n->parent_color & RED); }

/* A multiply-xorshift mix of the links and the address: a damaged word changes it. */
static uintptr_t seal_of(const struct rb_node *n)
{
    const uintptr_t k = (uintptr_t)0x9e3779b97f4a7c15ull;   /* odd in 32 bits too */
    uintptr_t s = (uintptr_t)n * k;
    s = (s ^ n->parent_color) * k;
    s = (s ^ (uintptr_t)n->child[0]) * k;
    s = (s ^ (uintptr_t)n->child[1]) * k;
    return s ^ (s >> (4 * sizeof s - 3));
}
static void reseal(struct rb_node *n) { n->seal = seal_of(n); }

static void set_parent(struct rb_node *n, struct rb_node *p)
{
    n->parent_color = (uintptr_t)p | (n->parent_color & RED);
    reseal(n);
}
static void set_red(struct rb_node *n, int red)
{
    n->parent_color = (n->parent_color & ~RED) | (red ? RED : 0);
    reseal(n);
}
static void set_child(struct rb_node *n, int i, struct rb_node *c)
{
    n->child[i] = c;
    reseal(n);
}

/* n->max from n's own size and its children's maxima. */
static void recompute(struct rb_node *n)
{
    size_t m = n->size;
    for (int i = 0; i < 2; i++)
        if (n->child[i] && n->child[i]->max > m)
            m = n->child[i]->max;
    n->max = m;
}

/* n's size or children changed: fix n->max, then its ancestors' as far as the change reaches.
 * A larger maximum climbs while it beats the ancestors' (no sibling is read); a smaller one
 * climbs only through ancestors whose maximum was the old value, since any other ancestor owes
 * its maximum to a node outside the changed subtree. */
void rb_update_max(struct rb_node *n)
{
    size_t old = n->max;
    recompute(n);
    size_t m = n->max;
    if (m > old) {
        for (struct rb_node *p = parent(n); p && p->max < m; p = parent(p))
            p->max = m;
        return;
    }
    for (struct rb_node *p = parent(n); m != old && p && p->max == old; p = parent(p)) {
        recompute(p);
        m = p->max;
    }
}

/* Make n stand where old stood under old's parent (or at the root). */
static void relink(struct rb_node **root, struct rb_node *old, struct rb_node *n)
{
    struct rb_node *p = parent(old);
    if (!p)
        *root = n;
    else
        set_child(p, p->child[1] == old, n);
    if (n)
        set_parent(n, p);
}

/* Turn x down towards side d; its child on the other side takes its place. */
static void rotate(struct rb_node **root, struct rb_node *x, int d)
{
    struct rb_node *y = x->child[!d];
    set_child(x, !d, y->child[d]);
    if (y->child[d])
        set_parent(y->child[d], x);
    relink(root, x, y);
    set_child(y, d, x);
    set_parent(x, y);
    recompute(x);
    recompute(y);
}

void rb_insert(struct rb_node **root, struct rb_node *n)
{
    struct rb_node *p = NULL;
    for (struct rb_node *q = *root; q; q = q->child[n > q])
        p = q;
    n->child[0] = n->child[1] = NULL;
    n->parent_color = (uintptr_t)p | RED;
    reseal(n);
    n->max = n->size;
    if (p)
        set_child(p, n > p, n);
    else
        *root = n;
    for (struct rb_node *q = p; q && q->max < n->max; q = parent(q))
        q->max = n->max;

    while (is_red(p = parent(n))) {
        struct rb_node *g = parent(p);
        int d = (p == g->child[1]);
        struct rb_node *u = g->child[!d];
        if (is_red(u)) {                 /* red uncle: recolour and continue above */
            set_red(p, 0);
            set_red(u, 0);
            set_red(g, 1);
            n = g;
            continue;
        }
        if (n == p->child[!d]) {         /* inner grandchild: turn it outside first */
            rotate(root, p, d);
            n = p;
            p = parent(n);
        }
        set_red(p, 0);
        set_red(g, 1);
        rotate(root, g, !d);
    }
    set_red(*root, 0);
}

static struct rb_node *leftmost(struct rb_node *n)
{
    while (n->child[0])
        n = n->child[0];
    return n;
}

/* Restore the black height after a black node was taken out above x (x may be NULL). */
static void erase_fixup(struct rb_node **root, struct rb_node *x, struct rb_node *xp)
{
    while (x != *root && !is_red(x)) {
        int d = (x == xp->child[1]);
        struct rb_node *w = xp->child[!d];
        if (is_red(w)) {
            set_red(w, 0);
            set_red(xp, 1);
            rotate(root, xp, d);
            w = xp->child[!d];
        }
        if (!is_red(w->child[0]) && !is_red(w->child[1])) {
            set_red(w, 1);
            x = xp;
            xp = parent(x);
            continue;
        }
        if (!is_red(w->child[!d])) {
            set_red(w->child[d], 0);
            set_red(w, 1);
            rotate(root, w, !d);
            w = xp->child[!d];
        }
        set_red(w, is_red(xp));
        set_red(xp, 0);
        set_red(w->child[!d], 0);
        rotate(root, xp, d);
        x = *root;
        break;
    }
    if (x)
        set_red(x, 0);
}

void rb_erase(struct rb_node **root, struct rb_node *z)
{
    struct rb_node *x, *xp, *moved = NULL;
    int removed_red;

    if (!z->child[0] || !z->child[1]) {
        x = z->child[0] ? z->child[0] : z->child[1];
        xp = parent(z);
        removed_red = is_red(z);
        relink(root, z, x);
    } else {                             /* z's successor y takes z's place */
        struct rb_node *y = leftmost(z->child[1]);
        moved = y;
        removed_red = is_red(y);
        x = y->child[1];
        if (parent(y) == z) {
            xp = y;
        } else {
            xp = parent(y);
            relink(root, y, x);
            set_child(y, 1, z->child[1]);
            set_parent(y->child[1], y);
        }
        relink(root, z, y);
        set_child(y, 0, z->child[0]);
        set_parent(y->child[0], y);
        set_red(y, is_red(z));
        y->max = z->max;                 /* y stands for z's subtree: its old maximum above */
    }
    /* Maxima: xp's subtree and everything above lost z; if y moved, the path from xp up to y
     * lost y, and y has new children (its own update runs after xp's, so it starts right). */
    if (xp)
        rb_update_max(xp);
    if (moved)
        rb_update_max(moved);
    if (!removed_red)
        erase_fixup(root, x, xp);
}

struct rb_node *rb_first(struct rb_node *root)
{
    return root ? leftmost(root) : NULL;
}

struct rb_node *rb_next(struct rb_node *n)
{
    if (n->child[1])
        return leftmost(n->child[1]);
    struct rb_node *p = parent(n);
    while (p && n == p->child[1]) {
        n = p;
        p = parent(n);
    }
    return p;
}

/* The black height of n's subtree, or -1 if any rule is broken in it: its seal (checked before
 * any of its links is followed), parent links, address order within (lo, hi), no red node with a
 * red child, equal black heights, exact maxima. */
static int check_subtree(const struct rb_node *n, const struct rb_node *p,
                         const struct rb_node *lo, const struct rb_node *hi)
{
    if (!n)
        return 1;
    if (n->seal != seal_of(n) || parent(n) != p || (lo && n <= lo) || (hi && n >= hi))
        return -1;
    if (is_red(n) && (is_red(n->child[0]) || is_red(n->child[1])))
        return -1;
    size_t m = n->size;
    for (int i = 0; i < 2; i++)
        if (n->child[i] && n->child[i]->max > m)
            m = n->child[i]->max;
    if (n->max != m)
        return -1;
    int left = check_subtree(n->child[0], n, lo, n);
    int right = check_subtree(n->child[1], n, n, hi);
    if (left < 0 || left != right)
        return -1;
    return left + !is_red(n);
}

int rb_check(const struct rb_node *root)
{
    return (root && is_red(root)) || check_subtree(root, NULL, NULL, NULL) < 0;
}
