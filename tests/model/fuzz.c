/* fuzz.c - libFuzzer harness: bytes -> an operation list -> the real heap and the reference
 * model side by side (harness.c), heap_check and a full walk comparison after every operation.
 * A difference is shrunk, printed, and ends in abort() so that libFuzzer keeps the input.
 *
 * Built with -DFUZZ_REPLAY (and any compiler, no libFuzzer) it is the regression driver: it
 * replays every file named on the command line, or found in a directory named there, and exits
 * 1 if any of them fails. `make diff-test` replays tests/model/regress/ and tests/model/corpus/.
 * FUZZ_TRACE=1 prints each input's operations and results; FUZZ_POISON=0 (in either build)
 * turns the debug fill off for every input.
 *
 * Input format: byte 0 picks the layout; then one operation per group of bytes (see decode_op).
 * A short read yields zeros, so every byte string is a valid input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define MAX_OPS   2048
#define FUZZ_SLOTS 16

struct reader {
    const uint8_t *p;
    size_t n;
};

static unsigned rd8(struct reader *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static size_t rd16(struct reader *r) { size_t lo = rd8(r); return lo | (size_t)rd8(r) << 8; }

static size_t decode_size(struct reader *r)
{
    static const size_t huge[8] = { (size_t)-1, (size_t)-1 - 15, M_MAX,
                                    M_MAX + 1, (size_t)-1 / 2,
                                    (size_t)1 << 40, 300000, 131072 };
    unsigned t = rd8(r);
    if (t < 128)
        return t;                                            /* 0..127 */
    if (t < 192)
        return (size_t)(t & 63) << 8 | rd8(r);               /* up to 16 KiB */
    if (t < 232)
        return (size_t)(t - 192) << 12 | (rd16(r) & 0xfff);  /* up to 160 KiB */
    if (t < 248)                                             /* a block-size boundary, +-1 */
        return (size_t)(rd8(r) + 1) * 16 + (t & 3) - 1;
    return huge[t & 7];
}

static size_t decode_align(struct reader *r)
{
    static const size_t odd[8] = { 0, 3, 24, 48, 100, 4097, 65535, 0 };
    static const size_t huge[6] = { (size_t)1 << 20, (size_t)1 << 40, M_MAX / 2,
                                    (M_MAX / 2 + 16) & ~(size_t)15, (size_t)1 << 62,
                                    (size_t)1 << 63 };
    unsigned t = rd8(r);
    if (t < 160)
        return (size_t)1 << (t % 18);                        /* 1 .. 128 KiB */
    if (t < 240)
        return odd[t & 7];
    return huge[t % 6];
}

static void decode_op(struct reader *r, struct op *op)
{
    static const uintptr_t wild[4] = { 16, 0x1000, ~(uintptr_t)15, (uintptr_t)1 << 47 };
    memset(op, 0, sizeof *op);
    unsigned k = rd8(r);
    op->kind = (uint8_t)(k % (OP_KINDS + 2));                 /* BAD gets three shares */
    if (op->kind >= OP_KINDS)
        op->kind = OP_BAD;
    op->slot = (uint8_t)((k >> 4) % FUZZ_SLOTS);
    switch (op->kind) {
    case OP_ALLOC:
    case OP_REALLOC:
        op->a = decode_size(r);
        break;
    case OP_CALLOC:
        op->a = decode_size(r);
        op->b = decode_size(r);
        break;
    case OP_ALIGNED:
        op->a = decode_align(r);
        op->b = decode_size(r);
        break;
    case OP_BAD: {
        unsigned t = rd8(r);
        op->target = (uint8_t)(t % BT_KINDS);
        op->call = (uint8_t)((t >> 2) % BC_KINDS);
        op->a = decode_size(r);
        if (op->target == BT_OFF)
            op->off = (intptr_t)(int8_t)rd8(r) * ((t & 0x40) ? 16 : 1);
        else if (op->target == BT_ARENA)
            op->off = (intptr_t)(rd16(r) << 4 | (rd8(r) & 15));
        else if (op->target == BT_WILD)
            op->off = (intptr_t)wild[rd8(r) & 3];
        break;
    }
    case OP_REGION:
        op->a = rd8(r);
        op->b = rd8(r);
        op->c = rd16(r);
        op->off = (intptr_t)rd16(r) << 4;
        break;
    default:
        break;
    }
}

static size_t decode(const uint8_t *data, size_t size, struct op *ops, int *layout)
{
    struct reader r = { data, size };
    *layout = (int)rd8(&r);    /* % H_LAYOUTS: layout; / H_LAYOUTS: bit 0 poison, bit 1 zeroed */
    size_t n = 0;
    while (r.n && n < MAX_OPS)
        decode_op(&r, &ops[n++]);
    return n;
}

/* Run one input; 0 when the heap and the model agree. */
static int run_input(const uint8_t *data, size_t size, size_t *nops)
{
    static struct op ops[MAX_OPS];
    int layout;
    size_t n = decode(data, size, ops, &layout);
    struct harness_opts o = { layout % H_LAYOUTS, (size_t)-1, 1, layout / H_LAYOUTS % 2,
                              layout / H_LAYOUTS / 2 % 2 };
    static int no_poison = -1;
    if (no_poison < 0) {
        const char *e = getenv("FUZZ_POISON");
        no_poison = e && *e == '0';
    }
    if (no_poison)
        o.poison = 0;
    struct run_result res;
    *nops = n;
#ifdef FUZZ_REPLAY
    if (getenv("FUZZ_TRACE")) {           /* show what an input does */
        printf("layout %d (%s)%s:\n", o.layout, layout_name(o.layout), o.poison ? ", poison on" : "");
        print_ops(&o, ops, n);
    }
#endif
#ifdef FUZZ_REPLAY
    run_ops_isolated(&o, ops, n, &res);   /* a crash of the heap is reported, then shrunk */
#else
    run_ops(&o, ops, n, &res);            /* libFuzzer catches crashes itself */
#endif
    if (res.fail_at < 0)
        return 0;
    report_failure(&o, ops, n, &res);
    return 1;
}

#ifndef FUZZ_REPLAY

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n;
    if (run_input(data, size, &n))
        abort();
    return 0;
}

#else /* the regression driver */

#include <dirent.h>
#include <sys/stat.h>

const char *heap_index_name(void);   /* lib/: "tree" or "list", to label the output */

static int files, failures;
static size_t total_ops;

static void replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("replay: cannot open %s\n", path);
        failures++;
        return;
    }
    static uint8_t buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t n;
    files++;
    if (run_input(buf, len, &n)) {
        printf("replay [%s]: %s FAILED (above)\n", heap_index_name(), path);
        failures++;
    }
    total_ops += n;
}

static int hidden_or_doc(const char *name)
{
    size_t l = strlen(name);
    return name[0] == '.' || (l > 3 && !strcmp(name + l - 3, ".md"));
}

static void replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("replay: no such file or directory: %s\n", path);
        failures++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        replay_file(path);
        return;
    }
    struct dirent **list;
    int n = scandir(path, &list, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        if (!hidden_or_doc(list[i]->d_name)) {
            char full[4096];
            size_t l = strlen(path);
            snprintf(full, sizeof full, "%s%s%s", path, l && path[l - 1] == '/' ? "" : "/",
                     list[i]->d_name);
            replay_path(full);
        }
        free(list[i]);
    }
    if (n >= 0)
        free(list);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++)
        replay_path(argv[i]);
    printf("replay [%s]: %d input(s), %zu ops, %d failure(s)\n", heap_index_name(), files,
           total_ops, failures);
    return failures ? 1 : 0;
}

#endif
