#!/usr/bin/env python3
"""run.py - the `make bench` driver: kheap against its previous design (rbtree), the sorted-list
first fit, the textbook first fit and glibc, in one run.

Runs build/bench/bench-{kheap,rbtree,list,glibc} (one process per allocator, workload, mode and
run; see bench.c for what each mode measures), interleaved: for each run, for each workload,
those four allocators one after another (their order rotates from run to run), each in mode
time and mode lat. The textbook allocators (bench-textbook16, bench-textbook8) are space
baselines: they run in mode lat only, once per workload in the first run (their space figure is
deterministic). Then callgrind instruction counts, the i386 .text size of the allocator core,
and tests/real/bench-real if it exists. Prints the tables on stdout, progress on stderr, and
writes OUT/results.csv, OUT/results.json, OUT/callgrind.csv, OUT/text.txt.

  run.py --bin build/bench --out build/bench --traces tests/traces --core a.o b.o ...
         [--quick | --smoke] [--runs R] [--cap S] [--space-cap S]
"""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ALLOCS = ["kheap", "rbtree", "list", "textbook16", "textbook8", "glibc"]
TIMED = ["kheap", "rbtree", "list", "glibc"]   # time and lat, every run: the time table
SPACE_ONLY = ["textbook16", "textbook8"]       # lat once (first run): their space figure
CALLGRIND = ["kheap", "rbtree", "list", "glibc"]
LABEL = {"kheap": "kheap", "rbtree": "rbtree (6dbb346)", "list": "list (sorted)",
         "textbook16": "textbook16", "textbook8": "textbook8", "glibc": "glibc malloc"}
CHECKED = ["kheap", "rbtree", "list", "textbook16", "textbook8"]  # take --check in smoke runs

# The allocator's own entry points, for callgrind's --toggle-collect (inclusive of callees).
ENTRY = {
    "kheap": ["heap_alloc", "heap_free"],
    "rbtree": ["heap_alloc", "heap_free"],
    "list": ["heap_alloc", "heap_free"],
    "glibc": ["malloc", "free"],
}

# Symbols of the i386 objects that are not the allocation core: error texts and the default
# report, the debug fill, giving regions back, and the checker's hooks (heap_check.c excluded).
NONCORE = {
    "mem_strerror": "error text",
    "default_handler": "default misuse report",
    "buffer_write": "default misuse report",
    "mem_set_error_handler": "error handler setter",
    "heap_set_poison": "debug fill",
    "poison": "debug fill",
    "poison_intact": "debug fill",
    "heap_remove_region": "region removal (host growth)",
    "heap_region_if_empty": "region removal (host growth)",
    "region_empty": "region removal (host growth)",
    "heap_region_extend": "region extension (host growth)",
    "region_extend": "region extension (host growth)",
    "heap_growth_size": "region extension (host growth)",
    "heap_move_size": "growing the heap for a moving realloc (host growth)",
    "rb_check": "checker",
    "check_subtree": "checker",
    "free_index_check": "checker",
    "heap_index_name": "checker",
}

