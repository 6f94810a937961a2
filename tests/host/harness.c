/* harness.c - case_fail and case_printf on the host: failures are counted and printed as TAP
 * diagnostics, and turned into a cmocka failure when the case returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "../cases/case_util.h"
#include "harness.h"

unsigned harness_failures;

void case_fail(const char *file, int line, const char *what)
{
    harness_failures++;
    printf("# failed: %s (%s:%d)\n", what, file, line);
    fflush(stdout);
}

void case_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    fputs("\n", stdout);
    fflush(stdout);
    va_end(ap);
}

void harness_setup(void)
{
    const char *seed = getenv("KHEAP_SEED"), *scale = getenv("KHEAP_SCALE");
    if (seed && *seed)
        case_seed_override = (uint32_t)strtoul(seed, NULL, 0);
    if (scale && *scale && atoi(scale) > 0)
        case_scale = (unsigned)atoi(scale);
    if (case_seed_override || case_scale != 1)
        printf("# KHEAP_SEED=0x%x KHEAP_SCALE=%u\n", (unsigned)case_seed_override, case_scale);
}

void harness_reset(void) { harness_failures = 0; }

void harness_run_case(const struct test_case *tc)
{
    harness_reset();
    tc->run();
    if (harness_failures)
        fail_msg("%s: %u check(s) failed", tc->name, harness_failures);
}
