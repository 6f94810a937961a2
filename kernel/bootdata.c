/* bootdata.c - checksums of the boot data (see bootdata.h). FNV-1a over the loader's own bytes:
 * the kernel runs without paging, so a physical address is a pointer. */
#include <stdint.h>
#include "bootdata.h"
#include "kprintf.h"

static uint32_t cmdline_sum;
static uint32_t module_sum[BOOT_MODULES_MAX];

static uint32_t fnv1a(uint64_t start, uint64_t end)
{
    const unsigned char *p = (const unsigned char *)(uintptr_t)start;
    uint32_t h = 2166136261u;

    for (uint64_t i = 0; i < end - start; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static unsigned modules_kept(const struct boot_info *boot)
{
    return boot->module_count < BOOT_MODULES_MAX ? boot->module_count : BOOT_MODULES_MAX;
}

void bootdata_record(const struct boot_info *boot)
{
    uint64_t bytes = boot->cmdline_length;

    cmdline_sum = fnv1a(boot->cmdline_addr, (uint64_t)boot->cmdline_addr + boot->cmdline_length);
    for (unsigned i = 0; i < modules_kept(boot); i++) {
        module_sum[i] = fnv1a(boot->modules[i].start, boot->modules[i].end);
        bytes += boot->modules[i].end - boot->modules[i].start;
    }
    kprintf("boot data: command line (%u bytes, fnv1a 0x%08x) and %u module(s), %llu bytes in all, "
            "checksummed before the heap starts\n", boot->cmdline_length, cmdline_sum, boot->module_count,
            bytes);
    if (boot->module_count > BOOT_MODULES_MAX)
        kprintf("boot data: only the first %u modules are checksummed (all %u are kept out of the heap)\n",
                BOOT_MODULES_MAX, boot->module_count);
}

unsigned bootdata_verify(const struct boot_info *boot)
{
    unsigned changed = 0;

    if (fnv1a(boot->cmdline_addr, (uint64_t)boot->cmdline_addr + boot->cmdline_length) != cmdline_sum) {
        kprintf("boot data: the command line CHANGED during the self-tests\n");
        changed++;
    }
    for (unsigned i = 0; i < modules_kept(boot); i++)
        if (fnv1a(boot->modules[i].start, boot->modules[i].end) != module_sum[i]) {
            kprintf("boot data: module %u at 0x%08llx-0x%08llx CHANGED during the self-tests\n", i + 1,
                    boot->modules[i].start, boot->modules[i].end - 1);
            changed++;
        }
    if (changed)
        kprintf("boot data: %u item(s) CHANGED: the heap was given boot data\n", changed);
    else
        kprintf("boot data: command line and %u module(s) unchanged after the self-tests\n",
                modules_kept(boot));
    return changed;
}
