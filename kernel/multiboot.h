/* multiboot.h - what the kernel keeps from the boot loader's Multiboot 1 information: a copy of
 * the command line and memory map, and the address ranges of every structure the loader left in
 * RAM (so the heap can stay clear of them). The raw format is private to multiboot.c. */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOT_MAGIC 0x2BADB002 /* in EAX at entry when a Multiboot loader started us */

#define BOOT_CMDLINE_MAX 256
#define BOOT_MMAP_MAX    64
/* Each module takes two ranges (its bytes, its string); the rest is the loader's own handful.
 * Multiboot sets no limit on modules: past the table, boot_info keeps one span that covers
 * every structure left over, and regions.c leaves that whole span out of the heap. */
#define BOOT_MODULES_MAX 64
#define BOOT_RANGES_MAX  (2 * BOOT_MODULES_MAX + 32)

#define MMAP_USABLE 1 /* memory map type for RAM the OS may use */

struct boot_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

/* [start, end) in physical memory, and what lies there (for the region report) */
struct boot_range {
    uint64_t start, end;
    const char *what;
};

struct boot_info {
    uint32_t flags;                     /* the loader's flags word, as given */
    const char *loader_name;            /* points into loader memory, or "unknown" */
    char cmdline[BOOT_CMDLINE_MAX];     /* copied into .bss: the original may be overwritten */
    int cmdline_truncated;
    unsigned mmap_count;
    int mmap_from_mem_upper;            /* no map: synthesised from mem_upper */
    int mmap_truncated;
    struct boot_mmap_entry mmap[BOOT_MMAP_MAX];
    unsigned range_count;               /* boot structures: info, map, cmdline, modules, ... */
    struct boot_range ranges[BOOT_RANGES_MAX];
    unsigned ranges_dropped;            /* structures that found the table full ... */
    uint64_t dropped_start, dropped_end; /* ... and the span that covers them all */
    uint32_t cmdline_addr, cmdline_length; /* the loader's own copy (length without the NUL) */
    unsigned module_count;              /* all modules the loader passed */
    struct boot_range modules[BOOT_MODULES_MAX]; /* the first BOOT_MODULES_MAX of them */
};

/* Fills *boot from the loader's structure at info. 0, or -1 if magic is not the Multiboot one. */
int multiboot_parse(uint32_t magic, uint32_t info, struct boot_info *boot);

/* Records [start, start + length) as a boot structure, kept out of the heap and listed with the
 * loader's. The kernel adds its own low-memory pages too (smp.c: the AP trampoline). */
void multiboot_add_range(struct boot_info *boot, uint64_t start, uint64_t length, const char *what);

#endif
