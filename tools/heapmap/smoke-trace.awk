# smoke-trace.awk - a short deterministic trace for `make heapmap-smoke` (CS:APP malloc-lab format).
# Phases: a ramp of mixed sizes, frees of every other block (holes), larger blocks that cannot use the
# holes, reallocs that grow and shrink, then everything freed. Park-Miller random numbers, so every awk
# (mawk, gawk) writes the same trace.
function rnd(n) { seed = (seed * 16807) % 2147483647; return seed % n }
function op(s) { ops[nops++] = s }
BEGIN {
    seed = 12345; nops = 0; nid = 0
    for (i = 0; i < 1200; i++) { size[nid] = 8 + rnd(rnd(8) == 0 ? 2000 : 120); live[nid] = 1; op("a " nid " " size[nid]); nid++ }
    for (i = 0; i < 1200; i += 2) { live[i] = 0; op("f " i) }
    for (i = 0; i < 300; i++) { size[nid] = 300 + rnd(3000); live[nid] = 1; op("a " nid " " size[nid]); nid++ }
    for (i = 0; i < 600; i++) {
        id = rnd(nid)
        if (!live[id]) { continue }
        if (rnd(3) == 0) { live[id] = 0; op("f " id) }
        else { size[id] = 16 + rnd(4000); op("r " id " " size[id]) }
    }
    for (i = 0; i < 400; i++) { size[nid] = 16 + rnd(200); live[nid] = 1; op("a " nid " " size[nid]); nid++ }
    for (id = nid - 1; id >= 0; id--) if (live[id]) { live[id] = 0; op("f " id) }
    print 0; print nid; print nops; print 1
    for (i = 0; i < nops; i++) print ops[i]
}
