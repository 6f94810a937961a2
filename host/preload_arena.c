/* preload_arena.c - libkheap.so's arenas (lib/arena.h): one heap per arena, one lock each,
 * and which arena each thread allocates from.
 *
 * ARENAS arenas: the CPUs this process may run on, at most ARENAS_MAX (counted once, at the
 * first call, from the affinity mask by a raw system call: nothing that allocates). A thread
 * gets its slot at its first call: the arena with the fewest threads attached (the lowest
 * number on a tie), kept in an initial-exec thread-local variable (no allocation, no lock after
 * that). A pthread key's destructor detaches the thread when it exits, so its arena goes to the
 * next thread; a thread still allocating in later destructors keeps its arena, uncounted. Frees
 * go to the arena that owns the block, whoever frees (arena_free), and regions come from mmap on
 * demand (ARENA_F_GROW, host/seam.c's seam_grow).
 *
 * Locks and fork: the table lock and the arena locks are futex locks (quick_lock below) that
 * follow fork_lock.h's protocol, each with its own thread-local "inside" count. lib/arena.c
 * takes the table lock before an arena's and never two arenas' at once, so the prepare handler
 * takes the table lock, then arenas 0, 1, ... in turn; it runs after the trace's (which took
 * stdio's list lock and the trace lock) and before seam.c's heap lock (held by preload_alone.c
 * alone, never with these). */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "arena.h"
#include "fork_lock.h"
#include "preload.h"

#define ARENAS_MAX  8
#define RANGES_MAX  8192           /* regions over all arenas: 32 GiB of 4 MiB steps, or large blocks */
#define TABLE_LOCK  ARENAS_MAX     /* locks[]: the arenas', then the table's */
#define DETACHED    PRELOAD_DETACHED

/* The arena and table locks: a futex word each (0 free, 1 held, 2 held with waiters), on a
 * cache line of its own, since every lock and unlock writes it and two side by side would make
 * the CPUs of two arenas fight over one line. Not a pthread mutex: an uncontended pair is then
 * one compare-and-swap and one exchange, with none of the mutex's type, owner and user-count
 * bookkeeping, on the path of every malloc and free. The fork protocol is fork_lock.h's. */
struct quick_lock {
    _Alignas(64) atomic_int word;
    int taken_for_fork;             /* the prepare handler took it: the parent and child drop it */
};
static struct quick_lock locks[ARENAS_MAX + 1];

/* Per thread, per lock: the lock calls this thread is inside (fork_lock.h). */
static __thread volatile int inside[ARENAS_MAX + 1] __attribute__((tls_model("initial-exec")));
/* This thread's arena + 1 (0: none yet), with DETACHED once its key destructor ran. */
__thread unsigned preload_tls_slot __attribute__((tls_model("initial-exec")));

static struct arena arenas[ARENAS_MAX];
static struct arena_range ranges[RANGES_MAX];
struct arena_set preload_set;
int preload_set_state;             /* 0: not set up, 1: being set up, 2: ready */
static atomic_uint attached[ARENAS_MAX];

static pthread_key_t detach_key;
static pthread_once_t detach_once = PTHREAD_ONCE_INIT;
static int detach_ok;

static void futex(atomic_int *word, int op, int value)
{
    syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, value, NULL, NULL, 0);
}

