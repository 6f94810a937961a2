/* kcases.h - self-test cases that only make sense in the kernel: they use the default heap over
 * the real memory-map regions, and the kernel's interrupt handling. */
#ifndef KERNEL_KCASES_H
#define KERNEL_KCASES_H

#include "case.h"

extern const struct test_case kernel_cases[];
extern const size_t kernel_case_count;
extern const struct test_case failing_case; /* `failtest` on the command line appends it */

void irq_allocating_case(void); /* kcase_irq.c */
void smp_heap_case(void);       /* kcase_smp.c */
#define SMP_CASE_NAME "kernel: every CPU allocates, hands blocks to another CPU that checks and frees them (SMP lock)"
extern const struct test_case smp_case; /* the boot word `smp` runs only this one and arena_case */
void arena_cpus_case(void);     /* kcase_arena.c */
#define ARENA_CASE_NAME "kernel: every CPU allocates from its own arena and frees what other CPUs hand it, timers allocating too (arena locks)"
extern const struct test_case arena_case; /* the boot words `smp` and `arena` run it */

#endif
