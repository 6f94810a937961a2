/* regions.c - picks the default heap's memory. Only usable RAM (map type 1) from 1 MiB up to
 * 4 GiB, minus the kernel image, every structure the boot loader left in memory, and any part a
 * reserved map entry overlaps. Every byte left out is printed with its reason, so a surprising
 * heap size can be explained from the boot log alone (make kernel-test redoes the arithmetic
 * on the host from that log: tools/boot-check).
 *
 * The loader's map is not trusted to be tidy: entries may come unsorted, overlap, have zero
 * length, wrap past 2^64 or lie above 4 GiB. Usable entries are clipped, sorted and merged
 * first; a range that ends exactly at 4 GiB loses its last page, since its end does not fit in
 * a 32-bit pointer (mem_add_region would see it wrap). tests/host/regions_test.c feeds this file
 * synthetic maps on the host. */
#include <stdint.h>
#include "kprintf.h"
#include "mem.h"
#include "regions.h"

#define PAGE_SIZE   0x1000ull
#define LOW_LIMIT   0x100000ull   /* below: real-mode IVT, BIOS data, EBDA, VGA, option ROMs */
#define HIGH_LIMIT  0x100000000ull /* above: not addressable by a 32-bit kernel without PAE */
#define REGION_MIN  0x4000ull     /* smaller leftovers are not worth a region's bookkeeping */
#define REGIONS_MAX 16
#define EXCLUDED_MAX (BOOT_RANGES_MAX + BOOT_MMAP_MAX + 2)

extern char _kernel_start[], _kernel_end[]; /* from linker.ld */

/* Ranges the heap must not touch, sorted by start, and the regions chosen. */
static struct boot_range excluded[EXCLUDED_MAX];
static unsigned excluded_count;
static struct boot_range chosen[REGIONS_MAX];
static unsigned chosen_count;
static struct boot_range added_regions[REGIONS_MAX]; /* those the heap accepted, for the shell's map */
static unsigned added_count;
static struct boot_range usable[BOOT_MMAP_MAX];  /* the map's usable RAM: sorted, merged */
static unsigned usable_count;

static uint64_t page_down(uint64_t a) { return a & ~(PAGE_SIZE - 1); }
static uint64_t page_up(uint64_t a)   { return page_down(a + PAGE_SIZE - 1); }
static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static const char *type_name(uint32_t type)
{
    switch (type) {
    case 1:  return "usable";
    case 2:  return "reserved";
    case 3:  return "ACPI reclaimable";
    case 4:  return "ACPI NVS";
    case 5:  return "bad memory";
    default: return "unknown type";
    }
}

/* An entry's end, saturated: base + length may wrap past 2^64. */
static uint64_t entry_end(const struct boot_mmap_entry *e)
{
    return e->length > UINT64_MAX - e->base ? UINT64_MAX : e->base + e->length;
}

static void print_map(const struct boot_info *boot)
{
    kprintf("memory map (%s, %u entries%s):\n",
            boot->mmap_from_mem_upper ? "from mem_lower/mem_upper, no map given" : "from the loader",
            boot->mmap_count, boot->mmap_truncated ? ", more not shown" : "");
    for (unsigned i = 0; i < boot->mmap_count; i++) {
        const struct boot_mmap_entry *e = &boot->mmap[i];

        if (e->length == 0) {
            kprintf("  0x%016llx (zero length)            %s (type %u), ignored\n", e->base,
                    type_name(e->type), e->type);
            continue;
        }
        kprintf("  0x%016llx-0x%016llx ", e->base, entry_end(e) - 1);
        kprint_size(entry_end(e) - e->base, 10, 1);
        kprintf("  %s (type %u)\n", type_name(e->type), e->type);
    }
}

static void print_piece(const char *verdict, uint64_t start, uint64_t end, const char *why)
{
    kprintf("  %s 0x%08llx-0x%08llx ", verdict, start, end - 1);
    kprint_size(end - start, 10, 1);
    kprintf("  %s\n", why);
}

/* Keeps excluded[] sorted by start: the carving below walks it in address order. Boot
 * structures are widened to whole pages, so every heap region starts and ends on a page. */
