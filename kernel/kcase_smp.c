/* kcase_smp.c - the self-test that proves the default heap's lock holds with several CPUs
 * (seam.c: a ticket spinlock). Every online CPU runs the same loop at once on the default heap
 * (mem_alloc, mem_free from lib/mem.h): allocate a block of a random size, fill it with a
 * byte of its own, and either keep it in a small ring (freeing the block that was there) or
 * hand it to the next CPU through that CPU's mailbox. Each CPU drains its own mailbox as it
 * goes: it checks every byte of a block it was handed, then frees it. So blocks are freed by
 * another CPU than the one that allocated them, and all CPUs are in the heap together.
 *
 * Without the lock, two CPUs get the same block or unlink the same free block, and it shows:
 * a fill changed (two owners wrote one block), the heap reports misuse or corruption (its
 * error handler panics: the run fails), mem_check finds broken invariants, the free bytes do
 * not come back, or a CPU never finishes (the case fails on the timeout). make kernel
 * BROKEN_LOCK=1 builds that kernel, to prove it.
 *
 * The mailboxes have their own small spinlock (spinlock.h), not the heap's, so the broken-lock
 * build breaks the heap only.
 *
 * Before the heap, the case checks the per-CPU tables (gdt.c, idt.c, smp.h's struct cpu) on
 * every CPU at once: the index read through %fs must be the job's CPU and the one the local
 * APIC's id gives, this_cpu() that CPU's record, and sgdt/sidt must show that CPU's own GDT and
 * IDT, a different base on each CPU. The heap run below finds its CPU through %fs (uart.c's
 * console lock, the arenas), so a wrong index there would break it as well, less legibly. This
 * part runs with one CPU too: CPU 0 must be on its own tables then as well. */
#include <stdint.h>
#include "case.h"
#include "gdt.h"
#include "idt.h"
#include "kcases.h"
#include "kprintf.h"
#include "lapic.h"
#include "mem.h"
#include "smp.h"
#include "spinlock.h"
#include "string.h"

#define ROUNDS_PER_CPU  10000
#define RING_BLOCKS     16    /* blocks each CPU keeps live across rounds */
#define SIZE_MAX_BYTES  1024
#define HAND_EVERY      2     /* every 2nd block goes to the next CPU */
#define MAILBOX_SLOTS   32
#define TIMEOUT_MS      30000

struct block {
    unsigned char *p;
    uint32_t size;
    uint8_t fill;
};

struct mailbox {
    struct spinlock lock;
    unsigned head, count;
    struct block slot[MAILBOX_SLOTS];
};

/* One CPU's counts; each written by its CPU only, read by the BSP after the run. */
struct cpu_tally {
    unsigned allocs, failed_allocs, freed_own, handed, received, bytes_checked, mismatches, size_errors;
} __attribute__((aligned(64)));

/* What one CPU sees of its own tables; written by its CPU only, read by the BSP after the run. */
struct cpu_view {
    unsigned fs_index;   /* smp_cpu_index(): %fs:CPU_INDEX_OFFSET */
    int apic_index;      /* the index whose APIC id is this CPU's lapic_id(), -1 if none */
    struct cpu *self;    /* this_cpu(): %fs:0 */
    uint32_t gdt_base, idt_base;
    uint16_t gdt_limit;
    unsigned ran;
} __attribute__((aligned(64)));

/* What sgdt and sidt store: a 16-bit limit, then the 32-bit linear base. */
struct table_register {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static struct cpu_view views[SMP_CPUS_MAX];
static struct mailbox mailboxes[SMP_CPUS_MAX];
static struct cpu_tally tallies[SMP_CPUS_MAX];
static uint32_t arrived, finished;

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

/* Checks every byte, and that the heap still sees a block at least this big, then frees it. */
static void check_and_free(struct cpu_tally *t, const struct block *b)
{
    for (uint32_t i = 0; i < b->size; i++)
        t->mismatches += b->p[i] != b->fill;
    t->bytes_checked += b->size;
    if (mem_usable_size(b->p) < b->size)
        t->size_errors++;
    mem_free(b->p);
}

static void drain(struct cpu_tally *t, struct mailbox *m)
{
    struct block b;

    while (mailbox_take(m, &b)) {
        check_and_free(t, &b);
        t->received++;
    }
}

static void worker(unsigned cpu, unsigned cpus, void *arg)
{
    struct cpu_tally *t = &tallies[cpu];
    struct mailbox *mine = &mailboxes[cpu], *next = &mailboxes[(cpu + 1) % cpus];
    struct block ring[RING_BLOCKS];
    uint32_t rng = 0x9E3779B9u * (cpu + 1);

    (void)arg;
    memset(ring, 0, sizeof(ring));
    /* start together, so the CPUs overlap in the heap from the first round */
    __atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < cpus)
        cpu_relax();
    for (unsigned round = 0; round < ROUNDS_PER_CPU; round++) {
        struct block b;

        rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5; /* xorshift32 */
        b.size = 1 + rng % SIZE_MAX_BYTES;
        b.fill = (uint8_t)(cpu * 61u + round * 7u + 1u);
        if (!(b.p = mem_alloc(b.size))) {
            t->failed_allocs++;
            continue;
        }
        t->allocs++;
        memset(b.p, b.fill, b.size);
        if (round % HAND_EVERY == 0 && mailbox_put(next, &b)) {
            t->handed++;
        } else {
            struct block *slot = &ring[round % RING_BLOCKS];

            if (slot->p) {
                check_and_free(t, slot);
                t->freed_own++;
            }
            *slot = b;
        }
        drain(t, mine);
    }
    for (unsigned i = 0; i < RING_BLOCKS; i++)
        if (ring[i].p) {
            check_and_free(t, &ring[i]);
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
}

static void look_at_tables(unsigned cpu, unsigned cpus, void *arg)
{
    struct cpu_view *v = &views[cpu];
    struct table_register gdtr, idtr;

    (void)cpus, (void)arg;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));
    v->fs_index = smp_cpu_index();
    v->self = this_cpu();
    v->apic_index = lapic_present() ? smp_index_of_apic_id(lapic_id()) : (int)cpu;
    v->gdt_base = gdtr.base;
    v->gdt_limit = gdtr.limit;
    v->idt_base = idtr.base;
    v->ran = 1;
}

