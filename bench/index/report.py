#!/usr/bin/env python3
"""Tables and target ratios of bench/index-vs-faiss.sh from its results file.

Each line: DATASET RESULT impl=I op=build threads=T seconds=S
           DATASET RESULT impl=I op=search threads=T ef=E qps=Q recall=R queries=N
           DATASET INFO ...
Several runs of one measurement are reduced to their median (recall is deterministic per
implementation except hnswlib/FAISS build order, so its median is reported too).

Equal recall: FAISS HNSW's queries/s "at irtj's recall r" is that of its fastest setting in the
sweep whose recall is at least r (no interpolation: on a shared machine the sweep's queries/s are
not monotonic in efSearch, and a step never credits irtj with a FAISS speed FAISS did not show at
that recall). When no FAISS setting reaches r, no ratio is claimed. The target line takes, among
irtj's settings with recall >= 0.98, the one with the best such ratio.
"""
import math
import statistics
import sys
from collections import defaultdict

HNSW = ["irtj", "lucene9", "lucene10", "faiss-hnsw", "hnswlib"]
EXACT = ["irtj-exact", "lucene9-exact", "lucene10-exact", "faiss-flat"]
TARGET_RECALL = 0.98


def parse(path):
    build = defaultdict(list)                    # (ds, impl) -> [seconds]
    search = defaultdict(lambda: ([], []))       # (ds, impl, threads, ef) -> ([qps], [recall])
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
        if f["op"] == "build":
            build[(ds, f["impl"])].append(float(f["seconds"]))
        else:
            q, r = search[(ds, f["impl"], int(f["threads"]), int(f["ef"]))]
            q.append(float(f["qps"]))
            r.append(float(f["recall"]))
    return order, build, search, info


def med(xs):
    return statistics.median(xs) if xs else None


def curve(search, ds, impl, threads):
    """[(ef, recall, qps)] sorted by ef."""
    pts = []
    for (d, i, t, ef), (q, r) in search.items():
        if d == ds and i == impl and t == threads:
            pts.append((ef, med(r), med(q)))
    return sorted(pts)


def qps_at(points, recall):
    """The fastest FAISS setting with recall >= this one; None when none reaches it."""
    ok = [q for _, r, q in points if r >= recall - 1e-9]
    return max(ok) if ok else None


def verdict(ok):
    return "MET" if ok else "NOT MET"


def main():
    order, build, search, info = parse(sys.argv[1])
    for ds in order:
        print("\n## %s" % ds)
        for line in sorted(info[ds]):
            print("#", line)
        impls = [i for i in HNSW + EXACT if (ds, i) in build]
        print("build, seconds (one thread): " + "  ".join("%s %.1f" % (i, med(build[(ds, i)])) for i in impls))
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

        print("\nratios against the targets (%s):" % ds)
        fb = med(build.get((ds, "faiss-hnsw"), []))
        hb = med(build.get((ds, "hnswlib"), []))
        for i in ("irtj", "lucene9", "lucene10"):
            b = med(build.get((ds, i), []))
            if b is None or fb is None:
                continue
            print("  build %-8s / faiss-hnsw %.2f (target <= 2: %s); / hnswlib %.2f"
                  % (i, b / fb, verdict(b / fb <= 2), b / hb if hb else float("nan")))
        for i in ("irtj-exact", "lucene9-exact", "lucene10-exact"):
            for t in threads:
                c, f = curve(search, ds, i, t), curve(search, ds, "faiss-flat", t)
                if c and f:
                    r = c[0][2] / f[0][2]
                    print("  exact %-14s / IndexFlatIP, %d thread(s): %.2f (target >= 0.8: %s)" % (i, t, r, verdict(r >= 0.8)))
        for i in ("irtj", "lucene9", "lucene10"):
            for t in threads:
                ours, theirs = curve(search, ds, i, t), curve(search, ds, "faiss-hnsw", t)
                if not ours or not theirs:
                    continue
                parts, target, reached = [], None, None
                for ef, r, q in ours:
                    fq = qps_at(theirs, r)
                    parts.append("ef %d: recall %.4f, %.2fx" % (ef, r, q / fq) if fq else "ef %d: recall %.4f, FAISS does not reach it" % (ef, r))
                    if r >= TARGET_RECALL:
                        reached = reached or (ef, r, q, None)
                        if fq and (target is None or q / fq > target[2] / target[3]):
                            target = (ef, r, q, fq)
                target = target or reached
                print("  equal recall %-8s / faiss-hnsw, %d thread(s): %s" % (i, t, "; ".join(parts)))
                if target is None:
                    print("    target (recall >= %.2f at >= 0.5x FAISS HNSW): NOT MET: no efSearch of the sweep reaches recall %.2f"
                          % (TARGET_RECALL, TARGET_RECALL))
                elif target[3] is None:
                    print("    target: ef %d reaches recall %.4f at %.0f queries/s, but FAISS's sweep does not reach that recall: "
                          "no ratio claimed" % target[:3])
                else:
                    ratio = target[2] / target[3]
                    print("    target (recall >= %.2f at >= 0.5x FAISS HNSW): ef %d, recall %.4f, %.0f vs %.0f queries/s = %.2fx: %s"
                          % (TARGET_RECALL, target[0], target[1], target[2], target[3], ratio, verdict(ratio >= 0.5)))


if __name__ == "__main__":
    main()
