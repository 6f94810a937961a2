#!/usr/bin/env bash
# cases.sh - the real programs that tests/real/run (make real-test) and tests/real/bench-real run,
# under glibc's malloc and under libkheap.so, with the same deterministic workloads.
#
# usage: cases.sh list                       names, one per line
#        cases.sh info NAME                  "min_allocs min_aligned what it stresses"
#        cases.sh inputs DIR                 generate every input into DIR (deterministic, no network),
#                                            unless DIR holds them already for this cases.sh
#        cases.sh run NAME glibc|kheap IN WORK
#            run one case with inputs from IN, scratch files in WORK; what it prints on stdout is
#            compared between the two allocators. Under kheap, the programs themselves (never the
#            helpers that checksum their files) run with LD_PRELOAD=$KHEAP_SO and $KHEAP_ENV.
set -euo pipefail
export LC_ALL=C TZ=UTC

# name|min alloc_count (summed over the case's processes)|min aligned calls|what it stresses
CASES='
python3|200000|0|many small objects: dicts, lists, strings (PYTHONMALLOC=malloc), json, re
perl|200000|0|many small objects: a 60,000-key hash, arrays of arrays, sort, join/split
jq|100000|0|realloc growth: parsing and rebuilding a 4 MB JSON array, group_by, sort_by
sqlite3|100000|0|small objects and page cache: 30,000 inserts, index, group by, join, update
git|20000|0|realloc growth (strbufs), zlib, many short processes: 12 commits, log -p, repack, fsck
xz|50|0|large blocks (8 MiB dictionary, ~100 MiB per thread), 2 threads (-T2)
sort|50|0|large blocks (50 MB buffer), 2 threads (--parallel=2)
aomenc|100000|0|2 threads, big frame buffers next to churn of small blocks (AV1 encoding)
dav1d|150|50|aligned allocations (posix_memalign, 64-byte aligned picture and pool buffers), 2 threads
gm|1000|50|aligned allocations (posix_memalign pixel caches), 2 OpenMP threads, big images
rg|20000|1|2 threads (Rust): a parallel directory walk and search, small objects
'

case_field() { # NAME FIELD(2..4)
    local line
    line=$(grep "^$1|" <<<"$CASES") || { echo "cases.sh: no case '$1'" >&2; exit 2; }
    cut -d'|' -f"$2" <<<"$line"
}

# ---- Inputs -------------------------------------------------------------------------------------

make_inputs() {
    local dir=$1 py=/usr/bin/python3
    mkdir -p "$dir"
    # Random but seeded: the same bytes on every machine (Python's Mersenne Twister is stable).
    "$py" - "$dir" <<'EOF'
import json, random, sys, os
d = sys.argv[1]
rnd = random.Random(1234)
words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9)))
         for _ in range(5000)]
# jq: an array of 30,000 objects
docs = [{"id": i, "k": rnd.choice(words[:300]), "v": rnd.randint(0, 10**6),
         "tags": rnd.sample(words, rnd.randint(0, 6)), "note": " ".join(rnd.sample(words, 8))}
        for i in range(30000)]
with open(os.path.join(d, "data.json"), "w") as f:
    json.dump(docs, f)
# sort: 1.5 million lines of words and numbers
with open(os.path.join(d, "lines.txt"), "w") as f:
    for i in range(1500000):
        f.write("%s %d %s\n" % (rnd.choice(words), rnd.randint(0, 10**9), rnd.choice(words)))
# xz: 8 MB of text with long-range repeats (so the big dictionary matters) and noise
with open(os.path.join(d, "text.txt"), "w") as f:
    block = [" ".join(rnd.choice(words) for _ in range(12)) for _ in range(4000)]
    out = 0
    while out < 8 << 20:
        line = rnd.choice(block) if rnd.random() < 0.7 else " ".join(rnd.choice(words) for _ in range(12))
        f.write(line + "\n")
        out += len(line) + 1
