/* memmap.c - draws every heap region by region: the default heap's, then each CPU's arena's
 * (karena.h). Each region gets one scale: a cell is
 * the smallest power of two (at least MAP_CELL_MIN bytes) that fits the region into
 * MEMMAP_ROWS rows of MEMMAP_COLUMNS cells. A walk of the heap (under its lock) marks each
 * cell with what lies in it; blocks tile the region after its tables, so the picture has no
 * holes. */
#include <stdint.h>
#include "karena.h"
#include "kprintf.h"
#include "mem.h"
#include "memmap.h"

#define MAP_CELLS    (MEMMAP_COLUMNS * MEMMAP_ROWS)
#define MAP_CELL_MIN 64

#define CELL_USED 1
#define CELL_FREE 2
#define CELL_META 4

/* One region being drawn, and what the walk has found in it so far. */
struct picture {
    uint64_t start, end;            /* the region, [start, end) */
    uint64_t cell;                  /* bytes per cell */
    unsigned char cells[MAP_CELLS];
    uint64_t prev;                  /* payload of the last block seen in the region, 0: none */
    int prev_used;
    size_t prev_size;
    size_t used_bytes, free_bytes, used_blocks, free_blocks;
};

static struct picture pic; /* 1 KiB of cells: too much for a comfortable stack frame */

/* Marks the cells that [a, b) touches. */
static void mark(struct picture *p, uint64_t a, uint64_t b, unsigned char what)
{
    if (b > p->end)
        b = p->end;
    if (a < p->start || a >= b)
        return;
    for (uint64_t i = (a - p->start) / p->cell; i <= (b - 1 - p->start) / p->cell; i++)
        p->cells[i] |= what;
}

static unsigned char kind(int used)
{
    return used ? CELL_USED : CELL_FREE;
}

static void count(struct picture *p, size_t size, int used)
{
    if (used) {
        p->used_bytes += size;
        p->used_blocks++;
    } else {
        p->free_bytes += size;
        p->free_blocks++;
    }
}

/* heap_walk's callback: blocks come in address order over all regions. */
static void visit(void *ctx, void *ptr, size_t size, int used)
{
    struct picture *p = ctx;
    uint64_t at = (uintptr_t)ptr;

    if (at < p->start || at >= p->end)
        return;
    if (p->prev)
        mark(p, p->prev, at, kind(p->prev_used));
    else
        mark(p, p->start, at, CELL_META); /* descriptor and tables */
    count(p, size, used);
    p->prev = at;
    p->prev_used = used;
    p->prev_size = size;
}

static void finish(struct picture *p)
{
    if (p->prev)
        mark(p, p->prev, p->prev + p->prev_size, kind(p->prev_used));
}

static uint64_t cell_size(uint64_t bytes)
{
    uint64_t cell = MAP_CELL_MIN;

    while (cell * MAP_CELLS < bytes)
        cell <<= 1;
    return cell;
}

static void picture_start(struct picture *p, uintptr_t start, size_t size)
{
    p->start = start;
    p->end = (uint64_t)start + size;
    p->cell = cell_size(size);
    for (unsigned i = 0; i < MAP_CELLS; i++)
        p->cells[i] = 0;
    p->prev = 0;
    p->used_bytes = p->free_bytes = p->used_blocks = p->free_blocks = 0;
}

static char cell_char(unsigned char c)
{
    if ((c & CELL_USED) && (c & CELL_FREE))
        return '+';
    if (c & CELL_USED)
        return '#';
    if (c & CELL_FREE)
        return '.';
    return (c & CELL_META) ? '=' : ' ';
}

/* The default heap's regions are named as before there were arenas ("region 1 of 1"); an
 * arena's say whose they are. */
static void print_header(int owner, unsigned i, unsigned n, const struct picture *p)
{
    if (owner >= 0)
        kprintf("cpu %d's arena, ", owner);
    kprintf("region %u of %u: 0x%08llx-0x%08llx, ", i + 1, n, p->start, p->end - 1);
    kprint_size(p->end - p->start, 10, 0);
    kprintf("; 1 cell = ");
    kprint_size(p->cell, 1, 0);   /* a power of two: exact */
    kprintf("\n  used ");
    kprint_size(p->used_bytes, 10, 0);
    kprintf(" in %zu block(s), free ", p->used_blocks);
    kprint_size(p->free_bytes, 10, 0);
    kprintf(" in %zu block(s)\n", p->free_blocks);
}

static void print_rows(const struct picture *p)
{
    uint64_t cells = (p->end - p->start + p->cell - 1) / p->cell;

    for (uint64_t row = 0; row * MEMMAP_COLUMNS < cells; row++) {
        kprintf("  0x%08llx |", p->start + row * MEMMAP_COLUMNS * p->cell);
        for (uint64_t col = 0; col < MEMMAP_COLUMNS; col++) {
            uint64_t i = row * MEMMAP_COLUMNS + col;
            kprintf("%c", i < cells ? cell_char(p->cells[i]) : ' ');
        }
        kprintf("|\n");
    }
}

/* owner -1: the default heap, under its lock; else that CPU's arena, under the arena's. */
static void draw_region(int owner, unsigned i, unsigned n, uintptr_t start, size_t size)
{
    unsigned long lock;

    picture_start(&pic, start, size);
    if (owner < 0) {
        lock = mem_lock();
        heap_walk(mem_heap(), visit, &pic);
        finish(&pic);
        mem_unlock(lock);
    } else {
        lock = karena_lock((unsigned)owner);
        heap_walk(karena_heap((unsigned)owner), visit, &pic);
        finish(&pic);
        karena_unlock((unsigned)owner, lock);
    }
    print_header(owner, i, n, &pic);
    print_rows(&pic);
}

/* The pieces of one heap, in the order karena.c added them (address order within a heap). */
static unsigned pieces_of(int owner)
{
    unsigned n = 0, all = karena_pieces();
    int who;
    uintptr_t start;
    size_t size;

    for (unsigned k = 0; k < all; k++)
        n += karena_piece(k, &who, &start, &size) == 0 && who == owner;
    return n;
}

static void draw_heap(int owner)
{
    unsigned n = pieces_of(owner), i = 0, all = karena_pieces();
    int who;
    uintptr_t start;
    size_t size;

    for (unsigned k = 0; k < all; k++)
        if (karena_piece(k, &who, &start, &size) == 0 && who == owner)
            draw_region(owner, i++, n, start, size);
}

void memmap_print(void)
{
    struct mem_stats all;

    kprintf("map: '#' used, '.' free, '+' both, '=' region metadata; %u cells a row\n", MEMMAP_COLUMNS);
    if (karena_pieces() == 0)
        kprintf("map: the heap has no regions\n");
    draw_heap(-1);
    for (unsigned a = 0; a < karena_count(); a++)
        draw_heap((int)a);
    karena_stats_all(&all);
    kprintf("map: every heap (the default heap and %u arena(s)): %zu region(s), used ", karena_count(),
            all.region_count);
    kprint_size(all.used_bytes, 10, 0);
    kprintf(" in %zu block(s), free ", all.used_blocks);
    kprint_size(all.free_bytes, 10, 0);
    kprintf(" in %zu block(s)\n", all.free_blocks);
}
