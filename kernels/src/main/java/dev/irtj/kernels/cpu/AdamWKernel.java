package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static dev.irtj.kernels.cpu.KernelBlocks.checkBlock;
import static dev.irtj.kernels.cpu.KernelBlocks.forElements;

/**
 * One fused AdamW update of F32 parameters and moments in place, elementwise and parallel over
 * fixed element blocks; the scalar tail repeats the vector lanes' operations.
 * Reference: {@code dev.irtj.tensor.ReferenceBackend.adamw}; CUDA twin {@code native/src/cuda/adamw.cu}.
 */
public final class AdamWKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private AdamWKernel() {
    }

    /**
     * One AdamW step in place over {@code count} elements of p, g, m, v starting at {@code off}
     * (PyTorch's rule): p ·= 1 − lr·wd; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
     * p −= (lr/bc1)·m / (√v/√bc2 + eps) with bc_i = 1 − β_i^step (step is 1-based).
     */
    public static void step(float[] p, float[] g, float[] m, float[] v, int off, int count, long step,
                            float lr, float beta1, float beta2, float eps, float weightDecay) {
        checkBlock("p", p, off, count, 1);
        checkBlock("g", g, off, count, 1);
        checkBlock("m", m, off, count, 1);
        checkBlock("v", v, off, count, 1);
        if (step < 1) throw new IllegalArgumentException("AdamW step is 1-based, got " + step);
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        float decay = (float) (1 - (double) lr * weightDecay);
        float b1 = beta1, c1 = (float) (1 - (double) beta1), b2 = beta2, c2 = (float) (1 - (double) beta2);
        float negStep = (float) (-(lr / bc1)), bc2Sqrt = (float) Math.sqrt(bc2);
        forElements(count, 12, (from, to) -> {
            int i = from;
            for (; i <= to - L; i += L) {
                int at = off + i;
                FloatVector gv = FloatVector.fromArray(S, g, at);
                FloatVector mv = FloatVector.fromArray(S, m, at).fma(FloatVector.broadcast(S, b1), gv.mul(c1));
                FloatVector vv = FloatVector.fromArray(S, v, at).fma(FloatVector.broadcast(S, b2), gv.mul(c2).mul(gv));
                FloatVector den = vv.sqrt().div(bc2Sqrt).add(eps);
                FloatVector pv = FloatVector.fromArray(S, p, at).mul(decay);
                mv.div(den).fma(FloatVector.broadcast(S, negStep), pv).intoArray(p, at);
                mv.intoArray(m, at);
                vv.intoArray(v, at);
            }
            for (; i < to; i++) {
                int at = off + i;
                float gi = g[at];
                float mi = Math.fma(m[at], b1, gi * c1);
                float vi = Math.fma(v[at], b2, gi * c2 * gi);
                float den = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                float pi = p[at] * decay;
                p[at] = Math.fma(mi / den, negStep, pi);
                m[at] = mi;
                v[at] = vi;
            }
        });
    }
}
