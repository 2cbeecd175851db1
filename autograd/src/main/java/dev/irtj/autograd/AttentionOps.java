package dev.irtj.autograd;

import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;

/**
 * Multi-head self-attention as one differentiable op over the packed {@code qkv} projection.
 *
 * <p>Composed of views, select, matmul and softmax it would be correct but wasteful: the
 * backward of each of the three {@code select}s builds a zero-filled tensor the size of the whole
 * qkv gradient, and the three are then added. Here the backward writes dq, dk and dv straight
 * into their slices of one qkv gradient, which is every element written once.
 */
final class AttentionOps {
    private AttentionOps() {
    }

    /**
     * qkv [B, N, 3·D], ordered [q; k; v] with each part split into {@code heads} heads of D/heads
     * (timm's layout) → softmax(scale·q·kᵀ)·v per head, heads concatenated back: [B, N, D].
     */
    static Var selfAttention(Var qkv, int heads, double scale) {
        Tensor x = qkv.data();
        if (x.rank() != 3 || heads <= 0 || x.shape(2) % (3 * heads) != 0) {
            throw new IllegalArgumentException("self-attention needs qkv of shape [B, N, 3*D] with D divisible by heads="
                    + heads + ", got " + Shape.str(x.shape()));
        }
        int b = x.shape(0), n = x.shape(1), d = x.shape(2) / 3, hd = d / heads;
        Tensor parts = x.reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4);   // [3, B, H, N, hd], a view
        Tensor q = parts.select(0, 0), k = parts.select(0, 1), v = parts.select(0, 2);
        Tensor p = q.gemm(false, k, true).softmax(scale, false);   // [B, H, N, N]
        Tensor out = p.gemm(false, v, false).transpose(1, 2).contiguous().reshape(b, n, d);
        return Var.result(out, "self_attention", g -> {
            Tensor go = g.reshape(b, n, heads, hd).transpose(1, 2);             // [B, H, N, hd], a view
            Tensor gs = p.softmaxBackward(go.gemm(false, v, true), scale, false);
            Tensor gx = Tensor.empty(g.device(), g.dtype(), b, n, 3, heads, hd);
            Tensor gparts = gx.permute(2, 0, 3, 1, 4);
            gparts.select(0, 0).copyFrom(gs.gemm(false, k, false));
            gparts.select(0, 1).copyFrom(gs.gemm(true, q, false));
            gparts.select(0, 2).copyFrom(p.gemm(true, go, false));
            return new Tensor[] {gx.reshape(b, n, 3 * d)};
        }, qkv);
    }
}