static void quick_take(struct quick_lock *l)
{
    int expected = 0;
    if (__builtin_expect(atomic_compare_exchange_strong_explicit(&l->word, &expected, 1,
                         memory_order_acquire, memory_order_relaxed), 1))
        return;
    /* Held: spin a little (an arena's critical sections are short), then sleep on the word.
     * Ten tries measured best on the hand-off bench (make bench-mt, larson x2: 0.42 s against
     * 0.55 s with no spin and 0.75 s with 100), where a thread's frees meet its owner's mallocs. */
    for (int i = 0; i < 10; i++) {
        __builtin_ia32_pause();
        expected = 0;
        if (atomic_load_explicit(&l->word, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_weak_explicit(&l->word, &expected, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
    }
    while (atomic_exchange_explicit(&l->word, 2, memory_order_acquire) != 0)
        futex(&l->word, FUTEX_WAIT, 2);
}

static void quick_drop(struct quick_lock *l)
{
    if (atomic_exchange_explicit(&l->word, 0, memory_order_release) == 2)
        futex(&l->word, FUTEX_WAKE, 1);
}

/* Each counted as fork_lock_take and fork_lock_drop count (fork_lock.h). */
static unsigned long lock_cb(void *ctx)
{
    struct quick_lock *l = ctx;
    ++inside[l - locks];
    quick_take(l);
    return 0;
}

static void unlock_cb(void *ctx, unsigned long state)
{
    struct quick_lock *l = ctx;
    (void)state;
    quick_drop(l);
    --inside[l - locks];
}

static unsigned cpus(void)
{
    unsigned long mask[16] = { 0 };  /* 1024 CPUs */
    long n = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
    unsigned c = 0;
    for (long i = 0; i < n / (long)sizeof mask[0]; i++)
        c += (unsigned)__builtin_popcountl(mask[i]);
    return c ? c : 1;
}

void preload_set_up(void)
{
    int expected = 0;
    if (!__atomic_compare_exchange_n(&preload_set_state, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&preload_set_state, __ATOMIC_ACQUIRE) != 2)
            sched_yield();           /* another thread's first call, a moment at most */
        return;
    }
    static const struct arena_lock ops = { lock_cb, unlock_cb };
    unsigned count = cpus();
    if (count > ARENAS_MAX)
        count = ARENAS_MAX;
    for (unsigned i = 0; i < count; i++)
        arenas[i].lock_ctx = &locks[i];
    arena_init(&preload_set, arenas, count, &ops, &locks[TABLE_LOCK], ranges, RANGES_MAX);
    preload_set.flags = ARENA_F_GROW;
    __atomic_store_n(&preload_set_state, 2, __ATOMIC_RELEASE);
}

static void detach(void *value)
{
    unsigned s = (unsigned)(uintptr_t)value - 1;
    atomic_fetch_sub_explicit(&attached[s], 1, memory_order_relaxed);
    preload_tls_slot = (s + 1) | DETACHED;
}

static void detach_key_make(void) { detach_ok = pthread_key_create(&detach_key, detach) == 0; }

/* The first call of this thread: the least loaded arena. The slot is set before the key, so a
 * malloc that pthread_setspecific might make finds it set. */
unsigned preload_attach(void)
{
    struct arena_set *s = preload_arenas();
    unsigned best = 0, load = ~0u;
    for (unsigned i = 0; i < s->count; i++) {
        unsigned n = atomic_load_explicit(&attached[i], memory_order_relaxed);
        if (n < load) {
            best = i;
            load = n;
        }
    }
    atomic_fetch_add_explicit(&attached[best], 1, memory_order_relaxed);
    preload_tls_slot = best + 1;
    pthread_once(&detach_once, detach_key_make);
    if (!detach_ok || pthread_setspecific(detach_key, (void *)(uintptr_t)(best + 1)) != 0)
        preload_tls_slot |= DETACHED;            /* no destructor will run: stay, uncounted */
    return best;
}

void preload_arena_lock(unsigned which) { lock_cb(&locks[which]); }
void preload_arena_unlock(unsigned which) { unlock_cb(&locks[which], 0); }

/* fork: stdio's list lock (already taken by the trace's handler, which ran first: it is
 * recursive), the table lock, then every arena's, each unless this thread is inside it. */
static int stdio_taken;
static void prepare_one(unsigned i)
{
    locks[i].taken_for_fork = inside[i] == 0;
    if (locks[i].taken_for_fork)
        quick_take(&locks[i]);
}

static void fork_prepare(void)
{
    stdio_taken = fork_stdio_lock();
    prepare_one(TABLE_LOCK);
    for (unsigned i = 0; i < ARENAS_MAX; i++)
        prepare_one(i);
}

static void fork_parent(void)
{
    for (unsigned i = ARENAS_MAX + 1; i-- > 0;)
        if (locks[i].taken_for_fork)
            quick_drop(&locks[i]);
    fork_stdio_unlock(stdio_taken);
}

/* The child's only thread is the forking one: the locks it took are free again (no waiter is
 * left to wake), and every other thread's attachment is gone. */
static void fork_child(void)
{
    for (unsigned i = 0; i <= ARENAS_MAX; i++)
        if (locks[i].taken_for_fork)
            atomic_store_explicit(&locks[i].word, 0, memory_order_relaxed);
    for (unsigned i = 0; i < ARENAS_MAX; i++)
        atomic_store_explicit(&attached[i], 0, memory_order_relaxed);
    unsigned s = preload_tls_slot;
    if (s && !(s & DETACHED))
        atomic_store_explicit(&attached[s - 1], 1, memory_order_relaxed);
}

void preload_arenas_setup_fork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }
