/* ptr_table.h - a table from addresses to (id, size), for the parts of libkheap.so that must
 * remember pointers without calling malloc: the trace (pointer -> record id and size) and the
 * blocks mapped alone (pointer -> mapping size).
 *
 * Open addressing with linear probing over slots in memory of its own (mmap), rebuilt twice as
 * large (and without its removed slots) past 70% use. ptr_room makes the room for one more entry
 * first, so that an update that must not fail half-way (a realloc's remove and add) cannot.
 * Not locked: each user calls it under its own lock. */
#ifndef KHEAP_PTR_TABLE_H
#define KHEAP_PTR_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define PTR_EMPTY ((uintptr_t)0)
#define PTR_GONE  ((uintptr_t)1)    /* a removed entry: probing goes on past it */

struct ptr_slot {
    uintptr_t key;                  /* the address, or PTR_EMPTY / PTR_GONE */
    uint64_t id;
    size_t size;
};

struct ptr_table {
    struct ptr_slot *slots;         /* cap of them, or NULL before the first ptr_room */
    size_t cap, used, live;         /* used: live and removed slots */
};

static inline int ptr_live(const struct ptr_slot *s) { return s->key > PTR_GONE; }

struct ptr_slot *ptr_find(const struct ptr_table *t, uintptr_t key);  /* NULL if absent */
int  ptr_room(struct ptr_table *t);  /* room for one more: 0, or -1 if mmap failed (its errno) */
void ptr_add(struct ptr_table *t, uintptr_t key, uint64_t id, size_t size); /* after ptr_room */
void ptr_remove(struct ptr_table *t, struct ptr_slot *s);

#endif
