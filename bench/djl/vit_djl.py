"""The Python side of bench/vit-vs-djl.sh (Debian's torch 1.13, /usr/bin/python3).

script:  the ViT of bench/vit_pytorch.py, with irtj's weights (timm names, from `irt bench
         --check-out`), TorchScript-scripted and saved for DJL's PyTorch engine (libtorch 2.7.1).
         Torch 1.13 has no scaled_dot_product_attention, so the block's attention is scripted in
         its manual form (softmax(q kᵀ / √d) v, bench/vit_pytorch.py's fallback) and, with
         --attention sdpa (the default), the saved code's attention lines are replaced by
         torch.scaled_dot_product_attention(q, k, v): TorchScript archives hold source code that
         the loading libtorch compiles, so DJL runs libtorch 2.7's fused attention, the form a
         PyTorch 2.x user would have. Exactly one such replacement per block class is required.
compare: max abs / rel differences between irtj's and DJL's outputs and gradients; exit 1 when a
         tensor is outside its tolerance.
report:  the medians of bench/vit-vs-djl.sh's interleaved runs, with each figure's fraction of the
         FMA peak measured in the same run (FLOPs per image: flops_per_image below).
"""
import argparse
import json
import os
import re
import statistics
import struct
import sys
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import vit_pytorch  # noqa: E402  (bench/vit_pytorch.py)


class ScriptedBlock(vit_pytorch.Block):
    """bench/vit_pytorch.py's block, its attention written in the one form TorchScript 1.13 compiles."""

    def attn(self, x):
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        out = ((q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5).softmax(-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


# bench/vit_pytorch.py's parameter names → timm's (irtj's).
def timm_name(name):
    name = {"proj.weight": "patch_embed.proj.weight", "proj.bias": "patch_embed.proj.bias",
            "cls": "cls_token", "pos": "pos_embed"}.get(name, name)
    name = re.sub(r"^blocks\.(\d+)\.(qkv|proj)\.", r"blocks.\1.attn.\2.", name)
    return re.sub(r"^blocks\.(\d+)\.(fc1|fc2)\.", r"blocks.\1.mlp.\2.", name)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {info['dtype']}, expected F32")
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(info["shape"])
    return out


# The manual attention as TorchScript 1.13 writes it, from q kᵀ to the product with v.
MANUAL_ATTENTION = re.compile(
    r"^(?P<indent>[ \t]+)(?P<t>_\d+) = torch\.matmul\(q, torch\.transpose\(k, -2, -1\)\)\n"
    r"(?:(?P=indent).*\n)*?"
    r"(?P=indent)out = torch\.matmul\(_\d+, v\)\n", re.M)


def use_sdpa(path):
    """Rewrites the archive's attention to torch.scaled_dot_product_attention (see the module doc)."""
    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i)) for i in z.infolist()]
    replaced = 0
    edited = {}
    for info, data in entries:
        if not info.filename.endswith(".py") or "/code/" not in info.filename:
            continue
        text = data.decode()
        new, n = MANUAL_ATTENTION.subn(lambda m: m.group("indent") + "out = torch.scaled_dot_product_attention(q, k, v)\n", text)
        if n:
            edited[info.filename] = new.encode()
            replaced += n
    if replaced != 1:
        sys.exit(f"{path}: expected the manual attention once in the scripted code, found it {replaced} times; "
                 "the rewrite to scaled_dot_product_attention no longer matches TorchScript's output")
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        for info, data in entries:
            # The debug tables map byte offsets of the old code: dropped for the edited file
            # (libtorch loads without them; they only locate errors).
            if info.filename.endswith(".debug_pkl") and info.filename[:-len(".debug_pkl")] in edited:
                continue
            z.writestr(info, edited.get(info.filename, data))
    os.replace(tmp, path)


def script(a):
    torch.manual_seed(0)
    model = vit_pytorch.ViT(a.img, a.patch, a.chans, a.dim, a.depth, a.heads, a.mlp_ratio)
    model.blocks = torch.nn.ModuleList([ScriptedBlock(a.dim, a.heads, a.mlp_ratio) for _ in range(a.depth)])
    weights = read_safetensors(a.weights)
    state = model.state_dict()
    names = {timm_name(k): k for k in state}
    missing = sorted(set(names) - set(weights))
    unexpected = sorted(set(weights) - set(names))
    if missing or unexpected:
        sys.exit(f"{a.weights}: does not match the ViT's parameters: missing {missing}, unexpected {unexpected}")
    for timm, ours in names.items():
        if tuple(weights[timm].shape) != tuple(state[ours].shape):
            sys.exit(f"{a.weights}: {timm} is {list(weights[timm].shape)}, the ViT's {ours} is {list(state[ours].shape)}")
        state[ours] = torch.from_numpy(weights[timm].copy())
    model.load_state_dict(state)
    scripted = torch.jit.script(model)
    scripted.save(a.out + ".tmp")
    os.replace(a.out + ".tmp", a.out)
    if a.attention == "sdpa":
        use_sdpa(a.out)
    print(f"scripted={a.out} attention={a.attention} parameters={len(state)} torch={torch.__version__}")


