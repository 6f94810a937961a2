/* multiboot.S - the Multiboot 1 header that GRUB and QEMU's -kernel look for.
 * It sits alone in the .multiboot section, which linker.ld places first, so it lands within
 * the first 8 KiB of the file as the specification requires. */

#define MULTIBOOT_MAGIC       0x1BADB002
#define MULTIBOOT_PAGE_ALIGN  (1 << 0)  /* load modules on 4 KiB boundaries */
#define MULTIBOOT_MEMORY_INFO (1 << 1)  /* we need mem_lower/upper and the memory map */
#define MULTIBOOT_FLAGS       (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)

        .section .multiboot, "a"
        .balign 4
        .long MULTIBOOT_MAGIC
        .long MULTIBOOT_FLAGS
        .long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)    /* the three words must sum to 0 */

        .section .note.GNU-stack, "", @progbits
