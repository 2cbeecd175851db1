"""PyTorch (CUDA) side of scripts/device-check.sh.

--mode vit:  images/s of a DeiT-S/16-shaped ViT training step (forward, backward, AdamW step) at
             the given batch, attention through F.scaled_dot_product_attention, the same model
             as bench/vit_pytorch.py, timed with cuda.synchronize() around each step.
--mode gemm: milliseconds and TFLOP/s of torch.matmul on the shapes of
             dev.irtj.bench.CudaGemmBench (keep the two lists identical).
--tf32 1 allows TF32 for matmuls and convolutions; 0 (the default) keeps exact FP32.
Prints key=value lines like irtj's benchmarks.
"""
import argparse
import statistics
import time

import torch

from vit_pytorch import ViT

SHAPES = [  # name, batch, M, K, N, transA, transB
    ("qkv_fwd", 1, 12608, 384, 1152, 0, 1),
    ("proj_fwd", 1, 12608, 384, 384, 0, 1),
    ("fc1_fwd", 1, 12608, 384, 1536, 0, 1),
    ("fc2_fwd", 1, 12608, 1536, 384, 0, 1),
    ("qkv_dx", 1, 12608, 1152, 384, 0, 0),
    ("qkv_dw", 1, 1152, 12608, 384, 1, 0),
    ("attn_qk", 384, 197, 64, 197, 0, 1),
    ("attn_pv", 384, 197, 197, 64, 0, 0),
]


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(reps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def gemm(warmup, reps):
    for name, batch, m, k, n, ta, tb in SHAPES:
        a_shape = (k, m) if ta else (m, k)
        b_shape = (n, k) if tb else (k, n)
        if batch > 1:
            a_shape, b_shape = (batch,) + a_shape, (batch,) + b_shape
        a = torch.randn(a_shape, device="cuda")
        b = torch.randn(b_shape, device="cuda")
        opa = a.transpose(-2, -1) if ta else a
        opb = b.transpose(-2, -1) if tb else b
        s = timed(lambda: torch.matmul(opa, opb), warmup, reps)
        print(f"shape={name} batch={batch} m={m} k={k} n={n} ms={s * 1e3:.4f} tflops={2.0 * batch * m * n * k / s / 1e12:.3f}")


def vit(a):
    torch.manual_seed(0)
    model = ViT(a.img, a.patch, 3, a.dim, a.depth, a.heads, 4.0).cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    x = torch.randn(a.batch, 3, a.img, a.img, device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        model(x).sum().backward()
        opt.step()

    s = timed(step, a.warmup, a.reps)
    print(f"torch={torch.__version__} batch={a.batch} train_step_img_s={a.batch / s:.2f} tf32={a.tf32}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["vit", "gemm"], required=True)
    p.add_argument("--tf32", type=int, default=0)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--img", type=int, default=224)
    p.add_argument("--patch", type=int, default=16)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--depth", type=int, default=12)
    p.add_argument("--heads", type=int, default=6)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--reps", type=int, default=10)
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = bool(a.tf32)
    torch.backends.cudnn.allow_tf32 = bool(a.tf32)
    if a.mode == "gemm":
        gemm(a.warmup, a.reps)
    else:
        vit(a)


if __name__ == "__main__":
    main()
