/* smp.c - bringing up the application processors (APs), following the MP/ACPI start-up
 * protocol of the Intel SDM (vol. 3, 8.4 "multiple-processor initialization"):
 *
 *   1. acpi.c lists the processors (MADT type 0 entries, enabled flag) and the local APIC's
 *      address; without a MADT, mptable.c reads them from the MP tables instead. The BSP
 *      enables its own local APIC and reads its APIC id.
 *   2. The real-mode trampoline (boot/trampoline.S) is copied to a free page below 1 MiB that
 *      smp_reserve chose before the heap took its memory.
 *   3. For each AP, one at a time: its record (struct cpu) and its own GDT are filled in, its
 *      GDT goes into the trampoline and its stack and index where the trampoline reads them, then
 *      INIT, 10 ms, STARTUP, 200 us, a second STARTUP if it has not answered yet (the SDM's
 *      sequence; a CPU that is already running ignores the second). The AP reaches ap_main with
 *      its own GDT and %fs on its record, loads its own copy of the IDT, enables its local APIC,
 *      prints its line and says it is alive.
 *      An AP that is not alive after AP_START_TIMEOUT_MS is reported and put back in INIT
 *      (so it cannot wake up later on a stack that has been handed to the next one); the boot
 *      goes on without it, and the next AP gets its index.
 *   4. Started APs wait in hlt with interrupts on; only the wake-up IPI reaches them (their
 *      LINT0 is masked, so the PIC's interrupts, the timer's included, go to the BSP alone).
 *
 * Time comes from the PIT's channel 2 (pit_delay_us), polled: nothing here needs interrupts. */
#include <stdint.h>
#include "acpi.h"
#include "gdt.h"
#include "idt.h"
#include "io.h"
#include "kprintf.h"
#include "lapic.h"
#include "mptable.h"
#include "pit.h"
#include "smp.h"
#include "spinlock.h"
#include "string.h"

#define PAGE_SIZE            0x1000u
#define LOW_MEMORY_END       0xA0000u /* conventional memory ends at 640 KiB */
#define TRAMPOLINE_PREFERRED 0x8000u
#define INIT_DELAY_US        10000
#define STARTUP_DELAY_US     200
#define AP_START_TIMEOUT_MS  200      /* TCG is slow; a real CPU needs microseconds */
#define GHOST_APIC_ID        0x7E     /* boot word ghostcpu: an id QEMU gives no CPU (0xFF is broadcast) */

extern const char trampoline_start[], trampoline_end[], trampoline_gdtr[]; /* trampoline.S */

/* Read by ap_entry32 in trampoline.S. */
volatile uint32_t ap_boot_stack, ap_boot_index;

static uint8_t ap_stacks[SMP_CPUS_MAX - 1][SMP_STACK_SIZE] __attribute__((aligned(16)));
static uint32_t trampoline_page;
static unsigned cpus_online = 1;
static struct cpu cpus[SMP_CPUS_MAX];
extern const char boot_stack_top[]; /* entry.S */
static volatile uint32_t ap_alive[SMP_CPUS_MAX];

static smp_job_fn job_fn;
static void *job_arg;
static uint32_t job_generation, job_done;

void ap_main(unsigned index) __attribute__((noreturn));

unsigned smp_cpus_online(void)
{
    return __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
}

unsigned smp_cpu_index(void)
{
    unsigned index;

    __asm__ volatile("movl %%fs:%c1, %0" : "=r"(index) : "i"(CPU_INDEX_OFFSET));
    return index;
}

struct cpu *smp_cpu(unsigned index)
{
    return &cpus[index];
}

int smp_index_of_apic_id(uint32_t apic_id)
{
    unsigned online = smp_cpus_online();

    for (unsigned i = 0; i < online; i++)
        if (cpus[i].apic_id == apic_id)
            return (int)i;
    return -1;
}

/* The record and the GDT segment over it; the caller loads that GDT (or has the AP load it). */
static void cpu_record(unsigned index, uint32_t apic_id, uint32_t stack_top)
{
    cpus[index] = (struct cpu){ &cpus[index], index, apic_id, stack_top };
    gdt_setup(index, (uint32_t)(uintptr_t)&cpus[index], sizeof(cpus[index]));
}

/* The APIC id is not known yet (no MADT read, no local APIC mapped): smp_start fills it in. */
void smp_boot_cpu_init(void)
{
    cpu_record(0, 0, (uint32_t)(uintptr_t)boot_stack_top);
    gdt_load(0);
}

