/* traces.c - the first-fit property on every real-program trace in tests/traces/ (part of
 * make diff-test). Each trace is replayed on a fresh heap of the build it is linked with:
 *
 *   - for its first TRACE_MODEL_OPS operations (default 40000) side by side with the reference
 *     model (model.c): every address, every usable size and the heap's stats must be the
 *     model's;
 *   - then alone, to the end: before every TRACE_CHECK_EVERY-th allocation (default 64) a walk of
 *     the heap names the lowest free block that fits, and the allocation must return it;
 *     heap_check runs at every 16th such point and at the end, where the heap must be empty.
 *
 * usage: traces NAME TRACE.rep.gz...   (NAME: the index, for the report) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "heap.h"
#include "model.h"

#define ARENA ((size_t)128 << 20)   /* the largest trace peaks below 64 MiB */

static struct heap heap;
static struct model model;

static size_t env(const char *name, size_t fallback)
{
    const char *v = getenv(name);
    return v && *v ? (size_t)strtoull(v, NULL, 10) : fallback;
}

struct first_free {
    size_t need;
    uintptr_t found;
};

static void find_first(void *ctx, void *ptr, size_t size, int used)
{
    struct first_free *f = ctx;
    if (!f->found && !used && size >= f->need)
        f->found = (uintptr_t)ptr;
}

static void first_block(void *ctx, void *ptr, size_t size, int used)
{
    uintptr_t *range = ctx;
    (void)used;
    if (!range[0]) {
        range[0] = (uintptr_t)ptr;
        range[1] = (uintptr_t)ptr + size;
    }
}

static int stats_match(void)
{
    struct mem_stats s;
    struct mstats m;
    heap_stats(&heap, &s);
    model_stats(&model, &m);
    return s.used_bytes == m.used_bytes && s.free_bytes == m.free_bytes &&
           s.used_blocks == m.used_blocks && s.free_blocks == m.free_blocks &&
           s.largest_free == m.largest_free;
}

static int replay(const char *path, size_t model_ops, size_t every)
{
    char cmd[4200], line[256];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    FILE *in = popen(cmd, "r");
    if (!in)
        return fprintf(stderr, "traces: cannot read %s\n", path), 1;
    size_t head[4];
    for (int i = 0; i < 4; i++)
        if (!fgets(line, sizeof line, in) || sscanf(line, "%zu", &head[i]) != 1)
            return fprintf(stderr, "traces: %s: bad header\n", path), pclose(in), 1;
    void **at = calloc(head[1], sizeof *at);
    size_t *req = calloc(head[1], sizeof *req);
    static char *arena;
    if (!arena)
        arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!at || !req || arena == MAP_FAILED)
        return fprintf(stderr, "traces: out of memory\n"), 1;
    heap_init(&heap, arena, ARENA);
    uintptr_t range[2] = { 0, 0 };
    heap_walk(&heap, first_block, range);
    model_destroy(&model);
    model_init(&model);
    model_add_region(&model, (uintptr_t)arena, ARENA, ARENA, range[0], range[1]);

    size_t op = 0, allocs = 0, checked = 0;
    int bad = 0;
    while (!bad && fgets(line, sizeof line, in)) {
        char kind;
        size_t id, n = 0;
        if (sscanf(line, " %c %zu %zu", &kind, &id, &n) < 2 || id >= head[1])
            continue;
        n = n ? n : 1;
        int modelled = op++ < model_ops;
        if (kind == 'a') {
            uintptr_t want = 0;
            if (!modelled && ++allocs % every == 0) {
                struct first_free f = { model_block_size(n, 0), 0 };
                heap_walk(&heap, find_first, &f);
                want = f.found;
                if (checked++ % 16 == 0 && heap_check(&heap) != 0) {
                    fprintf(stderr, "traces: %s op %zu: heap_check failed\n", path, op);
                    bad = 1;
                }
            }
            at[id] = heap_alloc(&heap, n);
            req[id] = n;
            if (modelled)
                want = model_alloc(&model, n);
            if (want && (uintptr_t)at[id] != want) {
                fprintf(stderr, "traces: %s op %zu: alloc(%zu) = %p, first fit is %#lx\n", path, op, n,
                        at[id], (unsigned long)want);
                bad = 1;
            }
        } else if (kind == 'r') {
            enum mem_error e;
            void *q = heap_realloc(&heap, at[id], n);
            if (modelled && (uintptr_t)q != model_realloc(&model, (uintptr_t)at[id], n, &e)) {
                fprintf(stderr, "traces: %s op %zu: realloc differs from the model\n", path, op);
                bad = 1;
            }
            at[id] = q;
            req[id] = n;
        } else if (kind == 'f') {
            heap_free(&heap, at[id]);
            if (modelled)
                model_free(&model, (uintptr_t)at[id]);
            at[id] = NULL;
        }
        if (modelled && !bad && !stats_match()) {
            fprintf(stderr, "traces: %s op %zu: stats differ from the model\n", path, op);
            bad = 1;
        }
    }
    pclose(in);
    struct mem_stats s;
    heap_stats(&heap, &s);
    if (!bad && (heap_check(&heap) != 0 || s.used_blocks != 0 || s.free_blocks != 1)) {
        fprintf(stderr, "traces: %s: the heap is not empty and whole at the end\n", path);
        bad = 1;
    }
    printf("traces: %s %s: %zu ops, first %zu against the model, %zu allocations checked by walk%s\n",
           bad ? "FAILED" : "ok", path, op, op < model_ops ? op : model_ops, checked,
           bad ? "" : ", heap empty at the end");
    free(at);
    free(req);
    return bad;
}

int main(int argc, char **argv)
{
    size_t model_ops = env("TRACE_MODEL_OPS", 40000), every = env("TRACE_CHECK_EVERY", 64);
    int bad = 0;
    if (argc < 3)
        return fprintf(stderr, "usage: traces NAME TRACE.rep.gz...\n"), 2;
    for (int i = 2; i < argc; i++)
        bad |= replay(argv[i], model_ops, every ? every : 1);
    printf("traces [%s]: %s\n", argv[1], bad ? "FAILED" : "every trace keeps first fit");
    return bad;
}
