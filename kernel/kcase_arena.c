/* kcase_arena.c - the self-test of the CPUs' arenas (karena.h): every online CPU allocates from
 * its own arena (who = its index), writes a pattern over the whole block, and either keeps the
 * block in a small ring (checking and freeing the one that was there) or hands it to another
 * CPU, in turn each of the others, through that CPU's mailbox. A CPU checks every byte of a
 * block it was handed and frees it with arena_free, which takes the lock of the arena that owns
 * the block: the CPU that allocated it, which is allocating from it at that moment. Meanwhile the
 * timers interrupt that work and allocate and free from the interrupted CPU's arena too: every
 * CPU's local APIC timer (lapic.c), and on the boot CPU also the PIT's IRQ 0 (only the boot
 * CPU takes the PIC's interrupts). Each timer keeps its own ring of blocks.
 *
 * What must hold at the end: no byte of any pattern changed, every block came from the arena
 * of the CPU that asked (the arenas are far larger than what is live, so none had to borrow),
 * arena_owner named that arena when the block was freed, every timer ticked TICKS_MIN times and
 * gave back all it held, arena_check finds nothing, and every arena is back to the free bytes
 * and used blocks it started with, its alloc and free counts up by what the CPUs and the
 * handlers counted.
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
#include "lapic.h"
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
#define TICK_HZ         1000  /* the PIT */
#define LAPIC_HZ        1000  /* each CPU's APIC timer, plus 97 Hz per CPU index */
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

/* A timer's side: its ring and counts. One for the PIT (IRQ 0, the boot CPU's) and one per CPU
 * for its local APIC timer. Volatile: the CPU's loop reads them between ticks. */
struct irq_side {
    struct block ring[IRQ_RING];
    volatile unsigned ticks, allocs, frees, failed, borrowed, mismatches, wrong_owner, live;
    volatile int draining;
};

static struct irq_side pit_side, lapic_side[SMP_CPUS_MAX];
static int lapic_timers; /* the local APIC timers run (no APIC without a MADT or MP table) */

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

/* A tick, interrupts off: free the oldest block of this slot, then (unless draining) allocate a
 * new one from the arena of the CPU it interrupted. */
static void tick_on(struct irq_side *t)
{
    unsigned tick = ++t->ticks, cpu = smp_cpu_index(), bad = 0;
    struct block *b = &t->ring[tick % IRQ_RING];

    if (b->p) {
        t->wrong_owner += put_block(b, &bad);
        t->mismatches += bad;
        b->p = 0;
        t->frees++;
        t->live--;
    }
    if (t->draining)
        return;
    if (!get_block(b, cpu, 1 + (tick * 53u) % IRQ_SIZE_MAX, 0xA5A50000u ^ (cpu << 20) ^ tick)) {
        t->failed++;
        return;
    }
    t->borrowed += b->arena != cpu;
    t->allocs++;
    t->live++;
}

static void pit_tick(void)
{
    tick_on(&pit_side);
}

static void lapic_tick(void)
{
    tick_on(&lapic_side[smp_cpu_index()]);
}

/* A fast run may end before a timer had its say: wait for TICKS_MIN, then let it give back what
 * it holds (it frees one block a tick while draining). Interrupts are on. */
static void timer_wind_down(struct irq_side *t)
{
    unsigned spins = 0;

    while (t->ticks < TICKS_MIN && spins++ < WAIT_LIMIT)
        cpu_relax();
    t->draining = 1;
    for (spins = 0; t->live > 0 && spins < WAIT_LIMIT; spins++)
        cpu_relax();
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

    (void)arg;
    memset(ring, 0, sizeof(ring));
    if (cpu == 0)
        pit_start(TICK_HZ, pit_tick);
    if (lapic_timers)
        lapic_timer_start(LAPIC_HZ + 97 * cpu, lapic_tick); /* rates apart: ticks do not line up */
    cpu_sti();
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
    if (lapic_timers)
        timer_wind_down(&lapic_side[cpu]);
    if (cpu == 0)
        timer_wind_down(&pit_side);
    cpu_cli();
    if (lapic_timers)
        lapic_timer_stop();
    if (cpu == 0)
        pit_stop();
    if (flags & EFLAGS_IF)
        cpu_sti(); /* as the caller had it (the APs run their jobs with interrupts off) */
}

