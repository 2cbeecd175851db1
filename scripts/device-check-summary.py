"""summary.md of scripts/device-check.sh: the test counts with every failed and skipped test
(and its reason), then irtj against PyTorch on the same GPU in the same run — the DeiT-S/16 b64
training step (target >= 0.8x, FP32 and TF32) and each ViT-S GEMM (target >= 0.7x
torch.matmul) — and gemm.png / vit.png beside the inputs when matplotlib is installed.
Usage: device-check-summary.py WORKDIR SUMMARY_MD
"""
import math
import os
import re
import sys

work, summary = sys.argv[1], sys.argv[2]


def fields(name):
    """The key=value lines of one benchmark's output, as dicts ([] when it did not run)."""
    path = os.path.join(work, name)
    if not os.path.exists(path):
        return []
    return [kv for kv in (dict(re.findall(r"(\w+)=(\S+)", line)) for line in open(path, errors="replace")) if kv]


def verdict(ratio, target):
    if math.isnan(ratio):
        return "not measured"
    return "meets" if ratio >= target else "below"


lines = ["# Device check", ""]
tests = os.path.join(work, "tests-summary.md")
lines += ["## Tests (tag device-check)", ""]
lines += open(tests).read().splitlines() if os.path.exists(tests) else ["tests did not run"]
lines += ["", "## DeiT-S/16 224, batch 64, training step (images/s)", "",
          "| precision | irtj | PyTorch | irtj / PyTorch | target >= 0.8 |", "|---|---|---|---|---|"]
vit = {}
for tf32 in ("false", "true"):
    j = [r for r in fields(f"vit_irtj_tf32_{tf32}.txt") if "train_step_img_s" in r]
    t = [r for r in fields(f"vit_torch_tf32_{tf32}.txt") if "train_step_img_s" in r]
    a = float(j[-1]["train_step_img_s"]) if j else float("nan")
    b = float(t[-1]["train_step_img_s"]) if t else float("nan")
    vit[tf32] = (a, b)
    r = a / b if b == b and b > 0 else float("nan")
    lines.append(f"| {'TF32' if tf32 == 'true' else 'FP32'} | {a:.1f} | {b:.1f} | {r:.2f} | {verdict(r, 0.8)} |")
device = [r["device"] for r in fields("gemm_irtj_tf32_false.txt") if "device" in r]
lines += ["", "## GEMM on the ViT-S products (TFLOP/s)" + (f", {device[0].replace('_', ' ')}" if device else ""), "",
          "| precision | shape | irtj | torch.matmul | ratio | target >= 0.7 |", "|---|---|---|---|---|---|"]
gemm = {}
for tf32 in ("false", "true"):
    j = {r["shape"]: float(r["tflops"]) for r in fields(f"gemm_irtj_tf32_{tf32}.txt") if "shape" in r}
    t = {r["shape"]: float(r["tflops"]) for r in fields(f"gemm_torch_tf32_{tf32}.txt") if "shape" in r}
    for s in sorted(set(j) | set(t)):
        a, b = j.get(s, float("nan")), t.get(s, float("nan"))
        gemm[(tf32, s)] = (a, b)
        r = a / b if b == b and b > 0 else float("nan")
        lines.append(f"| {'TF32' if tf32 == 'true' else 'FP32'} | {s} | {a:.2f} | {b:.2f} | {r:.2f} | {verdict(r, 0.7)} |")
if not gemm:
    lines.append("| - | - | - | - | - | not measured |")
with open(summary + ".tmp", "w") as f:
    f.write("\n".join(lines) + "\n")
os.replace(summary + ".tmp", summary)
print("\n".join(lines))

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: no figures")
    sys.exit(0)
if gemm:
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
    fig.savefig(os.path.join(work, "gemm.png"), dpi=120)
if any(v == v for pair in vit.values() for v in pair):
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.bar([0, 1, 3, 4], [vit["false"][0], vit["false"][1], vit["true"][0], vit["true"][1]], color=["C0", "C1", "C0", "C1"])
    ax.set_xticks([0, 1, 3, 4])
    ax.set_xticklabels(["irtj FP32", "torch FP32", "irtj TF32", "torch TF32"])
    ax.set_ylabel("images/s")
    fig.tight_layout()
    fig.savefig(os.path.join(work, "vit.png"), dpi=120)
