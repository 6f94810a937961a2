/* harness.h - the host side of tests/case.h: case_fail and case_printf for cmocka programs,
 * and the knobs the shared cases read (KHEAP_SEED, KHEAP_SCALE). */
#ifndef KHEAP_TEST_HARNESS_H
#define KHEAP_TEST_HARNESS_H

#include "case.h"

extern unsigned harness_failures; /* case_fail calls since harness_reset */

void harness_setup(void);  /* read KHEAP_SEED and KHEAP_SCALE into the cases' knobs */
void harness_reset(void);
/* Run one shared case as a cmocka test: fails the test if any CHECK failed. */
void harness_run_case(const struct test_case *tc);

#endif
