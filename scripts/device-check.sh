#!/usr/bin/env bash
# The GPU checks of issues #6 and #16 in one run on the lent GPU machine: an H200 (sm_90) with
# the NVIDIA driver for CUDA 13, Python 3.12 with PyTorch and CuPy, NO Java, no Maven and no
# internet (/work/.library/device/KINDS.md). Everything Java comes in .device/ (built here by
# scripts/prepare-device-check.sh, carried by the call): a jlink'd JRE, the jars, the compiled
# tests. The one call, made from the repository root by a session lent a GPU:
#   run(command="bash scripts/device-check.sh", carry=[".device"], timeout_s=540)
# The script keeps a global deadline of 480 s (tests at most 240 s, each benchmark at most 90 s;
# a step that no longer fits is skipped and the log says so), which leaves 60 s of the 540 for
# the JVM's last words and the archive, and room in the session's 15 device minutes for one
# rerun. Steps:
#   1. the CUDA tests: every class tagged "device-check" in kernels, vit and train, with the JUnit
#      console launcher; -Dirtj.cuda.sync=true so that a faulting kernel names itself;
#   2. irt bench, DeiT-S/16 224 batch 64 training step, exact FP32 then TF32, each next to
#      PyTorch on the same model (bench/cuda_pytorch.py, attention through SDPA);
#   3. our GEMM (CudaGemmBench) and torch.matmul on the ViT-S products, FP32 then TF32;
#   4. summary.md: test counts, every failed and skipped test with its reason, the ratios.
# $OUT receives at most 8 files (what comes back): summary.md, tests.txt, device-check.log and
# device-check-results.tar.gz (env.txt, JUnit XML reports, every benchmark's output, figures).
# Usage: scripts/device-check.sh [--dry-run] [--deadline SECONDS] [OUTDIR]
#   OUTDIR: default $OUT, else ./device-check-out.
#   --dry-run: does everything that needs no GPU (unpack, stale-pack check, the JRE, the test
#   run, in which every GPU test is skipped), then stops in one line where a GPU is needed.
#   --deadline: the global deadline (480 s by default). A machine start (1-2 min) and a full
#   run take up to 11 of the session's 15 device minutes; a rerun, made at once while the
#   machine is warm (it stays 30 s), fits as
#   run(command="bash scripts/device-check.sh --deadline 150", carry=[".device"], timeout_s=200)
#   (the tests within 150 s, then what fits). A run that stopped early (a stale pack, no GPU)
#   leaves room for the full call again.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dry_run=false
deadline_s=480 tests_max_s=240 bench_max_s=90
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=true; shift ;;
    --deadline)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "device-check: --deadline needs a number of seconds, got '${2:-}'" >&2; exit 2; }
      deadline_s=$2; shift 2 ;;
    -*) echo "device-check: unknown option '$1' (usage: scripts/device-check.sh [--dry-run] [--deadline SECONDS] [OUTDIR])" >&2; exit 2 ;;
    *) break ;;
  esac
done
out="${1:-${OUT:-$root/device-check-out}}"
max_out_files=8
start=$SECONDS
pack="$root/.device"
run="$pack/run"                 # the unpacked JRE, jars and tests
work="$pack/results"            # everything written on the way; archived into $OUT at the end
tmp="$pack/tmp"                 # java.io.tmpdir and JavaCPP's cache: inside the tree
rm -rf "$work" "$tmp"
mkdir -p "$out" "$work" "$tmp"
log_file="$out/device-check.log"
: >"$log_file"
log() { echo "[device-check $((SECONDS - start))s] $*" | tee -a "$log_file"; }
left() { echo $((deadline_s - (SECONDS - start))); }
status=0

# 0. The pack: present, built from these sources, unpacked once.
if [ ! -f "$pack/device-check.tar.xz" ]; then
  log "no .device/device-check.tar.xz: run scripts/prepare-device-check.sh here and carry .device"
  exit 1
fi
current=$("$root/scripts/source-hash.sh")
if [ "$(cat "$pack/SOURCE_HASH" 2>/dev/null)" != "$current" ]; then
  log "stale pack: .device/ was built from other sources (SOURCE_HASH $(cat "$pack/SOURCE_HASH" 2>/dev/null) vs tree $current): run scripts/prepare-device-check.sh again"
  exit 1
