/* vectors.S - one tiny entry stub per interrupt vector 0-47, and the common path they share.
 * Each stub makes the stack uniform (a dummy error code where the CPU pushes none, then the
 * vector number) so trap_dispatch sees one struct trap_frame layout for every vector. */

#define KERNEL_DATA 0x10

/* The CPU pushes an error code only for these exceptions: 8, 10-14, 17, 21, 29, 30. */
.macro STUB_NO_ERROR vector
        .balign 16
trap_stub_\vector:
        pushl $0
        pushl $\vector
        jmp trap_common
.endm

.macro STUB_ERROR vector
        .balign 16
trap_stub_\vector:
        pushl $\vector
        jmp trap_common
.endm

        .section .text
STUB_NO_ERROR 0
STUB_NO_ERROR 1
STUB_NO_ERROR 2
STUB_NO_ERROR 3
STUB_NO_ERROR 4
STUB_NO_ERROR 5
STUB_NO_ERROR 6
STUB_NO_ERROR 7
STUB_ERROR    8
STUB_NO_ERROR 9
STUB_ERROR    10
STUB_ERROR    11
STUB_ERROR    12
STUB_ERROR    13
STUB_ERROR    14
STUB_NO_ERROR 15
STUB_NO_ERROR 16
STUB_ERROR    17
STUB_NO_ERROR 18
STUB_NO_ERROR 19
STUB_NO_ERROR 20
STUB_ERROR    21
STUB_NO_ERROR 22
STUB_NO_ERROR 23
STUB_NO_ERROR 24
STUB_NO_ERROR 25
STUB_NO_ERROR 26
STUB_NO_ERROR 27
STUB_NO_ERROR 28
STUB_ERROR    29
STUB_ERROR    30
STUB_NO_ERROR 31
/* IRQ 0-15, remapped by pic.c to vectors 32-47 */
STUB_NO_ERROR 32
STUB_NO_ERROR 33
STUB_NO_ERROR 34
STUB_NO_ERROR 35
STUB_NO_ERROR 36
STUB_NO_ERROR 37
STUB_NO_ERROR 38
STUB_NO_ERROR 39
STUB_NO_ERROR 40
STUB_NO_ERROR 41
STUB_NO_ERROR 42
STUB_NO_ERROR 43
STUB_NO_ERROR 44
STUB_NO_ERROR 45
STUB_NO_ERROR 46
STUB_NO_ERROR 47

/* Save everything, switch to kernel data segments, call trap_dispatch(frame), restore. %fs is
 * not reloaded: it holds this CPU's per-CPU segment (gdt.h, GDT_PERCPU), which the handlers
 * need (smp_cpu_index) and which only ring 0 ever runs with, so it is always still right. */
        .balign 16
trap_common:
        pushal
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        movw $KERNEL_DATA, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %gs
        cld                     /* C code may assume DF clear */
        pushl %esp              /* the frame's address is trap_dispatch's argument */
        call trap_dispatch
        addl $4, %esp
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popal
        addl $8, %esp           /* drop the vector and the error code */
        iretl

/* The table idt.c reads to fill the gates, one address per vector. */
        .section .rodata
        .balign 4
        .global trap_stubs
trap_stubs:
        .long trap_stub_0,  trap_stub_1,  trap_stub_2,  trap_stub_3
        .long trap_stub_4,  trap_stub_5,  trap_stub_6,  trap_stub_7
        .long trap_stub_8,  trap_stub_9,  trap_stub_10, trap_stub_11
        .long trap_stub_12, trap_stub_13, trap_stub_14, trap_stub_15
        .long trap_stub_16, trap_stub_17, trap_stub_18, trap_stub_19
        .long trap_stub_20, trap_stub_21, trap_stub_22, trap_stub_23
        .long trap_stub_24, trap_stub_25, trap_stub_26, trap_stub_27
        .long trap_stub_28, trap_stub_29, trap_stub_30, trap_stub_31
        .long trap_stub_32, trap_stub_33, trap_stub_34, trap_stub_35
        .long trap_stub_36, trap_stub_37, trap_stub_38, trap_stub_39
        .long trap_stub_40, trap_stub_41, trap_stub_42, trap_stub_43
        .long trap_stub_44, trap_stub_45, trap_stub_46, trap_stub_47

        .section .note.GNU-stack, "", @progbits
