#!/usr/bin/env bash
# The GPU checks of issue #6 in one run, for a lent GPU machine (H100, CUDA 13 driver, Java 17,
# PyTorch; no internet, no Maven repository):
#   1. the CUDA tests: every test class tagged "device-check" in kernels, vit and train (every
#      kernel against the reference in CudaBackendTest, the golden op, ViT, loss and AdamW tests
#      on cuda:0) — run with the JUnit console launcher from the jars that
#      scripts/prepare-device-check.sh put in dist/device-check; fails if any was skipped or none
#      was found. A GPU test joins the run by carrying the tag (JUnit's @Tag, jqwik's for properties);
#   2. irt bench, DeiT-S/16 224 batch 64 training step, exact FP32 and TF32, and PyTorch on the
#      same model (bench/cuda_pytorch.py, attention through scaled_dot_product_attention);
#   3. our GEMM (CudaGemmBench) against torch.matmul on the ViT-S products, FP32 and TF32;
#   4. summary.md with the ratios, and gemm.png / vit.png when matplotlib is installed.
# Usage: scripts/device-check.sh [OUTDIR]   (default: $OUT, else ./device-check-out)
# dist/device-check must exist (carry it); on a machine with Maven it is built when missing.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-${OUT:-$root/device-check-out}}"
dist="$root/dist/device-check"
mkdir -p "$out"
log() { echo "[device-check] $*" | tee -a "$out/device-check.log"; }

current=$("$root/scripts/source-hash.sh")
if [ ! -d "$dist/lib" ] || [ "$(cat "$dist/SOURCE_HASH" 2>/dev/null)" != "$current" ]; then
  if command -v mvn >/dev/null; then
    log "dist/device-check missing or built from other sources: building it"
    "$root/scripts/prepare-device-check.sh" >>"$out/device-check.log" 2>&1 || { log "build failed"; exit 1; }
  else
    log "dist/device-check missing or built from other sources, and no Maven here: run scripts/prepare-device-check.sh first and carry dist/"
    exit 1
  fi
fi
cp="$dist/lib/*"
java_opts=(--add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx16g -Xss8m -Djava.awt.headless=true)
status=0

{
  date -u
  nvidia-smi || true
  nvcc --version || true
  java -version 2>&1
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" 2>&1 || true
} >"$out/env.txt" 2>&1
log "environment in env.txt"

# 1. Tests.
log "CUDA tests"
# -Dirtj.cuda.sync=true: a faulting kernel is named by its own launch rather than a later copy.
timeout 900 java "${java_opts[@]}" -Dirtj.cuda.sync=true -jar "$dist"/lib/junit-platform-console-standalone-*.jar execute \
  -cp "$(ls "$dist"/lib/*.jar | grep -v console-standalone | tr '\n' ':')$dist/tests/kernels:$dist/tests/vit:$dist/tests/train" \
  --scan-classpath "$dist/tests/kernels" --scan-classpath "$dist/tests/vit" --scan-classpath "$dist/tests/train" \
  --include-tag device-check --fail-if-no-tests \
  --details=tree --reports-dir "$out/junit" >"$out/tests.txt" 2>&1
rc=$?
skipped=$(grep -Eo '\[ *[0-9]+ (tests|containers) skipped *\]' "$out/tests.txt" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '\[ *[0-9]+ tests failed *\]' "$out/tests.txt" | grep -Eo '[0-9]+' || echo "?")
log "tests: exit $rc, $failed failed, $skipped skipped (see tests.txt, junit/)"
if [ "$rc" -ne 0 ] || [ "$skipped" != "0" ]; then status=1; fi

