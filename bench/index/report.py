#!/usr/bin/env python3
"""Tables and target ratios of bench/index-vs-faiss.sh from its results file.

Each line: DATASET RESULT impl=I op=build threads=T seconds=S [cpu_seconds=C]
           DATASET RESULT impl=I op=search threads=T ef=E qps=Q recall=R queries=N [cpu_qps=P]
           DATASET INFO ...
cpu_qps (one thread only): queries per CPU second of the thread that ran them; cpu_seconds: CPU
time of the whole building process. On a loaded machine wall-clock queries/s mostly measure the
share of the cores a process got; the CPU figures measure the code, and the targets are printed
on both.
Several runs of one measurement are reduced to their median (recall is deterministic per
implementation except hnswlib/FAISS build order, so its median is reported too).

Equal recall: FAISS HNSW's queries/s "at irtj's recall r" is that of its fastest setting in the
sweep whose recall is at least r (no interpolation: on a shared machine the sweep's queries/s are
not monotonic in efSearch, and a step never credits irtj with a FAISS speed FAISS did not show at
that recall). When no FAISS setting reaches r, no ratio is claimed.

Targets (TARGET lines, PASS/FAIL): for recall@10 >= 0.98, each HNSW library's queries/s at the
smallest efSearch of its sweep whose (median) recall reaches 0.98, no interpolation between sweep
points; the target compares irtj's with FAISS HNSW's (>= 0.5x), and fails where either does not
reach 0.98 in the sweep. Build: irtj's median build time / FAISS HNSW's (<= 2x). Exact:
irtj-exact's queries/s / IndexFlatIP's (>= 0.8x), per thread count.
"""
import math
import statistics
import sys
from collections import defaultdict

HNSW = ["irtj", "irtj-noarchive", "irtj-lucenesearch", "irtj-lucenebuild", "lucene9", "lucene10", "faiss-hnsw", "hnswlib"]
EXACT = ["irtj-exact", "lucene9-exact", "lucene10-exact", "faiss-flat"]
TARGET_RECALL = 0.98


def parse(path):
    build = defaultdict(list)                    # (ds, impl) -> [seconds]
    build_cpu = defaultdict(list)                # (ds, impl) -> [cpu seconds]
    warm_cpu = defaultdict(list)                 # (ds, impl) -> [cpu seconds of the same build again, JVM warm]
    jit = defaultdict(list)                      # (ds, impl) -> [JIT compilation seconds during the first build]
    search = defaultdict(lambda: ([], []))       # (ds, impl, threads, ef) -> ([qps], [recall])
    cpu = defaultdict(list)                      # (ds, impl, 1, ef) -> [cpu_qps]
    info = defaultdict(set)
    order = []
    for line in open(path):
        parts = line.split()
        if len(parts) < 2:
            continue
        ds, kind = parts[0], parts[1]
        if ds not in order:
            order.append(ds)
        if kind == "INFO":
            info[ds].add(" ".join(parts[2:]))
            continue
        if kind != "RESULT":
            continue
        f = dict(p.split("=", 1) for p in parts[2:])
        if f["op"] == "build-warm":
            warm_cpu[(ds, f["impl"])].append(float(f["cpu_seconds"]))
            continue
        if f["op"] == "build":
            build[(ds, f["impl"])].append(float(f["seconds"]))
            if "cpu_seconds" in f:
                build_cpu[(ds, f["impl"])].append(float(f["cpu_seconds"]))
            if "jit_seconds" in f:
                jit[(ds, f["impl"])].append(float(f["jit_seconds"]))
        else:
            key = (ds, f["impl"], int(f["threads"]), int(f["ef"]))
            q, r = search[key]
            q.append(float(f["qps"]))
            r.append(float(f["recall"]))
            if "cpu_qps" in f:
                cpu[key].append(float(f["cpu_qps"]))
    return order, build, build_cpu, search, cpu, info, warm_cpu, jit


def med(xs):
    return statistics.median(xs) if xs else None