CONFIGS = {
    # pairs: measured churn pairs; frag: rounds; cap: seconds per process; cg: callgrind pairs
    "full": dict(runs=3, pairs=1_000_000, mixed_n=2000, frag=200, cap=10.0,
                 churn_n=[100, 1000, 10_000, 100_000], traces=None, cg_pairs=10_000, cg_n=[1000, 10_000],
                 cg_warmup=2),
    "quick": dict(runs=3, pairs=100_000, mixed_n=2000, frag=20, cap=1.0,
                  churn_n=[100, 1000, 10_000, 100_000],
                  traces=["git-log-p.rep.gz", "cc1-O2.rep.gz"],
                  cg_pairs=1000, cg_n=[1000, 10_000], cg_warmup=1),
    "smoke": dict(runs=1, pairs=2000, mixed_n=100, frag=2, cap=2.0, churn_n=[100, 1000],
                  traces=["git-log-p.rep.gz"], cg_pairs=0, cg_n=[]),
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_line(text):
    lines = [l for l in text.strip().splitlines() if l.startswith("alloc=")]
    if not lines:
        raise RuntimeError("no result line in output:\n" + text)
    out = {}
    for kv in lines[-1].split():
        k, _, v = kv.partition("=")
        try:
            out[k] = int(v)
        except ValueError:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def pinning():
    """Pin every measured process to the last CPU when taskset exists: less migration noise."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str((os.cpu_count() or 1) - 1)]
    return []


def run_bench(args, alloc, mode, wl, extra, cap):
    cmd = pinning() + [os.path.join(args.bin, "bench-" + alloc), mode, wl] + extra
    if cap:
        cmd += ["--cap", str(cap)]
    if args.smoke and alloc in CHECKED:
        cmd += ["--check"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=(cap or 60) + 300)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return parse_line(p.stdout)


def workloads(cfg, traces_dir):
    wls = []
    for n in cfg["churn_n"]:
        wls.append(dict(name="churn %s" % fmt_n(n), arg="churn:%d" % n,
                        extra=["--pairs", str(cfg["pairs"])], planned_ops=2 * cfg["pairs"]))
    wls.append(dict(name="mixed %s" % fmt_n(cfg["mixed_n"]), arg="mixed:%d" % cfg["mixed_n"],
                    extra=["--pairs", str(cfg["pairs"])], planned_ops=2 * cfg["pairs"]))
    wls.append(dict(name="frag", arg="frag", extra=["--pairs", str(cfg["frag"])], planned_ops=None))
    names = cfg["traces"]
    if names is None:
        names = sorted(f for f in os.listdir(traces_dir) if f.endswith(".rep.gz") or f.endswith(".rep"))
    for f in names:
        path = os.path.join(traces_dir, f)
        if not os.path.exists(path):
            continue
        wls.append(dict(name=re.sub(r"\.rep(\.gz)?$", "", f), arg="trace:" + path, extra=[], planned_ops=None))
    return wls


def fmt_n(n):
    return "%dk" % (n // 1000) if n >= 1000 and n % 1000 == 0 else str(n)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---- Callgrind ------------------------------------------------------------------------------------

def callgrind_total(args, alloc, n, warmup, pairs, tag):
    out = os.path.join(args.out, "callgrind", "%s.%d.%d.out" % (alloc, n, pairs))
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, "--collect-atstart=no"]
    cmd += ["--toggle-collect=" + f for f in ENTRY[alloc]]
    cmd += [os.path.join(args.bin, "bench-" + alloc), "count", "churn:%d" % n,
            "--warmup", str(warmup), "--pairs", str(pairs)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), p.stderr[-2000:]))
    with open(out) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in " + out)


def callgrind(args, cfg):
    res = {}
    if not cfg["cg_n"]:
        return res, "skipped (smoke)"
    if not shutil.which("valgrind"):
        return res, "skipped: valgrind not installed"
    os.makedirs(os.path.join(args.out, "callgrind"), exist_ok=True)
    k = cfg["cg_pairs"]
    for n in cfg["cg_n"]:
        for a in CALLGRIND:
            t0 = time.time()
            base = callgrind_total(args, a, n, cfg["cg_warmup"] * n, 0, "base")
            full = callgrind_total(args, a, n, cfg["cg_warmup"] * n, k, "full")
            res[(a, n)] = (full - base) / k
            log("[callgrind] %-6s churn:%-6d %8.1f instructions/pair  (%.1f s)" % (a, n, res[(a, n)], time.time() - t0))
    return res, None


# ---- i386 .text ---------------------------------------------------------------------------------------

def text_sizes(args):
    if not args.core:
        return None
    info = {"objects": {}, "symbols": [], "size_tool": shutil.which("size") or "size"}
    for obj in args.core:
        p = subprocess.run(["size", "-A", obj], capture_output=True, text=True, check=True)
        text = 0
        for line in p.stdout.splitlines():
            parts = line.split()
            if parts and (parts[0] == ".text" or parts[0].startswith(".text.")):
                text += int(parts[1])
        info["objects"][os.path.basename(obj)] = text
        p = subprocess.run(["nm", "--size-sort", "-S", obj], capture_output=True, text=True, check=True)
        for line in p.stdout.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2] in "tT":
                info["symbols"].append(dict(obj=os.path.basename(obj), name=parts[3], size=int(parts[1], 16),
                                            core=parts[3] not in NONCORE, why=NONCORE.get(parts[3], "")))
    info["total"] = sum(info["objects"].values())
    info["noncore"] = sum(s["size"] for s in info["symbols"] if not s["core"])
    info["core"] = info["total"] - info["noncore"]
    return info


# ---- Output -------------------------------------------------------------------------------------------

def f_ns(x):
    if x is None:
        return "-"
    if x >= 100_000:
        return "%.0fk" % (x / 1000)
    if x >= 10_000:
        return "%.1fk" % (x / 1000)
    if x >= 100:
        return "%.0f" % x
    return "%.1f" % x


def f_us(x):
    if x is None:
        return "-"
    us = x / 1000
    return "%.0f" % us if us >= 100 else "%.1f" % us


def f_ratio(x):
    if x is None:
        return "-"
    return "%.0fx" % x if x >= 100 else "%.1fx" % x if x >= 10 else "%.2fx" % x


def f_eff(x, capped=False):
    if not x:
        return "-"
    t = ("%.3f" % x).lstrip("0")
    return t[:-1] + "*" if capped else t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--traces", required=True)
    ap.add_argument("--core", nargs="*", default=[])
    ap.add_argument("--cc", default="gcc")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--no-real", action="store_true", help="do not run tests/real/bench-real")
    ap.add_argument("--real-args", default="", help="arguments for tests/real/bench-real (its .so, the build dir)")
    ap.add_argument("--cap", type=float)
    ap.add_argument("--space-cap", type=float, help="cap of the textbook space runs (default: --cap)")
    args = ap.parse_args()
    level = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = dict(CONFIGS[level])
    if args.runs:
        cfg["runs"] = args.runs
    if args.cap:
        cfg["cap"] = args.cap
    cfg["space_cap"] = args.space_cap or cfg["cap"]
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    load_start = loadavg()

    wls = workloads(cfg, args.traces)
    total = cfg["runs"] * len(wls) * len(TIMED) * 2 + len(wls) * len(SPACE_ONLY)
    done = 0
    raw = {}  # (workload, alloc, mode) -> [result per run]
    log("bench: %s, %d run(s) x %d workloads x %d allocators x 2 modes + %d space-only allocators x %d "
        "workloads = %d processes, cap %.1f s each (textbook space runs: %.1f s)"
        % (level, cfg["runs"], len(wls), len(TIMED), len(SPACE_ONLY), len(wls), total, cfg["cap"],
           cfg["space_cap"]))
    for r in range(cfg["runs"]):
        k = r % len(TIMED)
        order = TIMED[k:] + TIMED[:k] + (SPACE_ONLY if r == 0 else [])
        for w in wls:
            for a in order:
                for mode in ("time", "lat") if a in TIMED else ("lat",):
                    t0 = time.time()
                    cap = cfg["cap"] if a in TIMED else cfg["space_cap"]
                    res = run_bench(args, a, mode, w["arg"], w["extra"], cap)
                    raw.setdefault((w["name"], a, mode), []).append(res)
                    done += 1
                    extra = ("%.1f ns/pair" % res["ns_pair"]) if mode == "time" else \
                            ("p99 %.0f ns, eff %.3f" % (res["lat_p99_ns"], res["eff"]))
                    log("[%3d/%d] run %d/%d %-16s %-10s %-4s %6.2f s  %s%s"
                        % (done, total, r + 1, cfg["runs"], w["name"], a, mode, time.time() - t0, extra,
                           "  (capped: %d ops)" % res["ops"] if res["capped"] else ""))

    # ---- aggregate
    rows = []
    for w in wls:
        for a in ALLOCS:
            t = raw.get((w["name"], a, "time"), [])
            l = raw[(w["name"], a, "lat")]
            row = dict(workload=w["name"], arg=w["arg"], alloc=a, runs=len(t) or len(l),
                       ns_pair=med([x["ns_pair"] for x in t]),
                       ns_pair_runs=[x["ns_pair"] for x in t],
                       wall_ns_pair=med([x["wall_ns_pair"] for x in t]),
                       capped_runs=sum(1 for x in t if x["capped"]),
                       lat_runs=len(l),
                       lat_capped_runs=sum(1 for x in l if x["capped"]),
                       ops=int(med([x["ops"] for x in (t or l)])),
                       planned_ops=w["planned_ops"],
                       capped=any(x["capped"] for x in t),
                       lat_p50_ns=med([x["lat_p50_ns"] for x in l]),
                       lat_p99_ns=med([x["lat_p99_ns"] for x in l]),
                       lat_max_ns=med([x["lat_max_ns"] for x in l]),
                       lat_max_ns_worst=max(x["lat_max_ns"] for x in l),
                       lat_ops=int(med([x["ops"] for x in l])),
                       lat_capped=any(x["capped"] for x in l),
                       peak_live=int(med([x["peak_live"] for x in l])),
                       extent=int(med([x["extent"] for x in l])),
                       eff=med([x["eff"] for x in l]),
                       timer_overhead_ticks=l[0]["timer_overhead_ticks"], tsc_ghz=l[0]["tsc_ghz"],
                       tsc_step=l[0]["tsc_step"])
            rows.append(row)
    by = {(r["workload"], r["alloc"]): r for r in rows}

    # uncapped runs of the same workload: the full op count, for "x of y"
    for r in rows:
        if r["planned_ops"] is None:
            full = [o["lat_ops"] for o in rows if o["workload"] == r["workload"] and not o["lat_capped"]]
            r["planned_ops"] = max(full) if full else None

    cg, cg_note = callgrind(args, cfg) if not args.smoke else ({}, "skipped (smoke)")
    text = text_sizes(args)

    # ---- files
    fields = ["workload", "alloc", "runs", "ns_pair", "ns_pair_runs", "wall_ns_pair", "ops", "planned_ops", "capped",
              "capped_runs",
              "lat_p50_ns", "lat_p99_ns", "lat_max_ns", "lat_max_ns_worst", "lat_ops", "lat_capped", "lat_runs",
              "lat_capped_runs", "peak_live", "extent", "eff"]
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(fields)
        for r in rows:
            wr.writerow([";".join("%.2f" % v for v in r[k]) if k == "ns_pair_runs" else
                         ("%.4f" % r[k] if k == "eff" else "%.2f" % r[k] if isinstance(r[k], float) else r[k])
                         for k in fields])
    with open(os.path.join(args.out, "callgrind.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["alloc", "live_blocks", "instructions_per_pair"])
        for (a, n), v in sorted(cg.items()):
            wr.writerow([a, n, "%.1f" % v])

    # ---- time table
    out = []
    p = out.append
    width = 132
    p("=" * width)
    p("kheap benchmark (%s): %s, %s, %s, CC=%s, glibc %s"
      % (level, datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), cpu_model(), platform.release(),
         args.cc, platform.libc_ver()[1]))
    p("%d run(s) per figure, interleaved; ns/pair = median; cap %.1f s per process (textbook space runs: %.1f s, "
      "one run); processes pinned: %s" % (cfg["runs"], cfg["cap"], cfg["space_cap"], "yes" if pinning() else "no"))
    p("source: %s" % source_state())
    ratios = [r["wall_ns_pair"] / r["ns_pair"] for r in rows if r["ns_pair"] and r["wall_ns_pair"]]
    p("machine load: loadavg %s at start, %s at end; measured phases' wall/CPU time median %.2f, worst %.2f"
      % (load_start, loadavg(), statistics.median(ratios) if ratios else 0, max(ratios) if ratios else 0))
    p("=" * width)
    hdr1 = "%-16s|" % "Time" + "".join("%-24s|" % (" " + LABEL[a]) for a in TIMED) + \
           " %6s  %6s  %6s" % ("kheap/", "list/", "kheap/")
    hdr2 = "%-16s|" % "workload" + ("%9s %6s %6s |" % ("ns/pair", "p99 ns", "max us")) * len(TIMED) + \
           " %6s  %6s  %6s" % ("rbtree", "kheap", "glibc")
    p(hdr1)
    p(hdr2)
    p("-" * width)
    notes = []
    for w in wls:
        line = "%-16s|" % w["name"]
        for a in TIMED:
            r = by[(w["name"], a)]
            star = "*" if r["capped"] else " "
            line += "%8s%s %6s %6s |" % (f_ns(r["ns_pair"]), star, f_ns(r["lat_p99_ns"]), f_us(r["lat_max_ns"]))
        k, rb, l, g = (by[(w["name"], a)] for a in ("kheap", "rbtree", "list", "glibc"))
        line += " %6s  %6s  %6s" % (f_ratio(k["ns_pair"] / rb["ns_pair"]), f_ratio(l["ns_pair"] / k["ns_pair"]),
                                    f_ratio(k["ns_pair"] / g["ns_pair"]))
        p(line)
        for a in ALLOCS:
            r = by[(w["name"], a)]
            if r["capped"] or r["lat_capped"]:
                what = []
                if r["capped"]:
                    what.append("time runs: %d of %d stopped at the %.1f s cap, median %s of %s ops done"
                                % (r["capped_runs"], r["runs"], cfg["cap"], "{:,}".format(r["ops"]),
                                   "{:,}".format(r["planned_ops"]) if r["planned_ops"] else "?"))
                if r["lat_capped"]:
                    what.append("lat/space runs: %d of %d capped, median %s ops done (p99, max, eff are for that part)"
                                % (r["lat_capped_runs"], r["lat_runs"], "{:,}".format(r["lat_ops"])))
                notes.append("%s %s: %s" % (a, w["name"], "; ".join(what)))
    p("-" * width)

    # ---- space table
    traces = [w["name"] for w in wls if w["arg"].startswith("trace:")]
    p("%-16s|" % "Space (eff)" + "".join("%11s" % a for a in ALLOCS) + "  | kheap - textbook16")
    p("-" * width)
    for w in wls:
        line = "%-16s|" % w["name"]
        for a in ALLOCS:
            r = by[(w["name"], a)]
            line += "%11s" % f_eff(r["eff"], r["lat_capped"])
        k, t16 = by[(w["name"], "kheap")], by[(w["name"], "textbook16")]
        line += "  | %+.3f%s" % (k["eff"] - t16["eff"], "*" if k["lat_capped"] or t16["lat_capped"] else "")
        p(line)
    means = {}
    if traces:
        line = "%-16s|" % ("mean, %d trace%s" % (len(traces), "s" if len(traces) > 1 else ""))
        for a in ALLOCS:
            effs = [by[(t, a)]["eff"] for t in traces]
            part = any(by[(t, a)]["lat_capped"] for t in traces)
            means[a] = dict(mean=statistics.mean(effs), partial=part)
            line += "%11s" % f_eff(means[a]["mean"], part)
        line += "  | %+.3f%s" % (means["kheap"]["mean"] - means["textbook16"]["mean"],
                                 "*" if means["kheap"]["partial"] or means["textbook16"]["partial"] else "")
        p("-" * width)
        p(line)
    p("-" * width)
    r0 = rows[0]
    legend = [
        "ns/pair: 2 x measured time / operations (alloc+free pair for churn; a realloc is 1 op). Time = the process's",
        "  CPU time (CLOCK_THREAD_CPUTIME_ID) over the measured phase, no per-op timers; wall-clock figures are in the",
        "  CSV (on a shared machine they also count waiting for a CPU). Ratios are of ns/pair.",
        "p99/max: each op alone between lfence;rdtsc and rdtscp;lfence, minus the timer's own median cost (%d ticks;"
        % r0["timer_overhead_ticks"],
        "  TSC %.3f GHz; reads advance in steps of %d ticks = %.0f ns here); medians over the runs, max = median of the"
        % (r0["tsc_ghz"], r0["tsc_step"], r0["tsc_step"] / r0["tsc_ghz"]),
        "  runs' maxima (page faults and interrupts included; the worst is in the CSV).",
        "eff: peak live requested bytes / peak extent (higher is better). Extent, kheap/rbtree/list (heap.h): (highest",
        "  block end ever handed out - first payload of the fresh heap) x (1 + overhead_bytes/total_bytes of the fresh",
        "  heap: side tables charged pro rata); textbook: highest block end - arena start (no side tables); glibc:",
        "  highest chunk end from the brk heap - initial break, + live mmapped chunks. mean: arithmetic, over the traces.",
        "rbtree: lib/ at 6dbb346 (tests/bench/rbtree/); list: lib/ with the sorted-list index; textbookA: textbook.c,",
        "  one size word per block, sorted singly linked free list, 16-byte minimum block, alignment A (space only).",
        "churn N: N live blocks of 16-512 B, then random free + alloc pairs; mixed: the same, 8 B-64 KiB log-uniform;",
        "  frag: small/large interleaved, free the large, mid sizes into the holes, half survive; traces: tests/traces.",
    ]
    for l_ in legend:
        p(l_)
    for n in notes:
        p("  * " + n)

    p("")
    p("Callgrind: instructions per alloc+free pair, steady churn (16-512 B) after %sN warm-up pairs, allocator entry"
      % (cfg.get("cg_warmup", "") if cfg.get("cg_warmup", 1) != 1 else ""))
    p("points only (--toggle-collect=%s / %s, inclusive), (run with K pairs - run with 0) / K, K = %d"
      % ("+".join(ENTRY["kheap"]), "+".join(ENTRY["glibc"]), cfg["cg_pairs"]))
    if cg_note:
        p("  " + cg_note)
    else:
        p("  %-8s" % "" + "".join("%12s" % ("N=" + fmt_n(n)) for n in cfg["cg_n"]))
        for a in CALLGRIND:
            p("  %-8s" % a + "".join("%12.0f" % cg[(a, n)] for n in cfg["cg_n"]))

    if text:
        p("")
        kcc = "clang --target=i686-elf" if "clang" in args.cc else "i686-linux-gnu-gcc"
        p("i386 .text of the allocator core (%s -m32 -Os -ffreestanding -fno-pie -fno-stack-protector):" % kcc)
        p("  " + "   ".join("%s %d" % (o, s) for o, s in text["objects"].items())
          + "   total %d bytes" % text["total"])
        p("  of which not allocation core (%d bytes): %s" % (text["noncore"], ", ".join(
            "%s %d" % (s["name"], s["size"]) for s in sorted(text["symbols"], key=lambda s: -s["size"])
            if not s["core"])))
        p("  core without those: %d bytes; target <= 4096: %s" % (
            text["core"], "met" if text["core"] <= 4096 else "missed by %d bytes (%.2fx)" %
            (text["core"] - 4096, text["core"] / 4096)))
        biggest = sorted((s for s in text["symbols"] if s["core"]), key=lambda s: -s["size"])[:8]
        p("  largest core functions: " + ", ".join("%s %d" % (s["name"], s["size"]) for s in biggest))
        with open(os.path.join(args.out, "text.txt"), "w") as f:
            for s in sorted(text["symbols"], key=lambda s: (s["obj"], -s["size"])):
                f.write("%-14s %-28s %5d %s\n" % (s["obj"], s["name"], s["size"], "" if s["core"] else "not core: " + s["why"]))

    targets = evaluate(by, cfg, text, wls, cg)
    p("")
    p("Targets:")
    for t in targets:
        p("  [%s] %s" % ("met " if t["met"] else "MISS" if t["met"] is False else " ?  ", t["text"]))
    p("=" * width)
    table = "\n".join(out)
    print(table, flush=True)
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write(table + "\n")

    real = None
    real_script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "real", "bench-real")
    if not args.smoke and not args.no_real and os.path.isfile(real_script) and os.access(real_script, os.X_OK):
        log("bench: running tests/real/bench-real")
        print("\nReal programs (tests/real/bench-real):", flush=True)
        env = dict(os.environ)
        if args.quick:
            env.setdefault("RUNS", "1")
        p2 = subprocess.Popen([real_script] + args.real_args.split(), stdout=subprocess.PIPE, text=True, env=env)
        lines = []
        for line in p2.stdout:   # streamed: it takes a while
            lines.append(line)
            print(line, end="", flush=True)
        status = p2.wait()
        real = dict(status=status, output="".join(lines))
        with open(os.path.join(args.out, "real.txt"), "w") as f:
            f.write(real["output"])
        if status:
            print("(tests/real/bench-real exited with status %d)" % status)

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(dict(level=level, config=cfg, rows=rows, trace_means=means,
                       callgrind=[dict(alloc=a, live_blocks=n, instructions_per_pair=v) for (a, n), v in sorted(cg.items())],
                       callgrind_note=cg_note, text=text, targets=targets, real=real), f, indent=1)
    log("bench: done in %.0f s; %s/results.csv, results.json, table.txt" % (time.time() - started, args.out))
    if args.smoke:
        check_smoke(args, rows)


def evaluate(by, cfg, text, wls, cg):
    t = []
    names = [w["name"] for w in wls]
    traces = [w["name"] for w in wls if w["arg"].startswith("trace:")]

    # (a) space: kheap against the textbook first fit at 16-byte alignment, trace by trace
    worse, partial = [], []
    for w in traces:
        k, tb = by[(w, "kheap")], by[(w, "textbook16")]
        if k["lat_capped"] or tb["lat_capped"]:
            partial.append("%s (%s capped)" % (w, " and ".join(a for a, r in (("kheap", k), ("textbook16", tb))
                                                              if r["lat_capped"])))
        elif k["eff"] < tb["eff"] - 1e-9:
            worse.append("%s (kheap %.4f < textbook16 %.4f)" % (w, k["eff"], tb["eff"]))
    if traces:
        compared = len(traces) - len(partial)
        t.append(dict(met=False if worse else None if partial else True,
                      text="every trace: kheap packs at least as well as textbook16 (eff >= textbook16's): %s%s"
                      % ("worse on " + ", ".join(worse) if worse else
                         "equal or better on all %d compared" % compared,
                         "; not compared (capped before the end, eff is for a prefix): " + ", ".join(partial)
                         if partial else "")))

    # (b) speed: kheap against the previous design, every workload
    slower = []
    for w in names:
        k, rb = by[(w, "kheap")], by[(w, "rbtree")]
        if not k["ns_pair"] < rb["ns_pair"]:
            slower.append("%s (%.1f vs %.1f)" % (w, k["ns_pair"], rb["ns_pair"]))
    t.append(dict(met=not slower, text="every workload: kheap ns/pair below rbtree's (previous design): %s"
                  % ("not on " + ", ".join(slower) if slower else "below on all %d" % len(names))))

    # (c) callgrind instructions per pair
    for n in cfg["cg_n"] or [1000, 10_000]:
        v = cg.get(("kheap", n))
        t.append(dict(met=None if v is None else v <= 350,
                      text="churn %s: kheap <= 350 instructions per pair (callgrind): %s"
                      % (fmt_n(n), "not measured" if v is None else "%.0f" % v)))

    # (d) against glibc at large live sets
    for n in (10_000, 100_000):
        w = "churn " + fmt_n(n)
        if w not in names:
            continue
        k, g = by[(w, "kheap")], by[(w, "glibc")]
        x = k["ns_pair"] / g["ns_pair"]
        t.append(dict(met=x <= 3, text="%s: kheap <= 3x glibc's time per pair: %.2fx (%.1f vs %.1f ns)"
                      % (w, x, k["ns_pair"], g["ns_pair"])))

    # (e) scaling with the live set
    lo, hi = "churn 100", "churn 100k"
    if lo in names and hi in names:
        a, b = by[(lo, "kheap")]["ns_pair"], by[(hi, "kheap")]["ns_pair"]
        t.append(dict(met=b <= 2 * a, text="kheap ns/pair at churn 100k <= 2x churn 100's: %.2fx (%.1f vs %.1f ns)"
                      % (b / a, b, a)))

    # (f) size
    if text:
        whys = sorted(set(s["why"] for s in text["symbols"] if not s["core"]))
        t.append(dict(met=text["core"] <= 4096, text="core .text <= 4 KiB at -Os i386: %d bytes core (%d with %s)"
                      % (text["core"], text["total"], ", ".join(whys) if whys else "nothing else")))
    return t


def check_smoke(args, rows):
    path = os.path.join(args.out, "results.csv")
    with open(path) as f:
        n = sum(1 for _ in f) - 1
    if n != len(rows) or n == 0:
        sys.exit("bench-smoke: %s has %d rows, expected %d" % (path, n, len(rows)))
    for r in rows:
        if not r["ops"] or not r["eff"] or r["eff"] > 1.0 or (r["alloc"] in TIMED and not r["ns_pair"]):
            sys.exit("bench-smoke: implausible result for %s %s: %r" % (r["workload"], r["alloc"], r))
    log("bench-smoke: ok (%d rows in %s)" % (n, path))


def source_state():
    """The commit measured, and whether lib/ had uncommitted changes (then the hash of its diff)."""
    try:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        diff = subprocess.run(["git", "-C", root, "diff", "HEAD", "--", "lib", "host"], capture_output=True,
                              text=True).stdout
        if not head:
            return "not a git checkout"
        if diff:
            import hashlib
            return "commit %s + uncommitted changes in lib/ or host/ (diff sha1 %s)" % (
                head, hashlib.sha1(diff.encode()).hexdigest()[:10])
        return "commit %s, lib/ and host/ clean" % head
    except OSError:
        return "unknown (no git)"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return "/".join(f.read().split()[:3])
    except OSError:
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() + " x%d" % (os.cpu_count() or 1)
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        sys.exit("bench: %s" % e)
