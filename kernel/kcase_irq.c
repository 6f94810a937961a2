/* kcase_irq.c - the self-test that proves the default heap's lock is IRQ-safe: the timer
 * interrupt allocates, fills, checks and frees small blocks of the default heap while the main
 * flow does the same in a loop with interrupts on. The lock (seam.c) masks interrupts for the
 * length of each heap operation, so a tick lands only between operations; without it a tick
 * would enter the heap halfway through one and the checks below would see the damage.
 *
 * Both flows keep a ring of live blocks, each filled with its own byte, and check a block's
 * every byte before freeing it. At the end: mem_check passes, no fill changed, the handler
 * freed exactly what it allocated, and the heap's alloc/free counters grew by exactly the sum
 * of both flows' operations. */
#include <stdint.h>
#include "case.h"
#include "io.h"
#include "kcases.h"
#include "mem.h"
#include "pit.h"

#define TICK_HZ        1000
#define TICKS_WANTED   3000     /* ~3 s at 1 kHz, wall time under TCG */
#define LOOP_LIMIT     50000000 /* main-flow iterations: a bound if the timer is slow */
#define SILENT_LIMIT   2000000  /* iterations with no tick at all: the timer is dead */
#define IRQ_RING       8        /* blocks the handler holds across ticks */
#define MAIN_RING      32
#define IRQ_SIZE_MAX   128
#define MAIN_SIZE_MAX  512

struct tagged {
    unsigned char *p;
    size_t size;
    unsigned char fill;
};

/* Everything the handler touches; volatile where the main flow reads it while ticks run. */
static struct tagged irq_ring[IRQ_RING];
static volatile unsigned irq_ticks, irq_allocs, irq_frees, irq_failed, irq_mismatches, irq_live;
static volatile int irq_draining;

static void tag_fill(struct tagged *t, void *p, size_t size, unsigned seq)
{
    t->p = p;
    t->size = size;
    t->fill = (unsigned char)(seq * 131u + 7u);
    for (size_t i = 0; i < size; i++)
        t->p[i] = t->fill;
}

/* Returns the number of bytes that no longer hold the block's fill. */
static unsigned tag_mismatches(const struct tagged *t)
{
    unsigned bad = 0;

    for (size_t i = 0; i < t->size; i++)
        bad += t->p[i] != t->fill;
    return bad;
}

static void irq_release(struct tagged *t)
{
    irq_mismatches += tag_mismatches(t);
    mem_free(t->p);
    t->p = 0;
    irq_frees++;
    irq_live--;
}

/* IRQ 0: free the block that has lived longest in this slot, then (unless draining) allocate
 * a new one there. Runs with interrupts off, so the heap's lock nests inside it harmlessly. */
static void irq_tick(void)
{
    unsigned tick = ++irq_ticks;
    struct tagged *t = &irq_ring[tick % IRQ_RING];
    size_t size = 1 + (tick * 37u) % IRQ_SIZE_MAX;
    void *p;

    if (t->p)
        irq_release(t);
    if (irq_draining)
        return;
    if (!(p = mem_alloc(size))) {
        irq_failed++;
        return;
    }
    tag_fill(t, p, size, tick);
    irq_allocs++;
    irq_live++;
}

struct main_flow {
    struct tagged ring[MAIN_RING];
    unsigned allocs, frees, failed, mismatches;
    unsigned long iterations;
};

static void main_release(struct main_flow *m, struct tagged *t)
{
    m->mismatches += tag_mismatches(t);
    mem_free(t->p);
    t->p = 0;
    m->frees++;
}

static void main_step(struct main_flow *m)
{
    unsigned long i = m->iterations++;
    struct tagged *t = &m->ring[i % MAIN_RING];
    size_t size = 1 + (i * 97u) % MAIN_SIZE_MAX;
    void *p;

    if (t->p)
        main_release(m, t);
    if (!(p = mem_alloc(size))) {
        m->failed++;
        return;
    }
    tag_fill(t, p, size, (unsigned)i + 0x55u);
    m->allocs++;
}

/* Ticks until TICKS_WANTED, with bounds so a dead or slow timer fails instead of hanging. */
static void main_loop(struct main_flow *m)
{
    while (irq_ticks < TICKS_WANTED && m->iterations < LOOP_LIMIT) {
        main_step(m);
        if (m->iterations == SILENT_LIMIT && irq_ticks == 0)
            break;
    }
}

/* The handler frees one block per tick while draining: wait until it holds none. */
static void drain(void)
{
    unsigned long spins = 0;

    irq_draining = 1;
    while (irq_live > 0 && spins++ < LOOP_LIMIT)
        __asm__ volatile("pause");
}

static void reset_irq_side(void)
{
    irq_ticks = irq_allocs = irq_frees = irq_failed = irq_mismatches = irq_live = 0;
    irq_draining = 0;
    for (unsigned i = 0; i < IRQ_RING; i++)
        irq_ring[i].p = 0;
}

void irq_allocating_case(void)
{
    static struct main_flow m;
    struct mem_stats before, after;
    uint32_t flags = read_eflags();

    m = (struct main_flow){ 0 };
    reset_irq_side();
    mem_stats(&before);
    pit_start(TICK_HZ, irq_tick);
    cpu_sti();
    main_loop(&m);
    drain();
    cpu_cli();
    pit_stop();
    if (flags & EFLAGS_IF)
        cpu_sti(); /* as the caller had it */
    for (unsigned i = 0; i < MAIN_RING; i++)
        if (m.ring[i].p)
            main_release(&m, &m.ring[i]);
    mem_stats(&after);

    case_printf("timer: %u ticks; handler: %u allocs, %u frees, %u failed; main: %lu iterations, "
                "%u allocs, %u frees, %u failed; %u + %u bytes changed",
                irq_ticks, irq_allocs, irq_frees, irq_failed, m.iterations, m.allocs, m.frees,
                m.failed, irq_mismatches, m.mismatches);
    CHECK(irq_ticks >= TICKS_WANTED);
    CHECK(irq_live == 0 && irq_allocs == irq_frees);
    CHECK(m.allocs == m.frees);
    CHECK(irq_failed == 0 && m.failed == 0);
    CHECK(irq_mismatches == 0 && m.mismatches == 0);
    CHECK(after.alloc_count - before.alloc_count == (uint64_t)irq_allocs + m.allocs);
    CHECK(after.free_count - before.free_count == (uint64_t)irq_frees + m.frees);
    CHECK(after.error_count == before.error_count);
    CHECK(mem_check() == 0);
}
