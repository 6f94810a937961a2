/* recipe_main.c - a stand-in for "your own kernel" (README, Using lib/ in your own kernel): the
 * smallest seam a single-CPU kernel with one fixed RAM range writes, and a few calls through
 * lib/mem.h. recipe.sh links it with exactly the files the README names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "seam.h"

unsigned long seam_lock(void) { return 0; }
void seam_unlock(unsigned long state) { (void)state; }
void seam_write(const char *text, size_t len) { fwrite(text, 1, len, stdout); }
void seam_fatal(const char *line, size_t len)
{
    fwrite(line, 1, len, stderr);
    abort();
}
int  seam_grow(size_t need, struct seam_region *out) { (void)need; (void)out; return -1; }
int  seam_extend(void *start, size_t size) { (void)start; (void)size; return -1; }
int  seam_release_wanted(void *start, size_t size) { (void)start; (void)size; return -1; }
void seam_unmap(void *start, size_t size) { (void)start; (void)size; }

static _Alignas(16) unsigned char ram[1 << 20];

int main(void)
{
    if (mem_add_region(ram, sizeof ram) != 0)
        return 1;
    char *a = mem_alloc(100), *b = mem_calloc(10, 10), *c = mem_aligned_alloc(4096, 64);
    if (!a || !b || !c || (uintptr_t)c % 4096 || b[99] != 0)
        return 2;
    memset(a, 'x', 100);
    a = mem_realloc(a, 5000);
    if (!a || a[99] != 'x' || mem_usable_size(a) < 5000)
        return 3;
    mem_free(a);
    mem_free(b);
    mem_free(c);
    struct mem_stats s;
    mem_stats(&s);
    return mem_check() == 0 && s.used_blocks == 0 && s.free_blocks == 1 ? 0 : 4;
}