static void exclude(uint64_t start, uint64_t end, const char *why)
{
    unsigned i = excluded_count;

    if (excluded_count == EXCLUDED_MAX || start >= end)
        return;
    start = page_down(start);
    end = end > UINT64_MAX - PAGE_SIZE ? UINT64_MAX & ~(PAGE_SIZE - 1) : page_up(end);
    for (; i > 0 && excluded[i - 1].start > start; i--)
        excluded[i] = excluded[i - 1];
    excluded[i] = (struct boot_range){ start, end, why };
    excluded_count++;
}

static void collect_exclusions(const struct boot_info *boot, uint64_t kernel_start, uint64_t kernel_end)
{
    exclude(kernel_start, kernel_end, "kernel image (code, data, bss, boot stack)");
    for (unsigned i = 0; i < boot->range_count; i++)
        exclude(boot->ranges[i].start, boot->ranges[i].end, boot->ranges[i].what);
    if (boot->ranges_dropped)
        exclude(boot->dropped_start, boot->dropped_end,
                "boot structures past the full table: the whole span they lie in");
    for (unsigned i = 0; i < boot->mmap_count; i++)
        if (boot->mmap[i].type != MMAP_USABLE)
            exclude(boot->mmap[i].base, entry_end(&boot->mmap[i]), "overlapped by a reserved map entry");
}

/* usable[]: the union of the usable entries, sorted and merged. */
static void collect_usable(const struct boot_info *boot)
{
    usable_count = 0;
    for (unsigned i = 0; i < boot->mmap_count; i++) {
        const struct boot_mmap_entry *e = &boot->mmap[i];
        uint64_t start = e->base, end = entry_end(e);
        unsigned k = usable_count;

        if (e->type != MMAP_USABLE || start >= end)
            continue;
        for (; k > 0 && usable[k - 1].start > start; k--)
            usable[k] = usable[k - 1];
        usable[k] = (struct boot_range){ start, end, "usable" };
        usable_count++;
    }
    unsigned out = 0;
    for (unsigned i = 0; i < usable_count; i++) {
        if (out && usable[i].start <= usable[out - 1].end)
            usable[out - 1].end = max64(usable[out - 1].end, usable[i].end);
        else
            usable[out++] = usable[i];
    }
    usable_count = out;
}

static void choose(uint64_t start, uint64_t end)
{
    if (end - start < REGION_MIN) {
        print_piece("skip", start, end, "too small to be worth a region");
        return;
    }
    if (chosen_count == REGIONS_MAX) {
        print_piece("skip", start, end, "too many regions");
        return;
    }
    chosen[chosen_count++] = (struct boot_range){ start, end, "heap" };
    print_piece("use ", start, end, "heap region");
}

/* [start, end) is usable RAM within the limits: hand out what no exclusion covers. */
static void carve(uint64_t start, uint64_t end)
{
    uint64_t cursor = start;

    for (unsigned i = 0; i < excluded_count && cursor < end; i++) {
        const struct boot_range *x = &excluded[i];

        if (x->end <= cursor || x->start >= end)
            continue;
        if (x->start > cursor)
            choose(cursor, x->start);
        cursor = max64(cursor, x->start);
        print_piece("skip", cursor, min64(x->end, end), x->what);
        cursor = min64(x->end, end);
    }
    if (cursor < end)
        choose(cursor, end);
}

static void consider_usable(uint64_t start, uint64_t end)
{
    if (start < LOW_LIMIT) {
        print_piece("skip", start, min64(end, LOW_LIMIT), "below 1 MiB (BIOS data, EBDA, VGA, ROMs)");
        start = LOW_LIMIT;
    }
    if (end > HIGH_LIMIT && start < end) {
        print_piece("skip", max64(start, HIGH_LIMIT), end, "above 4 GiB (out of reach of 32-bit pointers)");
        end = HIGH_LIMIT;
    }
    if (end == HIGH_LIMIT && start < end - PAGE_SIZE) {
        print_piece("skip", end - PAGE_SIZE, end, "the last page below 4 GiB (its end does not fit in 32 bits)");
        end -= PAGE_SIZE;
    }
    start = page_up(start);
    end = page_down(end);
    if (start < end)
        carve(start, end);
}

/* Where the loader put its structures: QEMU's -kernel and GRUB choose very different places,
 * and a heap region that overlapped one would destroy it. */
