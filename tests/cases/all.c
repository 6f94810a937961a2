/* all.c - the table of shared allocator cases (tests/case.h), in the order both runners run
 * them. Each case builds its own heaps over static arenas (case_util.h), never the default heap.
 * Built with -DKHEAP_FAILTEST, the table ends with a case that fails on purpose, so a runner can
 * prove that it sees failures. */
#include "case_util.h"

void case_alloc_sequence(void);
void case_min_block(void);
void case_zero_and_huge(void);
void case_calloc(void);
void case_split_threshold(void);
void case_coalesce(void);
void case_first_fit(void);
void case_first_fit_hole_eaten(void);
void case_first_fit_regions(void);
void case_reuse(void);
void case_long_lived(void);
void case_leak_check(void);
void case_stress_half(void);
void case_stress_full(void);
void case_stats_exact(void);
void case_dump_parse(void);
void case_realloc_null_and_zero(void);
void case_realloc_shrink(void);
void case_realloc_grow_in_place(void);
void case_realloc_move(void);
void case_realloc_failure(void);
void case_realloc_keeps_alignment(void);
void case_aligned_powers(void);
void case_aligned_rule(void);
void case_region_second(void);
void case_region_too_small(void);
void case_region_overlap(void);
void case_region_misaligned(void);
void case_region_range(void);
void case_region_extend(void);
void case_misuse_free_null(void);
void case_misuse_double_free(void);
void case_misuse_double_free_merged(void);
void case_misuse_not_in_heap(void);
void case_misuse_misaligned(void);
void case_misuse_interior(void);
void case_misuse_into_free(void);
void case_misuse_realloc_usable(void);
void case_misuse_returned(void);
void case_misuse_no_header(void);
void case_misuse_garbage(void);
void case_misuse_overrun(void);
void case_misuse_overrun_region_end(void);
void case_misuse_use_after_free(void);

#ifdef KHEAP_FAILTEST
static void case_fails_on_purpose(void)
{
    case_printf("this case fails on purpose (KHEAP_FAILTEST): the runner must report it");
    CHECK(MEM_ALIGN == 0);
}
#endif

const struct test_case allocator_cases[] = {
    { "alloc: carved in order, 16-aligned, usable >= asked", case_alloc_sequence },
    { "alloc: MIN_BLOCK observed", case_min_block },
    { "alloc: zero and huge sizes return NULL, heap untouched", case_zero_and_huge },
    { "calloc: zeroes, rejects count*size overflow", case_calloc },
    { "split: remainder < MIN_BLOCK is not split", case_split_threshold },
    { "coalesce: prev, next, both, into the top", case_coalesce },
    { "first fit: lowest-addressed hole wins", case_first_fit },
    { "first fit: a hole eaten from the front", case_first_fit_hole_eaten },
    { "first fit: across two regions", case_first_fit_regions },
    { "reuse: more bytes than the heap holds", case_reuse },
    { "long-lived block across churn", case_long_lived },
    { "leak check: state after freeing all equals fresh", case_leak_check },
    { "stress: random, 50% fill", case_stress_half },
    { "stress: random, 100% fill", case_stress_full },
    { "stats: exact against a walk", case_stats_exact },
    { "dump: parseable, matches stats", case_dump_parse },
    { "realloc: NULL pointer allocates, size 0 frees", case_realloc_null_and_zero },
    { "realloc: shrinks in place", case_realloc_shrink },
    { "realloc: grows in place into a free neighbour", case_realloc_grow_in_place },
    { "realloc: moves and copies", case_realloc_move },
    { "realloc: failure leaves the block intact", case_realloc_failure },
    { "realloc: aligned block stays aligned", case_realloc_keeps_alignment },
    { "aligned_alloc: powers of two to 64 KiB, placement", case_aligned_powers },
    { "aligned_alloc: needs size + align - 16", case_aligned_rule },
    { "region: a second buffer", case_region_second },
    { "region: too small refused", case_region_too_small },
    { "region: overlap refused", case_region_overlap },
    { "region: misaligned start trimmed", case_region_misaligned },
    { "region: NULL and wrapping refused", case_region_range },
    { "region: a reserved region grows in place", case_region_extend },
    { "misuse: free(NULL) does nothing", case_misuse_free_null },
    { "misuse: double free", case_misuse_double_free },
    { "misuse: double free after coalescing", case_misuse_double_free_merged },
    { "misuse: pointer outside every region", case_misuse_not_in_heap },
    { "misuse: misaligned pointer", case_misuse_misaligned },
    { "misuse: interior pointer", case_misuse_interior },
    { "misuse: pointer into a free block", case_misuse_into_free },
    { "misuse: realloc and usable_size on bad pointers", case_misuse_realloc_usable },
    { "misuse: pointer into a region the heap returned", case_misuse_returned },
    { "misuse: no header: writes around blocks change nothing", case_misuse_no_header },
    { "misuse: overruns past a block", case_misuse_overrun },
    { "misuse: an overrun past a region's last block into the next region's guard", case_misuse_overrun_region_end },
    { "misuse: random garbage over random blocks, heap_check never faults", case_misuse_garbage },
    { "misuse: use after free (debug fill)", case_misuse_use_after_free },
#ifdef KHEAP_FAILTEST
    { "failtest: fails on purpose", case_fails_on_purpose },
#endif
};

const size_t allocator_case_count = sizeof allocator_cases / sizeof allocator_cases[0];
