/* shell.c - a serial shell for poking at the default heap by hand: allocate, resize and free
 * blocks, and look at the result (dump, map, stats, check; those show the CPUs' arenas too,
 * and `cpus` shows each CPU's arena on one line). Blocks get short ids (#1, #2, ...)
 * so a person can name them; `free` also takes an address. Nothing typed here may crash the
 * kernel or corrupt the heap: every number is range-checked before use, the shell frees only
 * what it handed out (or what the heap itself can judge a misuse), and while the shell runs
 * the heap's misuse reports come to shell_heap_error, which prints one line and returns instead
 * of panicking. Each block the shell hands out is filled with a byte of its own, and the fill
 * is checked at its ends before free and realloc, so a block that changed under us is reported. */
#include <stdarg.h>
#include <stdint.h>
#include "arena.h"
#include "karena.h"
#include "kprintf.h"
#include "mem.h"
#include "memmap.h"
#include "parse.h"
#include "qemu.h"
#include "readline.h"
#include "selftest.h"
#include "shell.h"
#include "smp.h"
#include "string.h"
#include "uart.h"

#define LINE_MAX    128  /* characters per line, the NUL included */
#define WORDS_MAX   8
#define SLOTS       128  /* blocks the shell keeps track of (live and recently freed) */
#define CHECK_BYTES 64   /* bytes of fill checked at each end of a block */

enum slot_state { SLOT_EMPTY, SLOT_LIVE, SLOT_FREED };

/* One block the shell handed out. A freed slot remembers its id and address, so that a second
 * free says "freed already" and an address can be told apart from a stranger's. */
struct slot {
    enum slot_state state;
    unsigned id;
    unsigned char *ptr;
    size_t size;
    size_t align;          /* 0 for plain alloc */
    unsigned char fill;    /* the byte the block holds (0 for calloc) */
};

static struct slot slots[SLOTS];
static unsigned next_id = 1;
static unsigned heap_errors; /* reports shell_heap_error has printed */
static const struct slot *freeing; /* the freed slot a free by address names, for the report */

/* ---- Output ------------------------------------------------------------------------------ */

static void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    kprintf("error: ");
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
}

/* The heap calls this with its lock released; it must not allocate, and returning makes the
 * operation a no-op. */
static void shell_heap_error(enum mem_error err, const void *ptr)
{
    heap_errors++;
    kprintf("error: heap: %s at %p", mem_strerror(err), ptr);
    if (freeing && freeing->ptr == ptr)
        kprintf(" (it was #%u, freed already)", freeing->id);
    kprintf("\n");
}

static void print_slot(const struct slot *s, const char *note)
{
    kprintf("#%u = %p (%zu bytes%s%s)\n", s->id, s->ptr, s->size, note ? ", " : "", note ? note : "");
}

/* ---- The id table ---------------------------------------------------------------------------- */

static struct slot *slot_by_id(unsigned id)
{
    for (unsigned i = 0; i < SLOTS; i++)
        if (slots[i].state != SLOT_EMPTY && slots[i].id == id)
            return &slots[i];
    return 0;
}

/* The slot in `state` at ptr; of several freed ones there, the most recent. */
static struct slot *slot_by_ptr(const void *ptr, enum slot_state state)
{
    struct slot *found = 0;

    for (unsigned i = 0; i < SLOTS; i++)
        if (slots[i].state == state && slots[i].ptr == ptr && (!found || slots[i].id > found->id))
            found = &slots[i];
    return found;
}

/* An empty slot, else the oldest freed one (its id is forgotten); 0 if all are live. */
static struct slot *slot_take(void)
{
    struct slot *oldest = 0;

    for (unsigned i = 0; i < SLOTS; i++) {
        if (slots[i].state == SLOT_EMPTY)
            return &slots[i];
        if (slots[i].state == SLOT_FREED && (!oldest || slots[i].id < oldest->id))
            oldest = &slots[i];
    }
    return oldest;
}

