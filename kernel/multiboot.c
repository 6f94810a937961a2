/* multiboot.c - reads the Multiboot 1 information structure (spec 0.6.96, section 3.3).
 * Each field is valid only when its flag bit is set, so every read below sits behind its bit.
 * Everything the loader put in memory is recorded as a boot_range, so that regions.c keeps the
 * heap away from it: QEMU puts the info and map at 0x9000, but the command line, module list
 * and modules right after the kernel's end, exactly where a naive heap would start. */
#include <stddef.h>
#include "multiboot.h"

/* Flag bits of multiboot_info.flags: which fields below are valid. */
#define MBI_MEMORY      (1u << 0)  /* mem_lower, mem_upper */
#define MBI_CMDLINE     (1u << 2)
#define MBI_MODULES     (1u << 3)
#define MBI_ELF_SECTIONS (1u << 5)
#define MBI_MEMORY_MAP  (1u << 6)
#define MBI_DRIVES      (1u << 7)
#define MBI_LOADER_NAME (1u << 9)
#define MBI_APM_TABLE   (1u << 10)
#define MBI_VBE         (1u << 11)

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;      /* KiB below 1 MiB, KiB from 1 MiB to the first hole */
    uint32_t boot_device;
    uint32_t cmdline;                   /* address of a NUL-terminated string */
    uint32_t mods_count, mods_addr;
    uint32_t elf_num, elf_size, elf_addr, elf_shndx; /* section header table (flag 5) */
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe_control_info, vbe_mode_info;   /* flag 11 */
    uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
    uint64_t framebuffer_addr;                  /* flag 12; the fields from here on are unused */
    uint32_t framebuffer_pitch, framebuffer_width, framebuffer_height;
    uint8_t  framebuffer_bpp, framebuffer_type, color_info[6];
} __attribute__((packed));

struct multiboot_module {
    uint32_t mod_start, mod_end;        /* [start, end) of the module's bytes */
    uint32_t string;                    /* its command line */
    uint32_t reserved;
} __attribute__((packed));

/* One memory map entry. `size` counts the bytes after itself, so the next entry starts
 * size + 4 bytes further on (a loader may make entries longer than this struct). */
struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t base;
    uint64_t length;
    uint32_t type;
} __attribute__((packed));

/* One ELF32 section header, as the loader hands over the kernel's section table (flag 5). */
struct elf32_section {
    uint32_t name, type, flags, addr, offset, size, link, info, addralign, entsize;
} __attribute__((packed));

#define ELF_SHF_ALLOC 0x2   /* part of the loaded image: already inside the kernel's range */
#define ELF_SHT_NOBITS 8    /* occupies no bytes in the file (.bss) */

#define APM_TABLE_SIZE       20
#define VBE_CONTROL_INFO_SIZE 512
#define VBE_MODE_INFO_SIZE    256
#define STRING_SCAN_MAX 4096 /* a loader string longer than this is not believed */

static void *phys(uint32_t address)
{
    return (void *)(uintptr_t)address; /* no paging: physical and virtual are the same */
}

