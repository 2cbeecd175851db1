#!/usr/bin/env python3
"""The Python side of bench/index-vs-faiss.sh: FAISS (IndexFlatIP, IndexHNSWFlat) and hnswlib on
the data set that IndexBenchData wrote (meta.json, base.f32, queries.f32, gt.i32).

Prints one RESULT line per measurement, in the format IndexBench prints for irtj's side:
  RESULT impl=faiss-hnsw op=build threads=1 seconds=12.3
  RESULT impl=faiss-hnsw op=search threads=2 ef=40 qps=1234.5 recall=0.9876 queries=1000

Every query is answered on its own, as a search service answers them, with T threads working
through the query set:
* IndexFlatIP: one query per call from T Python threads (FAISS releases the GIL inside a search).
  Its batched call would be a GEMM over all queries at once, which no one-query-at-a-time index
  does and which the targets do not compare.
* IndexHNSWFlat and hnswlib: one batched call whose T library threads (OpenMP, hnswlib's
  ParallelFor) each search one query at a time: the same per-query graph walk, without Python's
  per-call overhead (hnswlib holds the GIL in a one-query call, so Python threads would not scale).
Builds run on BUILD_THREADS threads (default 1: the embedded Lucene index builds one segment's
graph on the writer's one thread, so build times compare algorithms, not core counts).
"""
import argparse
import json
import os
import sys
import threading
import time

import numpy as np


def load(data):
    with open(os.path.join(data, "meta.json")) as f:
        meta = json.load(f)
    n, q, d, k = meta["n"], meta["queries"], meta["dims"], meta["k"]
    base = np.fromfile(os.path.join(data, "base.f32"), dtype="<f4").reshape(n, d)
    queries = np.fromfile(os.path.join(data, "queries.f32"), dtype="<f4").reshape(q, d)
    gt = np.fromfile(os.path.join(data, "gt.i32"), dtype="<i4").reshape(q, k)
    return meta, np.ascontiguousarray(base), np.ascontiguousarray(queries), gt


def recall_at(found, gt, k):
    """Mean over queries of |found top-k ∩ exact top-k| / k."""
    hits = 0
    for f, g in zip(found, gt):
        hits += len(set(int(x) for x in f[:k]) & set(int(x) for x in g[:k]))
    return hits / (k * len(gt))


def run_queries(search_one, queries, threads):
    """Runs search_one(i) for every query on `threads` threads; returns (seconds, results)."""
    results = [None] * len(queries)
    counter = iter(range(len(queries)))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            results[i] = search_one(i)

    start = time.perf_counter()
    if threads == 1:
        worker()
    else:
        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    return time.perf_counter() - start, results


def measure(impl, search_one, queries, gt, k, threads, ef, warmup, min_seconds):
    """Queries/s of whole passes over the queries, repeated until min_seconds have passed (as
    IndexBench does: one pass of a fast setting is too short to average out a shared machine);
    recall from the first pass. A warm-up pass over the first queries comes first, as the JVM side
    has one for its JIT."""
    run_queries(search_one, queries[:warmup], threads)
    cpu_start = time.thread_time()
    seconds, found = run_queries(search_one, queries, threads)
    answered = len(queries)
    while seconds < min_seconds:
        more, _ = run_queries(search_one, queries, threads)
        seconds += more
        answered += len(queries)
    print("RESULT impl=%s op=search threads=%d ef=%d qps=%.2f recall=%.4f queries=%d%s"
          % (impl, threads, ef, answered / seconds, recall_at(found, gt, k), len(queries),
             cpu_qps(threads, answered, cpu_start)), flush=True)


def cpu_qps(threads, answered, cpu_start):
    """On one thread, queries per CPU second of the calling thread, which then does every query
    (FAISS's one OpenMP thread and hnswlib's num_threads=1 run on it): the figure that other
    processes on a loaded machine do not dilute, as IndexBench's cpu_qps."""
    if threads != 1:
        return ""
    return " cpu_qps=%.2f" % (answered / (time.thread_time() - cpu_start))