fi
if [ "$(cat "$run/SOURCE_HASH" 2>/dev/null)" != "$current" ]; then
  rm -rf "$run"
  mkdir -p "$run"
  if command -v xz >/dev/null; then
    xz -dc "$pack/device-check.tar.xz" | tar -C "$run" -xf - || { log "unpacking .device/device-check.tar.xz failed"; exit 1; }
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$pack/device-check.tar.xz" "$run" \
      || { log "unpacking .device/device-check.tar.xz failed (no xz; Python's tarfile failed too)"; exit 1; }
  fi
fi
java="$run/jre/bin/java"
"$java" -version >"$work/java-version.txt" 2>&1 || { log "the carried JRE does not start: $(head -1 "$work/java-version.txt")"; exit 1; }
cp="$(sed "s|lib/|$run/lib/|g" "$run/classpath.txt")"
log "pack: $(du -sh "$pack/device-check.tar.xz" | cut -f1) carried, JRE $(head -1 "$work/java-version.txt"), $(ls "$run/lib" | wc -l) jars; java on PATH: $(command -v java || echo none), JAVA_HOME=${JAVA_HOME:-unset} (neither is used)"

# cuBLAS 13 for JavaCPP's bridge (JCublas2 wants libcublas.so.12, absent on CUDA 13): PyTorch's
# nvidia wheels hold libcublas.so.13, libcublasLt.so.13 and libcudart.so.13; the toolkit may too.
cuda_libs=$(python3 - <<'PY' 2>/dev/null
import glob, os, site, sys
roots = [p for p in site.getsitepackages() + [site.getusersitepackages()] if os.path.isdir(p)]
found = {}
for want in ("libcublas.so.13", "libcublasLt.so.13", "libcudart.so.13"):
    for pattern in [os.path.join(r, "nvidia", "**", want) for r in roots] + \
                   ["/usr/local/cuda/lib64/" + want, "/usr/local/cuda/targets/x86_64-linux/lib/" + want, "/usr/local/cuda-13*/lib64/" + want]:
        hits = sorted(glob.glob(pattern, recursive=True))
        if hits:
            found[want] = os.path.dirname(os.path.realpath(hits[0]))
            break
# The driver's libcuda.so.1 (JCuda's driver bridge needs it): normally on the loader's path;
# otherwise where NVIDIA's container runtime mounts it.
import ctypes
try:
    ctypes.CDLL("libcuda.so.1")
except OSError:
    for d in ("/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib64"):
        if os.path.exists(os.path.join(d, "libcuda.so.1")):
            found["libcuda.so.1"] = d
            break
print(":".join(dict.fromkeys(found.values())))
PY
)
export LD_LIBRARY_PATH="${cuda_libs:+$cuda_libs:}${LD_LIBRARY_PATH:-}"
log "added to LD_LIBRARY_PATH for cuBLAS 13 / the driver: ${cuda_libs:-nothing found (without libcublas.so.13 the cuBLAS tests are skipped, saying why)}"
java_opts=(--add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx16g -Xss8m -Djava.awt.headless=true
           "-Djava.io.tmpdir=$tmp" "-Dorg.bytedeco.javacpp.cachedir=$tmp/javacpp")

{
  date -u
  nvidia-smi 2>&1 || echo "nvidia-smi: not available"
  nvcc --version 2>&1 || echo "nvcc: not available"
  cat "$work/java-version.txt"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|libcublas|libcudart' || echo "ldconfig: no libcuda/libcublas/libcudart in the cache"
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'gpu', torch.cuda.is_available())" 2>&1
  uptime
} >"$work/env.txt" 2>&1
gpu=$(nvidia-smi -L 2>/dev/null | head -1)
if [ -z "$gpu" ] && ! $dry_run; then
  log "no GPU: nvidia-smi -L lists none; this script runs on the lent GPU machine (or here with --dry-run)"
  exit 1
fi
[ -n "$gpu" ] && log "GPU: $gpu"

# step NAME SECONDS_MAX FILE COMMAND...: runs COMMAND with at most SECONDS_MAX (less when the
# global deadline is nearer), output to FILE; skipped when fewer than 20 s are left.
step() {
  local name=$1 max=$2 file=$3; shift 3
  local budget
  budget=$(left)
  budget=$((budget - 5))
  [ "$budget" -gt "$max" ] && budget=$max
  if [ "$budget" -lt 20 ]; then
    log "skipped: $name ($(left) s left of the $deadline_s s deadline)"
    echo "skipped=deadline" >"$file"
    status=1
    return 0
  fi
  log "$name (at most ${budget} s)"
  timeout -k 5 "$budget" "$@" >"$file" 2>&1
  local rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    log "$name: stopped at its ${budget} s limit"
    status=1
  elif [ "$rc" -ne 0 ]; then
    log "$name: exit $rc (see $(basename "$file") in the archive)"
    status=1
  fi
  return 0
}

# 1. Tests.
step "CUDA tests (tag device-check)" "$tests_max_s" "$out/tests.txt" \
  "$java" "${java_opts[@]}" -Dirtj.cuda.sync=true -jar "$run"/lib/junit-platform-console-standalone-*.jar execute \
  -cp "$cp:$run/tests/kernels:$run/tests/vit:$run/tests/train" \
  --scan-classpath "$run/tests/kernels" --scan-classpath "$run/tests/vit" --scan-classpath "$run/tests/train" \
  --include-tag device-check --fail-if-no-tests --disable-banner --disable-ansi-colors --details=tree --reports-dir "$work/junit"