static size_t string_length(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

void multiboot_add_range(struct boot_info *boot, uint64_t start, uint64_t length, const char *what)
{
    if (length == 0)
        return;
    if (boot->range_count == BOOT_RANGES_MAX) {     /* never "give it to the heap": see .h */
        if (!boot->ranges_dropped++ || start < boot->dropped_start)
            boot->dropped_start = start;
        if (start + length > boot->dropped_end)
            boot->dropped_end = start + length;
        return;
    }
    boot->ranges[boot->range_count].start = start;
    boot->ranges[boot->range_count].end = start + length;
    boot->ranges[boot->range_count].what = what;
    boot->range_count++;
}

/* A string in loader memory occupies its bytes and the NUL, however long it is (up to
 * RANGE_SCAN_MAX): the heap must not overwrite the end of a long one. */
#define RANGE_SCAN_MAX (1u << 20)
static void add_string_range(struct boot_info *boot, uint32_t address, const char *what)
{
    multiboot_add_range(boot, address, string_length(phys(address), RANGE_SCAN_MAX) + 1, what);
}

static void copy_cmdline(struct boot_info *boot, const char *src)
{
    size_t n = string_length(src, STRING_SCAN_MAX);

    boot->cmdline_truncated = n >= BOOT_CMDLINE_MAX;
    if (boot->cmdline_truncated)
        n = BOOT_CMDLINE_MAX - 1;
    for (size_t i = 0; i < n; i++)
        boot->cmdline[i] = src[i];
    boot->cmdline[n] = '\0';
}

static void add_mmap_entry(struct boot_info *boot, uint64_t base, uint64_t length, uint32_t type)
{
    if (boot->mmap_count == BOOT_MMAP_MAX) {
        boot->mmap_truncated = 1;
        return;
    }
    boot->mmap[boot->mmap_count].base = base;
    boot->mmap[boot->mmap_count].length = length;
    boot->mmap[boot->mmap_count].type = type;
    boot->mmap_count++;
}

static void read_memory_map(struct boot_info *boot, const struct multiboot_info *mbi)
{
    uint32_t at = mbi->mmap_addr;
    uint32_t end = mbi->mmap_addr + mbi->mmap_length;

    multiboot_add_range(boot, mbi->mmap_addr, mbi->mmap_length, "boot: memory map");
    while (at + sizeof(struct multiboot_mmap_entry) <= end) {
        const struct multiboot_mmap_entry *e = phys(at);

        if (e->size < sizeof(*e) - sizeof(e->size))
            break; /* malformed: an entry too short to hold base, length and type */
        add_mmap_entry(boot, e->base, e->length, e->type);
        at += e->size + sizeof(e->size);
    }
}

/* Without a map, mem_upper still tells how much RAM follows 1 MiB. */
static void synthesise_memory_map(struct boot_info *boot, const struct multiboot_info *mbi)
{
    boot->mmap_from_mem_upper = 1;
    add_mmap_entry(boot, 0, (uint64_t)mbi->mem_lower * 1024, MMAP_USABLE);
    add_mmap_entry(boot, 0x100000, (uint64_t)mbi->mem_upper * 1024, MMAP_USABLE);
}

static void read_modules(struct boot_info *boot, const struct multiboot_info *mbi)
{
    const struct multiboot_module *mods = phys(mbi->mods_addr);

    multiboot_add_range(boot, mbi->mods_addr, (uint64_t)mbi->mods_count * sizeof(*mods), "boot: module list");
    boot->module_count = mbi->mods_count;
    for (uint32_t i = 0; i < mbi->mods_count; i++) {
        if (i < BOOT_MODULES_MAX)
            boot->modules[i] = (struct boot_range){ mods[i].mod_start, mods[i].mod_end, "module" };
        multiboot_add_range(boot, mods[i].mod_start, mods[i].mod_end - mods[i].mod_start, "boot: module");
        if (mods[i].string)
            add_string_range(boot, mods[i].string, "boot: module string");
    }
}

/* GRUB hands over the section table and also loads every section that is not part of the
 * image (symbols, strings, debug info) somewhere in free memory, writing where into each
 * header's addr. QEMU's -kernel passes no table. Those bytes are the loader's too. */
static void read_elf_sections(struct boot_info *boot, const struct multiboot_info *mbi)
{
    multiboot_add_range(boot, mbi->elf_addr, (uint64_t)mbi->elf_num * mbi->elf_size, "boot: ELF section headers");
    if (mbi->elf_size < sizeof(struct elf32_section))
        return;
    for (uint32_t i = 0; i < mbi->elf_num; i++) {
        const struct elf32_section *sh = phys(mbi->elf_addr + i * mbi->elf_size);

        if (sh->addr && !(sh->flags & ELF_SHF_ALLOC) && sh->type != ELF_SHT_NOBITS)
            multiboot_add_range(boot, sh->addr, sh->size, "boot: ELF section the loader added (symbols, debug)");
    }
}

/* The fields that only point at loader memory we never read but must not hand out. */
static void read_other_tables(struct boot_info *boot, const struct multiboot_info *mbi)
{
    if (mbi->flags & MBI_ELF_SECTIONS)
        read_elf_sections(boot, mbi);
    if (mbi->flags & MBI_DRIVES)
        multiboot_add_range(boot, mbi->drives_addr, mbi->drives_length, "boot: drive table");
    if (mbi->flags & MBI_APM_TABLE)
        multiboot_add_range(boot, mbi->apm_table, APM_TABLE_SIZE, "boot: APM table");
    if (mbi->flags & MBI_VBE) {
        multiboot_add_range(boot, mbi->vbe_control_info, VBE_CONTROL_INFO_SIZE, "boot: VBE control info");
        multiboot_add_range(boot, mbi->vbe_mode_info, VBE_MODE_INFO_SIZE, "boot: VBE mode info");
    }
    if (mbi->flags & MBI_LOADER_NAME) {
        boot->loader_name = phys(mbi->boot_loader_name);
        add_string_range(boot, mbi->boot_loader_name, "boot: loader name");
    }
}

int multiboot_parse(uint32_t magic, uint32_t info, struct boot_info *boot)
{
    const struct multiboot_info *mbi = phys(info);

    boot->loader_name = "unknown";
    if (magic != MULTIBOOT_BOOT_MAGIC)
        return -1;
    boot->flags = mbi->flags;
    multiboot_add_range(boot, info, sizeof(*mbi), "boot: multiboot info");
    if (mbi->flags & MBI_CMDLINE) {
        copy_cmdline(boot, phys(mbi->cmdline));
        boot->cmdline_addr = mbi->cmdline;
        boot->cmdline_length = (uint32_t)string_length(phys(mbi->cmdline), RANGE_SCAN_MAX);
        add_string_range(boot, mbi->cmdline, "boot: command line");
    }
    if (mbi->flags & MBI_MEMORY_MAP)
        read_memory_map(boot, mbi);
    else if (mbi->flags & MBI_MEMORY)
        synthesise_memory_map(boot, mbi);
    if (mbi->flags & MBI_MODULES)
        read_modules(boot, mbi);
    read_other_tables(boot, mbi);
    return 0;
}
