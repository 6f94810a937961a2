/* preload_trace.c - KHEAP_TRACE=FILE: record a process's malloc-family calls as FILE.<pid> in the
 * format of tests/traces (CS:APP malloc-lab: header, then "a id size", "r id size", "f id").
 *
 * Records are kept in memory, in a list of mmap'd chunks that grow (1 MiB, doubling to 64 MiB), up
 * to a cap (1 GiB, KHEAP_TRACE_MAX=BYTES lowers it). No file and no descriptor exist during the
 * run: a program that closes or dup2()s over descriptors, or opens its own files, cannot meet the
 * trace's. At exit FILE.<pid> is created with O_CREAT | O_EXCL | O_NOFOLLOW (a planted symlink or
 * an existing file is never written through; the trace is dropped with one "kheap: " line on
 * stderr), and the header (2 x peak live bytes, ids, operations, weight 1), the records and a free
 * for every block still live are written through that fresh descriptor, which is closed at once.
 * Nothing here calls malloc or stdio: it runs inside malloc, and reports go out by write(2).
 *
 * If record memory runs out (the cap, or mmap fails) recording stops: one "kheap: trace stopped"
 * line on stderr, and the file ends with the frees of the blocks live at that point and a last
 * line "# kheap: trace stopped after record N: why" (tests/real/trace-check.py accepts it,
 * heapmap skips '#' lines, bench reads only the operations the header counts).
 *
 * Pointers map to ids through a table in its own mmap'd memory (ptr_table.h). A forked
 * child starts a trace of its own whose first records allocate the blocks it inherited; it writes
 * FILE.<childpid> only if it exits through exit() (destructors), so a child ending in _exit or
 * exec leaves nothing. A child forked after its parent's trace stopped records nothing: the
 * parent's table no longer says which blocks are live. Blocks allocated before the knobs were read
 * (the loader's first few) are not in the trace, and their frees are left out too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fork_lock.h"
#include "preload.h"
#include "ptr_table.h"


#define CHUNK_FIRST ((size_t)1 << 20)  /* small programs touch only a few pages of it */
#define CHUNK_LAST  ((size_t)64 << 20) /* chunks double up to this */
#define RECORDS_CAP ((size_t)1 << 30)  /* default cap on record memory: ~25 million records */
#define RECORD_MAX  64                 /* "r <20 digits> <20 digits>\n" fits */
#define PAGE        ((size_t)4096)

enum { T_OFF, T_ON, T_STOPPED };      /* STOPPED: no more records, but the file is still written */

struct chunk {
    struct chunk *next;
    size_t cap, len;                  /* bytes of text[] mapped and used */
    char text[];
};

static struct fork_lock trace_mutex = FORK_LOCK_INIT;
FORK_LOCK_INSIDE(trace_inside);
static atomic_int state;              /* T_ON while this process records */
static int forked;                    /* a fork's child that has not started its own trace yet */

static char prefix[PATH_MAX];         /* FILE, made absolute at start: chdir does not move it */

static struct chunk *first, *last;
static size_t mapped, records_cap = RECORDS_CAP;

static uint64_t next_id, ops, stop_at;
static size_t live_bytes, peak_bytes;
static char stop_why[128];

static struct ptr_table table;        /* live block -> its id and size (ptr_table.h) */

/* ---- Text without stdio ------------------------------------------------------------------------ */

/* A line built on the caller's stack; what does not fit is cut. */
struct line {
    char text[PATH_MAX + 256];
    size_t len;
};

