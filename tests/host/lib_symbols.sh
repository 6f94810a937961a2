#!/usr/bin/env bash
# lib_symbols.sh - lib/ may call memcpy, memmove, memset, memcmp and the seam (seam_*), nothing
# else outside itself: the platform provides those four and implements the seam. Given lib's object files, list the symbols they
# leave undefined that none of them defines, and fail on any other than those.
# usage: tests/host/lib_symbols.sh build/host/tree/lib/*.o
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 OBJECT..." >&2; exit 2; }
defined=$(nm --defined-only "$@" | awk 'NF == 3 { print $3 }' | sort -u)
undefined=$(nm -u "$@" | awk '$1 == "U" { print $2 }' | sort -u)
outside=$(comm -23 <(echo "$undefined") <(echo "$defined"))
bad=$(grep -Ev '^(memcpy|memmove|memset|memcmp|seam_[A-Za-z0-9_]+)?$' <<<"$outside" || true)
if [ -n "$bad" ]; then
    echo "lib-symbols: lib/ uses symbols from outside itself:" >&2
    sed 's/^/  /' <<<"$bad" >&2
    exit 1
fi
echo "lib-symbols: lib/ calls only:" $outside
