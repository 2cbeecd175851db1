package dev.irtj.vit;

import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.Linear;
import dev.irtj.autograd.nn.Module;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;

/**
 * Multi-head self-attention as timm writes it: one {@code qkv} Linear whose output is ordered
 * [q; k; v] (each split into heads), softmax(q·kᵀ·head_dim^−½)·v, then {@code proj}.
 */
public final class Attention extends Module {
    private final Linear qkv;
    private final Linear proj;
    private final int heads;
    private final double scale;

    Attention(ViTConfig c, Rng rng, DType dtype) {
        heads = c.numHeads();
        scale = 1.0 / Math.sqrt(c.headDim());
        qkv = addModule("qkv", new Linear(c.embedDim(), 3 * c.embedDim(), c.qkvBias(), rng, dtype));
        proj = addModule("proj", new Linear(c.embedDim(), c.embedDim(), true, rng, dtype));
    }

    public Var forward(Var x) {
        int b = x.shape(0), n = x.shape(1), d = x.shape(2);
        Var parts = qkv.forward(x).reshape(b, n, 3, heads, d / heads).permute(2, 0, 3, 1, 4);   // [3, B, H, N, hd]
        Var q = parts.select(0, 0), k = parts.select(0, 1), v = parts.select(0, 2);
        Var attn = q.matmul(k.mT()).softmax(scale);                                          // [B, H, N, N]
        Var out = attn.matmul(v).transpose(1, 2).reshape(b, n, d);
        return proj.forward(out);
    }
}