static unsigned live_count(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < SLOTS; i++)
        n += slots[i].state == SLOT_LIVE;
    return n;
}

/* ---- Block contents ---------------------------------------------------------------------------- */

/* Checks the first and last CHECK_BYTES of the first `size` bytes; 0 if they hold the fill. */
static int fill_intact(const struct slot *s, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (i == CHECK_BYTES && size > 2 * CHECK_BYTES)
            i = size - CHECK_BYTES;
        if (s->ptr[i] != s->fill) {
            error("#%u changed: byte %zu is 0x%02x, the shell wrote 0x%02x", s->id, i, s->ptr[i], s->fill);
            return -1;
        }
    }
    return 0;
}

static unsigned char fill_for(unsigned id)
{
    return (unsigned char)(0xA0 + id % 0x50); /* never 0, so calloc's zeros stand apart */
}

/* Records a new block in s, under a fresh id. */
static void slot_fill(struct slot *s, void *ptr, size_t size, size_t align, int zeroed)
{
    s->state = SLOT_LIVE;
    s->id = next_id++;
    s->ptr = ptr;
    s->size = size;
    s->align = align;
    s->fill = zeroed ? 0 : fill_for(s->id);
    if (!zeroed)
        memset(ptr, s->fill, size);
}

/* ---- Arguments ------------------------------------------------------------------------------- */

/* Reads words[i] as a size; prints why not and returns -1 on failure. */
static int arg_size(char **words, int i, const char *what, size_t *out)
{
    enum parse_error err = parse_size(words[i], out);

    if (err == PARSE_TOO_LARGE)
        error("%s '%s' is too large (at most %zu bytes on this 32-bit kernel)", what, words[i], (size_t)SIZE_MAX);
    else if (err != PARSE_OK)
        error("%s '%s' is %s (try 100, 0x40, 4K, 2M)", what, words[i], parse_strerror(err));
    return err == PARSE_OK ? 0 : -1;
}

static int arg_count(int nwords, int min, int max, const char *usage)
{
    if (nwords - 1 < min || nwords - 1 > max) {
        error("usage: %s", usage);
        return -1;
    }
    return 0;
}