static int overlaps(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end)
{
    return a_start < b_end && b_start < a_end;
}

/* The page is usable RAM by the map, no other map entry claims it, and no boot structure
 * (the loader's, or the span past a full table) touches it. */
static int page_is_free(const struct boot_info *boot, uint32_t page)
{
    uint64_t start = page, end = (uint64_t)page + PAGE_SIZE;
    int usable = 0;

    for (unsigned i = 0; i < boot->mmap_count; i++) {
        const struct boot_mmap_entry *e = &boot->mmap[i];
        uint64_t e_end = e->base + e->length;

        if (e->length == 0 || e_end < e->base)
            continue;
        if (e->type == MMAP_USABLE && e->base <= start && end <= e_end)
            usable = 1;
        else if (e->type != MMAP_USABLE && overlaps(start, end, e->base, e_end))
            return 0;
    }
    for (unsigned i = 0; i < boot->range_count; i++)
        if (overlaps(start, end, boot->ranges[i].start & ~(uint64_t)(PAGE_SIZE - 1), boot->ranges[i].end))
            return 0;
    if (boot->ranges_dropped && overlaps(start, end, boot->dropped_start, boot->dropped_end))
        return 0;
    return usable;
}

/* 0x8000 first (clear of QEMU's boot data at 0x9000), then down to 0x1000 (page 0 holds the
 * real-mode interrupt table), then up to the end of conventional memory. */
static uint32_t trampoline_choose(const struct boot_info *boot)
{
    for (uint32_t page = TRAMPOLINE_PREFERRED; page >= PAGE_SIZE; page -= PAGE_SIZE)
        if (page_is_free(boot, page))
            return page;
    for (uint32_t page = TRAMPOLINE_PREFERRED + PAGE_SIZE; page < LOW_MEMORY_END; page += PAGE_SIZE)
        if (page_is_free(boot, page))
            return page;
    return 0;
}

void smp_reserve(struct boot_info *boot)
{
    trampoline_page = trampoline_choose(boot);
    if (trampoline_page)
        multiboot_add_range(boot, trampoline_page, PAGE_SIZE, "kernel: AP start-up trampoline (real mode)");
}

static void trampoline_install(void)
{
    memcpy((void *)(uintptr_t)trampoline_page, trampoline_start, (size_t)(trampoline_end - trampoline_start));
}

/* The next AP's lgdt, in real mode, loads that AP's own table: from its far jump on it runs on
 * its own descriptors, and ap_entry32 can load %fs with its per-CPU segment. */
static void trampoline_set_gdt(unsigned index)
{
    uint8_t *gdtr = (uint8_t *)(uintptr_t)trampoline_page + (trampoline_gdtr - trampoline_start);
    uint16_t limit;
    uint32_t base;

    gdt_describe(index, &limit, &base);
    memcpy(gdtr, &limit, sizeof(limit));
    memcpy(gdtr + 2, &base, sizeof(base));
}

static int ap_answered(unsigned index, unsigned wait_us)
{
    for (unsigned waited = 0;; waited += 100) {
        if (__atomic_load_n(&ap_alive[index], __ATOMIC_ACQUIRE))
            return 1;
        if (waited >= wait_us)
            return 0;
        pit_delay_us(100);
    }
}

/* INIT, STARTUP, STARTUP; 1 if the AP reached ap_main. */
static int start_ap(unsigned index, uint32_t apic_id)
{
    uint32_t stack_top = (uint32_t)(uintptr_t)&ap_stacks[index - 1][SMP_STACK_SIZE];

    ap_alive[index] = 0;
    cpu_record(index, apic_id, stack_top);
    trampoline_set_gdt(index);
    ap_boot_index = index;
    ap_boot_stack = stack_top;
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* record, GDT and words visible before the AP runs */
    lapic_send_init(apic_id);
    pit_delay_us(INIT_DELAY_US);
    lapic_send_startup(apic_id, (uint8_t)(trampoline_page >> 12));
    if (ap_answered(index, STARTUP_DELAY_US))
        return 1;
    lapic_send_startup(apic_id, (uint8_t)(trampoline_page >> 12));
    if (ap_answered(index, AP_START_TIMEOUT_MS * 1000))
        return 1;
    lapic_send_init(apic_id); /* hold it in reset: its stack and index go to the next AP */
    return 0;
}

/* Idle until the BSP posts a job. cli, test, then sti;hlt: sti takes effect after the next
 * instruction, so a wake-up IPI that comes after the test still ends the hlt. */