# aomenc: 24 frames of 320x240 synthetic video (y4m)
w, h, n = 320, 240, 24
with open(os.path.join(d, "in.y4m"), "wb") as f:
    f.write(b"YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg\n" % (w, h))
    for fr in range(n):
        f.write(b"FRAME\n")
        for y in range(h):
            f.write(bytes(((x * 3 + y * 2 + fr * 5 + ((x * y + fr * 7) >> 4)) & 255) for x in range(w)))
        for plane in range(2):
            for y in range(h // 2):
                f.write(bytes(((x + y * (plane + 1) + fr * 3) & 255) for x in range(w // 2)))
# git: a source tree of 400 files, and the edits of 12 commits
src = os.path.join(d, "src")
for i in range(400):
    sub = os.path.join(src, "dir%02d" % (i % 20))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "file%03d.txt" % i), "w") as f:
        for j in range(rnd.randint(50, 300)):
            f.write(" ".join(rnd.sample(words, 10)) + "\n")
with open(os.path.join(d, "edits.txt"), "w") as f:
    for c in range(12):
        for e in range(40):
            f.write("%d %d %d %s\n" % (c, rnd.randrange(400), rnd.randint(0, 40),
                                        " ".join(rnd.sample(words, 6))))
# rg: a tree of 3,000 files to search
tree = os.path.join(d, "tree")
for i in range(3000):
    sub = os.path.join(tree, "d%02d" % (i % 30), "e%d" % (i % 7))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%04d.c" % i), "w") as f:
        for j in range(rnd.randint(20, 120)):
            f.write("int %s_%d = %d; /* %s */\n" % (rnd.choice(words), j, rnd.randint(0, 9999),
                                                   " ".join(rnd.sample(words, 4))))
EOF
    # dav1d's input: aomenc's output under glibc (the encoder is deterministic).
    aomenc --quiet --cpu-used=8 --threads=2 --limit=24 -o "$dir/in.ivf" "$dir/in.y4m" 2>/dev/null
    # sqlite3's script
    cat >"$dir/sqlite.sql" <<'EOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v INTEGER, s TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000)
INSERT INTO t(k, v, s) SELECT 'k' || (x * 7919 % 997), x * 104729 % 1000003,
                              printf('%08x-%s', x * 2654435761 % 4294967296, hex(x * x)) FROM c;
COMMIT;
CREATE INDEX t_k ON t(k);
CREATE TABLE u AS SELECT k, count(*) AS n, sum(v) AS total, max(s) AS ms FROM t GROUP BY k;
UPDATE t SET s = s || '-' || k WHERE v % 3 = 0;
SELECT count(*), sum(length(s)) FROM t;
SELECT u.k, u.n, u.total FROM u ORDER BY u.total DESC LIMIT 5;
SELECT count(*) FROM t a JOIN t b ON a.k = b.k AND a.id < b.id AND a.v < b.v WHERE a.id % 50 = 0;
SELECT k, group_concat(id) FROM (SELECT k, id FROM t WHERE v < 5000 ORDER BY id) GROUP BY k ORDER BY k LIMIT 3;
DELETE FROM t WHERE v % 2 = 0;
VACUUM;
SELECT count(*), total(v) FROM t;
EOF
}

# ---- The cases -------------------------------------------------------------------------------------
# $K prefixes each program under test: empty for glibc, `env LD_PRELOAD=... KHEAP_...` for kheap.

run_python3() {
    PYTHONMALLOC=malloc PYTHONHASHSEED=0 $K /usr/bin/python3 - "$IN/data.json" <<'EOF'
import json, re, sys, collections
docs = json.load(open(sys.argv[1]))
for rnd in range(3):
    by = collections.defaultdict(list)
    for d in docs:
        by[d["k"]].append({"id": d["id"], "v": d["v"] + rnd, "t": tuple(d["tags"])})
    text = json.dumps(by, sort_keys=True)
    back = json.loads(text)
    words = collections.Counter(w for d in docs for w in re.findall(r"[a-z]+", d["note"]))
    pairs = sorted(((len(v), k) for k, v in back.items()), reverse=True)[:5]
    print(rnd, len(text), pairs, words.most_common(3))
    docs = [dict(d, note=d["note"].upper() if rnd % 2 else d["note"].lower()) for d in docs]
EOF
}

run_perl() {
    # shellcheck disable=SC2016  # perl's own variables
    PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 $K perl -e '
        my (%h, @rows);
        for my $i (1 .. 60000) {
            my $k = join("-", "key", $i * 7919 % 100003, $i % 97);
            $h{$k} .= "v$i,";
            push @rows, [$i, $k, $i * 104729 % 1000003, "x" x ($i % 50)];
        }
        my @s = sort { $a->[2] <=> $b->[2] || $a->[1] cmp $b->[1] } @rows;
        my $joined = join("|", map { "$_->[0]:$_->[1]" } @s[0 .. 20000]);
        my @parts = split /\|/, $joined;
        my %count; $count{length $_}++ for @parts;
        my $text = ""; $text .= "$_=$h{$_};" for sort keys %h;
        print scalar(keys %h), " ", scalar(@parts), " ", length($text), "\n";
        print join(",", map { "$_:$count{$_}" } sort { $a <=> $b } keys %count), "\n";
        print "$s[0][1] $s[-1][1]\n";'
}

run_jq() {
    $K jq -c 'group_by(.k) | map({k: .[0].k, n: length, v: (map(.v) | add),
                                   tags: (map(.tags[]) | unique | length)})
              | sort_by(-.v) | .[0:5]' "$IN/data.json"
    $K jq -c '[.[] | .note |= ascii_upcase | .tags |= sort] | sort_by(.note) | map(.id) | .[0:10]' "$IN/data.json"
    $K jq -r '.[] | [.id, .k, (.tags | join(";"))] | @tsv' "$IN/data.json" | md5sum
}

run_sqlite3() {
    $K sqlite3 :memory: <"$IN/sqlite.sql"
}

