/* diff.c - the differential test: seeded random operation lists run on the real heap and on
 * the reference model (harness.c compares them op by op). Linked twice: against libkheap.a
 * (red-black-tree index) and libkheap-list.a (sorted-list index).
 *
 *   DIFF_SEED=n        base seed (default: from the clock); run i uses seed n + i
 *   DIFF_OPS=n         total operations (default 3000000)
 *   DIFF_RUN_OPS=n     operations per run, each from a fresh heap (default 20000)
 *   DIFF_CHECK_ALL=n   heap_check + full walk comparison after each of a run's first n ops (2000)
 *   DIFF_CHECK_EVERY=k ... and after every k-th op after that (16)
 *   DIFF_POISON=0|1    debug fill (heap_set_poison) never / always (default: one run in four)
 *
 * A run that fails prints its seed and the command that replays it alone, shrinks its
 * operation list to a locally minimal one, prints it, and the program exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness.h"

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t below(size_t n) { return (size_t)(rnd() % n); }

#define PICK(arr) ((arr)[below(sizeof(arr) / sizeof((arr)[0]))])

static size_t gen_size(void)
{
    size_t r = below(1000);
    if (r < 500) return 1 + below(64);
    if (r < 750) return 65 + below(448);
    if (r < 870) return 513 + below(3584);
    if (r < 930) return 4097 + below(28672);
    if (r < 950) return 32769 + below(40000);
    if (r < 960) return 0;
    if (r < 985) {                        /* around a block-size boundary */
        size_t v = (1 + below(40)) * 16 - sizeof(size_t) + below(3);
        return v - 1;
    }
    const size_t huge[] = { (size_t)-1, (size_t)-1 - below(64), M_MAX,
                            M_MAX + 1, M_MAX - 1,
                            (size_t)-1 / 2, (size_t)1 << 40, 300000 + below(100000),
                            130000 + below(10000) };
    return PICK(huge);
}

static size_t gen_align(void)
{
    size_t r = below(100);
    if (r < 78) return (size_t)1 << below(17);
    if (r < 84) return 0;
    const size_t odd[] = { 3, 12, 24, 48, 96, 100, 4097, 65535, ((size_t)1 << 17) | 8 };
    if (r < 92) return PICK(odd);
    const size_t huge[] = { (size_t)1 << 17, (size_t)1 << 20, (size_t)1 << 40, M_MAX / 2,
                            (M_MAX / 2 + 16) & ~(size_t)15, (size_t)1 << 62, (size_t)1 << 63 };
    return PICK(huge);
}

static size_t believed[H_SLOTS];          /* the generator's guess of each slot's size, 0 empty */

static size_t gen_resize(size_t old)
{
    size_t r = below(100);
    if (r < 5) return 0;
    if (!old || r >= 75) return gen_size();
    if (r < 25) return old + 1 + below(64);
    if (r < 45) return old > 1 ? 1 + below(old - 1) : 1;
    if (r < 60) return old * 2;
    return old / 2 + 1;
}

static void gen_bad(struct op *op, unsigned k)
{
    size_t r = below(100);
    op->kind = OP_BAD;
    size_t c = below(100);
    op->call = c < 70 ? BC_FREE : c < 85 ? BC_REALLOC : BC_USABLE;
    op->a = gen_resize(believed[k]);
    if (r < 35) {
        op->target = BT_PREV;
    } else if (r < 65) {
        const intptr_t offs[] = { 16, 32, 48, 64, -16, -32, -(intptr_t)sizeof(size_t), 8, 1, 15 };
        op->target = BT_OFF;
        size_t t = below(10);
        op->off = t < 6 ? PICK(offs) : t < 8 ? (intptr_t)(16 * below(512)) : (intptr_t)(1 + below(4096));
    } else if (r < 90) {
        op->target = BT_ARENA;
        size_t t = below(10), at = below(arena_span() + 0x1000);
        op->off = (intptr_t)(t < 7 ? at & ~(size_t)15 : t < 8 ? (at & ~(size_t)15) + 8 : at);
    } else {
        const uintptr_t wild[] = { 16, 0x1000, 0x10000000, ~(uintptr_t)15, ~(uintptr_t)7,
                                   (uintptr_t)1 << 47 };
        op->target = BT_WILD;
        op->off = (intptr_t)PICK(wild);
    }
}

