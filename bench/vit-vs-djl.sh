#!/usr/bin/env bash
# irtj's ViT (irt bench, Vector API backend) against the anchor a JVM user would otherwise pick:
# DJL 0.36 with its PyTorch engine, libtorch 2.7.1 (oneMKL, oneDNN, scaled_dot_product_attention),
# all from Maven Central. Forward (no grad, the embedding path) and a whole training step
# (forward, backward of loss = sum of the L2-normalized class tokens, AdamW lr 1e-4 wd 0.05) in
# images/s, each side in fresh processes, interleaved, ROUNDS rounds, medians; every line also
# shows the fraction of this machine's FMA peak, measured by the same run.
#
# What runs, in order:
#   1. builds what it needs: the irt jar (./irt), bench/djl (mvn -f bench/djl/pom.xml package;
#      the first run downloads DJL and the ~110 MB libtorch natives jar into ~/.m2; this module is
#      outside the reactor, so neither the default build nor mvn -B verify ever touches it), and
#      bench/djl/fma_peak.c (gcc -O2 -mavx512f -mfma)
#   2. the FMA peak: 12 independent FMA chains per thread, 256- and 512-bit, at each thread count;
#      GFLOP/s from each thread's CPU time (robust to other processes on the machine); the larger
#      width is the peak
#   3. the equivalence check, once per model: `irt bench --check-out` writes irtj's random weights
#      (timm names), an input batch of 2 and a loss weighting w, and its descriptors and gradients
#      of loss = sum(descriptors * w); bench/djl/vit_djl.py scripts bench/vit_pytorch.py's ViT
#      with those weights (TorchScript, Debian's torch 1.13; attention rewritten to libtorch's
#      scaled_dot_product_attention, see vit_djl.py) and DJL's side (DjlVitBench) loads it with
#      trainParam=true and writes its outputs and gradients; max abs/rel differences are printed
#      and the script stops (exit 1) when any tensor is outside |diff| <= 1e-6 + 1e-3 * max|DJL|.
#      The same TorchScript file is what DJL then times.
#   4. ROUNDS rounds; in each, for each case and thread count, one irtj and one DJL process (the
#      order alternates between rounds); the load average is printed with every process
#   5. the report: medians, ratios irtj/DJL, %peak, spread over rounds, memory; twice: images
#      per wall-clock second, and images per CPU second of the process (each side's JVM reads its
#      whole process's CPU time around every timed repetition: libtorch's threads, the JIT and
#      the collector included). On a shared machine whose load exceeds its cores, the wall-clock
#      figures mostly measure which process the scheduler favoured; the CPU-time ones measure the
#      code (at T threads they also count time a side's threads spin or wait busily)
#
# FLOPs per image (vit_djl.py flops_per_image): matrix products only, 2·m·n·k each: the patch
# embedding (img/patch)²·D·C·patch², and per block qkv 2·N·3D·D, q·kᵀ and ·v 2·N²·D each, proj
# 2·N·D·D, fc1 and fc2 2·N·4D·D each (N = (img/patch)² + 1 tokens); DeiT-S/16 224 = 9.197 GFLOP,
# DeiT-Ti/16 224 = 2.507, the 28×28 ViT = 0.277. A training step counts 3× the forward.
#
# Threads are pinned alike: irtj `--threads T`; DJL -Dai.djl.pytorch.num_threads=T,
# -Dai.djl.pytorch.num_interop_threads=1, OMP_NUM_THREADS=T and MKL_NUM_THREADS=T (DjlVitBench
# prints what libtorch reports using). DJL runs offline (-Dai.djl.offline=true): libtorch comes from
# the natives jar on the class path, nothing is downloaded at run time.
#
# Memory: irt bench's peak_heap_mb (the most heap in use during the training-step repetitions,
# garbage not yet collected included) and peak_rss_mb (VmHWM: the process's peak resident set),
# beside DJL's peak RSS (VmHWM; libtorch allocates outside the JVM heap).
#
# Knobs (environment):
#   CASES     "deit_s_b8 deit_s_b32 deit_s_b64 deit_ti_b32 small_b128" (any subset, any order)
#   THREADS   "1 2"
#   ROUNDS    3      fresh irtj + DJL processes per case and thread count
#   REPS      5      timed repetitions per phase (median; keep it odd: both sides take the
#                    upper middle one of an even count); WARMUP 3 untimed first (DJL's
#                    TorchScript profiling executor optimizes its graphs during the first two calls;
#                    irtj's JIT, at 1 thread on DeiT-S, was still compiling during its third forward:
#                    3.9-5.8 s against 2.8-3.2 from the fourth on, and 1.5 GB allocated by it)
#   ATTENTION sdpa   or manual: DJL runs bench/vit_pytorch.py's materialized softmax(q kᵀ) v
#   OMP_WAIT  PASSIVE  DJL's OMP_WAIT_POLICY. libtorch's OpenMP (libgomp) by default spins its
#                    waiting threads: on a machine shared with other processes that burns CPU the
#                    other load needs, doubles DJL's CPU time per image at 2 threads and makes its
#                    wall-clock figures swing; PASSIVE lets them sleep, as irtj's pool does.
#                    ACTIVE (or "default", leaving it unset) restores libgomp's spinning, which
#                    may be faster on an idle machine
#   CHECK     1      0 skips the equivalence check (the TorchScript files are still made)
#   KEEP      0      1 keeps the work folder (weights, check files, TorchScript, raw results)
# Runtime on this project's 2-core machine: `CASES="small_b128 deit_ti_b32" THREADS=2 ROUNDS=3
# REPS=3` took 12-20 minutes at load 4-18 (1 thread: 14); the full default run is dominated by DeiT-S batch 64 (an
# irtj process times 3 phases x 7 repetitions of 64 images: minutes each on an idle machine), so
# plan 1.5-2 quiet hours for it; a smoke test, `CASES=small_b128 THREADS=2 ROUNDS=1 REPS=1
# WARMUP=2`, takes 2-3 minutes.
#
# Usage: bench/vit-vs-djl.sh            (after a merge: the same command, nothing else to set)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CASES="${CASES:-deit_s_b8 deit_s_b32 deit_s_b64 deit_ti_b32 small_b128}"
THREADS="${THREADS:-1 2}"
ROUNDS="${ROUNDS:-3}"
REPS="${REPS:-5}"
WARMUP="${WARMUP:-3}"
ATTENTION="${ATTENTION:-sdpa}"
CHECK="${CHECK:-1}"
OMP_WAIT="${OMP_WAIT:-PASSIVE}"
KEEP="${KEEP:-0}"
py=/usr/bin/python3