# 2. ViT training step, irtj and PyTorch, FP32 then TF32.
for tf32 in false true; do
  t=$([ "$tf32" = true ] && echo 1 || echo 0)
  log "irt bench DeiT-S b64, tf32=$tf32"
  timeout 900 java "${java_opts[@]}" -Dirtj.cuda.tf32=$tf32 -cp "$cp" dev.irtj.cli.Irt bench --model deit_small_patch16_224 \
    --batch 64 --device cuda --warmup 3 --reps 10 >"$out/vit_irtj_tf32_$tf32.txt" 2>&1 || { log "irt bench failed (tf32=$tf32)"; status=1; }
  log "PyTorch DeiT-S b64, tf32=$tf32"
  (cd "$root/bench" && timeout 600 python3 cuda_pytorch.py --mode vit --tf32 $t) >"$out/vit_torch_tf32_$tf32.txt" 2>&1 || { log "PyTorch ViT failed"; status=1; }
  log "GEMM on ViT-S shapes, tf32=$tf32"
  timeout 600 java "${java_opts[@]}" -Dirtj.cuda.tf32=$tf32 -cp "$cp" dev.irtj.bench.CudaGemmBench >"$out/gemm_irtj_tf32_$tf32.txt" 2>&1 || { log "CudaGemmBench failed"; status=1; }
  (cd "$root/bench" && timeout 600 python3 cuda_pytorch.py --mode gemm --tf32 $t) >"$out/gemm_torch_tf32_$tf32.txt" 2>&1 || { log "PyTorch GEMM failed"; status=1; }
done

# 3. Summary and figures.
python3 - "$out" <<'PY' 2>&1 | tee -a "$out/device-check.log"
import os, re, sys
out = sys.argv[1]
def fields(path):
    rows = []
    if not os.path.exists(path):
        return rows
    for line in open(path):
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        if kv:
            rows.append(kv)
    return rows
lines = ["# Device check", "", "## DeiT-S/16 224, batch 64, training step (images/s)", "",
         "| precision | irtj | PyTorch | irtj / PyTorch (target ≥ 0.8) |", "|---|---|---|---|"]
vit = {}
for tf32 in ("false", "true"):
    j = [r for r in fields(f"{out}/vit_irtj_tf32_{tf32}.txt") if "train_step_img_s" in r]
    t = [r for r in fields(f"{out}/vit_torch_tf32_{tf32}.txt") if "train_step_img_s" in r]
    a = float(j[-1]["train_step_img_s"]) if j else float("nan")
    b = float(t[-1]["train_step_img_s"]) if t else float("nan")
    vit[tf32] = (a, b)
    lines.append(f"| {'TF32' if tf32 == 'true' else 'FP32'} | {a:.1f} | {b:.1f} | {a / b:.2f} |")
lines += ["", "## GEMM on ViT-S shapes (TFLOP/s)", "", "| precision | shape | irtj | torch.matmul | ratio (target ≥ 0.7) |", "|---|---|---|---|---|"]
gemm = {}
for tf32 in ("false", "true"):
    j = {r["shape"]: float(r["tflops"]) for r in fields(f"{out}/gemm_irtj_tf32_{tf32}.txt") if "shape" in r}
    t = {r["shape"]: float(r["tflops"]) for r in fields(f"{out}/gemm_torch_tf32_{tf32}.txt") if "shape" in r}
    for s in t:
        a = j.get(s, float("nan"))
        gemm[(tf32, s)] = (a, t[s])
        lines.append(f"| {'TF32' if tf32 == 'true' else 'FP32'} | {s} | {a:.2f} | {t[s]:.2f} | {a / t[s]:.2f} |")
open(f"{out}/summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    shapes = sorted({s for (_, s) in gemm})
    fig, ax = plt.subplots(figsize=(10, 4))
    w = 0.2
    for i, (tf32, who) in enumerate([("false", 0), ("false", 1), ("true", 0), ("true", 1)]):
        vals = [gemm.get((tf32, s), (float("nan"),) * 2)[who] for s in shapes]
        ax.bar([x + (i - 1.5) * w for x in range(len(shapes))], vals, w,
               label=("irtj" if who == 0 else "torch") + (" TF32" if tf32 == "true" else " FP32"))
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels(shapes)
    ax.set_ylabel("TFLOP/s")
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{out}/gemm.png", dpi=120)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.bar([0, 1, 3, 4], [vit["false"][0], vit["false"][1], vit["true"][0], vit["true"][1]],
           color=["C0", "C1", "C0", "C1"])
    ax.set_xticks([0, 1, 3, 4])
    ax.set_xticklabels(["irtj FP32", "torch FP32", "irtj TF32", "torch TF32"])
    ax.set_ylabel("images/s")
    fig.tight_layout()
    fig.savefig(f"{out}/vit.png", dpi=120)
except ImportError:
    print("matplotlib not installed: no figures")
PY
log "done, status $status; results in $out"
exit $status
