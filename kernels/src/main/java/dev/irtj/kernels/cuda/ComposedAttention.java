package dev.irtj.kernels.cuda;

import dev.irtj.tensor.AttentionPlan;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.GemmShape;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.UnaryOp;

/**
 * The CUDA backend's attention for now: the composition of its existing primitives (batched
 * GEMMs over the strided q/k/v views, softmax and its backward), which materialises the
 * [B, H, N, N] probabilities as the pre-fusion autograd op did. A fused flash-attention kernel
 * in {@code native/src/cuda} is the next step; it was not written without a GPU to test it on.
 * The CPU's fused kernel is {@code dev.irtj.kernels.cpu.AttentionKernels}, the reference
 * {@code dev.irtj.tensor.ReferenceAttention}.
 */
final class ComposedAttention {
    private ComposedAttention() {
    }

    static Backend.AttentionResult forward(Backend gpu, AttentionPlan plan) {
        int n = plan.tokens();
        Tensor scores = gpu.gemm(GemmShape.resolve(plan.q(), false, plan.k(), true, null), 1.0, 0.0);   // [B, H, N, N]
        Tensor p = gpu.softmax(scores, plan.scale(), false);
        Tensor heads = gpu.gemm(GemmShape.resolve(p, false, plan.v(), false, null), 1.0, 0.0);          // [B, H, N, hd]
        Tensor out = gpu.copy(heads.transpose(1, 2), heads.dtype()).reshape(plan.outShape());
        // log Σ_j e^{scale·s_ij} = scale·s_i0 − log p_i0: the first column of the log-softmax gives it.
        Tensor logP = gpu.softmax(scores, plan.scale(), true);
        Tensor first = scores.narrow(3, 0, Math.min(1, n)), logFirst = logP.narrow(3, 0, Math.min(1, n));
        Tensor lse = gpu.binary(BinaryOp.SUB, gpu.unary(UnaryOp.AFFINE, first, plan.scale(), 0), logFirst);
        return new Backend.AttentionResult(out, gpu.copy(lse, lse.dtype()).reshape(plan.lseShape()));
    }

    static void backward(Backend gpu, AttentionPlan plan, Tensor dOut, Tensor dq, Tensor dk, Tensor dv) {
        int b = plan.batch(), n = plan.tokens(), h = plan.heads(), hd = plan.headDim();
        Tensor go = dOut.reshape(b, n, h, hd).transpose(1, 2);                                          // [B, H, N, hd], a view
        Tensor scores = gpu.gemm(GemmShape.resolve(plan.q(), false, plan.k(), true, null), 1.0, 0.0);
        Tensor p = gpu.softmax(scores, plan.scale(), false);
        Tensor dp = gpu.gemm(GemmShape.resolve(go, false, plan.v(), true, null), 1.0, 0.0);
        Tensor ds = gpu.softmaxBackward(p, dp, plan.scale(), false);                                    // includes the scale
        gpu.copyInto(dq, gpu.gemm(GemmShape.resolve(ds, false, plan.k(), false, null), 1.0, 0.0));
        gpu.copyInto(dk, gpu.gemm(GemmShape.resolve(ds, true, plan.q(), false, null), 1.0, 0.0));
        gpu.copyInto(dv, gpu.gemm(GemmShape.resolve(p, true, go, false, null), 1.0, 0.0));
    }
}
