/* pic.h - the two 8259 interrupt controllers: remapped off the exception vectors, all masked
 * until a driver asks for its line. */
#ifndef KERNEL_PIC_H
#define KERNEL_PIC_H

void pic_init(void);                /* IRQ 0-15 -> vectors 32-47, every line masked */
void pic_unmask(unsigned irq);      /* let the line through (the cascade line 2 comes along) */
void pic_mask(unsigned irq);
int  pic_is_spurious(unsigned irq); /* IRQ 7 or 15 that no device raised */
void pic_eoi(unsigned irq);         /* end a real IRQ at the chip(s) that delivered it */
int  pic_acknowledge(unsigned irq); /* end any IRQ correctly; 1 if it was spurious */

#endif
