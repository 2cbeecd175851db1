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
        Var out = qkv.forward(x).selfAttention(heads, scale);                             // [B, N, D]
        return proj.forward(out);
    }
}
