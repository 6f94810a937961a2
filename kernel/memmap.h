/* memmap.h - the shell's `map`: a picture of every heap region, drawn to scale. */
#ifndef KERNEL_MEMMAP_H
#define KERNEL_MEMMAP_H

/* Prints, for each region of the default heap and then of each CPU's arena, up to MEMMAP_ROWS rows of MEMMAP_COLUMNS cells:
 * '#' used, '.' free, '+' both, '=' region metadata only, with a legend and the scale; last, the
 * total over every heap. */
void memmap_print(void);

#define MEMMAP_COLUMNS 64
#define MEMMAP_ROWS    16

#endif