# Commit c's edits from edits.txt: insert a line of text into a file (a helper, under glibc).
apply_edits() {
    /usr/bin/python3 - "$IN/edits.txt" "$1" <<'EOF'
import sys
for line in open(sys.argv[1]):
    c, i, at, text = line.rstrip("\n").split(" ", 3)
    if c != sys.argv[2]:
        continue
    path = "dir%02d/file%03d.txt" % (int(i) % 20, int(i))
    lines = open(path).readlines()
    lines.insert(int(at), text + "\n")
    open(path, "w").writelines(lines)
EOF
}

run_git() {
    local repo=$WORK/repo
    export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK GIT_AUTHOR_NAME=kheap GIT_AUTHOR_EMAIL=kheap@example.org \
           GIT_COMMITTER_NAME=kheap GIT_COMMITTER_EMAIL=kheap@example.org
    rm -rf "$repo"
    cp -r "$IN/src" "$repo"
    cd "$repo"
    $K git init -q -b main .
    $K git add -A
    GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z' \
        $K git commit -q -m initial
    for c in $(seq 0 11); do
        apply_edits "$c"
        $K git add -A
        GIT_AUTHOR_DATE="2020-01-02T00:$c:00Z" GIT_COMMITTER_DATE="2020-01-02T00:$c:00Z" \
            $K git commit -q -m "commit $c"
    done
    $K git log -p --stat | md5sum
    $K git diff --stat HEAD~8 HEAD | tail -1
    $K git repack -a -d -q
    $K git fsck --no-progress
    $K git rev-parse HEAD
    $K git count-objects -v | grep -E '^(count|in-pack|packs)'
}

run_xz() {
    $K xz -T2 -6 --block-size=2MiB -c "$IN/text.txt" >"$WORK/text.xz"
    md5sum <"$WORK/text.xz"
    $K xz -T2 -dc "$WORK/text.xz" | md5sum
}

run_sort() {
    $K sort --parallel=2 -S 50M -k2,2n -k1,1 "$IN/lines.txt" | md5sum
    $K sort --parallel=2 -S 50M -u -k3,3 -k1,1 "$IN/lines.txt" | md5sum
}

run_aomenc() {
    $K aomenc --quiet --cpu-used=6 --threads=2 --row-mt=1 --limit=24 -o "$WORK/out.ivf" \
        "$IN/in.y4m"
    md5sum <"$WORK/out.ivf"
}

run_dav1d() {
    $K dav1d --quiet --threads 2 -i "$IN/in.ivf" -o "$WORK/out.y4m"
    md5sum <"$WORK/out.y4m"
    $K dav1d --quiet --threads 1 --framedelay 1 -i "$IN/in.ivf" -o "$WORK/out1.y4m"
    md5sum <"$WORK/out1.y4m"
}

run_gm() {
    local ops=(-swirl 180 -blur 0x2 -resize 150% -rotate 17 -charcoal 1 -implode 0.3 -sharpen 0x1)
    OMP_NUM_THREADS=2 $K gm convert -size 900x700 gradient:red-blue "${ops[@]}" ppm:- | md5sum
    OMP_NUM_THREADS=2 $K gm convert -size 600x600 xc:white -fill blue -draw 'circle 300,300 500,400' \
        -wave 20x120 -emboss 1 -median 2 -shade 30x30 ppm:- | md5sum
}

run_rg() {
    $K rg -j2 -c '[a-z]+_1[0-9] = [0-9]+' "$IN/tree" | sort
    $K rg -j2 --no-filename -o 'int [a-z]{6,}_[0-9]+' "$IN/tree" | sort | md5sum
    $K rg -j2 --files "$IN/tree" | wc -l
}

# ---- Main --------------------------------------------------------------------------------------------

case ${1:-} in
list)   grep -v '^$' <<<"$CASES" | cut -d'|' -f1 ;;
info)   echo "$(case_field "$2" 2) $(case_field "$2" 3) $(case_field "$2" 4)" ;;
inputs)
    stamp=$(md5sum <"$0" | cut -c1-32)
    if [ "$(cat "$2/.stamp" 2>/dev/null)" != "$stamp" ]; then
        echo "cases.sh: generating inputs in $2" >&2
        rm -rf "$2"
        make_inputs "$2"
        echo "$stamp" >"$2/.stamp"
    fi
    ;;
run)
    name=$2 alloc=$3 IN=$(realpath "$4") WORK=$(realpath "$5")
    case_field "$name" 1 >/dev/null
    case $alloc in
    glibc) K= ;;
    kheap) K="env LD_PRELOAD=${KHEAP_SO:?KHEAP_SO: path to libkheap.so} ${KHEAP_ENV:-}" ;;
    *)     echo "cases.sh: glibc or kheap, not '$alloc'" >&2; exit 2 ;;
    esac
    export IN WORK K
    cd "$WORK"
    "run_$name"
    ;;
*)  sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