static void add(struct line *l, const char *s)
{
    size_t n = strlen(s);
    if (n > sizeof l->text - l->len)
        n = sizeof l->text - l->len;
    memcpy(l->text + l->len, s, n);
    l->len += n;
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

static void add_num(struct line *l, uint64_t v)
{
    char num[24];
    num[put_num(num, v)] = 0;
    add(l, num);
}

/* strerror may load a locale (and so allocate): the errors open, write and mmap give here. */
static void add_errno(struct line *l, int err)
{
    static const struct { int err; const char *name, *text; } names[] = {
        { EACCES, "EACCES", "Permission denied" },
        { EEXIST, "EEXIST", "File exists" },
        { ENOENT, "ENOENT", "No such file or directory" },
        { ENOTDIR, "ENOTDIR", "Not a directory" },
        { EISDIR, "EISDIR", "Is a directory" },
        { ELOOP, "ELOOP", "Too many levels of symbolic links" },
        { ENAMETOOLONG, "ENAMETOOLONG", "File name too long" },
        { EROFS, "EROFS", "Read-only file system" },
        { EPERM, "EPERM", "Operation not permitted" },
        { ENOSPC, "ENOSPC", "No space left on device" },
        { EDQUOT, "EDQUOT", "Disk quota exceeded" },
        { EFBIG, "EFBIG", "File too large" },
        { EIO, "EIO", "Input/output error" },
        { EMFILE, "EMFILE", "Too many open files" },
        { ENFILE, "ENFILE", "Too many open files in system" },
        { ENOMEM, "ENOMEM", "Cannot allocate memory" },
        { ETXTBSY, "ETXTBSY", "Text file busy" },
        { EINVAL, "EINVAL", "Invalid argument" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].err == err) {
            add(l, names[i].text);
            add(l, " (");
            add(l, names[i].name);
            add(l, ")");
            return;
        }
    add(l, "errno ");
    add_num(l, (uint64_t)err);
}

static int write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One line on stderr; errno is the program's, not ours. */
static void report(struct line *l)
{
    int saved = errno;
    if (l->len == sizeof l->text)
        l->len--;
    l->text[l->len++] = '\n';
    int fd = report_fd();             /* stderr, unless it became another file */
    if (fd >= 0)
        write_all(fd, l->text, l->len);
    errno = saved;
}

/* ---- Record memory ------------------------------------------------------------------------------ */

static void records_release(void)
{
    for (struct chunk *c = first, *next; c; c = next) {
        next = c->next;
        munmap(c, c->cap + sizeof *c);
    }
    first = last = NULL;
    mapped = 0;
}

static void stop(const char *why, int err)
{
    struct line l = { .len = 0 };
    atomic_store(&state, T_STOPPED);
    stop_at = ops;
    add(&l, why);
    if (err) {
        add(&l, ": ");
        add_errno(&l, err);
    }
    l.len = l.len < sizeof stop_why ? l.len : sizeof stop_why - 1;
    memcpy(stop_why, l.text, l.len);
    stop_why[l.len] = 0;

    l.len = 0;
    add(&l, "kheap: trace stopped after record ");
    add_num(&l, stop_at);
    add(&l, ": ");
    add(&l, stop_why);
    report(&l);
}

/* Room for one record at the end of the last chunk, or NULL after stopping the trace. */
static char *room(void)
{
    if (last && last->cap - last->len >= RECORD_MAX)
        return last->text + last->len;
    size_t size = last ? (last->cap + sizeof *last) * 2 : CHUNK_FIRST;
    if (size > CHUNK_LAST)
        size = CHUNK_LAST;
    if (size > records_cap - mapped)
        size = (records_cap - mapped) & ~(PAGE - 1);
    if (size < PAGE) {
        struct line l = { .len = 0 };
        add(&l, "record memory reached its cap of ");
        add_num(&l, records_cap);
        add(&l, records_cap == RECORDS_CAP ? " bytes" : " bytes (KHEAP_TRACE_MAX)");
        l.text[l.len] = 0;
        stop(l.text, 0);
        return NULL;
    }
    int saved = errno;
    struct chunk *c = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED) {
        stop("no memory for records: mmap", errno);
        errno = saved;
        return NULL;
    }
    c->next = NULL;
    c->cap = size - sizeof *c;
    c->len = 0;
    mapped += size;
    if (last)
        last->next = c;
    else
        first = c;
    last = c;
    return c->text;
}

/* One record, "a id size", "r id size" (has_size) or "f id", at a place room() gave. */
static void put_record(char *at, char op, uint64_t id, size_t size, int has_size)
{
    char *start = at;
    *at++ = op;
    *at++ = ' ';
    at += put_num(at, id);
    if (has_size) {
        *at++ = ' ';
        at += put_num(at, size);
    }
    *at++ = '\n';
    last->len += (size_t)(at - start);
    ops++;
}

/* ---- Pointer -> id ---------------------------------------------------------------------------- */