/* Returns how many of the checks failed, after CHECKing each. */
static unsigned check_per_cpu_tables(unsigned cpus)
{
    unsigned bad = 0;

    memset(views, 0, sizeof(views));
    if (smp_run_all(look_at_tables, 0, TIMEOUT_MS) != 0) {
        case_printf("per-CPU tables: a CPU did not run the look within %u ms", TIMEOUT_MS);
        CHECK(0);
        return 1;
    }
    for (unsigned c = 0; c < cpus; c++) {
        const struct cpu_view *v = &views[c];
        uint16_t limit;
        uint32_t base;
        unsigned before = bad;

        gdt_describe(c, &limit, &base);
        case_printf("cpu %u: %%fs index %u, apic id %u gives index %d, gdt at 0x%08x, idt at 0x%08x", c,
                    v->fs_index, (unsigned)smp_cpu(c)->apic_id, v->apic_index, (unsigned)v->gdt_base,
                    (unsigned)v->idt_base);
        bad += !v->ran;
        bad += v->fs_index != c;
        bad += v->apic_index != (int)c;
        bad += v->self != smp_cpu(c);
        bad += v->gdt_base != base || v->gdt_limit != limit;
        bad += v->idt_base != idt_base(c);
        for (unsigned o = 0; o < c; o++)
            bad += v->gdt_base == views[o].gdt_base || v->idt_base == views[o].idt_base;
        if (bad != before)
            case_printf("cpu %u: not on its own GDT/IDT, or %%fs does not name it", c);
    }
    CHECK(bad == 0);
    kprintf("percpu-test: %s: %u CPU(s), each on its own GDT and IDT, its %%fs index the one its APIC id gives\n",
            bad ? "FAILED" : "ok", cpus);
    return bad;
}

void smp_heap_case(void)
{
    unsigned cpus = smp_cpus_online();
    struct cpu_tally sum = { 0 };
    struct mem_stats before, after;
    int timed_out, violations;

    if (check_per_cpu_tables(cpus))
        return; /* the heap run below relies on every CPU knowing its index */
    if (cpus < 2) {
        case_printf("only 1 CPU online: nothing runs concurrently, nothing to test (boot with CPUS=2 or more)");
        kprintf("smp-test: skipped, 1 CPU online\n");
        return;
    }
    memset(tallies, 0, sizeof(tallies));
    memset(mailboxes, 0, sizeof(mailboxes));
    arrived = finished = 0;
    mem_stats(&before);
    timed_out = smp_run_all(worker, 0, TIMEOUT_MS) != 0;
    if (timed_out) {
        case_printf("a CPU had not finished after %u ms (stuck in a corrupted heap?)", TIMEOUT_MS);
        kprintf("smp-test: FAILED: timeout, %u of %u CPUs finished\n",
                (unsigned)__atomic_load_n(&finished, __ATOMIC_ACQUIRE), cpus);
        CHECK(!timed_out);
        return; /* the heap may still be in use: checking it now would race */
    }
    for (unsigned c = 0; c < cpus; c++) {
        const struct cpu_tally *t = &tallies[c];

        sum.allocs += t->allocs, sum.failed_allocs += t->failed_allocs, sum.freed_own += t->freed_own;
        sum.handed += t->handed, sum.received += t->received, sum.bytes_checked += t->bytes_checked;
        sum.mismatches += t->mismatches, sum.size_errors += t->size_errors;
        case_printf("cpu %u: %u allocated, %u freed itself, %u handed on, %u received, checked and freed",
                    c, t->allocs, t->freed_own, t->handed, t->received);
    }
    violations = mem_check();
    mem_stats(&after);
    CHECK(sum.failed_allocs == 0);
    CHECK(sum.mismatches == 0);
    CHECK(sum.size_errors == 0);
    CHECK(sum.handed == sum.received);
    CHECK(sum.allocs == sum.freed_own + sum.received);
    CHECK(sum.allocs == ROUNDS_PER_CPU * cpus);
    CHECK(violations == 0);
    CHECK(after.free_bytes == before.free_bytes);
    CHECK(after.used_blocks == before.used_blocks);
    CHECK(after.alloc_count - before.alloc_count == sum.allocs);
    CHECK(after.free_count - before.free_count == sum.allocs);
    kprintf("smp-test: %s: %u CPUs, %u allocations, %u handed to another CPU, %u bytes checked, "
            "%u wrong, %u failed allocations, mem_check %d, free bytes %zu before and %zu after\n",
            sum.failed_allocs || sum.mismatches || sum.size_errors || sum.handed != sum.received ||
            sum.allocs != sum.freed_own + sum.received || violations || after.free_bytes != before.free_bytes
                ? "FAILED" : "ok",
            cpus, sum.allocs, sum.handed, sum.bytes_checked, sum.mismatches, sum.failed_allocs, violations,
            before.free_bytes, after.free_bytes);
}
