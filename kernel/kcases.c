/* kcases.c - kernel-only self-tests on the DEFAULT heap, i.e. the real memory-map regions
 * (blog_os's heap tests, by name). QEMU runs without KVM here, so every case stays small: the
 * heap may be 3 GiB, and no case may try to fill it. The runner checks mem_check() and that the
 * default heap got back every byte after each case. */
#include <stdint.h>
#include "case.h"
#include "kcases.h"
#include "mem.h"
#include "trap.h"

#define KIB 1024u
#define MIB (1024u * KIB)

#define REUSE_BLOCK_SIZE (16 * KIB)  /* x REUSE_ROUNDS = 64 MiB, more than a 32 MiB heap holds */
#define REUSE_ROUNDS     4096
#define ARRAY_LENGTH     100000      /* 800 KB of uint64_t */
#define CHURN_ROUNDS     2000
#define LONG_LIVED_WORDS 16
#define UNASSIGNED_IRQ_VECTOR 0x21   /* IRQ 1, the keyboard: masked, and no handler assigned */

extern char _kernel_start[], _kernel_end[]; /* from linker.ld */

static int is_aligned(const void *p)
{
    return ((uintptr_t)p % MEM_ALIGN) == 0;
}

/* Where the heap may never hand out memory: below 1 MiB, or over the kernel image. */
static int in_forbidden_memory(const void *p)
{
    uintptr_t a = (uintptr_t)p;

    return a < 1 * MIB || (a >= (uintptr_t)_kernel_start && a < (uintptr_t)_kernel_end);
}

static void heap_has_regions(void)
{
    struct mem_stats st;

    mem_stats(&st);
    case_printf("default heap: %zu region(s), %zu bytes in blocks, %zu free, largest free %zu",
                st.region_count, st.total_bytes, st.free_bytes, st.largest_free);
    CHECK(st.region_count >= 1);
    CHECK(st.total_bytes >= 1 * MIB);
    CHECK(mem_check() == 0);
}

static void simple_allocation(void)
{
    uint32_t *a = mem_alloc(sizeof(*a));
    uint32_t *b = mem_alloc(sizeof(*b));

    REQUIRE(a != NULL && b != NULL);
    *a = 41;
    *b = 13;
    CHECK(a != b && *a == 41 && *b == 13);
    CHECK(is_aligned(a) && is_aligned(b));
    CHECK(!in_forbidden_memory(a) && !in_forbidden_memory(b));
    CHECK(mem_usable_size(a) >= sizeof(*a));
    CHECK(mem_check() == 0);
    mem_free(a);
    mem_free(b);
}

static void large_array_sum(void)
{
    uint64_t *array = mem_alloc(ARRAY_LENGTH * sizeof(*array));
    uint64_t sum = 0;

    REQUIRE(array != NULL);
    for (uint64_t i = 0; i < ARRAY_LENGTH; i++)
        array[i] = i;
    for (uint64_t i = 0; i < ARRAY_LENGTH; i++)
        sum += array[i];
    CHECK(sum == (uint64_t)ARRAY_LENGTH * (ARRAY_LENGTH - 1) / 2);
    CHECK(mem_check() == 0);
    mem_free(array);
}

/* Allocates far more in total than a small heap holds, one block at a time. With first fit,
 * each allocation must get exactly the block the previous one freed. */
static void many_allocations_reuse(void)
{
    uint8_t *first = mem_alloc(REUSE_BLOCK_SIZE);

    REQUIRE(first != NULL);
    mem_free(first);
    for (unsigned i = 0; i < REUSE_ROUNDS; i++) {
        uint8_t *p = mem_alloc(REUSE_BLOCK_SIZE);
        int reused = p == first;

        if (p) {
            p[0] = (uint8_t)i;                  /* touch both ends: the block is really ours */
            p[REUSE_BLOCK_SIZE - 1] = (uint8_t)~i;
            mem_free(p);
        }
        if (!reused)
            case_printf("round %u: got %p, expected the freed block %p", i, (void *)p, (void *)first);
        REQUIRE(reused);
    }
    case_printf("%u allocations of %u KiB (%u MiB in total) all reused one block",
                REUSE_ROUNDS, REUSE_BLOCK_SIZE / KIB, REUSE_ROUNDS * (REUSE_BLOCK_SIZE / KIB) / 1024);
    CHECK(mem_check() == 0);
}

