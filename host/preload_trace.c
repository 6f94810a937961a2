/* preload_trace.c - KHEAP_TRACE=FILE: record a process's malloc-family calls as FILE.<pid> in the
 * format of tests/traces (CS:APP malloc-lab: header, then "a id size", "r id size", "f id").
 *
 * Records go through a 64 KiB buffer into FILE.<pid>.body with write(2); at exit the blocks still
 * live are freed, the header (2 x peak live bytes, ids, operations, weight 1) is written to
 * FILE.<pid> and the body is copied after it. Pointers map to ids through an open-addressing hash
 * table in its own mmap'd memory: nothing here calls malloc. A forked child starts a trace of its
 * own whose first records allocate the blocks it inherited. Blocks allocated before the knobs were
 * read (the loader's first few) are not in the trace, and their frees are left out too.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "preload.h"

#define SLOT_EMPTY ((uintptr_t)0)
#define SLOT_GONE  ((uintptr_t)1)     /* a removed entry: probing goes on past it */
#define TABLE_MIN  ((size_t)1 << 16)

struct slot {
    uintptr_t key;                    /* the block's address, or SLOT_EMPTY / SLOT_GONE */
    uint64_t id;
    size_t size;
};

static pthread_mutex_t trace_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_int tracing;            /* 1 while this process records */
static int forked;                    /* a fork's child that has not started its own trace yet */
static int fork_locked;

static char out_path[PATH_MAX];       /* FILE.<pid> */
static char body_path[PATH_MAX + 8];  /* FILE.<pid>.body */
static char prefix[PATH_MAX - 32];    /* FILE */
static int body_fd = -1;

static char buf[1 << 16];
static size_t buf_len;

static uint64_t next_id, ops;
static size_t live_bytes, peak_bytes;

static struct slot *table;
static size_t table_cap, table_used, table_live; /* used counts live and removed slots */

/* ---- Output ----------------------------------------------------------------------------------- */

static int write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n <= 0)
            return -1;
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

static void buf_flush(void)
{
    if (buf_len && body_fd >= 0)
        write_all(body_fd, buf, buf_len);
    buf_len = 0;
}

static size_t put_num(char *at, uint64_t v)
{
    char digits[24];
    size_t n = 0, len;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (len = 0; n > 0; len++)
        at[len] = digits[--n];
    return len;
}

/* One record: "a id size", "r id size" (has_size) or "f id". */
static void emit(char op, uint64_t id, size_t size, int has_size)
{
    if (buf_len > sizeof buf - 64)
        buf_flush();
    char *at = buf + buf_len;
    *at++ = op;
    *at++ = ' ';
    at += put_num(at, id);
    if (has_size) {
        *at++ = ' ';
        at += put_num(at, size);
    }
    *at++ = '\n';
    buf_len = (size_t)(at - buf);
    ops++;
}

/* "<prefix>.<pid><suffix>" into dst. */
static void make_path(char *dst, size_t cap, pid_t pid, const char *suffix)
{
    char num[24];
    size_t n = put_num(num, (uint64_t)pid), len = strlen(prefix);
    if (len + 1 + n + strlen(suffix) + 1 > cap) {
        dst[0] = 0;
        return;
    }
    memcpy(dst, prefix, len);
    dst[len] = '.';
    memcpy(dst + len + 1, num, n);
    strcpy(dst + len + 1 + n, suffix);
}

static void stop(const char *why)
{
    static const char head[] = "kheap: trace stopped: ";
    atomic_store(&tracing, 0);
    write_all(2, head, sizeof head - 1);
    write_all(2, why, strlen(why));
    write_all(2, "\n", 1);
}

