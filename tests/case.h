/* case.h - the allocator's test cases, written once, run by two runners: the host's cmocka
 * runner (tests/host/) and the kernel's self-test runner over serial (kernel/selftest.c).
 *
 * A case is a plain function. CHECK records a failure and goes on; REQUIRE records it and
 * returns from the case. Each runner implements case_fail and case_printf for its platform. */
#ifndef KHEAP_CASE_H
#define KHEAP_CASE_H

#include <stddef.h>
#include <stdint.h>

struct test_case {
    const char *name;
    void (*run)(void);
};

/* Every shared case, in the order the runners run them (tests/cases/all.c). */
extern const struct test_case allocator_cases[];
extern const size_t allocator_case_count;

/* Implemented by the runner. case_fail marks the running case failed and prints where;
 * case_printf prints one diagnostic line (the runner prefixes "# "). */
void case_fail(const char *file, int line, const char *what);
void case_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond) \
    do { if (!(cond)) case_fail(__FILE__, __LINE__, #cond); } while (0)
#define REQUIRE(cond) \
    do { if (!(cond)) { case_fail(__FILE__, __LINE__, #cond); return; } } while (0)

#endif
