"""PyTorch (CPU) timing of the same ViT shapes irtj's `irt bench` measures.

A plain timm-style ViT written here (patch conv, class token, learned positions, pre-norm
blocks with LayerNorm eps 1e-6, one qkv Linear, exact GELU, final norm), descriptor = the
L2-normalized class token. Prints one line: forward and forward+backward images/s (medians).
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, int(dim * mlp_ratio))
        self.fc2 = nn.Linear(int(dim * mlp_ratio), dim)

    def attn(self, x):
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if hasattr(F, "scaled_dot_product_attention"):
            out = F.scaled_dot_product_attention(q, k, v)
        else:
            out = ((q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5).softmax(-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, n, d))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, img, patch, chans, dim, depth, heads, mlp_ratio):
        super().__init__()
        self.proj = nn.Conv2d(chans, dim, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 1 + (img // patch) ** 2, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for b in self.blocks:
            x = b(x)
        return F.normalize(self.norm(x)[:, 0], dim=-1)


def median_time(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    for name in ("img", "patch", "chans", "dim", "depth", "heads", "batch", "threads", "warmup", "reps"):
        p.add_argument("--" + name, type=int, required=True)
    p.add_argument("--mlp-ratio", type=float, default=4.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ViT(a.img, a.patch, a.chans, a.dim, a.depth, a.heads, a.mlp_ratio)
    x = torch.randn(a.batch, a.chans, a.img, a.img)

    def forward():
        with torch.no_grad():
            model(x).sum().item()

    def train():
        model.zero_grad(set_to_none=True)
        model(x).sum().backward()

    f = median_time(forward, a.warmup, a.reps)
    t = median_time(train, a.warmup, a.reps)
    print(f"torch={torch.__version__} threads={torch.get_num_threads()} forward_img_s={a.batch / f:.2f} fwd_bwd_img_s={a.batch / t:.2f}")


if __name__ == "__main__":
    main()
