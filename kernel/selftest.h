/* selftest.h - the kernel's self-test run: shared allocator cases, then kernel-only ones. */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

/* Runs every case, printing TAP on serial, then mem_dump and a verdict line. With
 * add_failing_case, one case that fails on purpose is appended (proves the harness can fail).
 * Returns the number of failed cases. */
/* quick: no cases (a boot that only proves the regions); smp_only: only the SMP cases, for short
 * boots with several CPUs: SELFTEST_SMP the default heap's (kcase_smp.c), SELFTEST_ARENA the
 * CPUs' arenas' (kcase_arena.c), or both; *run: how many ran. Returns failures. */
#define SELFTEST_SMP   1
#define SELFTEST_ARENA 2
unsigned selftest_run(int add_failing_case, int quick, int smp_only, unsigned *run);

#endif