def curve(search, ds, impl, threads, cpu=None):
    """[(ef, recall, qps)] sorted by ef; with cpu (the cpu_qps table), queries per CPU second
    instead of queries/s (points without them left out)."""
    pts = []
    for (d, i, t, ef), (q, r) in search.items():
        if d == ds and i == impl and t == threads:
            if cpu is None:
                pts.append((ef, med(r), med(q)))
            elif cpu.get((d, i, t, ef)):
                pts.append((ef, med(r), med(cpu[(d, i, t, ef)])))
    return sorted(pts)


def qps_at(points, recall):
    """The fastest FAISS setting with recall >= this one; None when none reaches it."""
    ok = [q for _, r, q in points if r >= recall - 1e-9]
    return max(ok) if ok else None


def verdict(ok):
    return "PASS" if ok else "FAIL"


def main():
    order, build, build_cpu, search, cpu, info, warm_cpu, jit = parse(sys.argv[1])
    for ds in order:
        print("\n## %s" % ds)
        for line in sorted(info[ds]):
            print("#", line)
        impls = [i for i in HNSW + EXACT if (ds, i) in build]
        print("build, seconds (one thread): " + "  ".join("%s %.1f" % (i, med(build[(ds, i)])) for i in impls))
        if any(build_cpu.get((ds, i)) for i in impls):
            print("build, CPU seconds of the process: " + "  ".join("%s %.1f" % (i, med(build_cpu[(ds, i)]))
                                                                   for i in impls if build_cpu.get((ds, i))))
        for i in impls:
            if jit.get((ds, i)) or warm_cpu.get((ds, i)):
                print("build, %s: JIT compilation during it %s s (compiler threads, inside the CPU seconds); the same build "
                      "again in the same process, JVM warm: %s CPU s" % (
                          i, "%.1f" % med(jit[(ds, i)]) if jit.get((ds, i)) else "-",
                          "%.1f" % med(warm_cpu[(ds, i)]) if warm_cpu.get((ds, i)) else "-"))
        threads = sorted({t for (d, _, t, _) in search if d == ds})
        hnsw = [i for i in HNSW if curve(search, ds, i, threads[0])]
        print("\nHNSW: queries/s (recall@10) per efSearch")
        print("%-7s %-5s" % ("threads", "ef") + "".join("%22s" % i for i in hnsw))
        for t in threads:
            efs = sorted({ef for (d, i, tt, ef) in search if d == ds and tt == t and i in hnsw})
            for ef in efs:
                cells = []
                for i in hnsw:
                    v = search.get((ds, i, t, ef))
                    cells.append("%22s" % ("%.0f (%.4f)" % (med(v[0]), med(v[1])) if v and v[0] else "-"))
                print("%-7d %-5d" % (t, ef) + "".join(cells))
        exact = [i for i in EXACT if curve(search, ds, i, threads[0])]
        print("\nexact search: queries/s (recall@10)")
        print("%-7s" % "threads" + "".join("%22s" % i for i in exact))
        for t in threads:
            cells = []
            for i in exact:
                c = curve(search, ds, i, t)
                cells.append("%22s" % ("%.1f (%.4f)" % (c[0][2], c[0][1]) if c else "-"))
            print("%-7d" % t + "".join(cells))
        if 1 in threads and any(curve(search, ds, i, 1, cpu) for i in hnsw + exact):
            print("\n1 thread, queries per CPU second of the searching thread (recall@10)")
            print("%-7s %-5s" % ("", "ef") + "".join("%22s" % i for i in hnsw))
            for ef in sorted({ef for (d, i, tt, ef) in search if d == ds and tt == 1 and i in hnsw}):
                cells = []
                for i in hnsw:
                    v = cpu.get((ds, i, 1, ef))
                    cells.append("%22s" % ("%.0f (%.4f)" % (med(v), med(search[(ds, i, 1, ef)][1])) if v else "-"))
                print("%-7s %-5d" % ("", ef) + "".join(cells))
            print("exact  " + "".join("%22s" % ("%s %.1f" % (i, curve(search, ds, i, 1, cpu)[0][2]) if curve(search, ds, i, 1, cpu) else "-")
                                      for i in exact))

        print("\nequal recall, queries/s against faiss-hnsw (%s):" % ds)
        for i in ("irtj", "lucene9", "lucene10"):
            for t in threads:
                ours, theirs = curve(search, ds, i, t), curve(search, ds, "faiss-hnsw", t)
                if not ours or not theirs:
                    continue
                parts = []
                for ef, r, q in ours:
                    fq = qps_at(theirs, r)
                    parts.append("ef %d: recall %.4f, %.2fx" % (ef, r, q / fq) if fq else "ef %d: recall %.4f, FAISS does not reach it" % (ef, r))
                print("  %-8s %d thread(s): %s" % (i, t, "; ".join(parts)))
        targets(ds, build, search, threads, "queries/s", None)
        targets(ds, build_cpu, search, [1] if 1 in threads else [], "queries per CPU second", cpu)
        w, fb = med(warm_cpu.get((ds, "irtj"), [])), med(build_cpu.get((ds, "faiss-hnsw"), []))
        if w is not None and fb:
            print("TARGET %s CPU time build in a warm JVM (JIT warm-up excluded; FAISS's build as measured) <= 2x FAISS HNSW: "
                  "irtj %.2f s / faiss-hnsw %.2f s = %.2fx: %s" % (ds, w, fb, w / fb, verdict(w / fb <= 2)))