static int open_body(void)
{
    pid_t pid = getpid();
    make_path(out_path, sizeof out_path, pid, "");
    make_path(body_path, sizeof body_path, pid, ".body");
    if (!out_path[0] || !body_path[0])
        return -1;
    body_fd = open(body_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return body_fd >= 0 ? 0 : -1;
}

/* ---- Pointer -> id ---------------------------------------------------------------------------- */

static size_t slot_hash(uintptr_t key, size_t cap)
{
    return (size_t)(((uint64_t)(key >> 4) * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static struct slot *slot_find(uintptr_t key)
{
    if (!table)
        return NULL;
    for (size_t i = slot_hash(key, table_cap);; i = (i + 1) & (table_cap - 1)) {
        if (table[i].key == key)
            return &table[i];
        if (table[i].key == SLOT_EMPTY)
            return NULL;
    }
}

/* Rebuild into a table with room for the live entries, dropping removed slots. */
static int table_rebuild(void)
{
    size_t cap = TABLE_MIN;
    while (cap < table_live * 4)
        cap *= 2;
    struct slot *t = mmap(NULL, cap * sizeof *t, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return -1;
    for (size_t i = 0; i < table_cap; i++) {
        if (table[i].key <= SLOT_GONE)
            continue;
        size_t j = slot_hash(table[i].key, cap);
        while (t[j].key != SLOT_EMPTY)
            j = (j + 1) & (cap - 1);
        t[j] = table[i];
    }
    if (table)
        munmap(table, table_cap * sizeof *table);
    table = t;
    table_cap = cap;
    table_used = table_live;
    return 0;
}

static int slot_add(uintptr_t key, uint64_t id, size_t size)
{
    if ((table_used + 1) * 10 > table_cap * 7 && table_rebuild() != 0)
        return -1;
    size_t i = slot_hash(key, table_cap);
    while (table[i].key > SLOT_GONE)
        i = (i + 1) & (table_cap - 1);
    if (table[i].key == SLOT_EMPTY)
        table_used++;
    table[i] = (struct slot){ key, id, size };
    table_live++;
    return 0;
}

static void slot_remove(struct slot *s)
{
    s->key = SLOT_GONE;
    table_live--;
}

/* ---- A fork's child: its own file, the inherited blocks allocated first ------------------------ */

static void child_begin(void)
{
    forked = 0;
    if (body_fd >= 0)
        close(body_fd);
    buf_len = 0;
    next_id = ops = 0;
    peak_bytes = live_bytes;
    if (open_body() != 0) {
        stop("cannot create the child's trace file");
        return;
    }
    for (size_t i = 0; i < table_cap; i++) {
        if (table[i].key <= SLOT_GONE)
            continue;
        table[i].id = next_id++;
        emit('a', table[i].id, table[i].size, 1);
    }
}

/* Under the lock: still recording, and this process's own trace. */
static int recording(void)
{
    if (!atomic_load(&tracing))
        return 0;
    if (forked)
        child_begin();
    return atomic_load(&tracing);
}

static void fork_prepare(void)
{
    fork_locked = atomic_load(&tracing);
    if (fork_locked)
        pthread_mutex_lock(&trace_mutex);
}

static void fork_parent(void)
{
    if (fork_locked)
        pthread_mutex_unlock(&trace_mutex);
}

static void fork_child(void)
{
    if (fork_locked)
        pthread_mutex_init(&trace_mutex, NULL);
    if (atomic_load(&tracing))
        forked = 1;
}

void trace_setup_fork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

/* ---- The records ------------------------------------------------------------------------------- */

int  trace_on(void)     { return atomic_load_explicit(&tracing, memory_order_relaxed); }
void trace_lock(void)   { pthread_mutex_lock(&trace_mutex); }
void trace_unlock(void) { pthread_mutex_unlock(&trace_mutex); }

void trace_start(const char *path)
{
    size_t len = strlen(path);
    if (len >= sizeof prefix) {
        stop("KHEAP_TRACE path too long");
        return;
    }
    memcpy(prefix, path, len + 1);
    if (open_body() != 0 || table_rebuild() != 0) {
        stop("cannot create the trace file");
        return;
    }
    atomic_store(&tracing, 1);
}

static void live_add(size_t size)
{
    live_bytes += size;
    if (live_bytes > peak_bytes)
        peak_bytes = live_bytes;
}

void trace_alloc(const void *p, size_t size)
{
    if (!recording())
        return;
    uint64_t id = next_id++;
    if (slot_add((uintptr_t)p, id, size) != 0) {
        stop("out of memory for the pointer table");
        return;
    }
    live_add(size);
    emit('a', id, size, 1);
}

void trace_free(const void *p)
{
    struct slot *s = recording() ? slot_find((uintptr_t)p) : NULL;
    if (!s)
        return;                           /* allocated before the trace began */
    emit('f', s->id, 0, 0);
    live_bytes -= s->size;
    slot_remove(s);
}

void trace_realloc(const void *old, const void *p, size_t size)
{
    struct slot *s = recording() ? slot_find((uintptr_t)old) : NULL;
    if (!s) {
        trace_alloc(p, size);
        return;
    }
    uint64_t id = s->id;
    live_bytes -= s->size;
    slot_remove(s);
    if (slot_add((uintptr_t)p, id, size) != 0) {
        stop("out of memory for the pointer table");
        return;
    }
    live_add(size);
    emit('r', id, size, 1);
}

/* At exit: free what is still live, then header + body into FILE.<pid>. */
void trace_finish(void)
{
    if (!atomic_load(&tracing))
        return;
    trace_lock();
    if (!recording()) {
        trace_unlock();
        return;
    }
    for (size_t i = 0; i < table_cap; i++)
        if (table[i].key > SLOT_GONE)
            emit('f', table[i].id, 0, 0);
    buf_flush();
    atomic_store(&tracing, 0);

    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        stop("cannot create the trace file");
        trace_unlock();
        return;
    }
    uint64_t header[4] = { (uint64_t)peak_bytes * 2, next_id, ops, 1 };
    for (int i = 0; i < 4; i++) {
        buf_len += put_num(buf + buf_len, header[i]);
        buf[buf_len++] = '\n';
    }
    write_all(fd, buf, buf_len);
    buf_len = 0;
    lseek(body_fd, 0, SEEK_SET);
    for (;;) {
        ssize_t n = read(body_fd, buf, sizeof buf);
        if (n <= 0 || write_all(fd, buf, (size_t)n) != 0)
            break;
    }
    close(fd);
    close(body_fd);
    body_fd = -1;
    unlink(body_path);
    trace_unlock();
}
