/* smp.h - the other CPUs: found in ACPI's MADT, started with INIT-SIPI-SIPI through the local
 * APIC and a real-mode trampoline (boot/trampoline.S), then kept idle (hlt) until the BSP
 * gives every CPU a job (smp_run_all). CPU 0 is the boot CPU (BSP); the APs that answer get
 * 1, 2, ... in MADT order, so the online CPUs are always 0 .. smp_cpus_online() - 1. */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include "multiboot.h"

#define SMP_CPUS_MAX   8     /* make run / kernel-test allow CPUS=1..8 */
#define SMP_STACK_SIZE 16384 /* each AP's stack, from a static array in .bss */

/* Chooses the page below 1 MiB for the trampoline and records it among the boot structures,
 * so regions.c keeps it out of the heap and the boot log lists it. Before regions_setup. */
void     smp_reserve(struct boot_info *boot);
/* BSP: enables its local APIC, starts every enabled AP in the MADT (each prints
 * `cpu N online (apic id X)`, or the BSP reports `cpu N (apic id X) did not start`). With
 * ghost (boot word ghostcpu), one more entry with an APIC id that no CPU has is added to the
 * MADT's list, to prove that a CPU that never answers is reported and the boot goes on. */
void     smp_start(int ghost);
unsigned smp_cpus_online(void);
/* This CPU's index. Cheap (it looks at the stack pointer, since each CPU has its own stack),
 * and right from the first instruction of kmain on: the console lock (uart.c) uses it. */
unsigned smp_cpu_index(void);

/* Runs fn(cpu, cpus, arg) on every online CPU at once, the BSP included, with interrupts off
 * on the APs. Returns 0 when all have returned, -1 if an AP had not after timeout_ms (it is
 * then still running the job). */
typedef void (*smp_job_fn)(unsigned cpu, unsigned cpus, void *arg);
int      smp_run_all(smp_job_fn fn, void *arg, unsigned timeout_ms);

#endif
