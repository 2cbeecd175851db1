package dev.irtj.tensor;

import java.util.Arrays;

/**
 * One fused attention softmax(scale·q·kᵀ)·v per (batch, head) block, resolved and checked once by
 * {@link Tensor} before any backend runs. q, k and v are [B, H, N, hd] views of any strides (the
 * packed qkv projection viewed as timm does, or separate tensors); the output is a new contiguous
 * [B, N, H·hd] tensor with the heads interleaved as timm's {@code transpose(1, 2).reshape}, and
 * the per-row log-sum-exp of the scaled scores, [B, H, N], is what the backward needs besides it.
 * A backend receives this and only executes it.
 */
public record AttentionPlan(Tensor q, Tensor k, Tensor v, double scale, int batch, int heads, int tokens, int headDim) {

    /**
     * The plan for q, k, v and scale, or one IllegalArgumentException naming the tensor and what
     * was expected: one device, one floating dtype, rank 4, equal shapes, a finite scale.
     */
    public static AttentionPlan resolve(Tensor q, Tensor k, Tensor v, double scale) {
        String[] names = {"k", "v"};
        Tensor[] others = {k, v};
        if (!q.dtype().isFloating()) throw new IllegalArgumentException("attention is not defined for " + q.dtype() + " tensors (q)");
        if (q.rank() != 4) throw new IllegalArgumentException("attention: q must be [B, H, N, head_dim], got " + Shape.str(q.shape()));
        for (int i = 0; i < 2; i++) {
            Tensor t = others[i];
            if (!t.device().equals(q.device())) throw new IllegalArgumentException("attention: q on " + q.device() + ", " + names[i] + " on " + t.device());
            if (t.dtype() != q.dtype()) throw new IllegalArgumentException("attention: q is " + q.dtype() + ", " + names[i] + " is " + t.dtype());
            if (!Arrays.equals(t.shape(), q.shape())) {
                throw new IllegalArgumentException("attention: " + names[i] + " " + Shape.str(t.shape()) + " must have q's shape " + Shape.str(q.shape()));
            }
        }
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("attention: scale must be finite, got " + scale);
        return new AttentionPlan(q, k, v, scale, q.shape(0), q.shape(1), q.shape(2), q.shape(3));
    }

    /** [B, N, H·hd]: the output, heads interleaved along the last dim. */
    public int[] outShape() {
        return new int[] {batch, tokens, heads * headDim};
    }

    /** [B, H, N]: the log-sum-exp of each row of scaled scores. */
    public int[] lseShape() {
        return new int[] {batch, heads, tokens};
    }

    /**
     * Checks what {@link Backend#attentionBackward} receives besides the plan: the forward's out
     * and lse, the upstream gradient dOut of out's shape, and the three gradient destinations
     * (views of q's shape, written not accumulated), all of q's device and dtype.
     */
    void checkBackward(Tensor out, Tensor lse, Tensor dOut, Tensor dq, Tensor dk, Tensor dv) {
        check("out", out, outShape());
        check("lse", lse, lseShape());
        check("dOut", dOut, outShape());
        check("dq", dq, q.shape());
        check("dk", dk, q.shape());
        check("dv", dv, q.shape());
    }

    private void check(String what, Tensor t, int[] shape) {
        if (t == null) throw new IllegalArgumentException("attention backward: " + what + " is missing");
        if (!t.device().equals(q.device())) throw new IllegalArgumentException("attention backward: " + what + " on " + t.device() + ", q on " + q.device());
        if (t.dtype() != q.dtype()) throw new IllegalArgumentException("attention backward: " + what + " is " + t.dtype() + ", q is " + q.dtype());
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("attention backward: " + what + " must be " + Shape.str(shape) + ", got " + Shape.str(t.shape()));
        }
    }

    @Override
    public String toString() {
        return "AttentionPlan[B=" + batch + ", H=" + heads + ", N=" + tokens + ", hd=" + headDim + ", scale=" + scale + "]";
    }
}