python3 - "$work/junit" "$work/tests-summary.md" <<'PY' | tee -a "$log_file"
import glob, sys, xml.etree.ElementTree as ET
counts = {"run": 0, "failed": 0, "skipped": 0}
failed, skipped = [], []
for path in glob.glob(sys.argv[1] + "/*.xml"):
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("classname", "") + "." + case.get("name", "")
        counts["run"] += 1
        f = case.find("failure") if case.find("failure") is not None else case.find("error")
        s = case.find("skipped")
        if f is not None:
            counts["failed"] += 1
            failed.append((name, (f.get("message") or f.text or "").strip().splitlines()[:1]))
        elif s is not None:
            counts["skipped"] += 1
            skipped.append((name, (s.get("message") or s.text or "").strip().splitlines()[:1]))
lines = [f"tests: {counts['run']} run, {counts['failed']} failed, {counts['skipped']} skipped"]
lines += [f"- FAILED {n}: {m[0] if m else ''}" for n, m in failed]
# Skipped tests grouped by their reason (the one a skipped class gives its tests included).
by_reason = {}
for n, m in skipped:
    by_reason.setdefault((m[0] if m else "").replace("parent was skipped: ", ""), []).append(n)
for reason, names in by_reason.items():
    lines.append(f"- skipped ({len(names)}), {reason or 'no reason given'}: " + ", ".join(sorted(names)))
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print(lines[0])
if counts["run"] == 0 or counts["failed"]:
    sys.exit(1)
PY
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
# Without a device every GPU test is skipped: that is a failed run, except in a dry run.
if grep -q 'no CUDA device' "$work/tests-summary.md" 2>/dev/null && [ -n "$gpu" ]; then
  log "GPU tests were skipped for want of a CUDA device although nvidia-smi lists one (see tests-summary in summary.md)"
  status=1
fi

if [ -z "$gpu" ]; then
  if $dry_run; then
    log "dry run: everything before the benchmarks ran; the benchmarks need a GPU and nvidia-smi lists none here: stopping"
  fi
else
  # 2-3. FP32 first, then TF32: the DeiT-S b64 training step of irtj and of PyTorch (same warm-up
  # and repetitions), then our GEMM and torch.matmul on the ViT-S products. Each pair runs back
  # to back, so that a ratio is measured in one time window.
  for tf32 in false true; do
    t=$([ "$tf32" = true ] && echo 1 || echo 0)
    step "irt bench DeiT-S b64 training step, tf32=$tf32" "$bench_max_s" "$work/vit_irtj_tf32_$tf32.txt" \
      "$java" "${java_opts[@]}" -Dirtj.cuda.tf32=$tf32 -cp "$cp" dev.irtj.cli.Irt bench --model deit_small_patch16_224 \
      --batch 64 --device cuda --warmup 2 --reps 5
    step "PyTorch DeiT-S b64 training step, tf32=$tf32" "$bench_max_s" "$work/vit_torch_tf32_$tf32.txt" \
      env -C "$root/bench" PYTHONUNBUFFERED=1 python3 cuda_pytorch.py --mode vit --tf32 $t --warmup 2 --reps 5
    step "CudaGemmBench, tf32=$tf32" "$bench_max_s" "$work/gemm_irtj_tf32_$tf32.txt" \
      "$java" "${java_opts[@]}" -Dirtj.cuda.tf32=$tf32 -cp "$cp" dev.irtj.bench.CudaGemmBench
    step "torch.matmul on the same shapes, tf32=$tf32" "$bench_max_s" "$work/gemm_torch_tf32_$tf32.txt" \
      env -C "$root/bench" PYTHONUNBUFFERED=1 python3 cuda_pytorch.py --mode gemm --tf32 $t
  done
fi

# 4. Summary (and figures when matplotlib is there).
python3 "$root/scripts/device-check-summary.py" "$work" "$out/summary.md" >>"$log_file" 2>&1 || { log "summary failed"; status=1; }
cp "$out/summary.md" "$log_file" "$work/" 2>/dev/null
tar -C "$pack" -czf "$out/device-check-results.tar.gz" results 2>/dev/null || { log "archiving results failed"; status=1; }
files=$(find "$out" -type f | wc -l)
log "\$OUT holds $files files (limit $max_out_files); done in $((SECONDS - start)) s of $deadline_s, status $status"
if [ "$files" -gt "$max_out_files" ]; then
  log "too many files in $out: only $max_out_files come back"
  status=1
fi
if $dry_run && [ -z "$gpu" ]; then
  echo "device-check --dry-run: stopped where a GPU is needed (nvidia-smi lists none); carried: $(grep '^carried' "$pack/SIZES" | tr -s ' '), $(grep '^total' "$pack/SIZES" | tr -s ' '); status $status"
fi
exit $status
