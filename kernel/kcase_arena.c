/* kcase_arena.c - the self-test of the CPUs' arenas (karena.h): every online CPU allocates from
 * its own arena (who = its index), writes a pattern over the whole block, and either keeps the
 * block in a small ring (checking and freeing the one that was there) or hands it to another
 * CPU, in turn each of the others, through that CPU's mailbox. A CPU checks every byte of a
 * block it was handed and frees it with arena_free, which takes the lock of the arena that owns
 * the block: the CPU that allocated it, which is allocating from it at that moment. Meanwhile the
 * timer interrupt (the PIT's IRQ 0, which only the boot CPU takes) allocates and frees from the
 * boot CPU's arena too, in the middle of that CPU's own work.
 *
 * What must hold at the end: no byte of any pattern changed, every block came from the arena
 * of the CPU that asked (the arenas are far larger than what is live, so none had to borrow),
 * arena_owner named that arena when the block was freed, arena_check finds nothing, and every
 * arena is back to the free bytes and used blocks it started with, its alloc and free counts
 * up by what the CPUs and the handler counted.
 *
 * Without the arena locks (make kernel BROKEN_LOCK=1: interrupts masked, no spinlock) a
 * cross-CPU free and the owner's allocation unlink and split the same free blocks at once, and
 * it shows: the heap reports a bad free (its error handler panics), a pattern changes, the
 * check fails, the free bytes do not come back, or a CPU never finishes (the timeout). With one
 * CPU the set has one arena and the case runs the same, the handed blocks going to the boot
 * CPU's own mailbox: the single-arena path of lib/arena.c with the timer interrupt. */
#include <stdint.h>
#include "arena.h"
#include "case.h"
#include "io.h"
#include "karena.h"
#include "kcases.h"
#include "kprintf.h"
#include "pit.h"
#include "smp.h"
#include "spinlock.h"
#include "string.h"

#define ROUNDS_PER_CPU  20000
#define RING_BLOCKS     16    /* blocks each CPU keeps live across rounds */
#define SIZE_MAX_BYTES  768
#define HAND_EVERY      2     /* every 2nd block goes to another CPU */
#define MAILBOX_SLOTS   128
#define TIMEOUT_MS      60000
#define TICK_HZ         1000
#define TICKS_MIN       50    /* the boot CPU keeps the timer on until this many ticks came */
#define IRQ_RING        8
#define IRQ_SIZE_MAX    256
#define WAIT_LIMIT      200000000u /* spins: a bound if the timer is dead */

struct block {
    unsigned char *p;
    uint32_t size;
    uint32_t seed;  /* the pattern: byte i holds pattern_byte(seed, i) */
    unsigned arena; /* the arena it came from */
};

struct mailbox {
    struct spinlock lock;
    unsigned head, count;
    struct block slot[MAILBOX_SLOTS];
};

/* One CPU's counts; each written by its CPU only, read by the boot CPU after the run. */
struct tally {
    unsigned allocs, failed, borrowed, freed_own, handed, received, bytes_checked, mismatches, wrong_owner;
} __attribute__((aligned(64)));

static struct mailbox mailboxes[SMP_CPUS_MAX];
static struct tally tallies[SMP_CPUS_MAX];
static uint32_t arrived, finished;

/* The timer's side, on the boot CPU: volatile, since the boot CPU's loop reads it between ticks. */
static struct block irq_ring[IRQ_RING];
static volatile unsigned irq_ticks, irq_allocs, irq_frees, irq_failed, irq_borrowed, irq_mismatches,
    irq_wrong_owner, irq_live;
static volatile int irq_draining;

/* Not one repeated byte: a block that two owners wrote, or one shifted by a bad split, differs
 * from its pattern at every position. */
static unsigned char pattern_byte(uint32_t seed, uint32_t i)
{
    return (unsigned char)((seed >> (i & 7)) + i * 29u);
}

static void fill(struct block *b)
{
    for (uint32_t i = 0; i < b->size; i++)
        b->p[i] = pattern_byte(b->seed, i);
}

static unsigned mismatches(const struct block *b)
{
    unsigned bad = 0;

    for (uint32_t i = 0; i < b->size; i++)
        bad += b->p[i] != pattern_byte(b->seed, i);
    return bad;
}

/* Allocates for arena index `who`; 0 if the arena set refused. */
static int get_block(struct block *b, unsigned who, uint32_t size, uint32_t seed)
{
    struct arena_set *s = karena_set();

    if (!(b->p = arena_alloc(s, who, size)))
        return 0;
    b->size = size;
    b->seed = seed;
    b->arena = (unsigned)arena_owner(s, b->p);
    fill(b);
    return 1;
}

/* Checks the pattern and the owner, then frees: 1 if the owner was not the arena it came from. */
static int put_block(const struct block *b, unsigned *bad_bytes)
{
    struct arena_set *s = karena_set();
    int wrong = arena_owner(s, b->p) != (int)b->arena;

    *bad_bytes += mismatches(b);
    arena_free(s, b->p);
    return wrong;
}

