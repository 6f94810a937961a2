/* run_cases.c - the host runner of the shared allocator cases (tests/cases/): each case is one
 * cmocka test. Linked once against libkheap.a (tree index) and once against libkheap-list.a
 * (sorted list); both must pass the same cases. CMOCKA_MESSAGE_OUTPUT=TAP prints TAP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "heap.h"            /* heap_index_name(): which index this binary was linked with */
#include "mem.h"
#include "harness.h"

static void run_one(void **state)
{
    const struct test_case *tc = *state;
    struct mem_stats before, after;
    mem_stats(&before);
    harness_run_case(tc);
    /* the cases build their own heaps: the default heap must not have moved */
    mem_stats(&after);
    assert_int_equal(before.used_blocks, after.used_blocks);
    assert_int_equal(before.alloc_count, after.alloc_count);
}

int main(void)
{
    struct CMUnitTest *tests = calloc(allocator_case_count, sizeof *tests);
    if (!tests)
        return 1;
    harness_setup();
    printf("# kheap shared cases, %s index, %zu cases\n", heap_index_name(), allocator_case_count);
    for (size_t i = 0; i < allocator_case_count; i++) {
        tests[i].name = allocator_cases[i].name;
        tests[i].test_func = run_one;
        tests[i].initial_state = (void *)&allocator_cases[i];
    }
    int failed = _cmocka_run_group_tests("kheap shared cases", tests, allocator_case_count, NULL, NULL);
    free(tests);
    return failed ? 1 : 0;
}