/* Before anything changes: room for one more entry, so that a record cannot fail half-way. */
static int table_room(void)
{
    int saved = errno;
    if (ptr_room(&table) == 0)
        return 0;
    stop("no memory for the pointer table: mmap", errno);
    errno = saved;
    return -1;
}

/* ---- A fork's child: its own records, the inherited blocks allocated first ---------------------- */

static void child_begin(void)
{
    forked = 0;
    records_release();                /* the parent's records, copied by fork: not ours */
    next_id = ops = 0;
    peak_bytes = live_bytes;
    for (size_t i = 0; i < table.cap; i++) {
        if (!ptr_live(&table.slots[i]))
            continue;
        char *at = room();
        if (!at) {
            /* stopped: the blocks not renumbered yet carry the parent's ids, so they leave the
             * trace (the frees at exit must name this trace's ids only) */
            for (; i < table.cap; i++)
                if (ptr_live(&table.slots[i]))
                    ptr_remove(&table, &table.slots[i]);
            return;
        }
        table.slots[i].id = next_id++;
        put_record(at, 'a', table.slots[i].id, table.slots[i].size, 1);
    }
}

/* Under the lock: still recording, and this process's own trace. */
static int recording(void)
{
    if (atomic_load(&state) != T_ON)
        return 0;
    if (forked)
        child_begin();
    return atomic_load(&state) == T_ON;
}

/* Taken before fork so the child's copy is consistent; prepare handlers run in reverse order of
 * registration, so this one (registered after seam.c's) takes the trace lock before the heap's. */
/* stdio's list lock first, then the trace lock; seam.c's handler then takes the heap lock. */
static int stdio_taken;
static void fork_prepare(void)
{
    stdio_taken = fork_stdio_lock();
    fork_lock_prepare(&trace_mutex, &trace_inside);
}
static void fork_parent(void)
{
    fork_lock_parent(&trace_mutex);
    fork_stdio_unlock(stdio_taken);
}

static void fork_child(void)
{
    fork_lock_child(&trace_mutex);
    int s = atomic_load(&state);
    if (s == T_ON)
        forked = 1;
    else if (s == T_STOPPED) {
        atomic_store(&state, T_OFF);  /* the inherited table is stale: no trace in this child */
        records_release();
    }
}

void trace_setup_fork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

/* ---- The records ------------------------------------------------------------------------------- */

int  trace_on(void)     { return atomic_load_explicit(&state, memory_order_relaxed) == T_ON; }
void trace_lock(void)   { fork_lock_take(&trace_mutex, &trace_inside); }
void trace_unlock(void) { fork_lock_drop(&trace_mutex, &trace_inside); }

void trace_start(const char *path)
{
    size_t len = strlen(path), at = 0;
    if (path[0] != '/' && getcwd(prefix, sizeof prefix - 1)) {
        at = strlen(prefix);
        if (at > 0 && prefix[at - 1] != '/')
            prefix[at++] = '/';
    }
    /* room for ".<pid>" and the terminating zero */
    if (at + len + 24 > sizeof prefix) {
        struct line l = { .len = 0 };
        add(&l, "kheap: KHEAP_TRACE path too long, no trace: ");
        add(&l, path);
        report(&l);
        return;
    }
    memcpy(prefix + at, path, len + 1);
    const char *max = getenv("KHEAP_TRACE_MAX");
    if (max && *max >= '0' && *max <= '9') {
        size_t v = 0;
        for (; *max >= '0' && *max <= '9' && v < RECORDS_CAP; max++)
            v = v * 10 + (size_t)(*max - '0');
        if (v < records_cap)
            records_cap = v;
    }
    if (table_room() != 0) {
        atomic_store(&state, T_OFF);  /* stop() said why; nothing recorded, nothing written */
        return;
    }
    atomic_store(&state, T_ON);
}

static void live_add(size_t size)
{
    live_bytes += size;
    if (live_bytes > peak_bytes)
        peak_bytes = live_bytes;
}

void trace_alloc(const void *p, size_t size)
{
    if (!recording() || table_room() != 0)
        return;
    char *at = room();
    if (!at)
        return;
    uint64_t id = next_id++;
    ptr_add(&table, (uintptr_t)p, id, size);
    live_add(size);
    put_record(at, 'a', id, size, 1);
}