def first_reaching(points, recall):
    """(ef, recall, qps) of the smallest efSearch whose recall is >= recall, or None."""
    for ef, r, q in points:
        if r >= recall - 1e-9:
            return ef, r, q
    return None


def targets(ds, build, search, threads, unit, cpu):
    """The three targets of issue 10 as PASS/FAIL lines (FAIL also where FAISS gives no baseline),
    on wall-clock figures (cpu None) or on CPU-time ones (cpu: the cpu_qps table; build: CPU seconds)."""
    basis = "wall clock" if cpu is None else "CPU time"
    if not threads and not build:
        return
    print("\ntargets (%s, %s):" % (ds, basis))
    for t in threads:
        cells, reach = [], {}
        for i in HNSW:
            pts = curve(search, ds, i, t, cpu)
            if not pts:
                continue
            hit = first_reaching(pts, TARGET_RECALL)
            reach[i] = hit
            if hit:
                cells.append("%s ef %d (recall %.4f) %.0f q/s" % (i, hit[0], hit[1], hit[2]))
            else:
                best = max(pts, key=lambda p: p[1])
                cells.append("%s does not reach it (best %.4f at ef %d)" % (i, best[1], best[0]))
        print("  recall >= %.2f, %d thread(s), %s, smallest efSearch of the sweep reaching it (no interpolation): %s"
              % (TARGET_RECALL, t, unit, "; ".join(cells)))
        if "irtj" not in reach:
            continue
        ours, theirs = reach["irtj"], reach.get("faiss-hnsw")
        if ours and theirs:
            ratio = ours[2] / theirs[2]
            print("TARGET %s %s recall>=%.2f at >=0.5x FAISS HNSW, %d thread(s): irtj %.0f / faiss-hnsw %.0f = %.2fx: %s"
                  % (ds, basis, TARGET_RECALL, t, ours[2], theirs[2], ratio, verdict(ratio >= 0.5)))
        else:
            print("TARGET %s %s recall>=%.2f at >=0.5x FAISS HNSW, %d thread(s): FAIL (%s does not reach recall %.2f in the sweep)"
                  % (ds, basis, TARGET_RECALL, t, "irtj" if not ours else "faiss-hnsw", TARGET_RECALL))
    b, fb = med(build.get((ds, "irtj"), [])), med(build.get((ds, "faiss-hnsw"), []))
    if b is not None and fb:
        hb = med(build.get((ds, "hnswlib"), []))
        print("TARGET %s %s build <= 2x FAISS HNSW: irtj %.1f s / faiss-hnsw %.1f s = %.2fx: %s (/ hnswlib %s)"
              % (ds, basis, b, fb, b / fb, verdict(b / fb <= 2), "%.2fx" % (b / hb) if hb else "-"))
    for t in threads:
        c, f = curve(search, ds, "irtj-exact", t, cpu), curve(search, ds, "faiss-flat", t, cpu)
        if c and f:
            r = c[0][2] / f[0][2]
            print("TARGET %s %s exact >= 0.8x IndexFlatIP, %d thread(s): irtj-exact %.1f / faiss-flat %.1f = %.2fx: %s"
                  % (ds, basis, t, c[0][2], f[0][2], r, verdict(r >= 0.8)))


if __name__ == "__main__":
    main()