# case -> "label|img patch chans dim depth heads|batch"
case_spec() {
  case "$1" in
    deit_s_b8)   echo "DeiT-S/16 224 batch 8|224 16 3 384 12 6|8" ;;
    deit_s_b32)  echo "DeiT-S/16 224 batch 32|224 16 3 384 12 6|32" ;;
    deit_s_b64)  echo "DeiT-S/16 224 batch 64|224 16 3 384 12 6|64" ;;
    deit_ti_b32) echo "DeiT-Ti/16 224 batch 32|224 16 3 192 12 3|32" ;;
    small_b128)  echo "ViT 28x28 p4 d192 x6 batch 128|28 4 1 192 6 3|128" ;;
    *) echo "vit-vs-djl.sh: unknown case '$1' in CASES; known: deit_s_b8 deit_s_b32 deit_s_b64 deit_ti_b32 small_b128" >&2; exit 2 ;;
  esac
}
for c in $CASES; do case_spec "$c" >/dev/null; done
for t in $THREADS; do [[ "$t" =~ ^[1-9][0-9]*$ ]] || { echo "vit-vs-djl.sh: THREADS must be whole numbers >= 1, got '$t'" >&2; exit 2; }; done
for v in ROUNDS REPS; do [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "vit-vs-djl.sh: $v must be a whole number >= 1, got '${!v}'" >&2; exit 2; }; done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || { echo "vit-vs-djl.sh: WARMUP must be a whole number >= 0, got '$WARMUP'" >&2; exit 2; }
[[ "$ATTENTION" == sdpa || "$ATTENTION" == manual ]] || { echo "vit-vs-djl.sh: ATTENTION must be sdpa or manual, got '$ATTENTION'" >&2; exit 2; }
case "$OMP_WAIT" in PASSIVE|ACTIVE|default) ;; *) echo "vit-vs-djl.sh: OMP_WAIT must be PASSIVE, ACTIVE or default, got '$OMP_WAIT'" >&2; exit 2 ;; esac
omp_wait=(); [ "$OMP_WAIT" != default ] && omp_wait=(OMP_WAIT_POLICY="$OMP_WAIT")