void trace_free(const void *p)
{
    struct ptr_slot *s = recording() ? ptr_find(&table, (uintptr_t)p) : NULL;
    if (!s)
        return;                       /* allocated before the trace began */
    char *at = room();
    if (!at)
        return;
    put_record(at, 'f', s->id, 0, 0);
    live_bytes -= s->size;
    ptr_remove(&table, s);
}

void trace_realloc(const void *old, const void *p, size_t size)
{
    if (!recording() || table_room() != 0)
        return;
    struct ptr_slot *s = ptr_find(&table, (uintptr_t)old);
    if (!s) {
        trace_alloc(p, size);         /* a block from before the trace: new to it */
        return;
    }
    char *at = room();
    if (!at)
        return;
    uint64_t id = s->id;
    live_bytes -= s->size;
    ptr_remove(&table, s);
    ptr_add(&table, (uintptr_t)p, id, size);
    live_add(size);
    put_record(at, 'r', id, size, 1);
}

/* ---- At exit: one fresh file, written and closed at once ----------------------------------------- */

struct out {
    int fd, err;                      /* err: the first write's errno, 0 while all is well */
    size_t len;
    char text[1 << 16];
};

static void out_write(struct out *o, const char *text, size_t len)
{
    if (!o->err && write_all(o->fd, text, len) != 0)
        o->err = errno;
}

static void out_flush(struct out *o)
{
    out_write(o, o->text, o->len);
    o->len = 0;
}

static void out_num(struct out *o, char op, uint64_t v, char end)
{
    if (o->len > sizeof o->text - RECORD_MAX)
        out_flush(o);
    if (op) {
        o->text[o->len++] = op;
        o->text[o->len++] = ' ';
    }
    o->len += put_num(o->text + o->len, v);
    o->text[o->len++] = end;
}

static struct out out;                /* 64 KiB: static, not on the stack of a destructor */

void trace_finish(void)
{
    if (atomic_load(&state) == T_OFF)
        return;
    trace_lock();
    if (atomic_load(&state) == T_OFF) {
        trace_unlock();
        return;
    }
    recording();                      /* a fork's child that made no call yet: its own trace */
    int stopped = atomic_load(&state) == T_STOPPED;
    atomic_store(&state, T_OFF);
    int saved = errno;

    struct line path = { .len = 0 };
    add(&path, prefix);
    add(&path, ".");
    add_num(&path, (uint64_t)getpid());
    path.text[path.len] = 0;          /* trace_start left room for ".<pid>" */

    int fd = open(path.text, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        struct line l = { .len = 0 };
        add(&l, "kheap: cannot create trace file ");
        add(&l, path.text);
        add(&l, ", no trace: ");
        add_errno(&l, errno);
        report(&l);
    } else {
        out.fd = fd;
        out.err = 0;
        out.len = 0;
        out_num(&out, 0, (uint64_t)peak_bytes * 2, '\n');
        out_num(&out, 0, next_id, '\n');
        out_num(&out, 0, ops + table.live, '\n');
        out_num(&out, 0, 1, '\n');
        out_flush(&out);
        for (struct chunk *c = first; c; c = c->next)
            out_write(&out, c->text, c->len);
        for (size_t i = 0; i < table.cap; i++)       /* the blocks still live: every trace ends empty */
            if (ptr_live(&table.slots[i]))
                out_num(&out, 'f', table.slots[i].id, '\n');
        out_flush(&out);
        if (stopped) {
            struct line l = { .len = 0 };
            add(&l, "# kheap: trace stopped after record ");
            add_num(&l, stop_at);
            add(&l, ": ");
            add(&l, stop_why);
            add(&l, "\n");
            out_write(&out, l.text, l.len);
        }
        if (close(fd) != 0 && !out.err)
            out.err = errno;
        if (out.err) {
            /* half a trace would pass for a whole one: every process leaves a complete file or none */
            unlink(path.text);
            struct line l = { .len = 0 };
            add(&l, "kheap: cannot write trace file ");
            add(&l, path.text);
            add(&l, ", removed it: ");
            add_errno(&l, out.err);
            report(&l);
        }
    }
    records_release();
    errno = saved;
    trace_unlock();
}