static void print_boot_ranges(const struct boot_info *boot)
{
    kprintf("boot structures (kept out of the heap; %u found):\n", boot->range_count + boot->ranges_dropped);
    for (unsigned i = 0; i < boot->range_count; i++)
        kprintf("  0x%08llx-0x%08llx  %s\n", boot->ranges[i].start, boot->ranges[i].end - 1,
                boot->ranges[i].what);
    if (boot->ranges_dropped)
        kprintf("  0x%08llx-0x%08llx  %u more past the full table (%u entries): this whole span stays "
                "out of the heap\n", boot->dropped_start, boot->dropped_end - 1, boot->ranges_dropped,
                BOOT_RANGES_MAX);
}

unsigned regions_choose(const struct boot_info *boot, uint64_t kernel_start, uint64_t kernel_end)
{
    unsigned other[BOOT_MMAP_MAX], others = 0;

    excluded_count = chosen_count = 0;
    print_map(boot);
    print_boot_ranges(boot);
    collect_exclusions(boot, kernel_start, kernel_end);
    collect_usable(boot);
    /* the entries that are not usable RAM, sorted by base, to print among the usable ranges */
    for (unsigned k = 0; k < boot->mmap_count; k++) {
        unsigned at = others;
        if (boot->mmap[k].type == MMAP_USABLE || boot->mmap[k].length == 0)
            continue;
        for (; at > 0 && boot->mmap[other[at - 1]].base > boot->mmap[k].base; at--)
            other[at] = other[at - 1];
        other[at] = k;
        others++;
    }
    kprintf("heap regions (usable RAM in [1 MiB, 4 GiB), minus the kernel and boot data):\n");
    for (unsigned u = 0, o = 0; u < usable_count || o < others;) {
        const struct boot_mmap_entry *e = o < others ? &boot->mmap[other[o]] : 0;
        if (e && (u == usable_count || e->base < usable[u].start)) {
            print_piece("skip", e->base, entry_end(e), e->type == 2 ? "reserved (type 2)" : type_name(e->type));
            o++;
        } else {
            consider_usable(usable[u].start, usable[u].end);
            u++;
        }
    }
    if (chosen_count == 0)
        kprintf("heap: the memory map offers no usable RAM in [1 MiB, 4 GiB) outside the kernel and the "
                "boot data: the heap has no memory\n");
    return chosen_count;
}

int regions_chosen(unsigned i, uint64_t *start, uint64_t *end)
{
    if (i >= chosen_count)
        return -1;
    *start = chosen[i].start;
    *end = chosen[i].end;
    return 0;
}

uint64_t regions_usable_above_1m(void)
{
    uint64_t bytes = 0;

    for (unsigned i = 0; i < usable_count; i++)
        if (usable[i].end > LOW_LIMIT)
            bytes += usable[i].end - max64(usable[i].start, LOW_LIMIT);
    return bytes;
}

static unsigned add_chosen(int (*add)(void *start, size_t size))
{
    unsigned added = 0;
    uint64_t bytes = 0;

    for (unsigned i = 0; i < chosen_count; i++) {
        void *start = (void *)(uintptr_t)chosen[i].start;
        size_t size = (size_t)(chosen[i].end - chosen[i].start);
        int err = add(start, size);

        if (err < 0)
            kprintf("heap: adding region %p, %zu bytes failed: %d (%s)\n", start, size, err,
                    mem_strerror((enum mem_error)-err));
        else {
            added_regions[added_count++] = chosen[i];
            added++, bytes += size;
        }
    }
    kprintf("heap: %u of %u region(s) added, %llu KiB\n", added, chosen_count, bytes >> 10);
    return added;
}

unsigned regions_setup(const struct boot_info *boot)
{
    return regions_setup_with(boot, mem_add_region);
}

unsigned regions_setup_with(const struct boot_info *boot, int (*add)(void *start, size_t size))
{
    regions_choose(boot, (uintptr_t)_kernel_start, (uintptr_t)_kernel_end);
    return add_chosen(add);
}

unsigned regions_count(void)
{
    return added_count;
}

/* As start and size: a region may end at exactly 4 GiB, which no uintptr_t can hold. */
int regions_get(unsigned i, uintptr_t *start, size_t *size)
{
    if (i >= added_count)
        return -1;
    *start = (uintptr_t)added_regions[i].start;
    *size = (size_t)(added_regions[i].end - added_regions[i].start);
    return 0;
}
