/* regions_test.c - the kernel's region chooser (kernel/regions.c) on the host, fed synthetic
 * Multiboot memory maps that QEMU never produces: a range ending exactly at 4 GiB or wrapping
 * past 2^64, holes, overlapping and unsorted entries, entries above 4 GiB, zero-length entries,
 * a map with no usable RAM, reserved entries over usable ones, a boot-structure table that
 * overflowed. Each case states the exact regions it must get. kprintf goes to a buffer, so the
 * report's wording is checked too. Build and run: make host-regions (part of make host-test). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "kprintf.h"
#include "mem.h"
#include "multiboot.h"
#include "regions.h"

/* ---- What regions.c needs from the kernel, stubbed -------------------------------------- */

char _kernel_start[1], _kernel_end[1];
static char out[1 << 16];
static size_t out_len;

void kvprintf(const char *fmt, va_list ap)
{
    int n = vsnprintf(out + out_len, sizeof out - out_len, fmt, ap);
    if (n > 0)
        out_len = out_len + (size_t)n < sizeof out ? out_len + (size_t)n : sizeof out - 1;
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

void kprint_size(uint64_t n, unsigned least, int padded)
{
    (void)least, (void)padded;
    kprintf("%llu B", (unsigned long long)n);
}

int mem_add_region(void *start, size_t size) { (void)start, (void)size; return 0; }
const char *mem_strerror(enum mem_error err) { (void)err; return "stub"; }

/* ---- Cases -------------------------------------------------------------------------------- */

#define MiB 0x100000ull
#define GiB 0x40000000ull
#define KSTART MiB            /* a kernel image at 1 MiB, 1 MiB long, as the real one */
#define KEND   (2 * MiB)

struct want { uint64_t start, end; };

static int failures;

static void entry(struct boot_info *b, uint64_t base, uint64_t length, uint32_t type)
{
    b->mmap[b->mmap_count++] = (struct boot_mmap_entry){ base, length, type };
}

/* Runs the chooser over b; the regions must be exactly want[0..n), in order, and each must fit
 * a 32-bit address space (start + size must not wrap a 32-bit pointer). */
static void expect(const char *name, const struct boot_info *b, const struct want *want, unsigned n,
                   const char *text)
{
    out_len = 0;
    out[0] = 0;
    unsigned got = regions_choose(b, KSTART, KEND);
    int bad = got != n;
    for (unsigned i = 0; i < got && !bad; i++) {
        uint64_t s, e;
        bad = regions_chosen(i, &s, &e) != 0 || s != want[i].start || e != want[i].end ||
              e > 0xFFFFFFFFull || s % 4096 || e % 4096;
    }
    if (text && !strstr(out, text)) {
        printf("not ok - %s: the report lacks \"%s\"\n", name, text);
        bad = 1;
    }
    if (bad) {
        failures++;
        printf("not ok - %s: got %u region(s), want %u\n", name, got, n);
        for (unsigned i = 0; i < got; i++) {
            uint64_t s, e;
            regions_chosen(i, &s, &e);
            printf("#   got  0x%llx-0x%llx\n", (unsigned long long)s, (unsigned long long)e);
        }
        for (unsigned i = 0; i < n; i++)
            printf("#   want 0x%llx-0x%llx\n", (unsigned long long)want[i].start,
                   (unsigned long long)want[i].end);
        printf("# report:\n%s", out);
    } else {
        printf("ok - %s\n", name);
    }
}

static void check_usable(const char *name, uint64_t want)
{
    uint64_t got = regions_usable_above_1m();
    if (got != want) {
        failures++;
        printf("not ok - %s: usable above 1 MiB %llu, want %llu\n", name, (unsigned long long)got,
               (unsigned long long)want);
    } else {
        printf("ok - %s: usable above 1 MiB\n", name);
    }
}

int main(void)
{
    static struct boot_info b;

    memset(&b, 0, sizeof b);
    entry(&b, 0, 640 * 1024, 1);
    entry(&b, MiB, 4 * GiB - MiB, 1);                     /* ends exactly at 4 GiB */
    expect("a range ending exactly at 4 GiB keeps all but its last page", &b,
           (struct want[]){ { KEND, 4 * GiB - 4096 } }, 1, "the last page below 4 GiB");
    check_usable("end at 4 GiB", 4 * GiB - MiB);

    memset(&b, 0, sizeof b);
    entry(&b, 3 * GiB, UINT64_MAX - 100, 1);             /* base + length wraps past 2^64 */
    expect("a range that wraps past 2^64 is clipped at 4 GiB", &b,
           (struct want[]){ { 3 * GiB, 4 * GiB - 4096 } }, 1, "above 4 GiB");

    memset(&b, 0, sizeof b);
    entry(&b, MiB, 7 * MiB, 1);
    entry(&b, 8 * MiB, 8 * MiB, 2);                       /* a hole of reserved memory */
    entry(&b, 16 * MiB, 16 * MiB, 1);
    expect("holes: two regions around a reserved range", &b,
           (struct want[]){ { KEND, 8 * MiB }, { 16 * MiB, 32 * MiB } }, 2, "reserved (type 2)");
    check_usable("holes", 23 * MiB);

    memset(&b, 0, sizeof b);
    entry(&b, 16 * MiB, 16 * MiB, 1);                     /* unsorted and overlapping */
    entry(&b, 0, 20 * MiB, 1);
    entry(&b, 24 * MiB, 2 * MiB, 1);                      /* inside the first */
    expect("overlapping, unsorted entries merge into one region", &b,
           (struct want[]){ { KEND, 32 * MiB } }, 1, NULL);
    check_usable("overlapping entries are counted once", 31 * MiB);

    memset(&b, 0, sizeof b);
    entry(&b, MiB, 63 * MiB, 1);
    entry(&b, 5 * GiB, GiB, 1);                           /* entirely above 4 GiB */
    entry(&b, 3 * GiB, 3 * GiB, 1);                       /* across 4 GiB */
    expect("entries above 4 GiB are left out, one across it is cut", &b,
           (struct want[]){ { KEND, 64 * MiB }, { 3 * GiB, 4 * GiB - 4096 } }, 2, "above 4 GiB");
    check_usable("above 4 GiB counts, overlaps once", 63 * MiB + 3 * GiB);

    memset(&b, 0, sizeof b);
    entry(&b, 8 * MiB, 0, 1);                             /* zero-length entries */
    entry(&b, MiB, 15 * MiB, 1);
    entry(&b, 4 * MiB, 0, 2);
    expect("zero-length entries are ignored", &b, (struct want[]){ { KEND, 16 * MiB } }, 1,
           "(zero length)");

    memset(&b, 0, sizeof b);
    entry(&b, 0, 640 * 1024, 1);
    entry(&b, MiB, 64 * MiB, 2);
    expect("no usable RAM above 1 MiB: no region, and a clear message", &b, NULL, 0,
           "offers no usable RAM");
    memset(&b, 0, sizeof b);
    expect("an empty map: no region, and a clear message", &b, NULL, 0, "offers no usable RAM");

    memset(&b, 0, sizeof b);
    entry(&b, MiB, 63 * MiB, 1);
    entry(&b, 10 * MiB, 2 * MiB, 2);                      /* reserved inside usable */
    b.ranges[b.range_count++] = (struct boot_range){ 20 * MiB, 20 * MiB + 10, "boot: module" };
    expect("reserved entries and boot structures inside usable RAM are cut out", &b,
           (struct want[]){ { KEND, 10 * MiB }, { 12 * MiB, 20 * MiB }, { 20 * MiB + 4096, 64 * MiB } },
           3, "boot: module");

    memset(&b, 0, sizeof b);
    entry(&b, MiB, 63 * MiB, 1);
    b.ranges_dropped = 3;                                  /* the table overflowed */
    b.dropped_start = 30 * MiB + 5;
    b.dropped_end = 40 * MiB - 5;
    expect("structures past a full table: their whole span stays out", &b,
           (struct want[]){ { KEND, 30 * MiB }, { 40 * MiB, 64 * MiB } }, 2, "3 more past the full table");

    memset(&b, 0, sizeof b);
    entry(&b, MiB, 63 * MiB, 1);
    for (unsigned i = 0; i < 20; i++)                      /* 20 holes: more pieces than regions */
        b.ranges[b.range_count++] = (struct boot_range){ (3 + 2 * i) * MiB, (3 + 2 * i) * MiB + 1, "boot: module" };
    struct want many[16];
    for (unsigned i = 0; i < 16; i++)
        many[i] = (struct want){ i ? (3 + 2 * (i - 1)) * MiB + 4096 : KEND, (3 + 2 * i) * MiB };
    expect("more pieces than regions: the rest is left out, and said so", &b, many, 16, "too many regions");

    printf(failures ? "# regions: %d case(s) FAILED\n" : "# regions: all cases passed\n", failures);
    return failures != 0;
}
