/* selftest.h - the kernel's self-test run: shared allocator cases, then kernel-only ones. */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

/* Runs every case, printing TAP on serial, then mem_dump and a verdict line. With
 * add_failing_case, one case that fails on purpose is appended (proves the harness can fail).
 * Returns the number of failed cases. */
/* quick: no cases (a boot that only proves the regions); smp_only: only the SMP case (kcase_smp.c),
 * for short boots with several CPUs; *run: how many ran. Returns failures. */
unsigned selftest_run(int add_failing_case, int quick, int smp_only, unsigned *run);

#endif
