package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static dev.irtj.kernels.cpu.KernelBlocks.checkBlock;
import static dev.irtj.kernels.cpu.KernelBlocks.rowCost;
import static dev.irtj.kernels.cpu.ReductionKernels.addLanes;
import static dev.irtj.kernels.cpu.ReductionKernels.dot;
import static dev.irtj.kernels.cpu.ReductionKernels.sum;

/**
 * Softmax and log-softmax of scale·x over each row of a [rows × n] F32 block, forward and
 * backward, max-subtracted, vectorized and parallel over rows (a row is never divided among
 * threads, so results do not depend on the split).
 * Reference: {@code dev.irtj.tensor.ReferenceBackend.softmax / softmaxBackward}; CUDA twin
 * {@code native/src/cuda/softmax.cu}.
 */
public final class SoftmaxKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private SoftmaxKernels() {
    }

    /** y = softmax(scale·x) over each row (or its log when {@code log}), max-subtracted. */
    public static void forward(float[] x, int xOff, float[] y, int yOff, int rows, int n, float scale, boolean log) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("y", y, yOff, rows, n);
        if (log) {
            Parallel.forRange(rows, rowCost(n, 24), (from, to) -> logSoftmaxRows(x, xOff, y, yOff, n, scale, from, to));
        } else {
            Parallel.forRange(rows, rowCost(n, 24), (from, to) -> {
                // Maxima, exponentials and normalization in separate methods: written as one, the
                // method (with its inlined helpers) passed C2's inlining node budget, and the
                // vector operations left un-inlined ran boxed.
                float[] negMax = new float[to - from], inverseSums = new float[to - from];
                negatedRowMaxima(x, xOff, n, scale, from, to, negMax);
                softmaxRows(x, xOff, y, yOff, n, scale, from, to, negMax, inverseSums);
                scaleRows(y, yOff, n, inverseSums, from, to);
            });
        }
    }

    /** negMax[r − from] = −max_j scale·x[r][j] for rows [from, to). */
    private static void negatedRowMaxima(float[] x, int xOff, int n, float scale, int from, int to, float[] negMax) {
        for (int r = from; r < to; r++) negMax[r - from] = -maxScaled(x, xOff + r * n, n, scale);
    }

    /** y[r] = exp(scale·x[r] + negMax[r − from]) for rows [from, to); inverseSums[r − from] = 1 / Σ y[r]. */
    private static void softmaxRows(float[] x, int xOff, float[] y, int yOff, int n, float scale, int from, int to,
                                    float[] negMaxes, float[] inverseSums) {
        float[] scratch = new float[L];
        for (int r = from; r < to; r++) {
            int xo = xOff + r * n, yo = yOff + r * n;
            float negMax = negMaxes[r - from];
            // The exponent z goes into y, which then takes e^z in place: x[j] is read before y[j]
            // is written, so y may be x itself.
            scaleAndShift(x, xo, y, yo, n, scale, negMax);
            ExpKernel.exp(y, yo, y, yo, n);
            inverseSums[r - from] = 1f / rowSum(y, yo, n, scratch);
        }
    }

    /** z[zo + j] = scale·x[xo + j] + shift (one fused multiply-add). */
    private static void scaleAndShift(float[] x, int xo, float[] z, int zo, int n, float scale, float shift) {
        int j = 0;
        for (; j <= n - L; j += L) FloatVector.fromArray(S, x, xo + j).fma(scale, shift).intoArray(z, zo + j);
        for (; j < n; j++) z[zo + j] = Math.fma(x[xo + j], scale, shift);
    }

    /**
     * Σ e[eo + j]: each vector's lanes added into a small array in order, then the lanes by
     * {@link ReductionKernels#addLanes}, then the tail. Lane sums are kept in memory rather than in
     * a loop-carried vector: on JDK 17 a vector phi stored after the loop sometimes fails the store
     * intrinsic, and the whole loop then runs boxed.
     */
    private static float rowSum(float[] e, int eo, int n, float[] scratch) {
        java.util.Arrays.fill(scratch, 0f);
        int j = 0;
        for (; j <= n - L; j += L) FloatVector.fromArray(S, scratch, 0).add(FloatVector.fromArray(S, e, eo + j)).intoArray(scratch, 0);
        float sum = addLanes(scratch);
        for (; j < n; j++) sum += e[eo + j];
        return sum;
    }

    private static void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int n, float scale, int from, int to) {
        // e^z goes to a buffer, not to y, since y may be x and x is read again for z − log Σ e^z.
        float[] scratch = new float[L], e = new float[n];
        for (int r = from; r < to; r++) {
            int xo = xOff + r * n, yo = yOff + r * n;
            float negMax = -maxScaled(x, xo, n, scale);
            scaleAndShift(x, xo, e, 0, n, scale, negMax);
            ExpKernel.exp(e, 0, e, 0, n);
            float logSum = (float) Math.log(rowSum(e, 0, n, scratch));
            int j = 0;
            for (; j <= n - L; j += L) FloatVector.fromArray(S, x, xo + j).fma(scale, negMax).sub(logSum).intoArray(y, yo + j);
            for (; j < n; j++) y[yo + j] = Math.fma(x[xo + j], scale, negMax) - logSum;
        }
    }

    /** max_j scale·x[j]; exact whatever the order, so reduceLanes is fine here. */
    private static float maxScaled(float[] x, int xo, int n, float scale) {
        FloatVector m0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        int j = 0;
        for (; j <= n - 4 * L; j += 4 * L) {
            m0 = m0.max(FloatVector.fromArray(S, x, xo + j).mul(scale));
            m1 = m1.max(FloatVector.fromArray(S, x, xo + j + L).mul(scale));
            m2 = m2.max(FloatVector.fromArray(S, x, xo + j + 2 * L).mul(scale));
            m3 = m3.max(FloatVector.fromArray(S, x, xo + j + 3 * L).mul(scale));
        }
        for (; j <= n - L; j += L) m0 = m0.max(FloatVector.fromArray(S, x, xo + j).mul(scale));
        float max = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        for (; j < n; j++) max = Math.max(max, x[xo + j] * scale);
        return max;
    }

    /** Row r of y (rows [from, to)) times inverseSums[r − from]. */
    private static void scaleRows(float[] y, int yOff, int n, float[] inverseSums, int from, int to) {
        for (int r = from; r < to; r++) {
            int yo = yOff + r * n;
            FloatVector c = FloatVector.broadcast(S, inverseSums[r - from]);
            int j = 0;
            for (; j <= n - L; j += L) FloatVector.fromArray(S, y, yo + j).mul(c).intoArray(y, yo + j);
            for (; j < n; j++) y[yo + j] *= inverseSums[r - from];
        }
    }

    /**
     * Gradient of softmax(scale·x) given its output y and upstream dy: dx = scale·y·(dy − Σ dy·y);
     * for log-softmax (y = log-probabilities) dx = scale·(dy − e^y·Σ dy).
     */
    public static void backward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff,
                                int rows, int n, float scale, boolean log) {
        checkBlock("y", y, yOff, rows, n);
        checkBlock("dy", dy, dyOff, rows, n);
        checkBlock("dx", dx, dxOff, rows, n);
        if (log) {
            Parallel.forRange(rows, rowCost(n, 20), (from, to) -> logSoftmaxBackwardRows(y, yOff, dy, dyOff, dx, dxOff, n, scale, from, to));
        } else {
            Parallel.forRange(rows, rowCost(n, 6), (from, to) -> softmaxBackwardRows(y, yOff, dy, dyOff, dx, dxOff, n, scale, from, to));
        }
    }

    private static void softmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int n,
                                            float scale, int from, int to) {
        float[] scratch = new float[L];
        for (int r = from; r < to; r++) {
            int yo = yOff + r * n, go = dyOff + r * n, xo = dxOff + r * n;
            float s = dot(dy, go, y, yo, n, scratch);
            int j = 0;
            for (; j <= n - L; j += L) {
                FloatVector yv = FloatVector.fromArray(S, y, yo + j);
                FloatVector.fromArray(S, dy, go + j).sub(s).mul(yv).mul(scale).intoArray(dx, xo + j);
            }
            for (; j < n; j++) dx[xo + j] = (dy[go + j] - s) * y[yo + j] * scale;
        }
    }

    private static void logSoftmaxBackwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int n,
                                               float scale, int from, int to) {
        // e^y goes to a buffer: dx may be the very block of dy, which is read after it.
        float[] scratch = new float[L], e = new float[n];
        for (int r = from; r < to; r++) {
            int yo = yOff + r * n, go = dyOff + r * n, xo = dxOff + r * n;
            float negS = -sum(dy, go, n, scratch);
            ExpKernel.exp(y, yo, e, 0, n);
            FloatVector vNegS = FloatVector.broadcast(S, negS);
            int j = 0;
            for (; j <= n - L; j += L) {
                FloatVector.fromArray(S, e, j).fma(vNegS, FloatVector.fromArray(S, dy, go + j)).mul(scale).intoArray(dx, xo + j);
            }
            for (; j < n; j++) dx[xo + j] = Math.fma(e[j], negS, dy[go + j]) * scale;
        }
    }
}
