/* harness.h - drives the real heap and the reference model through the same operations and
 * compares them after each one. Shared by the differential test (diff.c) and the libFuzzer
 * harness (fuzz.c).
 *
 * Operations name their blocks by slot (a small table of live pointers), never by address, so
 * that any subsequence of an operation list is still a valid list: that is what lets a failure
 * be shrunk by deleting operations and replaying from a fresh heap. */
#ifndef KHEAP_MODEL_HARNESS_H
#define KHEAP_MODEL_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include "heap.h"
#include "model.h"

#define H_SLOTS 128

enum op_kind {
    OP_ALLOC,    /* slot = alloc(a)                     (a live slot is freed first) */
    OP_CALLOC,   /* slot = calloc(a, b)                 (idem) */
    OP_ALIGNED,  /* slot = aligned_alloc(a, b)          (idem) */
    OP_REALLOC,  /* slot = realloc(slot, a)             (an empty slot passes NULL) */
    OP_FREE,     /* free(slot)                          (an empty slot passes NULL) */
    OP_USABLE,   /* usable_size(slot) */
    OP_BAD,      /* call(pointer named by target), expecting a misuse report */
    OP_REGION,   /* region a: b=0 remove it (or add it back), 1 region_if_empty(base + off),
                    2 add a range overlapping it (at base + off, c bytes), 3 add a bad range */
    OP_KINDS
};

enum bad_target {
    BT_PREV,     /* the pointer this slot held before its last free (double free, maybe reused) */
    BT_OFF,      /* slot's pointer + off (interior, misaligned, header) */
    BT_ARENA,    /* arena base + off (anywhere in the test buffer, regions or not) */
    BT_WILD,     /* the absolute address off */
    BT_KINDS
};

enum bad_call { BC_FREE, BC_REALLOC, BC_USABLE, BC_KINDS };

struct op {
    uint8_t kind, slot, target, call;
    size_t a, b, c;
    intptr_t off;
};

/* A heap layout: regions at fixed offsets in the test arena, added in this order. */
#define H_LAYOUTS 5
const char *layout_name(int layout);

struct harness_opts {
    int layout;
    size_t check_all;    /* heap_check and full walk comparison after each of the first ... ops */
    size_t check_every;  /* ... and then after every check_every-th op (0: never) */
    int poison;          /* heap_set_poison(h, 1) on the fresh heap */
    int zeroed;          /* regions start zeroed and are declared so (calloc may skip clearing) */
};

struct run_result {
    long fail_at;        /* index of the failing op, or -1 */
    char msg[512];       /* what differed */
    size_t ops_done, checks;
    uint64_t allocs, frees, failed, errors; /* the heap's counters at the end */
    size_t current;      /* the op in progress */
    int crashed;         /* isolated runs: the child died (signal) */
    uint64_t paths[MP_COUNT]; /* isolated runs: the child's model_paths */
};

/* Run ops from a fresh heap; stop at the first difference. */
void run_ops(const struct harness_opts *o, const struct op *ops, size_t n, struct run_result *res);

/* The same in a child process: a crash (signal) is reported as a failure at the op in progress. */
void run_ops_isolated(const struct harness_opts *o, const struct op *ops, size_t n,
                      struct run_result *res);

/* Shrink a failing list in place (delta debugging, replaying with every check on); returns the
 * new length. The list must fail under o. */
size_t shrink_ops(const struct harness_opts *o, struct op *ops, size_t n);

/* Print ops in readable form, one per line, with what the real heap returned. */
void print_ops(const struct harness_opts *o, const struct op *ops, size_t n);

/* Shrink, print the minimal list and the difference. */
void report_failure(const struct harness_opts *o, struct op *ops, size_t n, const struct run_result *res);

uintptr_t arena_base(void);
size_t arena_span(void);

#endif