def compare(a):
    irtj = read_safetensors(a.irtj)
    djl = read_safetensors(a.djl)
    pairs = [("out", "out")] + [("grad." + timm_name(k[5:]), k) for k in djl if k.startswith("grad.")]
    if sorted(p[0] for p in pairs) != sorted(irtj):
        sys.exit(f"check: irtj wrote {sorted(irtj)}, DJL's names map to {sorted(p[0] for p in pairs)}")
    worst_out, worst_grad, failed = (0, 0), (0, 0), []
    for ours, theirs in pairs:
        x, y = irtj[ours].astype(np.float64), djl[theirs].astype(np.float64)
        if x.shape != y.shape:
            sys.exit(f"check: {ours} is {list(x.shape)} in irtj, {list(y.shape)} in DJL")
        diff = float(np.max(np.abs(x - y)))
        scale = float(np.max(np.abs(y)))
        rel = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
        # Relative to the tensor's largest entry: F32 sums over 12 blocks differ in the last bits,
        # and near-zero entries have no meaningful elementwise relative error.
        if diff > a.atol + a.rtol * scale:
            failed.append(f"{ours} max|diff| {diff:.3g} max|DJL| {scale:.3g}")
        if ours == "out":
            worst_out = (diff, rel)
        elif rel > worst_grad[1]:
            worst_grad = (diff, rel, ours)
    print(f"check {a.name}: outputs max abs diff {worst_out[0]:.3g} (rel to max {worst_out[1]:.3g}); "
          f"gradients of {len(pairs) - 1} parameters worst rel to max {worst_grad[1]:.3g} (abs {worst_grad[0]:.3g}, {worst_grad[2] if len(worst_grad) > 2 else '-'}); "
          f"tolerance |diff| <= {a.atol:g} + {a.rtol:g} * max|DJL| per tensor: {'PASS' if not failed else 'FAIL'}")
    if failed:
        for f in failed:
            print("  outside tolerance: " + f)
        sys.exit(1)


