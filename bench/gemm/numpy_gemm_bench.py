"""Times numpy's float32 matmul (OpenBLAS sgemm) on the shapes given as M,N,K arguments.

Prints one line per shape: "RESULT M N K gflops_median gflops_best gflops_per_cpu_s" (the last: the
FLOPs of all measured repetitions over the process's CPU time while they ran, all threads), plus an "INFO" line naming the BLAS
library that was actually loaded, its core type and thread count, so a run against the wrong
library (or the slow Haswell core type) is visible in the output.
"""
import ctypes
import sys
import time

import numpy as np


def loaded_blas_info():
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line.split()[-1]})
    info = "libraries=" + ",".join(paths)
    for path in paths:
        if "openblas" not in path:
            continue
        lib = ctypes.CDLL(path)
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        info += " core=%s threads=%d config=%s" % (
            lib.openblas_get_corename().decode(), lib.openblas_get_num_threads(),
            lib.openblas_get_config().decode())
        break
    return info


def time_shape(m, n, k, min_seconds, min_reps):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    start = time.perf_counter()
    while time.perf_counter() - start < min_seconds:  # warm-up: threads, caches, page faults
        np.matmul(a, b, out=c)
    times = []
    cpu_start = time.process_time()
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t0)
    cpu_seconds = time.process_time() - cpu_start
    times.sort()
    flops = 2.0 * m * n * k
    return flops / times[len(times) // 2] / 1e9, flops / times[0] / 1e9, flops * len(times) / cpu_seconds / 1e9


def main():
    min_seconds = float(sys.argv[1])
    shapes = [tuple(int(x) for x in arg.split(",")) for arg in sys.argv[2:]]
    np.matmul(np.ones((64, 64), np.float32), np.ones((64, 64), np.float32))
    print("INFO " + loaded_blas_info(), flush=True)
    for m, n, k in shapes:
        print("RESULT %d %d %d %.2f %.2f %.2f" % ((m, n, k) + time_shape(m, n, k, min_seconds, 5)), flush=True)


if __name__ == "__main__":
    main()
