/* cmdline.h - words on the kernel command line (QEMU -append, GRUB's multiboot line). */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

/* 1 if word appears as a whole, space-separated word in cmdline. Loaders put the kernel's file
 * name first; it is just another word, and no file is called "exit". */
int cmdline_has(const char *cmdline, const char *word);

#endif