/* Blocks of varying size come and go around one block that lives through it all. */
static void long_lived_block(void)
{
    uint32_t *keep = mem_alloc(LONG_LIVED_WORDS * sizeof(*keep));

    REQUIRE(keep != NULL);
    for (unsigned w = 0; w < LONG_LIVED_WORDS; w++)
        keep[w] = 0xC0FFEE00u + w;
    for (unsigned i = 0; i < CHURN_ROUNDS; i++) {
        size_t size = 16 + (i * 37) % 4096;
        uint8_t *p = mem_alloc(size);

        if (p == NULL) {
            CHECK(p != NULL);
            break;
        }
        CHECK(p + size <= (uint8_t *)keep || p >= (uint8_t *)(keep + LONG_LIVED_WORDS));
        p[0] = p[size - 1] = 0xA5;
        mem_free(p);
    }
    for (unsigned w = 0; w < LONG_LIVED_WORDS; w++)
        CHECK(keep[w] == 0xC0FFEE00u + w);
    CHECK(mem_check() == 0);
    mem_free(keep);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* The rest of the mem_* API on the real regions: calloc zeroes, realloc keeps the data,
 * aligned_alloc honours large alignments. */
static void calloc_realloc_aligned(void)
{
    uint8_t *z = mem_calloc(100, 10);
    uint8_t *r = mem_alloc(32);
    uint8_t *a = mem_aligned_alloc(4096, 100);

    REQUIRE(z != NULL && r != NULL && a != NULL);
    CHECK(all_zero(z, 1000));
    for (int i = 0; i < 32; i++)
        r[i] = (uint8_t)i;
    r = mem_realloc(r, 5000);
    REQUIRE(r != NULL);
    for (int i = 0; i < 32; i++)
        CHECK(r[i] == (uint8_t)i);
    CHECK(((uintptr_t)a % 4096) == 0);
    CHECK(mem_calloc((size_t)-1, 16) == NULL); /* count * size overflows */
    CHECK(mem_alloc(0) == NULL);
    CHECK(mem_check() == 0);
    mem_free(z);
    mem_free(r);
    mem_free(a);
}

/* An IRQ nobody handles must be reported and then return here, not end the run. */
static void unassigned_irq_continues(void)
{
    unsigned before = trap_irq_reports();

    __asm__ volatile("int %0" : : "i"(UNASSIGNED_IRQ_VECTOR));
    CHECK(trap_irq_reports() == before + 1);
}

static void fails_on_purpose(void)
{
    case_printf("this case fails on purpose (failtest): the harness must see the not ok");
    CHECK(1 + 1 == 3);
}

const struct test_case kernel_cases[] = {
    { "kernel: default heap has regions from the memory map", heap_has_regions },
    { "kernel: simple allocation", simple_allocation },
    { "kernel: large array, sum checked", large_array_sum },
    { "kernel: many allocations, far more than the heap in total, reuse", many_allocations_reuse },
    { "kernel: one long-lived block held across churn", long_lived_block },
    { "kernel: calloc, realloc, aligned_alloc on the default heap", calloc_realloc_aligned },
    { "kernel: an unassigned IRQ is reported and execution goes on", unassigned_irq_continues },
    { "kernel: timer IRQ allocates and frees while the main flow does (IRQ-safe lock)", irq_allocating_case },
    { SMP_CASE_NAME, smp_heap_case },
    { ARENA_CASE_NAME, arena_cpus_case },
};
const size_t kernel_case_count = sizeof(kernel_cases) / sizeof(kernel_cases[0]);

const struct test_case smp_case = { SMP_CASE_NAME, smp_heap_case };
const struct test_case arena_case = { ARENA_CASE_NAME, arena_cpus_case };
const struct test_case failing_case = { "kernel: deliberately failing case (failtest)", fails_on_purpose };
