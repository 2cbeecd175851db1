package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static dev.irtj.kernels.cpu.KernelBlocks.checkBlock;
import static dev.irtj.kernels.cpu.KernelBlocks.rowCost;
import static dev.irtj.kernels.cpu.ReductionKernels.addLanes;
import static dev.irtj.kernels.cpu.ReductionKernels.dot;

/**
 * Row L2 normalization of a [rows × n] F32 block, x / max(‖x‖₂, eps), forward and backward.
 * Reference: {@code dev.irtj.tensor.ReferenceBackend.l2Normalize / l2NormalizeBackward}; CUDA
 * twin {@code native/src/cuda/l2norm.cu}.
 */
public final class L2NormalizeKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private L2NormalizeKernels() {
    }

    /** y = x / max(‖x‖₂, eps) over each row. */
    public static void forward(float[] x, int xOff, float[] y, int yOff, int rows, int n, float eps) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("y", y, yOff, rows, n);
        Parallel.forRange(rows, rowCost(n, 4), (from, to) -> {
            float[] scratch = new float[L];
            for (int r = from; r < to; r++) {
                int xo = xOff + r * n, yo = yOff + r * n;
                double norm = Math.sqrt(sumSquares(x, xo, n, scratch));
                float inv = (float) (1.0 / Math.max(norm, eps));
                int j = 0;
                for (; j <= n - L; j += L) FloatVector.fromArray(S, x, xo + j).mul(inv).intoArray(y, yo + j);
                for (; j < n; j++) y[yo + j] = x[xo + j] * inv;
            }
        });
    }

    /**
     * Gradient of {@link #forward}: where ‖x‖ > eps, dx = (dy − x·(dy·x)/‖x‖²)/‖x‖;
     * elsewhere dx = dy/eps.
     */
    public static void backward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff,
                                int rows, int n, float eps) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("dy", dy, dyOff, rows, n);
        checkBlock("dx", dx, dxOff, rows, n);
        Parallel.forRange(rows, rowCost(n, 6), (from, to) -> {
            float[] scratch = new float[L];
            for (int r = from; r < to; r++) {
                int xo = xOff + r * n, go = dyOff + r * n, o = dxOff + r * n;
                double ss = sumSquares(x, xo, n, scratch);
                double norm = Math.sqrt(ss);
                int j = 0;
                if (norm > eps) {
                    double dot = dot(dy, go, x, xo, n, scratch);
                    if (!Double.isFinite(dot)) dot = dotDouble(dy, go, x, xo, n);
                    float k = (float) (-dot / ss), inv = (float) (1.0 / norm);
                    for (; j <= n - L; j += L) {
                        FloatVector.fromArray(S, x, xo + j).fma(FloatVector.broadcast(S, k), FloatVector.fromArray(S, dy, go + j))
                                .mul(inv).intoArray(dx, o + j);
                    }
                    for (; j < n; j++) dx[o + j] = Math.fma(x[xo + j], k, dy[go + j]) * inv;
                } else {
                    for (; j <= n - L; j += L) FloatVector.fromArray(S, dy, go + j).div(eps).intoArray(dx, o + j);
                    for (; j < n; j++) dx[o + j] = dy[go + j] / eps;
                }
            }
        });
    }

    /** Σ x² of a row: in float with vector accumulators, redone in double when float over- or underflows. */
    private static double sumSquares(float[] x, int xo, int n, float[] scratch) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int j = 0;
        for (; j <= n - 4 * L; j += 4 * L) {
            FloatVector v0 = FloatVector.fromArray(S, x, xo + j), v1 = FloatVector.fromArray(S, x, xo + j + L);
            FloatVector v2 = FloatVector.fromArray(S, x, xo + j + 2 * L), v3 = FloatVector.fromArray(S, x, xo + j + 3 * L);
            a0 = v0.fma(v0, a0);
            a1 = v1.fma(v1, a1);
            a2 = v2.fma(v2, a2);
            a3 = v3.fma(v3, a3);
        }
        for (; j <= n - L; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + j);
            a0 = v.fma(v, a0);
        }
        a0.add(a1).add(a2.add(a3)).intoArray(scratch, 0);
        float ss = addLanes(scratch);
        for (; j < n; j++) ss = Math.fma(x[xo + j], x[xo + j], ss);
        if (ss < 1e-30f || ss == Float.POSITIVE_INFINITY) {
            double d = 0;
            for (j = 0; j < n; j++) d += (double) x[xo + j] * x[xo + j];
            return d;
        }
        return ss;
    }

    private static double dotDouble(float[] a, int ao, float[] b, int bo, int n) {
        double d = 0;
        for (int j = 0; j < n; j++) d += (double) a[ao + j] * b[bo + j];
        return d;
    }
}
