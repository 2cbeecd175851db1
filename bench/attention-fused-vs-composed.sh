#!/usr/bin/env bash
# Self-attention on the CPU backend, fused (Tensor.attention: flash-style online softmax per
# (batch, head) block) vs composed (the pre-fusion op: batched GEMMs, softmax over a materialised
# [B, H, N, N], transposed copies), forward and backward, on the DeiT-S (H=6) and DeiT-Ti (H=3)
# shapes at N=197, hd=64. Each measurement is a fresh JVM (AttentionBench), the two variants
# interleaved round by round; medians over ROUNDS of each process's median per call, wall and
# CPU time (all threads), and the ratios composed/fused (above 1: the fused op is faster) of the
# wall medians, the CPU medians and the least CPU times. The load average is printed before and
# after: on a shared, loaded machine trust the CPU-time ratios, the least CPU time first.
#
# Usage: bench/attention-fused-vs-composed.sh [THREADS=2] [ROUNDS=3] [REPS=20]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
threads="${1:-2}"
rounds="${2:-3}"
reps="${3:-20}"
jar="$root/bench/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root" -path "$root/*/target" -prune -o -name '*.java' -newer "$jar" -print -quit)" ]; then
  echo "building $jar (mvn -B -q -pl bench -am -DskipTests package)..." >&2
  (cd "$root" && mvn -B -q -pl bench -am -DskipTests package) >&2
fi

run() {
  java --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx6g -Dirtj.threads="$threads" \
       -cp "$jar" dev.irtj.bench.AttentionBench "$@" "$reps" 2>/dev/null
}
field() { sed -E "s/.* $1=([0-9.]+).*/\1/"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "threads=$threads rounds=$rounds reps=$reps; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %-4s %10s %10s %7s %10s %10s %7s %7s\n' shape op "composed" "fused" ratio "cmp cpu" "fused cpu" ratio "min cpu"
for shape in "8 197 6 64" "32 197 6 64" "8 197 3 64" "32 197 3 64"; do
  declare -A vals=()
  for ((r = 0; r < rounds; r++)); do
    for variant in composed fused; do
      # shellcheck disable=SC2086
      line=$(run "$variant" $shape)
      for f in fwd_ms fwd_cpu_ms fwd_cpu_min_ms bwd_ms bwd_cpu_ms bwd_cpu_min_ms; do vals[$variant.$f]+="$(echo "$line" | field $f) "; done
    done
  done
  set -- $shape
  for op in fwd bwd; do
    cw=$(echo ${vals[composed.${op}_ms]} | tr ' ' '\n' | median); fw=$(echo ${vals[fused.${op}_ms]} | tr ' ' '\n' | median)
    cc=$(echo ${vals[composed.${op}_cpu_ms]} | tr ' ' '\n' | median); fc=$(echo ${vals[fused.${op}_cpu_ms]} | tr ' ' '\n' | median)
    cm=$(echo ${vals[composed.${op}_cpu_min_ms]} | tr ' ' '\n' | sort -g | head -1); fm=$(echo ${vals[fused.${op}_cpu_min_ms]} | tr ' ' '\n' | sort -g | head -1)
    printf '%-22s %-4s %8.2fms %8.2fms %7.2f %8.2fms %8.2fms %7.2f %7.2f\n' "B=$1 N=$2 H=$3 hd=$4" "$op" "$cw" "$fw" \
      "$(awk -v a="$cw" -v b="$fw" 'BEGIN {print a / b}')" "$cc" "$fc" "$(awk -v a="$cc" -v b="$fc" 'BEGIN {print a / b}')" \
      "$(awk -v a="$cm" -v b="$fm" 'BEGIN {print a / b}')"
  done
  unset vals
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