static int mailbox_put(struct mailbox *m, const struct block *b)
{
    int ok = 0;
    uint32_t flags = spin_lock_irqsave(&m->lock);

    if (m->count < MAILBOX_SLOTS) {
        m->slot[(m->head + m->count) % MAILBOX_SLOTS] = *b;
        m->count++;
        ok = 1;
    }
    spin_unlock_irqrestore(&m->lock, flags);
    return ok;
}

static int mailbox_take(struct mailbox *m, struct block *out)
{
    int ok = 0;
    uint32_t flags = spin_lock_irqsave(&m->lock);

    if (m->count > 0) {
        *out = m->slot[m->head];
        m->head = (m->head + 1) % MAILBOX_SLOTS;
        m->count--;
        ok = 1;
    }
    spin_unlock_irqrestore(&m->lock, flags);
    return ok;
}

static void drain(struct tally *t, struct mailbox *m)
{
    struct block b;

    while (mailbox_take(m, &b)) {
        unsigned bad = 0;

        t->wrong_owner += put_block(&b, &bad);
        t->mismatches += bad;
        t->bytes_checked += b.size;
        t->received++;
    }
}

/* IRQ 0 on the boot CPU, interrupts off: free the oldest block of this slot, then (unless
 * draining) allocate a new one from this CPU's arena. */
static void arena_tick(void)
{
    unsigned tick = ++irq_ticks, cpu = smp_cpu_index(), bad = 0;
    struct block *b = &irq_ring[tick % IRQ_RING];

    if (b->p) {
        irq_wrong_owner += put_block(b, &bad);
        irq_mismatches += bad;
        b->p = 0;
        irq_frees++;
        irq_live--;
    }
    if (irq_draining)
        return;
    if (!get_block(b, cpu, 1 + (tick * 53u) % IRQ_SIZE_MAX, 0xA5A50000u ^ tick)) {
        irq_failed++;
        return;
    }
    irq_borrowed += b->arena != cpu;
    irq_allocs++;
    irq_live++;
}

/* The CPU that gets the n-th handed block of `cpu`: each of the others in turn. */
static unsigned hand_target(unsigned cpu, unsigned cpus, unsigned n)
{
    return cpus == 1 ? cpu : (cpu + 1 + n % (cpus - 1)) % cpus;
}

static void worker(unsigned cpu, unsigned cpus, void *arg)
{
    struct tally *t = &tallies[cpu];
    struct mailbox *mine = &mailboxes[cpu];
    struct block ring[RING_BLOCKS];
    uint32_t rng = 0x2545F491u * (cpu + 1), flags = read_eflags();
    unsigned spins = 0;

    (void)arg;
    memset(ring, 0, sizeof(ring));
    if (cpu == 0) {
        pit_start(TICK_HZ, arena_tick);
        cpu_sti();
    }
    /* start together, so the CPUs overlap from the first round */
    __atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < cpus)
        cpu_relax();
    for (unsigned round = 0; round < ROUNDS_PER_CPU; round++) {
        struct block b;

        rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5; /* xorshift32 */
        if (!get_block(&b, cpu, 1 + rng % SIZE_MAX_BYTES, rng ^ (cpu << 28) ^ round)) {
            t->failed++;
            continue;
        }
        t->allocs++;
        t->borrowed += b.arena != cpu;
        if (round % HAND_EVERY == 0 && mailbox_put(&mailboxes[hand_target(cpu, cpus, round / HAND_EVERY)], &b)) {
            t->handed++;
        } else {
            struct block *slot = &ring[round % RING_BLOCKS];

            if (slot->p) {
                t->wrong_owner += put_block(slot, &t->mismatches);
                t->bytes_checked += slot->size;
                t->freed_own++;
            }
            *slot = b;
        }
        drain(t, mine);
    }
    for (unsigned i = 0; i < RING_BLOCKS; i++)
        if (ring[i].p) {
            t->wrong_owner += put_block(&ring[i], &t->mismatches);
            t->bytes_checked += ring[i].size;
            t->freed_own++;
        }
    /* every sender puts before it counts itself finished, so once all are, a last drain
     * empties this mailbox for good */
    __atomic_fetch_add(&finished, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < cpus) {
        drain(t, mine);
        cpu_relax();
    }
    drain(t, mine);
    if (cpu == 0) {
        /* a fast run may end before the timer had its say: wait for it, then let it give back
         * what it holds (it frees one block a tick while draining) */
        while (irq_ticks < TICKS_MIN && spins++ < WAIT_LIMIT)
            cpu_relax();
        irq_draining = 1;
        for (spins = 0; irq_live > 0 && spins < WAIT_LIMIT; spins++)
            cpu_relax();
        cpu_cli();
        pit_stop();
        if (flags & EFLAGS_IF)
            cpu_sti(); /* as the caller had it */
    }
}