static void reset(void)
{
    memset(tallies, 0, sizeof(tallies));
    memset(mailboxes, 0, sizeof(mailboxes));
    memset(&pit_side, 0, sizeof(pit_side));
    memset(lapic_side, 0, sizeof(lapic_side));
    arrived = finished = 0;
    lapic_timers = lapic_timer_counts_per_ms() != 0;
}

/* The sum of the timers' sides that ran: the PIT's and each CPU's APIC timer's. */
static void irq_sum(unsigned cpus, struct irq_side *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i <= cpus; i++) {
        const struct irq_side *t = i == cpus ? &pit_side : &lapic_side[i];

        out->ticks += t->ticks, out->allocs += t->allocs, out->frees += t->frees, out->failed += t->failed;
        out->borrowed += t->borrowed, out->mismatches += t->mismatches;
        out->wrong_owner += t->wrong_owner, out->live += t->live;
    }
}

void arena_cpus_case(void)
{
    struct arena_set *s = karena_set();
    unsigned cpus = smp_cpus_online(), n = karena_count();
    struct mem_stats before[SMP_CPUS_MAX], after[SMP_CPUS_MAX];
    struct tally sum = { 0 };
    struct irq_side irq;
    uint64_t allocs_counted = 0, frees_counted = 0;
    int violations, same = 1, timers_ticked, ok;

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
    irq_sum(cpus, &irq);
    case_printf("timers: the PIT (cpu 0) %u ticks, %u allocated, %u freed; the APIC timers %s",
                pit_side.ticks, pit_side.allocs, pit_side.frees,
                lapic_timers ? "(below)" : "did not run (no local APIC)");
    for (unsigned c = 0; lapic_timers && c < cpus; c++)
        case_printf("cpu %u's APIC timer: %u ticks, %u allocated, %u freed, %u failed", c, lapic_side[c].ticks,
                    lapic_side[c].allocs, lapic_side[c].frees, lapic_side[c].failed);
    timers_ticked = pit_side.ticks >= TICKS_MIN;
    for (unsigned c = 0; lapic_timers && c < cpus; c++)
        timers_ticked &= lapic_side[c].ticks >= TICKS_MIN;
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
    ok = sum.failed == 0 && irq.failed == 0 && sum.borrowed == 0 && irq.borrowed == 0 &&
         sum.mismatches == 0 && irq.mismatches == 0 && sum.wrong_owner == 0 && irq.wrong_owner == 0 &&
         sum.handed == sum.received && sum.allocs == sum.freed_own + sum.received &&
         sum.allocs == ROUNDS_PER_CPU * cpus && timers_ticked && irq.live == 0 && irq.allocs == irq.frees &&
         allocs_counted == (uint64_t)sum.allocs + irq.allocs && frees_counted == (uint64_t)sum.allocs + irq.frees &&
         violations == 0 && same;
    CHECK(sum.failed == 0 && irq.failed == 0);
    CHECK(sum.borrowed == 0 && irq.borrowed == 0);
    CHECK(sum.mismatches == 0 && irq.mismatches == 0);
    CHECK(sum.wrong_owner == 0 && irq.wrong_owner == 0);
    CHECK(sum.handed == sum.received);
    CHECK(sum.allocs == sum.freed_own + sum.received);
    CHECK(sum.allocs == ROUNDS_PER_CPU * cpus);
    CHECK(timers_ticked);
    CHECK(irq.live == 0 && irq.allocs == irq.frees);
    CHECK(allocs_counted == (uint64_t)sum.allocs + irq.allocs);
    CHECK(frees_counted == (uint64_t)sum.allocs + irq.frees);
    CHECK(violations == 0);
    CHECK(same);
    kprintf("arena-test: %s: %u CPU%s, %u arena%s, %u allocations, %u handed on, %u by %s, "
            "%u bytes checked, %u wrong, %u failed, %u borrowed, arena_check %d, free bytes %s\n",
            ok ? "ok" : "FAILED", cpus, cpus == 1 ? "" : "s", n, n == 1 ? "" : "s", sum.allocs, sum.handed,
            irq.allocs, lapic_timers ? "the timers (PIT and every CPU's APIC timer)" : "the PIT",
            sum.bytes_checked, sum.mismatches + irq.mismatches, sum.failed + irq.failed,
            sum.borrowed + irq.borrowed, violations, same ? "as before in every arena" : "CHANGED");
}
