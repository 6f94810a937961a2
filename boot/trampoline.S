/* trampoline.S - where an application processor (AP) starts, and how it reaches C.
 *
 * A STARTUP IPI starts an AP in 16-bit real mode at CS:IP = (page << 8):0, so the first part,
 * trampoline_start..trampoline_end, must lie in one page below 1 MiB. smp.c copies these bytes
 * to such a page (kept out of the heap and listed among the boot structures), fills in
 * trampoline_gdtr with the starting AP's own GDT before each start, and sends the IPIs. The code here only uses offsets
 * from its own start (DS = CS), so it runs wherever the copy lands.
 *
 * Real mode -> protected mode: lgdt (the 32-bit form, since the kernel's GDT lies above 1 MiB),
 * set CR0.PE, and a far jump that loads the kernel's code selector. The far jump's target,
 * ap_entry32, is in the kernel proper at its linked address: the segments are flat, so the
 * kernel's own code runs as is from there on. Paging stays off, as on the BSP.
 *
 * ap_entry32 loads the data selectors, %fs with the per-CPU segment (its GDT's one descriptor
 * that differs from the other CPUs': based on its struct cpu, so smp_cpu_index works from the
 * first C instruction on), and the stack that smp.c chose for this AP (ap_boot_stack: one stack
 * per CPU), and calls ap_main(ap_boot_index). The BSP starts one AP at a time and waits until
 * it is in C, so trampoline_gdtr and these two words are never needed by two APs at once. */

#include "gdt.h"

#define CR0_PE 0x00000001 /* protected mode */
#define CR0_NW 0x20000000 /* an AP leaves INIT with caches off (CD and NW set): turn them on */
#define CR0_CD 0x40000000

        .section .rodata
        .code16
        .global trampoline_start, trampoline_end, trampoline_gdtr
        .balign 16
trampoline_start:
        cli
        cld
        movw %cs, %ax
        movw %ax, %ds
        lgdtl trampoline_gdtr - trampoline_start
        movl %cr0, %eax
        andl $~(CR0_CD | CR0_NW), %eax
        orl $CR0_PE, %eax
        movl %eax, %cr0
        ljmpl $GDT_KERNEL_CODE, $ap_entry32

        .balign 8
trampoline_gdtr:                /* filled in by smp.c: limit, then the linear base */
        .word 0
        .long 0
trampoline_end:

        .code32
        .section .text
        .type ap_entry32, @function
ap_entry32:
        movw $GDT_KERNEL_DATA, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %gs
        movw %ax, %ss
        movw $GDT_PERCPU, %ax
        movw %ax, %fs
        movl ap_boot_stack, %esp
        xorl %ebp, %ebp         /* a zero frame pointer ends any backtrace here */
        pushl $0
        popfl                   /* IF off, DF clear, as on the BSP at _start */
        movl ap_boot_index, %eax
        subl $12, %esp          /* keeps ESP 16-byte aligned at the call */
        pushl %eax
        call ap_main
        /* ap_main does not return */
1:      cli
        hlt
        jmp 1b
        .size ap_entry32, . - ap_entry32

        .section .note.GNU-stack, "", @progbits