need=()
$py -c "import torch, numpy" 2>/dev/null || need+=(python3-torch python3-numpy)
command -v gcc >/dev/null || need+=(gcc)
command -v mvn >/dev/null || need+=(maven)
if ((${#need[@]})); then
  echo "installing ${need[*]} ..." >&2
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/vit-vs-djl.XXXXXX")"
if [ "$KEEP" = 1 ]; then echo "work folder (kept): $work"; else trap 'rm -rf "$work"' EXIT; fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
started=$(date +%s)

echo "== vit-vs-djl.sh $(date -u '+%Y-%m-%d %H:%M UTC'); CASES='$CASES' THREADS='$THREADS' ROUNDS=$ROUNDS REPS=$REPS WARMUP=$WARMUP ATTENTION=$ATTENTION OMP_WAIT=$OMP_WAIT"
echo "load average before: $(load)  ($(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))"
echo "irtj: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') $(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo '(uncommitted changes)'); java: $(java -version 2>&1 | head -1)"

# 1. Builds.
"$root/irt" --help >/dev/null
(cd "$root" && mvn -B -q -f bench/djl/pom.xml package dependency:build-classpath \
    -Dmdep.includeScope=runtime -Dmdep.outputFile="$work/djl.classpath") >&2
djl_cp="$root/bench/djl/target/classes:$(cat "$work/djl.classpath")"
gcc -O2 -mavx512f -mfma -pthread "$root/bench/djl/fma_peak.c" -o "$work/fma_peak"

irtj_run() { # threads args...
  local t="$1"; shift
  "$root/irt" --threads "$t" bench --device cpu "$@" 2>>"$work/irtj.log" \
    || { echo "vit-vs-djl.sh: irt bench failed (irt --threads $t bench $*):" >&2; tail -5 "$work/irtj.log" >&2; exit 1; }
}
djl_run() { # threads args...
  local t="$1"; shift
  env ${omp_wait[@]+"${omp_wait[@]}"} OMP_NUM_THREADS="$t" MKL_NUM_THREADS="$t" java -XX:+UseParallelGC -Dai.djl.offline=true \
      -Dai.djl.pytorch.num_threads="$t" -Dai.djl.pytorch.num_interop_threads=1 \
      -cp "$djl_cp" dev.irtj.bench.djl.DjlVitBench "$@" 2>>"$work/djl.log" \
    || { echo "vit-vs-djl.sh: DjlVitBench failed (threads $t, $*):" >&2; tail -5 "$work/djl.log" >&2; exit 1; }
}

# 2. FMA peak.
echo
echo "== FMA peak (bench/djl/fma_peak.c: 12 independent FMA chains per thread; GFLOP/s per CPU second, summed over threads)"
: >"$work/peaks"
for t in $THREADS; do
  line=$("$work/fma_peak" "$t" 0.5)
  echo "$line" | sed 's/ sink=.*//' | tee -a "$work/peaks"
done

# 3. One TorchScript model (and equivalence check) per distinct shape.
echo
echo "== equivalence check (batch 2, same weights and input; loss = sum(descriptors * w)); DJL: libtorch 2.7.1, attention=$ATTENTION"
check_threads=$(echo $THREADS | awk '{print $NF}')
declare -A model_pt=()
for c in $CASES; do
  IFS='|' read -r label shape batch <<<"$(case_spec "$c")"
  key="${shape// /-}"
  [ -n "${model_pt[$key]:-}" ] && continue
  read -r img patch chans dim depth heads <<<"$shape"
  dir="$work/model-$key"
  irtj_run "$check_threads" --img-size "$img" --patch "$patch" --in-chans "$chans" --dim "$dim" --depth "$depth" --heads "$heads" \
      --batch 2 --check-out "$dir" >/dev/null
  $py "$root/bench/djl/vit_djl.py" script --img "$img" --patch "$patch" --chans "$chans" --dim "$dim" --depth "$depth" --heads "$heads" \
      --weights "$dir/weights.safetensors" --out "$dir/vit.pt" --attention "$ATTENTION" >/dev/null
  model_pt[$key]="$dir/vit.pt"
  if [ "$CHECK" = 1 ]; then
    djl_run "$check_threads" --model "$dir/vit.pt" --check-in "$dir/input.safetensors" --check-out "$dir/djl.safetensors" >/dev/null
    $py "$root/bench/djl/vit_djl.py" compare --name "${label% batch*}" --irtj "$dir/irtj.safetensors" --djl "$dir/djl.safetensors" \
      || { echo "vit-vs-djl.sh: irtj and DJL disagree on ${label% batch*} (files in $dir; KEEP=1 keeps them)" >&2; exit 1; }
  fi
done

# 4. Interleaved rounds.
echo
echo "== runs (each a fresh process; img/s; load average at its start)"
: >"$work/results"
for ((r = 1; r <= ROUNDS; r++)); do
  for c in $CASES; do
    IFS='|' read -r label shape batch <<<"$(case_spec "$c")"
    read -r img patch chans dim depth heads <<<"$shape"
    pt="${model_pt[${shape// /-}]}"
    for t in $THREADS; do
      sides="irtj djl"; ((r % 2 == 0)) && sides="djl irtj"
      for side in $sides; do
        l=$(load)
        if [ "$side" = irtj ]; then
          out=$(irtj_run "$t" --img-size "$img" --patch "$patch" --in-chans "$chans" --dim "$dim" --depth "$depth" --heads "$heads" \
                --batch "$batch" --warmup "$WARMUP" --reps "$REPS")
        else
          out=$(djl_run "$t" --model "$pt" --batch "$batch" --chans "$chans" --img "$img" --warmup "$WARMUP" --reps "$REPS")
        fi
        printf 'round %d  %-32s threads=%d %-4s load %s | %s\n' "$r" "$label" "$t" "$side" "$l" "$out"
        printf '%d\t%s\t%s\t%d\t%s\t%s\t%s\n' "$r" "$c" "$label" "$t" "$side" "${shape// /,}" "$out load=${l// /,}" >>"$work/results"
      done
    done
  done
done

# 5. Report.
echo
$py "$root/bench/djl/vit_djl.py" report --results "$work/results" --peaks "$work/peaks"
echo
echo "load average after: $(load); wall time $(( ($(date +%s) - started) / 60 )) min"