static void reset(void)
{
    memset(tallies, 0, sizeof(tallies));
    memset(mailboxes, 0, sizeof(mailboxes));
    memset(irq_ring, 0, sizeof(irq_ring));
    arrived = finished = 0;
    irq_ticks = irq_allocs = irq_frees = irq_failed = irq_borrowed = irq_mismatches = irq_wrong_owner = 0;
    irq_live = 0;
    irq_draining = 0;
}

void arena_cpus_case(void)
{
    struct arena_set *s = karena_set();
    unsigned cpus = smp_cpus_online(), n = karena_count();
    struct mem_stats before[SMP_CPUS_MAX], after[SMP_CPUS_MAX];
    struct tally sum = { 0 };
    uint64_t allocs_counted = 0, frees_counted = 0;
    int violations, same = 1;

    CHECK(n == cpus);
    for (unsigned i = 0; i < n; i++) {
        arena_stats(s, i, &before[i]);
        if (before[i].total_bytes == 0) {
            case_printf("cpu %u's arena has no memory (no region of %u KiB or more to split): nothing to test",
                        i, KARENA_SPLIT_MIN >> 10);
            kprintf("arena-test: skipped, an arena without memory\n");
            return;
        }
    }
    reset();
    if (smp_run_all(worker, 0, TIMEOUT_MS) != 0) {
        case_printf("a CPU had not finished after %u ms (stuck in a corrupted arena?)", TIMEOUT_MS);
        kprintf("arena-test: FAILED: timeout, %u of %u CPUs finished\n",
                (unsigned)__atomic_load_n(&finished, __ATOMIC_ACQUIRE), cpus);
        CHECK(0);
        return; /* the arenas may still be in use: checking them now would race */
    }
    for (unsigned c = 0; c < cpus; c++) {
        const struct tally *t = &tallies[c];

        sum.allocs += t->allocs, sum.failed += t->failed, sum.borrowed += t->borrowed;
        sum.freed_own += t->freed_own, sum.handed += t->handed, sum.received += t->received;
        sum.bytes_checked += t->bytes_checked, sum.mismatches += t->mismatches, sum.wrong_owner += t->wrong_owner;
        case_printf("cpu %u: %u allocated, %u freed itself, %u handed on, %u received, checked and freed",
                    c, t->allocs, t->freed_own, t->handed, t->received);
    }
    case_printf("timer on cpu 0: %u ticks, %u allocated, %u freed, %u failed", irq_ticks, irq_allocs, irq_frees,
                irq_failed);
    violations = arena_check(s, ARENA_ALL);
    for (unsigned i = 0; i < n; i++) {
        arena_stats(s, i, &after[i]);
        allocs_counted += after[i].alloc_count - before[i].alloc_count;
        frees_counted += after[i].free_count - before[i].free_count;
        if (after[i].free_bytes != before[i].free_bytes || after[i].used_blocks != before[i].used_blocks) {
            case_printf("cpu %u's arena: %zu free bytes in %zu used blocks before, %zu in %zu after", i,
                        before[i].free_bytes, before[i].used_blocks, after[i].free_bytes, after[i].used_blocks);
            same = 0;
        }
    }
    CHECK(sum.failed == 0 && irq_failed == 0);
    CHECK(sum.borrowed == 0 && irq_borrowed == 0);
    CHECK(sum.mismatches == 0 && irq_mismatches == 0);
    CHECK(sum.wrong_owner == 0 && irq_wrong_owner == 0);
    CHECK(sum.handed == sum.received);
    CHECK(sum.allocs == sum.freed_own + sum.received);
    CHECK(sum.allocs == ROUNDS_PER_CPU * cpus);
    CHECK(irq_ticks >= TICKS_MIN);
    CHECK(irq_live == 0 && irq_allocs == irq_frees);
    CHECK(allocs_counted == (uint64_t)sum.allocs + irq_allocs);
    CHECK(frees_counted == (uint64_t)sum.allocs + irq_frees);
    CHECK(violations == 0);
    CHECK(same);
    kprintf("arena-test: %s: %u CPU%s, %u arena%s, %u allocations, %u handed to another CPU, %u by the timer, "
            "%u bytes checked, %u wrong, %u failed, %u borrowed, arena_check %d, free bytes %s\n",
            sum.failed || irq_failed || sum.borrowed || irq_borrowed || sum.mismatches || irq_mismatches ||
                    sum.wrong_owner || irq_wrong_owner || sum.handed != sum.received ||
                    sum.allocs != sum.freed_own + sum.received || irq_ticks < TICKS_MIN || irq_live ||
                    allocs_counted != (uint64_t)sum.allocs + irq_allocs || violations || !same
                ? "FAILED" : "ok",
            cpus, cpus == 1 ? "" : "s", n, n == 1 ? "" : "s", sum.allocs, sum.handed, irq_allocs,
            sum.bytes_checked, sum.mismatches + irq_mismatches, sum.failed + irq_failed,
            sum.borrowed + irq_borrowed, violations, same ? "as before in every arena" : "CHANGED");
}
