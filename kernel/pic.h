/* pic.h - the two 8259 interrupt controllers: remapped off the exception vectors, all masked. */
#ifndef KERNEL_PIC_H
#define KERNEL_PIC_H

void pic_init(void);            /* IRQ 0-15 -> vectors 32-47, every line masked */
int  pic_acknowledge(unsigned irq); /* end the IRQ at the chips; 1 if it was spurious */

#endif
