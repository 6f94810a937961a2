/* selftest.c - the kernel's test runner. It runs the shared allocator cases (tests/case.h) and
 * the kernel's own (kcases.c) and reports in TAP on serial: the plan `1..N`, then `ok i - name`
 * or `not ok i - name` per case, diagnostics as `# ...` lines. tools/qemu-test reads this
 * and the isa-debug-exit status. After every case the default heap must pass mem_check and
 * hold as many used bytes and blocks as before: a case that leaks or corrupts it fails. */
#include <stdarg.h>
#include "case.h"
#include "kcases.h"
#include "kprintf.h"
#include "mem.h"
#include "selftest.h"
#include "uart.h"

static int case_failed; /* set by case_fail while a case runs */

void case_fail(const char *file, int line, const char *what)
{
    case_failed = 1;
    kprintf("# failed: %s (%s:%d)\n", what, file, line);
}

void case_printf(const char *fmt, ...)
{
    va_list ap;

    uint32_t console = uart_lock(); /* one line, even with other CPUs printing */

    va_start(ap, fmt);
    kprintf("# ");
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
    uart_unlock(console);
}

/* The default heap after a case must be as it was before: consistent, nothing left behind. */
static void check_default_heap(const struct mem_stats *before)
{
    struct mem_stats after;
    int violations = mem_check();

    mem_stats(&after);
    if (violations)
        case_printf("mem_check() found %d violation(s) in the default heap", violations);
    if (after.used_bytes != before->used_bytes || after.used_blocks != before->used_blocks)
        case_printf("default heap: %zu used bytes in %zu blocks before the case, %zu in %zu after",
                    before->used_bytes, before->used_blocks, after.used_bytes, after.used_blocks);
    CHECK(violations == 0);
    CHECK(after.used_bytes == before->used_bytes && after.used_blocks == before->used_blocks);
}

/* Runs one case and prints its TAP line; returns 1 if it failed. */
static int run_case(unsigned number, const struct test_case *tc)
{
    struct mem_stats before;

    mem_stats(&before);
    case_failed = 0;
    tc->run();
    check_default_heap(&before);
    kprintf("%s %u - %s\n", case_failed ? "not ok" : "ok", number, tc->name);
    return case_failed;
}

unsigned selftest_run(int add_failing_case, int quick, int smp_only, unsigned *run)
{
    int all = !quick && !smp_only;
    size_t shared = all ? allocator_case_count : 0, own = all ? kernel_case_count : 0;
    unsigned smp_cases = quick ? 0 : !!(smp_only & SELFTEST_SMP) + !!(smp_only & SELFTEST_ARENA);
    unsigned total = (unsigned)(shared + own) + (add_failing_case ? 1 : 0) + smp_cases;
    unsigned number = 0, failed = 0;

    if (smp_only && !quick)
        kprintf("self-tests: the SMP case%s only (boot word %s)%s\n", smp_cases > 1 ? "s" : "",
                smp_only & SELFTEST_SMP ? "smp" : "arena", add_failing_case ? ", 1 failing on purpose" : "");
    else if (quick)
        kprintf("self-tests: none (boot word quick: the boot and the heap's regions only)%s\n",
                add_failing_case ? ", 1 failing on purpose" : "");
    else
        kprintf("self-tests: %zu shared allocator cases, %zu kernel cases%s\n",
                allocator_case_count, kernel_case_count, add_failing_case ? ", 1 failing on purpose" : "");
    kprintf("1..%u\n", total);
    for (size_t i = 0; i < shared; i++)
        failed += run_case(++number, &allocator_cases[i]);
    for (size_t i = 0; i < own; i++)
        failed += run_case(++number, &kernel_cases[i]);
    if ((smp_only & SELFTEST_SMP) && !quick)
        failed += run_case(++number, &smp_case);
    if ((smp_only & SELFTEST_ARENA) && !quick)
        failed += run_case(++number, &arena_case);
    if (add_failing_case)
        failed += run_case(++number, &failing_case);
    mem_dump();
    if (failed)
        kprintf("kheap: %u of %u self-tests FAILED\n", failed, total);
    else
        kprintf("kheap: all %u self-tests passed\n", total);
    *run = total;
    return failed;
}
