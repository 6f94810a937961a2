/* inspect.c - looking inside: stats are exact against a walk, and heap_dump's text parses back
 * into the same numbers. */
#include "case_util.h"

static struct heap heap;

/* A fragmented heap: blocks of assorted sizes with every third one freed. */
static int fragment(struct heap *h, void **p, size_t count)
{
    if (heap_init(h, case_arena_small, ARENA_SMALL) != 0)
        return -1;
    for (size_t i = 0; i < count; i++) {
        p[i] = heap_alloc(h, 16 + (i * 53) % 400);
        if (!p[i])
            return -1;
    }
    for (size_t i = 0; i < count; i += 3) {
        if (heap_free(h, p[i]) != 0)
            return -1;
        p[i] = NULL;
    }
    return heap_check(h);
}

static void free_all(struct heap *h, void **p, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (p[i]) {
            CHECK(heap_free(h, p[i]) == 0);
            p[i] = NULL;
        }
    VALID(h);
}

/* Every state field against a walk, on a fresh heap, a fragmented one, and one with aligned
 * blocks and their pads; largest_free is the largest request that succeeds. */
void case_stats_exact(void)
{
    static void *p[60];
    static struct walk w;
    struct mem_stats s;

    REQUIRE(heap_init(&heap, case_arena_small, ARENA_SMALL) == 0);
    CHECK(stats_match_walk(&heap) == 0);
    REQUIRE(fragment(&heap, p, 60) == 0);
    CHECK(stats_match_walk(&heap) == 0);

    /* exact figures, computed here from the walk */
    heap_stats(&heap, &s);
    walk_take(&heap, &w);
    size_t used = 0, used_blocks = 0, free_bytes = 0, free_blocks = 0, largest = 0;
    for (size_t i = 0; i < w.n; i++) {
        if (w.b[i].used) {
            used += w.b[i].size + T_WORD;
            used_blocks++;
        } else {
            free_bytes += w.b[i].size + T_WORD;
            free_blocks++;
            largest = w.b[i].size > largest ? w.b[i].size : largest;
        }
    }
    CHECK(s.used_bytes == used);  /* no aligned blocks yet: no pads */
    CHECK(s.used_blocks == used_blocks && used_blocks == 40);
    CHECK(s.free_bytes == free_bytes && s.free_blocks == free_blocks && free_blocks == 21);
    CHECK(s.largest_free == largest);
    CHECK(s.total_bytes == used + free_bytes);
    CHECK(s.alloc_count == 60 && s.free_count == 20 && s.failed_count == 0 && s.error_count == 0);

    /* largest_free is exact: that request succeeds, one granule more fails */
    struct mem_stats before;
    heap_stats(&heap, &before);
    void *big = heap_alloc(&heap, s.largest_free + 1);
    CHECK(big == NULL);
    heap_stats(&heap, &s);
    CHECK(s.failed_count == before.failed_count + 1);
    big = heap_alloc(&heap, s.largest_free);
    CHECK(big != NULL);
    VALID(&heap);
    CHECK(stats_match_walk(&heap) == 0);
    CHECK(heap_free(&heap, big) == 0);

    /* aligned blocks: pads count as used bytes, not as blocks */
    void *a[6];
    for (int i = 0; i < 6; i++) {
        a[i] = heap_aligned_alloc(&heap, (size_t)64 << i, 40 + 10 * (size_t)i);
        CHECK(a[i] != NULL);
        VALID(&heap);
        CHECK(stats_match_walk(&heap) == 0);
    }
    heap_stats(&heap, &s);
    CHECK(s.used_blocks == 46);
    CHECK(s.peak_used_bytes >= s.used_bytes && s.min_free_bytes <= s.free_bytes);
    for (int i = 0; i < 6; i++)
        if (a[i]) {
            CHECK(heap_free(&heap, a[i]) == 0);
            CHECK(stats_match_walk(&heap) == 0);
        }
    free_all(&heap, p, 60);
    heap_stats(&heap, &s);
    CHECK(s.used_bytes == 0 && s.used_blocks == 0 && s.free_blocks == 1);
    CHECK(stats_match_walk(&heap) == 0);
}

/* ---- heap_dump, parsed back ------------------------------------------------------------------ */

#define DUMP_MAX 16384
static char dump_text[DUMP_MAX];
static size_t dump_len;
static int dump_overflow;

