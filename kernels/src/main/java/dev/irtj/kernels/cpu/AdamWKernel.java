package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static dev.irtj.kernels.cpu.KernelBlocks.checkBlock;
import static dev.irtj.kernels.cpu.KernelBlocks.forElements;

/**
 * One fused AdamW update of F32 parameters and moments in place, elementwise and parallel over
 * fixed element blocks, for one tensor or for all of a model's parameters in one pass; the scalar
 * tail repeats the vector lanes' operations.
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
        Scalars k = Scalars.of(step, lr, beta1, beta2, eps);
        float decay = k.decay(weightDecay);
        forElements(count, 12, (from, to) -> update(p, g, m, v, off + from, to - from, decay, k));
    }

    /**
     * {@link #step} for many parameters at once: parameter i is count[i] elements of p[i], g[i],
     * m[i], v[i] from offsets[i], with weight decay {@code weightDecay} where decays[i] and none
     * elsewhere. All their elements are split over the pool as one sequence (fixed element
     * blocks that may span parameters), so a step is one hand-off to the threads instead of one
     * per tensor, and small tensors no longer run on one thread each. Every element sees the same
     * operations as in {@link #step}, so the result is bit for bit the per-tensor one.
     */
    public static void stepAll(float[][] p, float[][] g, float[][] m, float[][] v, int[] offsets, int[] counts, boolean[] decays,
                               long step, float lr, float beta1, float beta2, float eps, float weightDecay) {
        int n = p.length;
        if (g.length != n || m.length != n || v.length != n || offsets.length != n || counts.length != n || decays.length != n) {
            throw new IllegalArgumentException("AdamW over " + n + " parameters needs " + n + " of each array, offset, count and flag");
        }
        long[] start = new long[n + 1];
        for (int i = 0; i < n; i++) {
            checkBlock("p[" + i + "]", p[i], offsets[i], counts[i], 1);
            checkBlock("g[" + i + "]", g[i], offsets[i], counts[i], 1);
            checkBlock("m[" + i + "]", m[i], offsets[i], counts[i], 1);
            checkBlock("v[" + i + "]", v[i], offsets[i], counts[i], 1);
            start[i + 1] = start[i] + counts[i];
        }
        if (start[n] > Integer.MAX_VALUE) throw new IllegalArgumentException("AdamW over more than 2^31 - 1 elements in one call");
        Scalars k = Scalars.of(step, lr, beta1, beta2, eps);
        float[] decay = new float[n];
        for (int i = 0; i < n; i++) decay[i] = k.decay(decays[i] ? weightDecay : 0f);
        forElements((int) start[n], 12, (from, to) -> {
            // The parameters this block of the whole sequence overlaps, each from where the block starts in it.
            int i = java.util.Arrays.binarySearch(start, from);
            i = i >= 0 ? i : -i - 2;
            for (; i < n && start[i] < to; i++) {
                int lo = (int) Math.max(from, start[i]), hi = (int) Math.min(to, start[i + 1]);
                if (hi > lo) update(p[i], g[i], m[i], v[i], offsets[i] + lo - (int) start[i], hi - lo, decay[i], k);
            }
        });
    }

    /** The step's scalars as the kernel uses them, rounded to float once. */
    private record Scalars(long step, float lr, float b1, float c1, float b2, float c2, float negStep, float bc2Sqrt, float eps) {
        static Scalars of(long step, float lr, float beta1, float beta2, float eps) {
            if (step < 1) throw new IllegalArgumentException("AdamW step is 1-based, got " + step);
            double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
            return new Scalars(step, lr, beta1, (float) (1 - (double) beta1), beta2, (float) (1 - (double) beta2),
                    (float) (-(lr / bc1)), (float) Math.sqrt(bc2), eps);
        }

        /** The factor 1 − lr·wd applied to p before the update. */
        float decay(float weightDecay) {
            return (float) (1 - (double) lr * weightDecay);
        }
    }

    /** The update of len elements from at (vectors, then a scalar tail with the lanes' operations). */
    private static void update(float[] p, float[] g, float[] m, float[] v, int at0, int len, float decay, Scalars k) {
        float b1 = k.b1(), c1 = k.c1(), b2 = k.b2(), c2 = k.c2(), negStep = k.negStep(), bc2Sqrt = k.bc2Sqrt(), eps = k.eps();
        int i = 0;
        for (; i <= len - L; i += L) {
            int at = at0 + i;
            FloatVector gv = FloatVector.fromArray(S, g, at);
            FloatVector mv = FloatVector.fromArray(S, m, at).fma(FloatVector.broadcast(S, b1), gv.mul(c1));
            FloatVector vv = FloatVector.fromArray(S, v, at).fma(FloatVector.broadcast(S, b2), gv.mul(c2).mul(gv));
            FloatVector den = vv.sqrt().div(bc2Sqrt).add(eps);
            FloatVector pv = FloatVector.fromArray(S, p, at).mul(decay);
            mv.div(den).fma(FloatVector.broadcast(S, negStep), pv).intoArray(p, at);
            mv.intoArray(m, at);
            vv.intoArray(v, at);
        }
        for (; i < len; i++) {
            int at = at0 + i;
            float gi = g[at];
            float mi = Math.fma(m[at], b1, gi * c1);
            float vi = Math.fma(v[at], b2, gi * c2 * gi);
            float den = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            float pi = p[at] * decay;
            p[at] = Math.fma(mi / den, negStep, pi);
            m[at] = mi;
            v[at] = vi;
        }
    }
}
