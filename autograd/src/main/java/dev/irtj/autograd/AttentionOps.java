package dev.irtj.autograd;

import dev.irtj.tensor.AttentionPlan;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;

/**
 * Multi-head self-attention as one differentiable op over the packed {@code qkv} projection, on
 * the fused attention primitive ({@link Tensor#attention}): q, k and v are strided views of qkv
 * (no permute copies), the [N × N] probabilities are never kept (the forward saves only its
 * output and the per-row log-sum-exp), and the backward writes dq, dk and dv straight into their
 * slices of one qkv gradient, every element written once.
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
        AttentionPlan plan = AttentionPlan.resolve(parts.select(0, 0), parts.select(0, 1), parts.select(0, 2), scale);
        var r = Tensor.attention(plan);
        Tensor out = r.out(), lse = r.lse();
        return Var.result(out, "self_attention", g -> {
            Tensor gx = Tensor.empty(g.device(), g.dtype(), b, n, 3, heads, hd);
            Tensor gparts = gx.permute(2, 0, 3, 1, 4);
            Tensor.attentionBackward(plan, out, lse, g, gparts.select(0, 0), gparts.select(0, 1), gparts.select(0, 2));
            return new Tensor[] {gx.reshape(b, n, 3 * d)};
        }, qkv);
    }
}