def measure_batched(impl, search_all, queries, gt, k, threads, ef, warmup, min_seconds):
    """As measure, for a library call that spreads a batch of queries over its own threads."""
    search_all(queries[:warmup])
    cpu_start = time.thread_time()
    start = time.perf_counter()
    found = search_all(queries)
    answered = len(queries)
    while time.perf_counter() - start < min_seconds:
        search_all(queries)
        answered += len(queries)
    seconds = time.perf_counter() - start
    print("RESULT impl=%s op=search threads=%d ef=%d qps=%.2f recall=%.4f queries=%d%s"
          % (impl, threads, ef, answered / seconds, recall_at(found, gt, k), len(queries),
             cpu_qps(threads, answered, cpu_start)), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--impl", required=True, choices=["faiss-flat", "faiss-hnsw", "hnswlib"])
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=100)
    p.add_argument("--ef", default="10,20,40,80,160")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--exact-queries", type=int, default=0, help="queries for exact search (0: all)")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--build-threads", type=int, default=1)
    p.add_argument("--min-seconds", type=float, default=2.0)
    a = p.parse_args()
    meta, base, queries, gt = load(a.data)
    k = meta["k"]
    n, d = base.shape
    efs = [int(x) for x in a.ef.split(",")]
    thread_counts = [int(x) for x in a.threads.split(",")]

    if a.impl.startswith("faiss"):
        import faiss
        print("INFO faiss %s numpy %s" % (faiss.__version__, np.__version__), flush=True)
        faiss.omp_set_num_threads(a.build_threads)
        if a.impl == "faiss-flat":
            start, cpu = time.perf_counter(), time.process_time()
            index = faiss.IndexFlatIP(d)
            index.add(base)
            print("RESULT impl=faiss-flat op=build threads=%d seconds=%.3f cpu_seconds=%.3f"
                  % (a.build_threads, time.perf_counter() - start, time.process_time() - cpu), flush=True)
            faiss.omp_set_num_threads(1)  # a one-query search does not use OpenMP anyway
            qs = queries[: a.exact_queries] if a.exact_queries else queries
            for t in thread_counts:
                measure("faiss-flat", lambda i: index.search(qs[i : i + 1], k)[1][0], qs, gt[: len(qs)], k, t, 0,
                        min(a.warmup, len(qs)), a.min_seconds)
        else:
            index = faiss.IndexHNSWFlat(d, a.m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = a.ef_construction
            start, cpu = time.perf_counter(), time.process_time()
            index.add(base)
            print("RESULT impl=faiss-hnsw op=build threads=%d seconds=%.3f cpu_seconds=%.3f"
                  % (a.build_threads, time.perf_counter() - start, time.process_time() - cpu), flush=True)
            for t in thread_counts:
                faiss.omp_set_num_threads(t)
                for ef in efs:
                    index.hnsw.efSearch = ef
                    measure_batched("faiss-hnsw", lambda qs: index.search(qs, k)[1], queries, gt, k, t, ef, a.warmup, a.min_seconds)
    else:
        import hnswlib
        print("INFO hnswlib numpy %s" % np.__version__, flush=True)
        index = hnswlib.Index(space="ip", dim=d)
        start, cpu = time.perf_counter(), time.process_time()
        index.init_index(max_elements=n, M=a.m, ef_construction=a.ef_construction, random_seed=100)
        index.add_items(base, np.arange(n), num_threads=a.build_threads)
        print("RESULT impl=hnswlib op=build threads=%d seconds=%.3f cpu_seconds=%.3f"
              % (a.build_threads, time.perf_counter() - start, time.process_time() - cpu), flush=True)
        for t in thread_counts:
            for ef in efs:
                index.set_ef(max(ef, k))  # hnswlib refuses ef < k
                measure_batched("hnswlib", lambda qs, t=t: index.knn_query(qs, k=k, num_threads=t)[0], queries, gt, k, t, ef,
                                a.warmup, a.min_seconds)


if __name__ == "__main__":
    sys.exit(main())
