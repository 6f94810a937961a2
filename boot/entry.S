/* entry.S - _start, where the boot loader jumps: give the kernel a stack and call kmain.
 * The loader leaves us with no usable stack and interrupts off; EAX holds its magic number and
 * EBX the physical address of the multiboot information structure. kmain takes both. */

#define BOOT_STACK_SIZE 16384

        .section .bss
        .balign 16
        .global boot_stack_top  /* CPU 0's struct cpu records it (smp.c) */
boot_stack_bottom:
        .skip BOOT_STACK_SIZE
boot_stack_top:

        .section .text
        .global _start
        .type _start, @function
_start:
        movl $boot_stack_top, %esp
        xorl %ebp, %ebp         /* a zero frame pointer ends any backtrace here */
        pushl $0
        popfl                   /* known EFLAGS: IF off, and DF clear as the C ABI expects */
        subl $8, %esp           /* with the two pushes below, keeps ESP 16-byte aligned at the call */
        pushl %ebx              /* kmain(magic, info) */
        pushl %eax
        call kmain
        /* kmain does not return; if it ever does, stop here quietly */
1:      cli
        hlt
        jmp 1b
        .size _start, . - _start

        .section .note.GNU-stack, "", @progbits
