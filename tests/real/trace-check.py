#!/usr/bin/env python3
"""trace-check.py - validate KHEAP_TRACE files: the tests/traces format, ids dense from 0 in order of
first allocation, r/f only on live ids, the trace ends empty, and the header's counts (suggested
heap size = 2 x peak live bytes, ids, operations, weight 1) match the body.
usage: trace-check.py FILE...      prints one summary line per file; exit status 1 on a problem"""
import sys

def check(path):
    with open(path) as f:
        head = [int(f.readline()) for _ in range(4)]
        live, next_id, ops, cur, peak = {}, 0, 0, 0, 0
        for n, line in enumerate(f, 5):
            parts = line.split()
            op, i = parts[0], int(parts[1])
            ops += 1
            if op == "a":
                if i != next_id:
                    return "line %d: id %d, expected %d" % (n, i, next_id)
                next_id += 1
                live[i] = int(parts[2])
                cur += live[i]
            elif op in "rf" and i in live:
                cur -= live.pop(i)
                if op == "r":
                    live[i] = int(parts[2])
                    cur += live[i]
            else:
                return "line %d: %r on an id that is not live" % (n, line.strip())
            peak = max(peak, cur)
    if live:
        return "%d blocks still live at the end" % len(live)
    want = [2 * peak, next_id, ops, 1]
    if head != want:
        return "header %s, body says %s" % (head, want)
    return None

bad = 0
for path in sys.argv[1:]:
    err = check(path)
    print("%s %s%s" % ("ok  " if not err else "FAIL", path, ": " + err if err else ""))
    bad += err is not None
sys.exit(1 if bad or not sys.argv[1:] else 0)
