#!/usr/bin/env bash
# Compares irtj's Sgemm with OpenBLAS (through numpy) on ViT-sized and square products.
#
# For every thread count, RUNS fresh JVMs and RUNS fresh Python processes are interleaved (so
# both see the same background load); each process reports the median time per shape after a
# warm-up and its FLOPs per CPU second (process CPU time, all threads, over the measured
# repetitions), and the table shows the medians over processes. On a loaded machine the wall-clock
# figures measure the scheduler (OpenBLAS's OpenMP threads collapse when a core is taken); the
# per-CPU-second ones measure the code. Knobs (environment variables):
#   SRC_DIR      Java source root holding dev/irtj/kernels/cpu (default: the kernels module's sources)
#   JAVA_HOME    JDK to compile and run with (default: the java/javac on PATH)
#   THREADS      thread counts to test (default "1 2")
#   RUNS         processes per implementation and thread count (default 3)
#   MIN_SECONDS  warm-up and measuring time per shape and process (default 0.5)
#   SHAPES       space-separated M,N,K triples
#   OMP_WAIT     OMP_WAIT_POLICY for OpenBLAS's OpenMP threads (default: libgomp's, which spins);
#                PASSIVE keeps a waiting thread from burning the CPU time the per-CPU-second
#                figures count, which on a loaded machine is most of OpenBLAS's 2-thread CPU time
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/gemm"
SRC_DIR="${SRC_DIR:-$HERE/../../kernels/src/main/java}"
THREADS="${THREADS:-1 2}"
RUNS="${RUNS:-3}"
MIN_SECONDS="${MIN_SECONDS:-0.5}"
SHAPES="${SHAPES:-256,256,256 512,512,512 1024,1024,1024 2048,2048,2048 3152,1152,384 3152,384,384 3152,1536,384 3152,384,1536}"
if [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"; JAVAC="$JAVA_HOME/bin/javac"; else JAVA=java; JAVAC=javac; fi
PYTHON=/usr/bin/python3   # Debian's python, which has python3-numpy; the pyenv one on PATH may not
OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-openmp

if ! "$PYTHON" -c 'import numpy' 2>/dev/null || [[ ! -e "$OPENBLAS_DIR/libopenblas.so.0" ]]; then
    echo "Installing OpenBLAS (OpenMP build) and numpy..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-openmp python3-numpy >&2
fi

BUILD="$(mktemp -d)"
RESULTS="$(mktemp)"
trap 'rm -rf "$BUILD" "$RESULTS"' EXIT
"$JAVAC" --add-modules jdk.incubator.vector -nowarn -sourcepath "$SRC_DIR" -d "$BUILD" \
    "$HERE/SgemmBench.java" 2>&1 | grep -v -e 'incubat' -e '^1 warning' >&2 || true
[[ -e "$BUILD/SgemmBench.class" ]] || { echo "compilation failed" >&2; exit 1; }

run_irtj() {   # threads run
    "$JAVA" --add-modules jdk.incubator.vector -Dirtj.threads="$1" -cp "$BUILD" \
        SgemmBench "$MIN_SECONDS" $SHAPES 2>/dev/null | sed "s/^/irtj $1 $2 /"
}
run_openblas() {   # threads run
    # The environment pins OPENBLAS_CORETYPE=Haswell (AVX2 kernels, half speed on this CPU) and
    # an L2 size; drop both for this command only so OpenBLAS picks its AVX-512 kernels.
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE LD_LIBRARY_PATH="$OPENBLAS_DIR" \
        OMP_NUM_THREADS="$1" OPENBLAS_NUM_THREADS="$1" ${OMP_WAIT:+OMP_WAIT_POLICY="$OMP_WAIT"} \
        "$PYTHON" "$HERE/numpy_gemm_bench.py" "$MIN_SECONDS" $SHAPES | sed "s/^/openblas $1 $2 /"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)${OMP_WAIT:+ (OpenBLAS: OMP_WAIT_POLICY=$OMP_WAIT)}" >> "$RESULTS.load"
for threads in $THREADS; do
    for run in $(seq 1 "$RUNS"); do
        run_irtj "$threads" "$run" >> "$RESULTS"
        run_openblas "$threads" "$run" >> "$RESULTS"
    done
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS.load"
sed 's/^/# /' "$RESULTS.load"; rm -f "$RESULTS.load"
"$PYTHON" - "$RESULTS" "$("$JAVA" -version 2>&1 | head -1)" <<'PY'
import math, statistics, sys
from collections import defaultdict

samples = defaultdict(list)  # (impl, threads, shape) -> per-process median GFLOP/s
best = defaultdict(float)     # (impl, threads, shape) -> best single repetition over all processes
per_cpu = defaultdict(list)   # (impl, threads, shape) -> per-process GFLOP per CPU second (all threads)
infos = set()
for line in open(sys.argv[1]):
    impl, threads, run, kind, *rest = line.split()
    if kind == "RESULT":
        key = (impl, int(threads), tuple(map(int, rest[:3])))
        samples[key].append(float(rest[3]))
        best[key] = max(best[key], float(rest[4]))
        per_cpu[key].append(float(rest[5]))
    elif kind == "INFO":
        infos.add("%s (%s threads): %s" % (impl, threads, " ".join(rest)))
for info in sorted(infos):
    print("#", info)
print("# JDK:", sys.argv[2])
print("# GFLOP/s = median over processes of each process's median time; [best single repetition];")
print("# cpu = GFLOP per CPU second of the process (all its threads), median over processes: the figure")
print("#       to compare when the load average exceeds the idle cores")
ratios = defaultdict(list)
cpu_ratios = defaultdict(list)
for threads in sorted({t for _, t, _ in samples}):
    for (impl, t, shape) in sorted(samples, key=lambda key: key[2]):
        if impl != "irtj" or t != threads:
            continue
        ours = statistics.median(samples[(impl, t, shape)])
        theirs = statistics.median(samples[("openblas", t, shape)])
        ratios[t].append(ours / theirs)
        ours_cpu = statistics.median(per_cpu[(impl, t, shape)])
        theirs_cpu = statistics.median(per_cpu[("openblas", t, shape)])
        cpu_ratios[t].append(ours_cpu / theirs_cpu)
        print("threads=%d  M=%-5d N=%-5d K=%-5d  irtj %6.1f GFLOP/s  openblas %6.1f GFLOP/s  ratio %.3f"
              "   [best: irtj %6.1f  openblas %6.1f  ratio %.3f]   cpu: irtj %6.1f  openblas %6.1f  ratio %.3f"
              % ((t,) + shape + (ours, theirs, ours / theirs, best[("irtj", t, shape)],
                                 best[("openblas", t, shape)],
                                 best[("irtj", t, shape)] / best[("openblas", t, shape)],
                                 ours_cpu, theirs_cpu, ours_cpu / theirs_cpu)))
geomean = lambda r: math.exp(sum(map(math.log, r)) / len(r))
print("geomean ratio irtj/openblas: " + "  ".join(
    "threads=%d %.3f" % (t, geomean(r)) for t, r in sorted(ratios.items())))
print("geomean ratio irtj/openblas per CPU second: " + "  ".join(
    "threads=%d %.3f" % (t, geomean(r)) for t, r in sorted(cpu_ratios.items())))
PY
