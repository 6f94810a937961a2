#!/usr/bin/env bash
# recipe.sh - the README's recipe for using lib/ in your own kernel names exactly the files of
# lib/files.mk's LIB_SRC, and exactly those files, compiled freestanding against a stub seam
# (tests/host/recipe_main.c), link and work.
# usage: tests/host/recipe.sh CC BUILD_DIR LIB_SRC...
set -euo pipefail
cc=$1 out=$2
shift 2
want=$(printf '%s\n' "$@" | sort)
line=$(grep -m1 -- '\*\*Compile\*\*' README.md) || { echo "recipe: README has no **Compile** step" >&2; exit 1; }
named=$(grep -o 'lib/[a-z_]*\.c' <<<"$line" | sort)
if [ "$named" != "$want" ]; then
    echo "recipe: README's **Compile** step names other files than lib/files.mk's LIB_SRC:" >&2
    diff <(echo "$want") <(echo "$named") | sed 's/^/  /' >&2 || true
    exit 1
fi
mkdir -p "$out"
objs=()
for f in $named; do
    o="$out/$(basename "${f%.c}").o"
    "$cc" -std=c11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin -Ilib -c "$f" -o "$o"
    objs+=("$o")
done
"$cc" -std=c11 -Wall -Wextra -Werror -O2 -Ilib tests/host/recipe_main.c "${objs[@]}" -o "$out/recipe"
"$out/recipe"
echo "recipe: the README's $(wc -w <<<"$named") files compile freestanding, link against a stub seam and work"
