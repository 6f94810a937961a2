#!/usr/bin/env python3
"""trace-check.py - validate KHEAP_TRACE files: the tests/traces format, ids dense from 0 in order of
first allocation, r/f only on live ids, the trace ends empty, and the header's counts (suggested
heap size = 2 x peak live bytes, ids, operations, weight 1) match the body.
A trace whose recording stopped (record memory ran out) ends with the frees of the blocks live then
and a last line "# kheap: trace stopped after record N: why"; it fails unless --allow-stopped, and
then only 'f' records may follow record N.
usage: trace-check.py [--allow-stopped] FILE...
prints one summary line per file; exit status 1 on a problem"""
import re, sys

STOP = re.compile(r"# kheap: trace stopped after record (\d+): \S")

def check(path, allow_stopped):
    with open(path) as f:
        head = [int(f.readline()) for _ in range(4)]
        live, next_id, ops, cur, peak, stopped = {}, 0, 0, 0, 0, None
        for n, line in enumerate(f, 5):
            if stopped is not None:
                return "line %d: %r after the stop marker" % (n, line.strip())
            if line.startswith("#"):
                m = STOP.match(line)
                if not m:
                    return "line %d: %r is not a stop marker" % (n, line.strip())
                stopped = (int(m.group(1)), line[2:].strip())
                continue
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
    if stopped is not None:
        if not allow_stopped:
            return stopped[1]
        with open(path) as f:
            body = f.read().splitlines()[4:4 + ops]
        if stopped[0] > ops or any(not r.startswith("f ") for r in body[stopped[0]:]):
            return "records other than frees after record %d, where it says it stopped" % stopped[0]
        return (None, stopped[1])
    return None

args = sys.argv[1:]
allow = bool(args) and args[0] == "--allow-stopped"
if allow:
    args = args[1:]
bad = 0
for path in args:
    err = check(path, allow)
    note = ""
    if isinstance(err, tuple):
        err, note = err[0], " (%s)" % err[1]
    print("%s %s%s%s" % ("ok  " if not err else "FAIL", path, ": " + err if err else "", note))
    bad += err is not None
sys.exit(1 if bad or not args else 0)