static int is_power_of_two(size_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

/* A live slot named by words[i] ("#3" or "3"); prints why not and returns 0. */
static struct slot *arg_live_slot(char **words, int i)
{
    unsigned id;
    struct slot *s;

    if (parse_id(words[i], &id) != PARSE_OK) {
        error("'%s' is not a block id (ids look like #3)", words[i]);
        return 0;
    }
    s = slot_by_id(id);
    if (!s)
        error("no block #%u (see `list`)", id);
    else if (s->state == SLOT_FREED)
        error("#%u was freed already (it was at %p)", id, s->ptr);
    return s && s->state == SLOT_LIVE ? s : 0;
}

/* ---- Allocating ------------------------------------------------------------------------------- */

static struct slot *slot_for_new_block(void)
{
    struct slot *s = slot_take();

    if (!s)
        error("the shell tracks at most %u live blocks; free some first", SLOTS);
    return s;
}

/* Why an allocation failed, as far as the statistics tell: no block large enough, or a
 * request the heap refuses outright (half the address space or more, or an absurd alignment). */
static void no_room(size_t size, size_t align)
{
    struct mem_stats st;

    mem_stats(&st);
    if (size > st.largest_free)
        error("out of memory: no free block for %zu bytes (largest free block: %zu bytes)", size, st.largest_free);
    else if (align)
        error("out of memory: the heap refused %zu bytes aligned to %zu (largest free block: %zu bytes)",
              size, align, st.largest_free);
    else
        error("out of memory: the heap refused %zu bytes, too large for one block (largest free block: %zu bytes)",
              size, st.largest_free);
}

static void cmd_alloc(int n, char **w)
{
    size_t size, align = 0;
    struct slot *s;
    void *p;

    if (arg_count(n, 1, 2, "alloc SIZE [ALIGN]") || arg_size(w, 1, "size", &size))
        return;
    if (n == 3 && arg_size(w, 2, "alignment", &align))
        return;
    if (size == 0) {
        error("size must be at least 1 byte (mem_alloc(0) returns NULL)");
        return;
    }
    if (n == 3 && !is_power_of_two(align)) {
        error("alignment %zu is not a power of two", align);
        return;
    }
    if (!(s = slot_for_new_block()))
        return;
    p = align ? mem_aligned_alloc(align, size) : mem_alloc(size);
    if (!p) {
        no_room(size, align);
        return;
    }
    slot_fill(s, p, size, align, 0);
    if (align) {
        kprintf("#%u = %p (%zu bytes, aligned to %zu)\n", s->id, p, size, align);
        return;
    }
    print_slot(s, 0);
}

static void cmd_calloc(int n, char **w)
{
    size_t count, size;
    struct slot *s;
    void *p;

    if (arg_count(n, 2, 2, "calloc N SIZE") || arg_size(w, 1, "count", &count) || arg_size(w, 2, "size", &size))
        return;
    if (count == 0 || size == 0) {
        error("count and size must both be at least 1 (calloc of 0 bytes returns NULL)");
        return;
    }
    if (count > SIZE_MAX / size) {
        error("too large: %zu x %zu overflows a %u-bit size", count, size, (unsigned)(8 * sizeof(size_t)));
        return;
    }
    if (!(s = slot_for_new_block()))
        return;
    if (!(p = mem_calloc(count, size))) {
        no_room(count * size, 0);
        return;
    }
    slot_fill(s, p, count * size, 0, 1);
    kprintf("#%u = %p (%zu bytes = %zu x %zu, zeroed)\n", s->id, p, count * size, count, size);
}

/* Realloc keeps min(old, new) bytes: check them, then give the whole block the fill again. */
static void cmd_realloc(int n, char **w)
{
    struct slot *s;
    size_t size, kept;
    void *p, *old;

    if (arg_count(n, 2, 2, "realloc ID SIZE") || !(s = arg_live_slot(w, 1)) || arg_size(w, 2, "size", &size))
        return;
    if (size == 0) {
        fill_intact(s, s->size);
        mem_realloc(s->ptr, 0);
        s->state = SLOT_FREED;
        kprintf("freed #%u (%p): realloc to 0 bytes frees\n", s->id, s->ptr);
        return;
    }
    old = s->ptr;
    if (!(p = mem_realloc(old, size))) {
        no_room(size, s->align);
        kprintf("#%u is unchanged at %p (%zu bytes)\n", s->id, old, s->size);
        return;
    }
    kept = size < s->size ? size : s->size;
    s->ptr = p;
    fill_intact(s, kept);
    s->size = size;
    memset(p, s->fill, size);
    kprintf("#%u = %p (%zu bytes, %s; first %zu bytes kept)\n", s->id, p, size,
            p == old ? "in place" : "moved", kept);
}

/* ---- Freeing -------------------------------------------------------------------------------- */

static void slot_free(struct slot *s)
{
    fill_intact(s, s->size);
    mem_free(s->ptr);
    s->state = SLOT_FREED;
    kprintf("freed #%u (%p, %zu bytes)\n", s->id, s->ptr, s->size);
}

struct block_search {
    uintptr_t ptr;
    int live;
};

static void find_live(void *ctx, void *ptr, size_t size, int used)
{
    struct block_search *b = ctx;

    (void)size;
    if (used && (uintptr_t)ptr == b->ptr)
        b->live = 1;
}

/* Is ptr the payload of an allocated block? Walks the heap, which is fine for a person typing. */
static int is_live_block(uintptr_t ptr)
{
    struct block_search b = { ptr, 0 };
    unsigned long lock = mem_lock();

    heap_walk(mem_heap(), find_live, &b);
    mem_unlock(lock);
    return b.live;
}

/* An address the shell does not hold live. A live block someone else owns is refused (freeing
 * it would corrupt its owner); anything else goes to mem_free, whose checks report the misuse
 * (double free, not a block, not in the heap, misaligned) through shell_heap_error. */
static void free_address(uintptr_t addr)
{
    struct slot *gone = slot_by_ptr((void *)addr, SLOT_FREED);
    unsigned errors = heap_errors;

    if (addr == 0) {
        error("0 is NULL: mem_free(NULL) does nothing");
        return;
    }
    if (is_live_block(addr)) {
        error("%p is an allocated block the shell did not hand out; not freeing it", (void *)addr);
        return;
    }
    /* The shell allocates from the default heap only: an address in an arena is nothing it
     * handed out, and the default heap would only call it outside the heap. */
    if (arena_owner(karena_set(), (void *)addr) >= 0) {
        error("%p is in cpu %d's arena, which the shell does not allocate from; not freeing it", (void *)addr,
              arena_owner(karena_set(), (void *)addr));
        return;
    }
    freeing = gone;
    mem_free((void *)addr);
    freeing = 0;
    if (heap_errors == errors)
        error("%p was not a block, yet the heap reported nothing", (void *)addr);
}

static void cmd_free(int n, char **w)
{
    size_t addr;
    struct slot *s;
    enum parse_error err;

    if (arg_count(n, 1, 1, "free ID|ADDR   (an id like #3, or an address like 0x00123450)"))
        return;
    if (w[1][0] == '#' || !(w[1][0] == '0' && ascii_lower(w[1][1]) == 'x')) {
        if ((s = arg_live_slot(w, 1)))
            slot_free(s);
        return;
    }
    if ((err = parse_number(w[1], &addr)) != PARSE_OK) {
        error("address '%s' is %s", w[1], parse_strerror(err));
        return;
    }
    if ((s = slot_by_ptr((void *)addr, SLOT_LIVE)))
        slot_free(s);
    else
        free_address(addr);
}

/* ---- Looking ------------------------------------------------------------------------------------- */

/* The live slot with the smallest id above `after`, or 0: lists come out in id order. */
static struct slot *live_after(unsigned after)
{
    struct slot *best = 0;

    for (unsigned i = 0; i < SLOTS; i++)
        if (slots[i].state == SLOT_LIVE && slots[i].id > after && (!best || slots[i].id < best->id))
            best = &slots[i];
    return best;
}

static void cmd_list(int n, char **w)
{
    unsigned shown = 0;

    (void)n, (void)w;
    for (struct slot *s = live_after(0); s; s = live_after(s->id)) {
        print_slot(s, s->fill ? 0 : "zeroed");
        shown++;
    }
    kprintf("%u live block(s) from this shell\n", shown);
}

static void stat_line(const char *name, unsigned long long value, const char *what)
{
    kprintf("  %-16s %12llu  %s\n", name, value, what);
}

static void stat_lines(const struct mem_stats *st)
{
    stat_line("total_bytes", st->total_bytes, "bytes in blocks over all regions");
    stat_line("free_bytes", st->free_bytes, "bytes in free blocks");
    stat_line("used_bytes", st->used_bytes, "bytes in allocated blocks (requests rounded up to 16)");
    stat_line("largest_free", st->largest_free, "largest request that fits now");
    stat_line("free_blocks", st->free_blocks, "free blocks");
    stat_line("used_blocks", st->used_blocks, "allocated blocks");
    stat_line("peak_used_bytes", st->peak_used_bytes, "highest used_bytes ever");
    stat_line("min_free_bytes", st->min_free_bytes, "lowest free_bytes ever");
    stat_line("region_count", st->region_count, "regions");
    stat_line("overhead_bytes", st->overhead_bytes, "region metadata (descriptors and tables)");
    stat_line("alloc_count", st->alloc_count, "successful allocations");
    stat_line("free_count", st->free_count, "successful frees");
    stat_line("failed_count", st->failed_count, "allocations refused");
    stat_line("error_count", st->error_count, "misuses detected and reported");
}

/* One line per CPU's arena, and one for them all (arena_stats): what `cpus` prints. */
static void arena_table(void)
{
    struct arena_set *set = karena_set();
    struct mem_stats st;

    kprintf("  cpu        total         used         free  used blocks  free blocks\n");
    for (unsigned i = 0; i <= karena_count(); i++) {
        int all = i == karena_count();

        arena_stats(set, all ? ARENA_ALL : i, &st);
        if (all)
            kprintf("  all");
        else
            kprintf("  %3u", i);
        kprintf(" %12zu %12zu %12zu %12zu %12zu\n", st.total_bytes, st.used_bytes, st.free_bytes,
                st.used_blocks, st.free_blocks);
    }
}

static void cmd_cpus(int n, char **w)
{
    (void)n, (void)w;
    kprintf("cpus: %u online, %u arena(s): each CPU allocates from its own (bytes and blocks below), "
            "a free goes to the block's arena\n", smp_cpus_online(), karena_count());
    arena_table();
}

/* The default heap first, as the shell showed it before there were arenas; then the arenas
 * together, each one, and the sum over every heap. */
static void cmd_stats(int n, char **w)
{
    struct mem_stats st;

    (void)n, (void)w;
    mem_stats(&st);
    kprintf("stats of the default heap:\n");
    stat_lines(&st);
    arena_stats(karena_set(), ARENA_ALL, &st);
    kprintf("stats of the %u CPU arena(s) together (arena_stats):\n", karena_count());
    stat_lines(&st);
    kprintf("each CPU's arena:\n");
    arena_table();
    karena_stats_all(&st);
    kprintf("every heap: %zu total, %zu used, %zu free bytes; %zu used and %zu free blocks in %zu region(s)\n",
            st.total_bytes, st.used_bytes, st.free_bytes, st.used_blocks, st.free_blocks, st.region_count);
}

/* arena_dump's sink: the console, as mem_dump's. */
static void console_write(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    uart_write(text, len);
}

static void cmd_dump(int n, char **w)
{
    (void)n, (void)w;
    kprintf("default heap:\n");
    mem_dump();
    arena_dump(karena_set(), console_write, 0);
}

static void cmd_map(int n, char **w)
{
    (void)n, (void)w;
    memmap_print();
}

static void cmd_check(int n, char **w)
{
    struct mem_stats st;
    int problems = mem_check();

    (void)n, (void)w;
    mem_stats(&st);
    if (problems)
        kprintf("check: FAILED, %d violation(s)\n", problems);
    else
        kprintf("check: ok (%zu region(s), %zu used and %zu free block(s))\n", st.region_count,
                st.used_blocks, st.free_blocks);
    problems = arena_check(karena_set(), ARENA_ALL);
    arena_stats(karena_set(), ARENA_ALL, &st);
    if (problems)
        kprintf("check: arenas FAILED, %d violation(s)\n", problems);
    else
        kprintf("check: arenas ok (%u arena(s), %zu region(s), %zu used and %zu free block(s))\n",
                karena_count(), st.region_count, st.used_blocks, st.free_blocks);
}

/* The self-tests expect the default error handler (some cases install their own and restore
 * it); the shell's goes back afterwards. */
static void cmd_test(int n, char **w)
{
    unsigned failed, run;

    (void)n, (void)w;
    mem_set_error_handler(0);
    failed = selftest_run(0, 0, 0, &run);
    mem_set_error_handler(shell_heap_error);
    kprintf("test: %s\n", failed ? "FAILED" : "all passed");
}

static void cmd_help(int n, char **w)
{
    (void)n, (void)w;
    kprintf("commands (SIZE: 100, 0x40, 4K, 2M; ID: #3 or 3; ADDR: 0x00123450):\n"
            "  alloc SIZE [ALIGN]  allocate SIZE bytes (ALIGN: a power of two)\n"
            "  calloc N SIZE       allocate N x SIZE bytes, zeroed\n"
            "  realloc ID SIZE     resize block ID (SIZE 0 frees it)\n"
            "  free ID|ADDR        free a block by id, or by address\n"
            "  list                the blocks this shell holds\n"
            "  dump                every block of every heap (mem_dump, arena_dump)\n"
            "  map                 every region drawn to scale: # used, . free, + both\n"
            "  stats               every mem_stats field, of the default heap and the arenas\n"
            "  cpus                each CPU's arena: total, used and free bytes, blocks\n"
            "  check               the heaps' consistency checks (mem_check, arena_check)\n"
            "  test                rerun the self-tests\n"
            "  help                this list\n"
            "  quit                leave QEMU (success)\n"
            "line editing: backspace, Ctrl-U erases the line, Ctrl-C cancels it; arrow keys do\n"
            "nothing; a control character (^@, ^D, ...) makes the line an error\n");
}

static void cmd_quit(int n, char **w)
{
    unsigned live = live_count();

    (void)n, (void)w;
    if (live)
        kprintf("quit: %u block(s) still allocated by the shell\n", live);
    kprintf("quit: heap check %s; bye\n", mem_check() || arena_check(karena_set(), ARENA_ALL) ? "FAILED" : "ok");
    qemu_exit(QEMU_EXIT_SUCCESS);
}

/* ---- The loop ------------------------------------------------------------------------------------ */

/* The commands; those with arguments check their count themselves, for a usage line. */
struct command {
    const char *name;
    void (*run)(int n, char **w);
    int takes_arguments;
};

static const struct command commands[] = {
    { "alloc", cmd_alloc, 1 },   { "calloc", cmd_calloc, 1 }, { "realloc", cmd_realloc, 1 },
    { "free", cmd_free, 1 },     { "list", cmd_list, 0 },     { "dump", cmd_dump, 0 },
    { "map", cmd_map, 0 },       { "stats", cmd_stats, 0 },   { "check", cmd_check, 0 },
    { "cpus", cmd_cpus, 0 },
    { "test", cmd_test, 0 },     { "help", cmd_help, 0 },     { "?", cmd_help, 0 },
    { "quit", cmd_quit, 0 },     { "exit", cmd_quit, 0 },
};

/* Command names are matched without regard to case. */
static int is_command(const char *word, const char *name)
{
    while (*name && ascii_lower(*word) == *name)
        word++, name++;
    return !*word && !*name;
}

static void run_command(int n, char **w)
{
    for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const struct command *c = &commands[i];

        if (!is_command(w[0], c->name))
            continue;
        if (n > 1 && !c->takes_arguments)
            error("%s takes no arguments", c->name);
        else
            c->run(n, w);
        return;
    }
    error("unknown command '%s' (try help)", w[0]);
}

static void run_line(char *line)
{
    char *words[WORDS_MAX];
    int n = parse_words(line, words, WORDS_MAX);

    if (n < 0)
        error("too many words (at most %d)", WORDS_MAX);
    else if (n > 0)
        run_command(n, words);
}

/* A line readline rejected for a control byte: name the byte as it was echoed. */
static void control_in_line(int c)
{
    error("control character ^%c (0x%02x%s) in the line; ignored", c + 0x40, (unsigned)c, c ? "" : ", NUL");
}

void shell_run(void)
{
    char line[LINE_MAX];
    int len, control;

    mem_set_error_handler(shell_heap_error);
    kprintf("kheap shell: type help for the commands, quit to leave\n");
    for (;;) {
        kprintf("kheap> ");
        len = readline(line, sizeof(line), &control);
        if (len == READLINE_TOO_LONG)
            error("line too long (at most %d characters); ignored", LINE_MAX - 1);
        else if (len == READLINE_CONTROL)
            control_in_line(control);
        else if (len >= 0)
            run_line(line);
    }
}