static void gen_ops(struct op *ops, size_t n, unsigned slots)
{
    memset(believed, 0, sizeof believed);
    for (size_t i = 0; i < n; i++) {
        struct op *op = &ops[i];
        memset(op, 0, sizeof *op);
        unsigned k = (unsigned)below(slots);
        op->slot = (uint8_t)k;
        size_t r = below(100);
        if (below(200) == 0) {            /* regions come and go, rarely */
            op->kind = OP_REGION;
            op->a = below(4);
            size_t w = below(10);          /* 0 remove/re-add, 4 extend, else the others */
            op->b = w < 5 ? 0 : w < 8 ? 4 : below(4);
            op->c = rnd();
            op->off = (intptr_t)below(1 << 20);
            continue;
        }
        if (!believed[k]) {
            if (r < 40)      { op->kind = OP_ALLOC; op->a = gen_size(); believed[k] = op->a; }
            else if (r < 50) { op->kind = OP_CALLOC; }
            else if (r < 70) { op->kind = OP_ALIGNED; op->a = gen_align(); op->b = gen_size(); believed[k] = op->b; }
            else if (r < 78) { op->kind = OP_REALLOC; op->a = gen_size(); believed[k] = op->a; }
            else if (r < 80) { op->kind = OP_FREE; }
            else if (r < 82) { op->kind = OP_USABLE; }
            else             { gen_bad(op, k); }
        } else {
            if (r < 30)      { op->kind = OP_FREE; believed[k] = 0; }
            else if (r < 55) { op->kind = OP_REALLOC; op->a = gen_resize(believed[k]); believed[k] = op->a; }
            else if (r < 63) { op->kind = OP_ALLOC; op->a = gen_size(); believed[k] = op->a; }
            else if (r < 70) { op->kind = OP_ALIGNED; op->a = gen_align(); op->b = gen_size(); believed[k] = op->b; }
            else if (r < 73) { op->kind = OP_CALLOC; }
            else if (r < 78) { op->kind = OP_USABLE; }
            else             { gen_bad(op, k); }
        }
        if (op->kind == OP_CALLOC) {
            size_t c = below(100);
            const size_t ovf[][2] = { { (size_t)-1 / 2 + 1, 2 }, { (size_t)1 << 33, (size_t)1 << 33 },
                                      { (size_t)-1, (size_t)-1 }, { (size_t)-1 / 3 + 1, 3 },
                                      { (size_t)1 << 20, (size_t)1 << 20 } };
            if (c < 85) {
                op->a = 1 + below(24);
                op->b = 1 + below(c < 70 ? 64 : 2048);
            } else if (c < 92) {
                op->a = below(2) ? 0 : 1 + below(8);
                op->b = op->a ? 0 : 1 + below(64);
            } else {
                size_t j = below(5);
                op->a = ovf[j][0];
                op->b = ovf[j][1];
            }
            believed[k] = op->a * op->b;
        }
    }
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : def;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *label = argc > 1 ? argv[1] : "kheap";
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t base = env_u64("DIFF_SEED", (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec);
    base &= 0xffffffffffffull;            /* short enough to type */
    uint64_t total = env_u64("DIFF_OPS", 3000000);
    size_t per_run = (size_t)env_u64("DIFF_RUN_OPS", 20000);
    size_t check_all = (size_t)env_u64("DIFF_CHECK_ALL", 2000);
    size_t check_every = (size_t)env_u64("DIFF_CHECK_EVERY", 16);
    const char *pe = getenv("DIFF_POISON");
    int poison_env = pe && *pe ? atoi(pe) != 0 : -1;
    if (per_run == 0)
        per_run = 1;
    printf("diff-test [%s]: seed %llu, %llu ops in runs of %zu from a fresh heap, heap_check + walk "
           "after each of a run's first %zu ops and every %zu-th after; replay: DIFF_SEED=%llu\n",
           label, (unsigned long long)base, (unsigned long long)total, per_run, check_all,
           check_every, (unsigned long long)base);
    fflush(stdout);

    struct op *ops = malloc(per_run * sizeof *ops);
    if (!ops)
        return 2;
    static const unsigned slot_choices[] = { 8, 32, 64, 128 };
    uint64_t done = 0, runs = 0, checks = 0, allocs = 0, frees = 0, failed = 0, errors = 0;
    double t0 = now();
    for (uint64_t seed = base; done < total; seed++, runs++) {
        size_t n = total - done < per_run ? (size_t)(total - done) : per_run;
        rng = seed;
        struct harness_opts o = { (int)(rnd() % H_LAYOUTS), check_all, check_every, 0, 0 };
        o.poison = rnd() % 4 == 0;
        o.zeroed = rnd() % 3 == 0;
        if (poison_env >= 0)
            o.poison = poison_env;
        unsigned slots = slot_choices[rnd() % 4];
        gen_ops(ops, n, slots);
        struct run_result res;
        run_ops_isolated(&o, ops, n, &res);
        if (res.fail_at >= 0) {
            printf("diff-test [%s]: FAILED in the run with seed %llu (layout %d, %u slots, op #%ld "
                   "of %zu)\n  replay it alone: DIFF_SEED=%llu DIFF_OPS=%zu DIFF_RUN_OPS=%zu\n",
                   label, (unsigned long long)seed, o.layout, slots, res.fail_at, n,
                   (unsigned long long)seed, n, per_run);
            report_failure(&o, ops, n, &res);
            return 1;
        }
        done += n;
        checks += res.checks;
        allocs += res.allocs;
        frees += res.frees;
        failed += res.failed;
        errors += res.errors;
    }
    double t = now() - t0;
    printf("diff-test [%s]: passed %llu ops in %llu runs (seeds %llu..%llu), %llu full checks, "
           "%.1f s (%.0f ops/s); heap counted %llu allocs, %llu frees, %llu refused, "
           "%llu misuse reports\n",
           label, (unsigned long long)done, (unsigned long long)runs, (unsigned long long)base,
           (unsigned long long)(base + runs - 1), (unsigned long long)checks, t, done / (t > 0 ? t : 1),
           (unsigned long long)allocs, (unsigned long long)frees, (unsigned long long)failed,
           (unsigned long long)errors);
    printf("diff-test [%s]: model paths taken:", label);
    for (int i = 0; i < MP_COUNT; i++)
        printf("%s %s %llu", i % 6 ? "," : "\n   ", model_path_names[i],
               (unsigned long long)model_paths[i]);
    printf("\n");
    free(ops);
    return 0;
}
