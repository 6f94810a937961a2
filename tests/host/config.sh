#!/usr/bin/env bash
# config.sh - the host objects follow the compiler: a build with another CC (or other flags)
# compiles every object again instead of linking what the last compiler left in build/ (`make
# bench` after `make host-test CC=clang` ran clang's objects, whose DWARF 5 valgrind cannot
# read). The second CC is the same compiler with one more -D, so the test needs no clang.
# usage: tests/host/config.sh MAKE CC BUILD_DIR TARGET...  (a target's leading @ is BUILD_DIR)
set -uo pipefail
make=$1 cc=$2 dir=$3
shift 3
targets=("${@/#@/$dir}")
probe="$cc -DKHEAP_CONFIG_PROBE=1"
compiles() {   # compiles CC: build the targets with CC into dir; print how many files it compiled
    local c=$1 out
    shift
    out=$("$make" --no-print-directory BUILD="$dir" CC="$c" "$@" 2>&1) || {
        echo "$out" >&2
        echo "config: make $* with CC='$c' failed" >&2
        exit 1
    }
    grep -c -E -- ' -c | tests/bench/bench.c ' <<<"$out"
}
rm -rf "$dir"
all=$(compiles "$cc" "${targets[@]}")
again=$(compiles "$cc" "${targets[@]}")
other=$(compiles "$probe" "${targets[@]}")
back=$(compiles "$cc" "${targets[@]}")
fail=0
[ "$all" -gt 0 ] || { echo "config: the first build compiled nothing" >&2; fail=1; }
[ "$again" = 0 ] || { echo "config: nothing changed, yet $again files were compiled again" >&2; fail=1; }
[ "$other" = "$all" ] || { echo "config: CC='$probe' compiled $other of the $all files" >&2; fail=1; }
[ "$back" = "$all" ] || { echo "config: CC='$cc' again compiled $back of the $all files" >&2; fail=1; }
rm -rf "$dir"
[ $fail = 0 ] && echo "config: a change of compiler or flags compiles all $all files of ${targets[*]} again"
exit $fail