static void dump_sink(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    if (dump_len + len > DUMP_MAX) {
        dump_overflow = 1;
        return;
    }
    memcpy(dump_text + dump_len, text, len);
    dump_len += len;
}

static size_t text_len(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* A tiny scanner over one line. */
struct scan { const char *at, *end; };

static void skip_spaces(struct scan *s)
{
    while (s->at < s->end && *s->at == ' ')
        s->at++;
}

static int word_is(struct scan *s, const char *w)
{
    skip_spaces(s);
    size_t n = text_len(w);
    if ((size_t)(s->end - s->at) < n || memcmp(s->at, w, n) != 0)
        return 0;
    if (s->at + n < s->end && s->at[n] != ' ')
        return 0;
    s->at += n;
    return 1;
}

/* An unsigned number in base 10, or base 16 after "0x" (or "+0x"); -1 on no digits. */
static int number(struct scan *s, uintmax_t *out)
{
    unsigned base = 10;
    skip_spaces(s);
    if (s->at < s->end && *s->at == '+')
        s->at++;
    if (s->end - s->at >= 2 && s->at[0] == '0' && s->at[1] == 'x') {
        base = 16;
        s->at += 2;
    }
    uintmax_t v = 0;
    int digits = 0;
    for (; s->at < s->end; s->at++, digits++) {
        char c = *s->at;
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            break;
        v = v * base + d;
    }
    *out = v;
    return digits ? 0 : -1;
}

struct dump_facts {
    size_t lines, regions, used_lines, free_lines, pad_lines;
    size_t used_bytes, free_bytes, largest_line;
    uintmax_t sum_regions, sum_total, sum_used, sum_free, sum_largest, sum_ublocks, sum_fblocks;
    int summary, check_ok, bad;
};

static void parse_summary(struct scan *s, struct dump_facts *f)
{
    static const char *const keys[] = { "regions", "total", "used", "free", "largest",
                                        "used_blocks", "free_blocks" };
    uintmax_t *vals[] = { &f->sum_regions, &f->sum_total, &f->sum_used, &f->sum_free,
                          &f->sum_largest, &f->sum_ublocks, &f->sum_fblocks };
    f->summary++;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (!word_is(s, keys[k]) || number(s, vals[k]) != 0)
            f->bad++;
    /* fragmentation X.YZ%, then "check ok" */
    uintmax_t whole, frac;
    if (!word_is(s, "fragmentation") || number(s, &whole) != 0 || s->at >= s->end || *s->at++ != '.' ||
        number(s, &frac) != 0 || s->at >= s->end || *s->at++ != '%' || whole > 100)
        f->bad++;
    if (word_is(s, "check") && word_is(s, "ok"))
        f->check_ok = 1;
}

/* One block line: "0x<payload> +0x<offset> used|free|pad <bytes> bytes". */
static void parse_block(struct scan *s, struct dump_facts *f, const struct walk *w, size_t *wi)
{
    uintmax_t addr, off, bytes;
    int kind;
    if (number(s, &addr) != 0 || number(s, &off) != 0) {
        f->bad++;
        return;
    }
    kind = word_is(s, "used") ? 1 : word_is(s, "free") ? 0 : word_is(s, "pad") ? 2 : -1;
    if (kind < 0 || number(s, &bytes) != 0 || !word_is(s, "bytes") || bytes % MEM_ALIGN) {
        f->bad++;
        return;
    }
    if (kind == 2) {
        f->pad_lines++;
        f->used_bytes += bytes;
        return;
    }
    /* the walk lists the same blocks in the same order (it skips pads) */
    if (*wi >= w->n || w->b[*wi].ptr != addr || w->b[*wi].used != kind ||
        w->b[*wi].size + T_WORD != bytes)
        f->bad++;
    (*wi)++;
    if (kind) {
        f->used_lines++;
        f->used_bytes += bytes;
    } else {
        f->free_lines++;
        f->free_bytes += bytes;
        if (bytes - T_WORD > f->largest_line)
            f->largest_line = bytes - T_WORD;
    }
}

static void parse_dump(struct dump_facts *f, const struct walk *w)
{
    const char *at = dump_text, *end = dump_text + dump_len;
    size_t wi = 0;
    memset(f, 0, sizeof *f);
    while (at < end) {
        const char *nl = at;
        while (nl < end && *nl != '\n')
            nl++;
        if (nl == end) {  /* every line ends with a newline */
            f->bad++;
            break;
        }
        struct scan s = { at, nl };
        f->lines++;
        if (word_is(&s, "region")) {
            uintmax_t index, base, size;
            if (number(&s, &index) != 0 || index != f->regions || !word_is(&s, "at") ||
                number(&s, &base) != 0 || !word_is(&s, "size") || number(&s, &size) != 0)
                f->bad++;
            f->regions++;
        } else if (word_is(&s, "summary:")) {
            parse_summary(&s, f);
        } else {
            parse_block(&s, f, w, &wi);
        }
        at = nl + 1;
    }
    if (wi != w->n)
        f->bad++;
}

static int contains(const char *text, size_t len, const char *what)
{
    size_t n = text_len(what);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(text + i, what, n) == 0)
            return 1;
    return 0;
}

