#!/bin/bash
# smoke.sh - `make heapmap-smoke`: heapmap on a short generated trace, plain and gzip, with heap_check
# at every sample (in a 64 MiB arena, as heap_check scans the region's whole start bitmap); the SVG
# must parse as XML and draw both colours. Then the error paths: each bad input must give exactly
# one "heapmap: ..." line on stderr, status 1 (not a crash), and no SVG.
#   usage: smoke.sh path/to/heapmap work-dir
set -euo pipefail
bin=$1 d=$2
used_colour='#2f6db5' free_colour='#f5a142'   # COLOUR_USED and COLOUR_FREE in heapmap.c
fail() { echo "heapmap-smoke: $*" >&2; exit 1; }

rm -rf "$d"
mkdir -p "$d"
awk -f "$(dirname "$0")/smoke-trace.awk" > "$d/smoke.rep"
gzip -c "$d/smoke.rep" > "$d/smoke.rep.gz"
"$bin" -c -a 64M -s 300 -t smoke -o "$d/plain.svg" "$d/smoke.rep" > "$d/plain.txt"
"$bin" -c -a 64M -s 300 -t smoke -o "$d/gz.svg" "$d/smoke.rep.gz" > "$d/gz.txt"
cmp -s "$d/plain.svg" "$d/gz.svg" || fail "the plain and the gzip trace draw differently"

python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' "$d/plain.svg" ||
    fail "$d/plain.svg is not well-formed XML"
for c in "$used_colour" "$free_colour"; do
    grep -q "fill=\"$c\"" "$d/plain.svg" || fail "colour $c missing from $d/plain.svg"
done
grep -q "id=\"used\" fill=\"$used_colour\" shape-rendering=\"crispEdges\" d=\"M" "$d/plain.svg" ||
    fail "no used memory drawn in $d/plain.svg"
grep -q "id=\"free\" fill=\"$free_colour\" shape-rendering=\"crispEdges\" d=\"M" "$d/plain.svg" ||
    fail "no free memory drawn in $d/plain.svg"

printf 'a 0 10\na 1 20\nf 0\nx 1\n'      > "$d/malformed.rep"
printf 'a 0 10\na 1 2O\n'                > "$d/letter-o.rep"
printf 'a 0 10\nf 0\nf 0\n'              > "$d/double-free.rep"
printf 'a 0 10\nr 7 20\n'                > "$d/unknown.rep"
printf 'a 0 10\na 0 20\n'                > "$d/twice.rep"
printf 'a 0 99999999999999999999\n'      > "$d/huge.rep"
printf 'a 0 4000000\n'                   > "$d/full.rep"     # larger than the 2 MiB arena below
printf '\x7fELF\x00\x01\x02\n'           > "$d/binary.rep"
: > "$d/empty.rep"
head -c 300 "$d/smoke.rep.gz" > "$d/truncated.rep.gz"
for t in missing.rep malformed.rep letter-o.rep double-free.rep unknown.rep twice.rep huge.rep full.rep \
         binary.rep empty.rep truncated.rep.gz; do
    rc=0
    "$bin" -a 2M -o "$d/bad.svg" "$d/$t" > /dev/null 2> "$d/err.txt" || rc=$?
    if [ "$rc" != 1 ] || [ "$(wc -l < "$d/err.txt")" != 1 ] || ! grep -q '^heapmap: ' "$d/err.txt"; then
        fail "$t: expected one 'heapmap: ' line and status 1, got status $rc and: $(cat "$d/err.txt")"
    fi
    [ ! -e "$d/bad.svg" ] || fail "$t: an SVG was written for a bad trace"
done
echo "heapmap-smoke: ok ($(cat "$d/plain.txt"))"