def flops_per_image(img, patch, chans, dim, depth, heads, mlp_ratio=4.0):
    """Forward FLOPs of one image, counted from the shapes: every matrix product m×k by k×n is
    2·m·n·k; elementwise work (softmax, layer norm, GELU, adds) is left out. N = (img/patch)² + 1
    tokens. Patch embedding: (img/patch)² × dim × chans·patch². Per block: qkv N×3D×D, scores
    q·kᵀ and the product with v 2·N²·D each over all heads together (heads × N×N×D/heads),
    proj N×D×D, fc1 and fc2 N×4D×D each. A training step counts 3× the forward (the backward's
    two products per forward product: input and weight gradients), as is usual; the patch
    embedding's input gradient is not needed, so that ×3 slightly overcounts it (≈1%)."""
    del heads  # the attention products' total does not depend on how D is split into heads
    grid = (img // patch) ** 2
    n = grid + 1
    hidden = int(dim * mlp_ratio)
    block = 2 * n * dim * 3 * dim + 2 * (2 * n * n * dim) + 2 * n * dim * dim + 2 * (2 * n * dim * hidden)
    return 2 * grid * dim * chans * patch * patch + depth * block


def report(a):
    """results: one line per process, tab-separated: round case label threads side key=value...;
    peaks: threads peak_gflops ... lines from fma_peak."""
    peaks = {}
    with open(a.peaks) as f:
        for line in f:
            kv = dict(x.split("=", 1) for x in line.split())
            peaks[int(kv["threads"])] = float(kv["peak_gflops"])
    runs = {}
    order = []
    with open(a.results) as f:
        for line in f:
            rnd, case, label, threads, side, shape, rest = line.rstrip("\n").split("\t")
            kv = dict(x.split("=", 1) for x in rest.split())
            key = (case, int(threads))
            if key not in runs:
                runs[key] = {"label": label, "shape": [int(v) for v in shape.split(",")], "irtj": [], "djl": []}
                order.append(key)
            runs[key][side].append(kv)

    def med(rows, k):
        vals = [float(r[k]) for r in rows if k in r]
        return statistics.median(vals) if vals else float("nan")

    def spread(rows, k):
        vals = [float(r[k]) for r in rows if k in r]
        return f"{min(vals):.4g}-{max(vals):.4g}" if vals else "-"

    def table(title, fwd, step, per_cpu):
        print(title)
        print(f"{'case':32s} {'thr':>3s} | {'irtj fwd':>9s} {'DJL fwd':>9s} {'ratio':>6s} {'%pk irtj':>8s} {'%pk DJL':>8s} | "
              f"{'irtj step':>9s} {'DJL step':>9s} {'ratio':>6s} {'%pk irtj':>8s} {'%pk DJL':>8s} | n")
        for key in order:
            r = runs[key]
            fl = flops_per_image(*r["shape"]) / 1e9
            # Per CPU second the peak is one core's; per wall second, that of the threads used.
            peak = peaks.get(key[1], float("nan")) / (key[1] if per_cpu else 1)
            jf, df = med(r["irtj"], fwd), med(r["djl"], fwd)
            jt, dt = med(r["irtj"], step), med(r["djl"], step)
            print(f"{r['label']:32s} {key[1]:3d} | {jf:9.2f} {df:9.2f} {jf / df:6.2f} {100 * jf * fl / peak:7.1f}% {100 * df * fl / peak:7.1f}% | "
                  f"{jt:9.2f} {dt:9.2f} {jt / dt:6.2f} {100 * 3 * jt * fl / peak:7.1f}% {100 * 3 * dt * fl / peak:7.1f}% | "
                  f"{len(r['irtj'])}+{len(r['djl'])}")

    table("images per second (wall clock), medians over rounds; ratio = irtj/DJL; %pk = GFLOP/s from the FLOP count "
          "over the FMA peak of that many threads", "forward_img_s", "train_step_img_s", False)
    print()
    table("images per CPU second of the process (all its threads), medians; %pk = over one core's FMA peak "
          "(the figure that the machine's other load disturbs least)", "forward_img_cpu_s", "train_step_img_cpu_s", True)
    print()
    print("irtj forward+backward without the optimizer (images/s, medians): " + ", ".join(
        f"{runs[k]['label']} {k[1]}t {med(runs[k]['irtj'], 'fwd_bwd_img_s'):.2f}" for k in order))
    print()
    print("spread over rounds (min-max, images/s): case threads: irtj fwd / DJL fwd / irtj step / DJL step")
    for key in order:
        r = runs[key]
        print(f"  {r['label']} {key[1]}t: {spread(r['irtj'], 'forward_img_s')} / {spread(r['djl'], 'forward_img_s')} / "
              f"{spread(r['irtj'], 'train_step_img_s')} / {spread(r['djl'], 'train_step_img_s')}")
    print()
    print("FLOPs per image (forward; training step = 3x): " + ", ".join(
        f"{runs[k]['label']} {flops_per_image(*runs[k]['shape']) / 1e9:.3f} GFLOP" for k in order if k[1] == order[0][1]))
    print("memory (medians, MiB): irtj peak heap during the training steps / irtj peak RSS / DJL peak RSS (VmHWM, whole process)")
    for key in order:
        r = runs[key]
        print(f"  {r['label']} {key[1]}t: irtj heap {med(r['irtj'], 'peak_heap_mb'):.0f}  irtj RSS {med(r['irtj'], 'peak_rss_mb'):.0f}  "
              f"DJL RSS {med(r['djl'], 'peak_rss_mb'):.0f}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("script")
    for name in ("img", "patch", "chans", "dim", "depth", "heads"):
        s.add_argument("--" + name, type=int, required=True)
    s.add_argument("--mlp-ratio", type=float, default=4.0)
    s.add_argument("--weights", required=True, help="weights.safetensors from irt bench --check-out")
    s.add_argument("--out", required=True)
    s.add_argument("--attention", choices=("sdpa", "manual"), default="sdpa")
    c = sub.add_parser("compare")
    c.add_argument("--name", required=True)
    c.add_argument("--irtj", required=True)
    c.add_argument("--djl", required=True)
    c.add_argument("--atol", type=float, default=1e-6)
    c.add_argument("--rtol", type=float, default=1e-3)
    r = sub.add_parser("report")
    r.add_argument("--results", required=True)
    r.add_argument("--peaks", required=True)
    a = p.parse_args()
    {"script": script, "compare": compare, "report": report}[a.cmd](a)


if __name__ == "__main__":
    main()