static void dump_matches(struct heap *h, size_t regions, size_t pads)
{
    static struct walk w;
    struct dump_facts f;
    struct mem_stats s;
    dump_len = 0;
    dump_overflow = 0;
    heap_dump(h, dump_sink, NULL);
    REQUIRE(!dump_overflow && dump_len > 0);
    heap_stats(h, &s);
    walk_take(h, &w);
    parse_dump(&f, &w);
    if (f.bad)
        case_printf("dump: %zu unparseable or mismatched lines", (size_t)f.bad);
    CHECK(f.bad == 0);
    CHECK(f.summary == 1 && f.check_ok);
    CHECK(f.pad_lines == pads);
    CHECK(f.regions == regions && f.sum_regions == regions && s.region_count == regions);
    CHECK(f.lines == f.regions + f.used_lines + f.free_lines + f.pad_lines + 1);
    CHECK(f.used_lines == s.used_blocks && f.sum_ublocks == s.used_blocks);
    CHECK(f.free_lines == s.free_blocks && f.sum_fblocks == s.free_blocks);
    CHECK(f.used_bytes == s.used_bytes && f.sum_used == s.used_bytes);
    CHECK(f.free_bytes == s.free_bytes && f.sum_free == s.free_bytes);
    CHECK(f.sum_total == s.total_bytes);
    CHECK(f.largest_line == s.largest_free && f.sum_largest == s.largest_free);
}

void case_dump_parse(void)
{
    static void *p[40];
    static struct walk w;
    REQUIRE(fragment(&heap, p, 40) == 0);
    dump_matches(&heap, 1, 0);
    free_all(&heap, p, 40);
    dump_matches(&heap, 1, 0);
    /* an aligned block with a 16-byte gap in front, which stays a free block of its own: a
     * filler first, so that the free rest of the heap starts 16 bytes before a 64-aligned
     * payload */
    walk_take(&heap, &w);
    REQUIRE(w.n > 0 && !w.b[w.n - 1].used);
    uintptr_t top = w.b[w.n - 1].ptr;
    size_t fb = T_MIN_BLOCK;
    while (t_align_up(top + fb, 64) - (top + fb) != 16)
        fb += 16;
    void *filler = heap_alloc(&heap, fb - T_WORD);
    void *aligned = heap_aligned_alloc(&heap, 64, 100);
    VALID(&heap);
    REQUIRE(filler && aligned);
    CHECK((uintptr_t)aligned == top + fb + 16);
    dump_matches(&heap, 1, 0);
    /* then holes after it */
    for (size_t i = 0; i < 40; i++) {
        p[i] = heap_alloc(&heap, 16 + (i * 53) % 400);
        REQUIRE(p[i]);
    }
    for (size_t i = 0; i < 40; i += 3) {
        CHECK(heap_free(&heap, p[i]) == 0);
        p[i] = NULL;
    }
    VALID(&heap);
    dump_matches(&heap, 1, 0);
    /* a second region shows up as its own section */
    REQUIRE(heap_add_region(&heap, case_arena_big, 16384) == 0);
    VALID(&heap);
    dump_matches(&heap, 2, 0);

    /* a broken heap says so in its summary (the blocks cannot break it: its own state can) */
    heap.used_bytes += 16;
    dump_len = 0;
    heap_dump(&heap, dump_sink, NULL);
    heap.used_bytes -= 16;
    CHECK(dump_len > 0 && !contains(dump_text, dump_len, "check ok") &&
          contains(dump_text, dump_len, " problems\n"));
    VALID(&heap);

    CHECK(heap_free(&heap, aligned) == 0 && heap_free(&heap, filler) == 0);
    free_all(&heap, p, 40);
    dump_matches(&heap, 2, 0);
}
