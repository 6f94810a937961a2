/* nocases.c - an empty allocator_cases table, linked only while tests/cases/all.c does not
 * exist yet (see kernel/build.mk), so the kernel links and runs its own cases alone. */
#include "case.h"

const struct test_case allocator_cases[] = { { "no shared cases yet", 0 } };
const size_t allocator_case_count = 0;
