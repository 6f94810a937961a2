/* ptr_table.c - the address table of ptr_table.h. */
#include <sys/mman.h>
#include "ptr_table.h"

#define CAP_MIN ((size_t)256)

/* Fibonacci hashing of the address without its low bits (block addresses are 16-aligned). */
static size_t slot_hash(uintptr_t key, size_t cap)
{
    return (size_t)(((uint64_t)(key >> 4) * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

struct ptr_slot *ptr_find(const struct ptr_table *t, uintptr_t key)
{
    if (!t->slots)
        return NULL;
    for (size_t i = slot_hash(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
        if (t->slots[i].key == key)
            return &t->slots[i];
        if (t->slots[i].key == PTR_EMPTY)
            return NULL;
    }
}

/* A table with room for four times the live entries, without the removed ones. */
static int rebuild(struct ptr_table *t)
{
    size_t cap = CAP_MIN;
    while (cap < (t->live + 1) * 4)
        cap *= 2;
    struct ptr_slot *s = mmap(NULL, cap * sizeof *s, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!ptr_live(&t->slots[i]))
            continue;
        size_t j = slot_hash(t->slots[i].key, cap);
        while (s[j].key != PTR_EMPTY)
            j = (j + 1) & (cap - 1);
        s[j] = t->slots[i];
    }
    if (t->slots)
        munmap(t->slots, t->cap * sizeof *t->slots);
    t->slots = s;
    t->cap = cap;
    t->used = t->live;
    return 0;
}

int ptr_room(struct ptr_table *t)
{
    return (t->used + 1) * 10 > t->cap * 7 ? rebuild(t) : 0;
}

void ptr_add(struct ptr_table *t, uintptr_t key, uint64_t id, size_t size)
{
    size_t i = slot_hash(key, t->cap);
    while (ptr_live(&t->slots[i]))
        i = (i + 1) & (t->cap - 1);
    if (t->slots[i].key == PTR_EMPTY)
        t->used++;
    t->slots[i] = (struct ptr_slot){ key, id, size };
    t->live++;
}

void ptr_remove(struct ptr_table *t, struct ptr_slot *s)
{
    s->key = PTR_GONE;
    t->live--;
}