static void __attribute__((noreturn)) ap_idle(unsigned index)
{
    uint32_t seen = 0;

    for (;;) {
        uint32_t generation;

        cpu_cli();
        generation = __atomic_load_n(&job_generation, __ATOMIC_ACQUIRE);
        if (generation != seen) {
            seen = generation;
            job_fn(index, smp_cpus_online(), job_arg);
            __atomic_fetch_add(&job_done, 1, __ATOMIC_RELEASE);
            continue;
        }
        __asm__ volatile("sti; hlt" : : : "memory");
    }
}

/* Where each AP lands in C (trampoline.S), on its own stack, with its own GDT loaded, %fs on its
 * record and interrupts off. Its IDT is a copy of the BSP's template taken now. The record's
 * APIC id is the MADT's; the APIC's own register is what counts (they agree on QEMU). */
void ap_main(unsigned index)
{
    idt_load(index);
    lapic_enable(0);
    cpus[index].apic_id = lapic_id();
    kprintf("cpu %u online (apic id %u)\n", index, (unsigned)cpus[index].apic_id);
    __atomic_store_n(&ap_alive[index], 1, __ATOMIC_RELEASE);
    ap_idle(index);
}

void smp_start(int ghost)
{
    static struct acpi_madt_info madt;
    unsigned enabled = 1, online = 1;

    if ((acpi_find_cpus(&madt) < 0 && mptable_find_cpus(&madt) < 0) || madt.lapic_address == 0) {
        kprintf("cpu 0 online (apic id unknown: no MADT or MP table, so no local APIC and no other CPU)\n");
        return;
    }
    if (ghost && madt.cpu_count < ACPI_CPUS_MAX) {
        kprintf("smp: boot word ghostcpu: adding apic id %u, which no CPU has, to the MADT's list\n",
                GHOST_APIC_ID);
        madt.cpus[madt.cpu_count++] = (struct acpi_cpu){ GHOST_APIC_ID, 1 };
    }
    lapic_set_base(madt.lapic_address);
    lapic_enable(1);
    cpus[0].apic_id = lapic_id();
    kprintf("cpu 0 online (apic id %u)\n", (unsigned)cpus[0].apic_id);
    lapic_timer_calibrate(); /* now, while the PIT is the BSP's alone */
    kprintf("lapic: timer %u counts per ms (bus clock / 16)\n", (unsigned)lapic_timer_counts_per_ms());
    if (trampoline_page)
        trampoline_install();
    for (unsigned i = 0; i < madt.cpu_count; i++) {
        uint32_t id = madt.cpus[i].apic_id;

        if (id == cpus[0].apic_id)
            continue;
        if (!madt.cpus[i].enabled) {
            kprintf("smp: apic id %u is marked disabled in the MADT; not started\n", (unsigned)id);
            continue;
        }
        enabled++;
        if (!trampoline_page) {
            kprintf("cpu %u (apic id %u) not started: no free page below 1 MiB for the trampoline\n",
                    online, (unsigned)id);
        } else if (online == SMP_CPUS_MAX) {
            kprintf("cpu %u (apic id %u) not started: this kernel runs at most %u CPUs\n", online,
                    (unsigned)id, SMP_CPUS_MAX);
        } else if (start_ap(online, id)) {
            online++;
            __atomic_store_n(&cpus_online, online, __ATOMIC_RELEASE);
        } else {
            kprintf("cpu %u (apic id %u) did not start\n", online, (unsigned)id);
        }
    }
    if (madt.cpus_dropped)
        kprintf("smp: %u more processor(s) in the MADT than this kernel lists; not started\n",
                madt.cpus_dropped);
    kprintf("smp: %u of %u enabled CPU(s) online; trampoline at 0x%05x\n", online, enabled,
            (unsigned)trampoline_page);
}

int smp_run_all(smp_job_fn fn, void *arg, unsigned timeout_ms)
{
    unsigned cpus = smp_cpus_online();

    job_fn = fn;
    job_arg = arg;
    __atomic_store_n(&job_done, 0, __ATOMIC_RELAXED);
    __atomic_fetch_add(&job_generation, 1, __ATOMIC_RELEASE); /* publishes fn and arg */
    if (cpus > 1)
        lapic_send_wake_others();
    fn(0, cpus, arg);
    for (unsigned waited = 0; __atomic_load_n(&job_done, __ATOMIC_ACQUIRE) < cpus - 1; waited++) {
        if (waited >= timeout_ms)
            return -1;
        pit_delay_us(1000);
    }
    return 0;
}
