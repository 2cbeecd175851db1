package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused F32 row kernels on plain arrays, vectorized with the Vector API and parallel over rows.
 *
 * <p>Layout: a {@code [rows × n]} block of an array starts at an offset and is row-major with no
 * gaps, so row {@code r} occupies {@code [off + r·n, off + (r+1)·n)}. Per-row outputs that take no
 * offset ({@code mean}, {@code rstd}, layer-norm {@code w}/{@code b}/{@code dw}/{@code db}) start
 * at index 0. An output may be the very same block (same array, same offset) as any input, since
 * every element is read before its own output is written; partially overlapping blocks are not
 * supported.
 *
 * <p>Determinism: every row is computed by the same code path whatever the thread split (a row is
 * never divided among threads), horizontal sums add vector lanes in a fixed order rather than
 * through {@code reduceLanes(ADD)} (whose order may differ between the interpreter and C2), and
 * cross-row sums (layer norm's dweight/dbias, {@link #sumRows}) are formed per fixed block of
 * {@value #ROW_BLOCK} rows and combined in a fixed pairwise tree. Elementwise kernels split their
 * range at multiples of {@value #ELEM_BLOCK} elements, and their scalar tails perform exactly the
 * vector lanes' operations (same fused multiply-adds, same order), so an element's value depends
 * on neither its position nor the thread count. The results are therefore bit-identical across
 * calls, thread counts and JIT tiers.
 *
 * <p>Transcendentals are computed here, not with {@code lanewise(EXP)} (which on HotSpot calls
 * SVML only once C2 has compiled the loop, and a differently rounded Java fallback before that):
 * <ul>
 *   <li>exp: Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, and e^r = 1 + r + r²·Q(r) with Q of
 *       degree 4 (relative error of the fit 3.1e-9; ≤ 1 ulp overall). Inputs below ln(FLT_MIN)
 *       give 0 (the true value is subnormal, under 1.2e-38); inputs above 88 are treated as 88 (no
 *       kernel here needs more: softmax feeds x − max ≤ 0, the others clamp before).</li>
 *   <li>erf: erf(a) = a + a·R(a²) on [0, 1) with R of degree 6, and erfc(a) = exp(P(a − 1)) on
 *       [1, 5] with P of degree 8 (a fit of log erfc). erf = 1 − erfc on [1, ∞); erfc = 0 past 5
 *       (erfc(5) = 1.5e-12). Because erfc is formed directly, Φ(x) = erfc(−x/√2)/2 keeps its
 *       relative precision (about 3e-6) in the negative tail down to x = −7.07.</li>
 *   <li>tanh: u + u·s·T(s) with s = u², T of degree 4, for |u| &lt; 0.625, else 1 − 2/(e^{2|u|} + 1)
 *       with the sign of u. The tanh-GELU uses the equivalent ½(1 + tanh u) = 1/(1 + e^{−2u}),
 *       which has no cancellation in either tail.</li>
 * </ul>
 * All coefficients were fitted for this class by weighted minimax (Lawson's iteratively
 * reweighted least squares over 6 000–8 000 points, in double precision, against double-precision
 * erf/erfc/exp/tanh): relative weights for exp, R and T; for P the weight max(erfc(a), 0.01), so
 * that the absolute error of erf = 1 − erfc is small near a = 1 while erfc keeps relative accuracy
 * further out. The coefficients were then rounded to float and the float evaluation (Horner with
 * fused multiply-adds) checked over a dense grid: erf is within about 1 ulp of the exact value
 * (RowKernelsTest measures it).
 */
public final class RowKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INT_SPECIES = VectorSpecies.of(int.class, S.vectorShape());
    private static final int L = S.length();

    /** Elementwise kernels split work at multiples of this (a multiple of every species length). */
    static final int ELEM_BLOCK = 8192;
    /** Rows per partial sum in cross-row reductions; fixed, so sums do not depend on the thread count. */
    static final int ROW_BLOCK = 64;

    // ---- exp -----------------------------------------------------------------------------------
    private static final float EXP_LO = -87.33654f; // ln(FLT_MIN); below it e^x is flushed to 0
    private static final float EXP_HI = 88.0f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693145751953125f; // ln 2 with its low 9 mantissa bits cleared: n·LN2_HI is exact
    private static final float LN2_LO = 1.4286068203094173e-06f; // ln 2 − LN2_HI
    private static final float ROUND_MAGIC = 12582912f; // 1.5·2^23: adding it rounds to an integer
    private static final float EQ0 = 0.4999999403953552f, EQ1 = 0.1666652113199234f, EQ2 = 0.04166838899254799f,
            EQ3 = 0.008368712849915028f, EQ4 = 0.0013814620906487107f;

    // ---- erf / erfc ----------------------------------------------------------------------------
    /** erf(a) = a + a·R(a²), 0 ≤ a < 1. */
    private static final float ER0 = 0.12837916612625122f, ER1 = -0.3761262595653534f, ER2 = 0.1128358542919159f,
            ER3 = -0.026853810995817184f, ER4 = 0.005188326351344585f, ER5 = -0.0008010179735720158f,
            ER6 = 7.853811257518828e-05f;
    /** log erfc(a) = P(a − 1), 1 ≤ a ≤ 5. */
    private static final float EP0 = -1.8496055603027344f, EP1 = -2.6389658451080322f, EP2 = -0.8431220054626465f,
            EP3 = -0.04151833802461624f, EP4 = 0.009993261657655239f, EP5 = -0.0019909513648599386f,
            EP6 = 0.00029498705407604575f, EP7 = -2.7852149287355132e-05f, EP8 = 1.2241731610629358e-06f;
    private static final float ERF_SPLIT = 1.0f;
    private static final float ERFC_MAX = 5.0f;

    // ---- tanh ----------------------------------------------------------------------------------
    /** tanh(u) = u + u·s·T(s), s = u², |u| < 0.625. */
    private static final float TT0 = -0.3333328068256378f, TT1 = 0.13331441581249237f, TT2 = -0.053739700466394424f,
            TT3 = 0.020639043301343918f, TT4 = -0.00570493470877409f;
    private static final float TANH_SPLIT = 0.625f;

    // ---- GELU ----------------------------------------------------------------------------------
    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float INV_SQRT_2PI = 0.39894228040143268f;
    private static final float SQRT_2_OVER_PI = 0.79788456080286536f;
    private static final float GELU_TANH_C = 0.044715f;
    private static final float GELU_TANH_3CK = (float) (3 * 0.044715 * 0.7978845608028654);

    private RowKernels() {
    }

    // =============================================================================================
    // softmax
    // =============================================================================================

    /** y = softmax(scale·x) over each row (or its log when {@code log}), max-subtracted. */
    public static void softmaxForward(float[] x, int xOff, float[] y, int yOff, int rows, int n, float scale, boolean log) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("y", y, yOff, rows, n);
        if (log) {
            Parallel.forRange(rows, rowCost(n, 24), (from, to) -> logSoftmaxRows(x, xOff, y, yOff, n, scale, from, to));
        } else {
            Parallel.forRange(rows, rowCost(n, 24), (from, to) -> softmaxRows(x, xOff, y, yOff, n, scale, from, to));
        }
    }

    // Code layout for C2: every method that passes FloatVectors (expV, cdfV, ...) must be inlined
    // into its caller, or the vectors are boxed and the loop runs ~50x slower. C2 stops inlining
    // once a compilation grows past its node budget, and an inlined exp is large, so each method
    // below holds the loops of one kernel variant with one transcendental call site, and is what
    // the Parallel lambda calls.

    private static void softmaxRows(float[] x, int xOff, float[] y, int yOff, int n, float scale, int from, int to) {
        float[] scratch = new float[L];
        for (int r = from; r < to; r++) {
            int xo = xOff + r * n, yo = yOff + r * n;
            float negMax = -maxScaled(x, xo, n, scale);
            FloatVector acc = FloatVector.zero(S);
            int j = 0;
            for (; j <= n - L; j += L) {
                FloatVector e = expV(FloatVector.fromArray(S, x, xo + j).fma(scale, negMax));
                e.intoArray(y, yo + j);
                acc = acc.add(e);
            }
            acc.intoArray(scratch, 0);
            float sum = addLanes(scratch);
            for (; j < n; j++) {
                float e = exp(Math.fma(x[xo + j], scale, negMax));
                y[yo + j] = e;
                sum += e;
            }
            scaleInPlace(y, yo, n, 1f / sum);
        }
    }

    private static void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int n, float scale, int from, int to) {
        float[] scratch = new float[L];
        for (int r = from; r < to; r++) {
            int xo = xOff + r * n, yo = yOff + r * n;
            float negMax = -maxScaled(x, xo, n, scale);
            FloatVector acc = FloatVector.zero(S);
            int j = 0;
            for (; j <= n - L; j += L) acc = acc.add(expV(FloatVector.fromArray(S, x, xo + j).fma(scale, negMax)));
            acc.intoArray(scratch, 0);
            float sum = addLanes(scratch);
            for (; j < n; j++) sum += exp(Math.fma(x[xo + j], scale, negMax));
            float logSum = (float) Math.log(sum);
            j = 0;
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

    private static void scaleInPlace(float[] y, int yo, int n, float c) {
        int j = 0;
        for (; j <= n - L; j += L) FloatVector.fromArray(S, y, yo + j).mul(c).intoArray(y, yo + j);
        for (; j < n; j++) y[yo + j] *= c;
    }

    /**
     * Gradient of softmax(scale·x) given its output y and upstream dy: dx = scale·y·(dy − Σ dy·y);
     * for log-softmax (y = log-probabilities) dx = scale·(dy − e^y·Σ dy).
     */
    public static void softmaxBackward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff,
                                       int rows, int n, float scale, boolean log) {
        checkBlock("y", y, yOff, rows, n);
        checkBlock("dy", dy, dyOff, rows, n);
        checkBlock("dx", dx, dxOff, rows, n);
        Parallel.forRange(rows, rowCost(n, log ? 20 : 6), (from, to) -> {
            float[] scratch = new float[L];
            for (int r = from; r < to; r++) {
                softmaxBackwardRow(y, yOff + r * n, dy, dyOff + r * n, dx, dxOff + r * n, n, scale, log, scratch);
            }
        });
    }

    private static void softmaxBackwardRow(float[] y, int yo, float[] dy, int go, float[] dx, int xo, int n,
                                           float scale, boolean log, float[] scratch) {
        float s = log ? sum(dy, go, n, scratch) : dot(dy, go, y, yo, n, scratch);
        int j = 0;
        if (log) {
            float negS = -s;
            for (; j <= n - L; j += L) {
                FloatVector e = expV(FloatVector.fromArray(S, y, yo + j));
                e.fma(FloatVector.broadcast(S, negS), FloatVector.fromArray(S, dy, go + j)).mul(scale).intoArray(dx, xo + j);
            }
            for (; j < n; j++) dx[xo + j] = Math.fma(exp(y[yo + j]), negS, dy[go + j]) * scale;
        } else {
            for (; j <= n - L; j += L) {
                FloatVector yv = FloatVector.fromArray(S, y, yo + j);
                FloatVector.fromArray(S, dy, go + j).sub(s).mul(yv).mul(scale).intoArray(dx, xo + j);
            }
            for (; j < n; j++) dx[xo + j] = (dy[go + j] - s) * y[yo + j] * scale;
        }
    }

    // =============================================================================================
    // layer norm
    // =============================================================================================

    /**
     * y = (x − mean)·rstd·w + b over each row of n, with mean and biased variance by two passes
     * (the second also corrects the mean) and rstd = 1/√(var + eps). {@code w} and {@code b} (length n) may be null (1 and 0);
     * {@code mean} and {@code rstd} (length rows) receive the statistics, or are skipped when null.
     */
    public static void layerNormForward(float[] x, int xOff, float[] w, float[] b, float[] y, int yOff,
                                        float[] mean, float[] rstd, int rows, int n, float eps) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("y", y, yOff, rows, n);
        if (w != null) checkBlock("w", w, 0, 1, n);
        if (b != null) checkBlock("b", b, 0, 1, n);
        if (mean != null) checkBlock("mean", mean, 0, rows, 1);
        if (rstd != null) checkBlock("rstd", rstd, 0, rows, 1);
        Parallel.forRange(rows, rowCost(n, 6), (from, to) -> {
            float[] scratch = new float[L];
            for (int r = from; r < to; r++) layerNormRow(x, xOff + r * n, w, b, y, yOff + r * n, mean, rstd, r, n, eps, scratch);
        });
    }

    private static void layerNormRow(float[] x, int xo, float[] w, float[] b, float[] y, int yo,
                                     float[] meanOut, float[] rstdOut, int r, int n, float eps, float[] scratch) {
        // Corrected two-pass statistics: with d = x − m0 around the first-pass mean m0,
        // mean = m0 + Σd/n and var = (Σd² − (Σd)²/n)/n, which repairs m0's own rounding error
        // (that would otherwise shift every x̂ when |mean| ≫ std).
        float m0 = sum(x, xo, n, scratch) / n;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, q0 = a0, q1 = a0;
        int j = 0;
        for (; j <= n - 2 * L; j += 2 * L) {
            FloatVector d0 = FloatVector.fromArray(S, x, xo + j).sub(m0);
            FloatVector d1 = FloatVector.fromArray(S, x, xo + j + L).sub(m0);
            a0 = a0.add(d0);
            a1 = a1.add(d1);
            q0 = d0.fma(d0, q0);
            q1 = d1.fma(d1, q1);
        }
        for (; j <= n - L; j += L) {
            FloatVector d = FloatVector.fromArray(S, x, xo + j).sub(m0);
            a0 = a0.add(d);
            q0 = d.fma(d, q0);
        }
        a0.add(a1).intoArray(scratch, 0);
        float sd = addLanes(scratch);
        q0.add(q1).intoArray(scratch, 0);
        float ss = addLanes(scratch);
        for (; j < n; j++) {
            float d = x[xo + j] - m0;
            sd += d;
            ss = Math.fma(d, d, ss);
        }
        double dm = (double) sd / n;
        float mu = (float) (m0 + dm);
        double var = Math.max(0.0, (ss - sd * dm) / n);
        float rs = (float) (1.0 / Math.sqrt(var + eps));
        if (meanOut != null) meanOut[r] = mu;
        if (rstdOut != null) rstdOut[r] = rs;

        // x − mean as (x − m0) − dmf: m0 + dmf carries the mean to more than float precision
        float dmf = (float) dm;
        j = 0;
        if (w != null && b != null) {
            for (; j <= n - L; j += L) {
                FloatVector xh = FloatVector.fromArray(S, x, xo + j).sub(m0).sub(dmf).mul(rs);
                xh.fma(FloatVector.fromArray(S, w, j), FloatVector.fromArray(S, b, j)).intoArray(y, yo + j);
            }
            for (; j < n; j++) y[yo + j] = Math.fma((x[xo + j] - m0 - dmf) * rs, w[j], b[j]);
        } else if (w != null) {
            for (; j <= n - L; j += L) {
                FloatVector.fromArray(S, x, xo + j).sub(m0).sub(dmf).mul(rs).mul(FloatVector.fromArray(S, w, j)).intoArray(y, yo + j);
            }
            for (; j < n; j++) y[yo + j] = (x[xo + j] - m0 - dmf) * rs * w[j];
        } else if (b != null) {
            for (; j <= n - L; j += L) {
                FloatVector.fromArray(S, x, xo + j).sub(m0).sub(dmf).mul(rs).add(FloatVector.fromArray(S, b, j)).intoArray(y, yo + j);
            }
            for (; j < n; j++) y[yo + j] = (x[xo + j] - m0 - dmf) * rs + b[j];
        } else {
            for (; j <= n - L; j += L) FloatVector.fromArray(S, x, xo + j).sub(m0).sub(dmf).mul(rs).intoArray(y, yo + j);
            for (; j < n; j++) y[yo + j] = (x[xo + j] - m0 - dmf) * rs;
        }
    }

    /**
     * Layer-norm gradients from the forward's mean and rstd (length rows, at 0): with x̂ = (x − mean)·rstd
     * and g = dy·w, dx = rstd·(g − mean(g) − x̂·mean(g·x̂)); dw = Σ_rows dy·x̂ and db = Σ_rows dy are
     * overwritten when non-null. {@code w} may be null (all ones). 
     * The row sums are deterministic: partial sums over fixed blocks of {@value #ROW_BLOCK} rows,
     * combined in a fixed pairwise tree.
     */
    public static void layerNormBackward(float[] dy, int dyOff, float[] x, int xOff, float[] w, float[] mean, float[] rstd,
                                         float[] dx, int dxOff, float[] dw, float[] db, int rows, int n) {
        checkBlock("dy", dy, dyOff, rows, n);
        checkBlock("x", x, xOff, rows, n);
        checkBlock("dx", dx, dxOff, rows, n);
        checkBlock("mean", mean, 0, rows, 1);
        checkBlock("rstd", rstd, 0, rows, 1);
        if (w != null) checkBlock("w", w, 0, 1, n);
        if (dw != null) checkBlock("dw", dw, 0, 1, n);
        if (db != null) checkBlock("db", db, 0, 1, n);
        float[] wv = w != null ? w : ones(n);
        if (dw == null && db == null) {
            Parallel.forRange(rows, rowCost(n, 10), (from, to) -> {
                float[] scratch = new float[L];
                for (int r = from; r < to; r++) {
                    layerNormBackwardRow(dy, dyOff + r * n, x, xOff + r * n, wv, mean[r], rstd[r], dx, dxOff + r * n,
                            null, null, 0, n, scratch);
                }
            });
            return;
        }
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        if (blocks == 0) {
            if (dw != null) java.util.Arrays.fill(dw, 0, n, 0f);
            if (db != null) java.util.Arrays.fill(db, 0, n, 0f);
            return;
        }
        float[] pw = new float[blocks * n], pb = new float[blocks * n];
        Parallel.forRange(blocks, rowCost(n, 14) * ROW_BLOCK, (b0, b1) -> {
            float[] scratch = new float[L];
            for (int blk = b0; blk < b1; blk++) {
                int r1 = Math.min(rows, (blk + 1) * ROW_BLOCK);
                for (int r = blk * ROW_BLOCK; r < r1; r++) {
                    layerNormBackwardRow(dy, dyOff + r * n, x, xOff + r * n, wv, mean[r], rstd[r], dx, dxOff + r * n,
                            pw, pb, blk * n, n, scratch);
                }
            }
        });
        combineBlocks(pw, blocks, n);
        combineBlocks(pb, blocks, n);
        if (dw != null) System.arraycopy(pw, 0, dw, 0, n);
        if (db != null) System.arraycopy(pb, 0, db, 0, n);
    }

    private static void layerNormBackwardRow(float[] dy, int go, float[] x, int xo, float[] w, float mu, float rs,
                                             float[] dx, int dxo, float[] pw, float[] pb, int po, int n, float[] scratch) {
        // pass 1: Σ g and Σ g·x̂ (and the block's dw, db partials)
        FloatVector g0 = FloatVector.zero(S), g1 = g0, h0 = g0, h1 = g0;
        int j = 0;
        if (pw != null) {
            for (; j <= n - 2 * L; j += 2 * L) {
                FloatVector d0 = FloatVector.fromArray(S, dy, go + j), d1 = FloatVector.fromArray(S, dy, go + j + L);
                FloatVector xh0 = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
                FloatVector xh1 = FloatVector.fromArray(S, x, xo + j + L).sub(mu).mul(rs);
                FloatVector gg0 = d0.mul(FloatVector.fromArray(S, w, j)), gg1 = d1.mul(FloatVector.fromArray(S, w, j + L));
                g0 = g0.add(gg0);
                g1 = g1.add(gg1);
                h0 = gg0.fma(xh0, h0);
                h1 = gg1.fma(xh1, h1);
                d0.fma(xh0, FloatVector.fromArray(S, pw, po + j)).intoArray(pw, po + j);
                d1.fma(xh1, FloatVector.fromArray(S, pw, po + j + L)).intoArray(pw, po + j + L);
                d0.add(FloatVector.fromArray(S, pb, po + j)).intoArray(pb, po + j);
                d1.add(FloatVector.fromArray(S, pb, po + j + L)).intoArray(pb, po + j + L);
            }
            for (; j <= n - L; j += L) {
                FloatVector d0 = FloatVector.fromArray(S, dy, go + j);
                FloatVector xh0 = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
                FloatVector gg0 = d0.mul(FloatVector.fromArray(S, w, j));
                g0 = g0.add(gg0);
                h0 = gg0.fma(xh0, h0);
                d0.fma(xh0, FloatVector.fromArray(S, pw, po + j)).intoArray(pw, po + j);
                d0.add(FloatVector.fromArray(S, pb, po + j)).intoArray(pb, po + j);
            }
        } else {
            for (; j <= n - 2 * L; j += 2 * L) {
                FloatVector xh0 = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
                FloatVector xh1 = FloatVector.fromArray(S, x, xo + j + L).sub(mu).mul(rs);
                FloatVector gg0 = FloatVector.fromArray(S, dy, go + j).mul(FloatVector.fromArray(S, w, j));
                FloatVector gg1 = FloatVector.fromArray(S, dy, go + j + L).mul(FloatVector.fromArray(S, w, j + L));
                g0 = g0.add(gg0);
                g1 = g1.add(gg1);
                h0 = gg0.fma(xh0, h0);
                h1 = gg1.fma(xh1, h1);
            }
            for (; j <= n - L; j += L) {
                FloatVector xh0 = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
                FloatVector gg0 = FloatVector.fromArray(S, dy, go + j).mul(FloatVector.fromArray(S, w, j));
                g0 = g0.add(gg0);
                h0 = gg0.fma(xh0, h0);
            }
        }
        g0.add(g1).intoArray(scratch, 0);
        float sumG = addLanes(scratch);
        h0.add(h1).intoArray(scratch, 0);
        float sumGX = addLanes(scratch);
        for (; j < n; j++) {
            float d = dy[go + j], xh = (x[xo + j] - mu) * rs, g = d * w[j];
            sumG += g;
            sumGX = Math.fma(g, xh, sumGX);
            if (pw != null) {
                pw[po + j] = Math.fma(d, xh, pw[po + j]);
                pb[po + j] += d;
            }
        }
        // pass 2: dx = rstd·(g − (x̂·mean(g·x̂) + mean(g)))
        float a = sumG / n, c = sumGX / n;
        j = 0;
        for (; j <= n - L; j += L) {
            FloatVector xh = FloatVector.fromArray(S, x, xo + j).sub(mu).mul(rs);
            FloatVector g = FloatVector.fromArray(S, dy, go + j).mul(FloatVector.fromArray(S, w, j));
            g.sub(xh.fma(c, a)).mul(rs).intoArray(dx, dxo + j);
        }
        for (; j < n; j++) {
            float xh = (x[xo + j] - mu) * rs, g = dy[go + j] * w[j];
            dx[dxo + j] = (g - Math.fma(xh, c, a)) * rs;
        }
    }

    // =============================================================================================
    // GELU (erf), GELU (tanh), erf, tanh
    // =============================================================================================

    /** y = x·Φ(x), the exact (erf) GELU, over {@code count} elements. */
    public static void gelu(float[] x, int xOff, float[] y, int yOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("y", y, yOff, count, 1);
        forElements(count, 40, (from, to) -> {
            int i = from;
            for (; i <= to - L; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                v.mul(cdfV(v)).intoArray(y, yOff + i);
            }
            for (; i < to; i++) {
                float v = x[xOff + i];
                y[yOff + i] = v * cdf(v);
            }
        });
    }

    /** dx = dy·(Φ(x) + x·φ(x)). */
    public static void geluBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("dy", dy, dyOff, count, 1);
        checkBlock("dx", dx, dxOff, count, 1);
        forElements(count, 60, (from, to) -> {
            int i = from;
            for (; i <= to - L; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                FloatVector phi = expV(v.mul(v).mul(-0.5f)).mul(INV_SQRT_2PI);
                FloatVector grad = v.fma(phi, cdfV(v));
                FloatVector.fromArray(S, dy, dyOff + i).mul(grad).intoArray(dx, dxOff + i);
            }
            for (; i < to; i++) {
                float v = x[xOff + i];
                float phi = exp(v * v * -0.5f) * INV_SQRT_2PI;
                float grad = Math.fma(v, phi, cdf(v));
                dx[dxOff + i] = dy[dyOff + i] * grad;
            }
        });
    }

    /** y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), computed as x / (1 + e^(−2u)). */
    public static void geluTanh(float[] x, int xOff, float[] y, int yOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("y", y, yOff, count, 1);
        forElements(count, 24, (from, to) -> {
            int i = from;
            for (; i <= to - L; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                FloatVector z = v.mul(v).mul(v).fma(FloatVector.broadcast(S, GELU_TANH_C), v).mul(SQRT_2_OVER_PI).mul(-2f);
                FloatVector e = expV(z);
                FloatVector sg = FloatVector.broadcast(S, 1f).div(e.add(1f)).blend(0f, z.compare(VectorOperators.GT, EXP_HI));
                v.mul(sg).intoArray(y, yOff + i);
            }
            for (; i < to; i++) {
                float v = x[xOff + i];
                float z = Math.fma(v * v * v, GELU_TANH_C, v) * SQRT_2_OVER_PI * -2f;
                float e = exp(z);
                float sg = z > EXP_HI ? 0f : 1f / (e + 1f);
                y[yOff + i] = v * sg;
            }
        });
    }

    /** Gradient of {@link #geluTanh}: dx = dy·(σ + 2x·σ(1 − σ)·u'), σ = ½(1 + tanh u), with σ(1 − σ) = e^(−2u)·σ². */
    public static void geluTanhBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("dy", dy, dyOff, count, 1);
        checkBlock("dx", dx, dxOff, count, 1);
        forElements(count, 30, (from, to) -> {
            int i = from;
            for (; i <= to - L; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                FloatVector v2 = v.mul(v);
                FloatVector z = v2.mul(v).fma(FloatVector.broadcast(S, GELU_TANH_C), v).mul(SQRT_2_OVER_PI).mul(-2f);
                FloatVector e = expV(z);
                FloatVector sg = FloatVector.broadcast(S, 1f).div(e.add(1f)).blend(0f, z.compare(VectorOperators.GT, EXP_HI));
                FloatVector du = v2.min(1e30f).fma(GELU_TANH_3CK, SQRT_2_OVER_PI); // finite, so 0·du stays 0
                FloatVector es2 = e.mul(sg).mul(sg);
                FloatVector grad = v.add(v).mul(es2).fma(du, sg);
                FloatVector.fromArray(S, dy, dyOff + i).mul(grad).intoArray(dx, dxOff + i);
            }
            for (; i < to; i++) {
                float v = x[xOff + i];
                float v2 = v * v;
                float z = Math.fma(v2 * v, GELU_TANH_C, v) * SQRT_2_OVER_PI * -2f;
                float e = exp(z);
                float sg = z > EXP_HI ? 0f : 1f / (e + 1f);
                float du = Math.fma(Math.min(v2, 1e30f), GELU_TANH_3CK, SQRT_2_OVER_PI);
                float es2 = e * sg * sg;
                float grad = Math.fma((v + v) * es2, du, sg);
                dx[dxOff + i] = dy[dyOff + i] * grad;
            }
        });
    }

    /** y = erf(x), within about 1 ulp of the exact value (see the class comment). */
    public static void erf(float[] x, int xOff, float[] y, int yOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("y", y, yOff, count, 1);
        forElements(count, 30, (from, to) -> {
            int i = from;
            for (; i <= to - L; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                FloatVector e = erfAbsV(v.abs());
                e.blend(e.neg(), v.lt(0f)).intoArray(y, yOff + i);
            }
            for (; i < to; i++) {
                float v = x[xOff + i];
                float e = erfAbs(Math.abs(v));
                y[yOff + i] = v < 0f ? -e : e;
            }
        });
    }

    /** y = tanh(x), within about 2 ulp of the exact value. */
    public static void tanh(float[] x, int xOff, float[] y, int yOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("y", y, yOff, count, 1);
        forElements(count, 24, (from, to) -> {
            int i = from;
            for (; i <= to - L; i += L) tanhV(FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
            for (; i < to; i++) y[yOff + i] = tanh(x[xOff + i]);
        });
    }

    // =============================================================================================
    // L2 normalize
    // =============================================================================================

    /** y = x / max(‖x‖₂, eps) over each row. */
    public static void l2NormalizeForward(float[] x, int xOff, float[] y, int yOff, int rows, int n, float eps) {
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
     * Gradient of {@link #l2NormalizeForward}: where ‖x‖ > eps, dx = (dy − x·(dy·x)/‖x‖²)/‖x‖;
     * elsewhere dx = dy/eps. 
     */
    public static void l2NormalizeBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff,
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

    // =============================================================================================
    // AdamW
    // =============================================================================================

    /**
     * One AdamW step in place over {@code count} elements of p, g, m, v starting at {@code off}
     * (PyTorch's rule): p ·= 1 − lr·wd; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
     * p −= (lr/bc1)·m / (√v/√bc2 + eps) with bc_i = 1 − β_i^step (step is 1-based).
     */
    public static void adamw(float[] p, float[] g, float[] m, float[] v, int off, int count, long step,
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

    // =============================================================================================
    // bias add and sums
    // =============================================================================================

    /** y[r, j] = x[r, j] + b[bOff + j]. */
    public static void addRowVector(float[] x, int xOff, float[] b, int bOff, float[] y, int yOff, int rows, int n) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("b", b, bOff, 1, n);
        checkBlock("y", y, yOff, rows, n);
        Parallel.forRange(rows, rowCost(n, 1), (from, to) -> {
            for (int r = from; r < to; r++) {
                int xo = xOff + r * n, yo = yOff + r * n, j = 0;
                for (; j <= n - L; j += L) {
                    FloatVector.fromArray(S, x, xo + j).add(FloatVector.fromArray(S, b, bOff + j)).intoArray(y, yo + j);
                }
                for (; j < n; j++) y[yo + j] = x[xo + j] + b[bOff + j];
            }
        });
    }

    /**
     * Column sums: out[outOff + j] = Σ_r x[r, j]. Each column is summed in row order within fixed
     * blocks of {@value #ROW_BLOCK} rows, and the block sums are combined in a fixed pairwise tree.
     */
    public static void sumRows(float[] x, int xOff, float[] out, int outOff, int rows, int n) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("out", out, outOff, 1, n);
        if (rows <= ROW_BLOCK) {
            // One block: columns are independent, so split them (a column's sum is the same
            // sequence of additions whichever chunk, vector lane or tail computes it).
            Parallel.forRange(n, Math.max(1, rows), (c0, c1) -> columnSums(x, xOff, rows, n, c0, c1, out, outOff));
            return;
        }
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        float[] partial = new float[blocks * n];
        Parallel.forRange(blocks, (long) ROW_BLOCK * n, (b0, b1) -> {
            for (int blk = b0; blk < b1; blk++) {
                int r0 = blk * ROW_BLOCK, r1 = Math.min(rows, r0 + ROW_BLOCK);
                columnSums(x, xOff + r0 * n, r1 - r0, n, 0, n, partial, blk * n);
            }
        });
        combineBlocks(partial, blocks, n);
        System.arraycopy(partial, 0, out, outOff, n);
    }

    /** out[oo + j] = Σ_{r < rows} x[xo + r·n + j] for j in [c0, c1), rows added in order. */
    private static void columnSums(float[] x, int xo, int rows, int n, int c0, int c1, float[] out, int oo) {
        if (rows == 0) {
            java.util.Arrays.fill(out, oo + c0, oo + c1, 0f);
            return;
        }
        System.arraycopy(x, xo + c0, out, oo + c0, c1 - c0);
        for (int r = 1; r < rows; r++) {
            int ro = xo + r * n, j = c0;
            for (; j <= c1 - L; j += L) {
                FloatVector.fromArray(S, out, oo + j).add(FloatVector.fromArray(S, x, ro + j)).intoArray(out, oo + j);
            }
            for (; j < c1; j++) out[oo + j] += x[ro + j];
        }
    }

    /** out[outOff + r] = Σ_j x[r, j]. */
    public static void rowSums(float[] x, int xOff, float[] out, int outOff, int rows, int n) {
        checkBlock("x", x, xOff, rows, n);
        checkBlock("out", out, outOff, rows, 1);
        Parallel.forRange(rows, rowCost(n, 1), (from, to) -> {
            float[] scratch = new float[L];
            for (int r = from; r < to; r++) out[outOff + r] = sum(x, xOff + r * n, n, scratch);
        });
    }

    // =============================================================================================
    // helpers
    // =============================================================================================

    /** Row blocks of {@code p} ([blocks × n]) summed into block 0 by a fixed pairwise tree. */
    private static void combineBlocks(float[] p, int blocks, int n) {
        if (blocks <= 1) return;
        Parallel.forRange(n, blocks, (c0, c1) -> {
            for (int step = 1; step < blocks; step <<= 1) {
                for (int b = 0; b + step < blocks; b += 2 * step) {
                    int dst = b * n, src = (b + step) * n, j = c0;
                    for (; j <= c1 - L; j += L) {
                        FloatVector.fromArray(S, p, dst + j).add(FloatVector.fromArray(S, p, src + j)).intoArray(p, dst + j);
                    }
                    for (; j < c1; j++) p[dst + j] += p[src + j];
                }
            }
        });
    }

    /** Runs body over [0, count) in chunks that start at multiples of {@link #ELEM_BLOCK}. */
    private static void forElements(int count, int costPerElement, Parallel.Range body) {
        int blocks = (int) (((long) count + ELEM_BLOCK - 1) / ELEM_BLOCK);
        Parallel.forRange(blocks, (long) ELEM_BLOCK * costPerElement,
                (b0, b1) -> body.run(b0 * ELEM_BLOCK, (int) Math.min(count, (long) b1 * ELEM_BLOCK)));
    }

    private static long rowCost(int n, int perElement) {
        return Math.max(1L, (long) n * perElement);
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }

    private static void checkBlock(String what, float[] a, int off, int rows, int n) {
        if (a == null) throw new NullPointerException(what + " is null");
        if (rows < 0 || n < 0) throw new IllegalArgumentException(what + ": negative size " + rows + " × " + n);
        long need = (long) rows * n;
        if (off < 0 || off + need > a.length) {
            throw new IndexOutOfBoundsException(what + ": " + need + " elements at offset " + off
                    + " do not fit in an array of " + a.length);
        }
    }

    /**
     * The lanes a vector left in {@code scratch} (by intoArray), added in lane order: a fixed
     * order, unlike reduceLanes(ADD). Taking the array rather than the vector keeps FloatVectors
     * out of call signatures, where a failed inlining would box them.
     */
    private static float addLanes(float[] scratch) {
        float s = scratch[0];
        for (int i = 1; i < L; i++) s += scratch[i];
        return s;
    }

    /** Σ a[ao + j], four vector accumulators. */
    private static float sum(float[] a, int ao, int n, float[] scratch) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int j = 0;
        for (; j <= n - 4 * L; j += 4 * L) {
            a0 = a0.add(FloatVector.fromArray(S, a, ao + j));
            a1 = a1.add(FloatVector.fromArray(S, a, ao + j + L));
            a2 = a2.add(FloatVector.fromArray(S, a, ao + j + 2 * L));
            a3 = a3.add(FloatVector.fromArray(S, a, ao + j + 3 * L));
        }
        for (; j <= n - L; j += L) a0 = a0.add(FloatVector.fromArray(S, a, ao + j));
        a0.add(a1).add(a2.add(a3)).intoArray(scratch, 0);
        float s = addLanes(scratch);
        for (; j < n; j++) s += a[ao + j];
        return s;
    }

    /** Σ a·b, four vector accumulators. */
    private static float dot(float[] a, int ao, float[] b, int bo, int n, float[] scratch) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int j = 0;
        for (; j <= n - 4 * L; j += 4 * L) {
            a0 = FloatVector.fromArray(S, a, ao + j).fma(FloatVector.fromArray(S, b, bo + j), a0);
            a1 = FloatVector.fromArray(S, a, ao + j + L).fma(FloatVector.fromArray(S, b, bo + j + L), a1);
            a2 = FloatVector.fromArray(S, a, ao + j + 2 * L).fma(FloatVector.fromArray(S, b, bo + j + 2 * L), a2);
            a3 = FloatVector.fromArray(S, a, ao + j + 3 * L).fma(FloatVector.fromArray(S, b, bo + j + 3 * L), a3);
        }
        for (; j <= n - L; j += L) a0 = FloatVector.fromArray(S, a, ao + j).fma(FloatVector.fromArray(S, b, bo + j), a0);
        a0.add(a1).add(a2.add(a3)).intoArray(scratch, 0);
        float s = addLanes(scratch);
        for (; j < n; j++) s = Math.fma(a[ao + j], b[bo + j], s);
        return s;
    }

    // ---- vector and scalar transcendentals (the scalar versions repeat the vector operations exactly)

    /** e^x (see the class comment for the range). */
    static FloatVector expV(FloatVector x) {
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector t = xc.fma(LOG2E, ROUND_MAGIC);
        FloatVector n = t.sub(ROUND_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(EQ4, EQ3);
        p = p.fma(r, FloatVector.broadcast(S, EQ2));
        p = p.fma(r, FloatVector.broadcast(S, EQ1));
        p = p.fma(r, FloatVector.broadcast(S, EQ0));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        // 2^n from the bits of t = 1.5·2^23 + n: (n + 127) << 23, where the magic's own bits shift out
        // Reinterpret through a constant int species and multiply by 2^23 instead of shifting:
        // JDK 17's C2 intrinsifies neither reinterpretAsInts() (its species is looked up at run
        // time) nor this shift, and their fallbacks are two orders of magnitude slower.
        IntVector bits = (IntVector) t.reinterpretShape(INT_SPECIES, 0);
        FloatVector scale = (FloatVector) bits.mul(1 << 23).add(127 << 23).reinterpretShape(S, 0);
        return p.mul(scale).blend(0f, x.lt(EXP_LO));
    }

    static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float t = Math.fma(xc, LOG2E, ROUND_MAGIC);
        float n = t - ROUND_MAGIC;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, EQ4, EQ3);
        p = Math.fma(p, r, EQ2);
        p = Math.fma(p, r, EQ1);
        p = Math.fma(p, r, EQ0);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) << 23) + (127 << 23));
        return x < EXP_LO ? 0f : p * scale;
    }

    /** erf(a) for a ≥ 0 (NaN passes through). */
    private static FloatVector erfAbsV(FloatVector a) {
        FloatVector small = a.fma(erfSmallPolyV(a.mul(a)), a);
        FloatVector large = FloatVector.broadcast(S, 1f).sub(erfcLargeV(a));
        return large.blend(small, a.lt(ERF_SPLIT));
    }

    private static float erfAbs(float a) {
        float small = Math.fma(a, erfSmallPoly(a * a), a);
        float large = 1f - erfcLarge(a);
        return a < ERF_SPLIT ? small : large;
    }

    /** Φ(x) = ½·erfc(−x/√2), with erfc formed directly in the negative tail. */
    private static FloatVector cdfV(FloatVector x) {
        FloatVector a = x.abs().mul(INV_SQRT2);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector es = a.fma(erfSmallPolyV(a.mul(a)), a);
        FloatVector cl = erfcLargeV(a);
        VectorMask<Float> small = a.lt(ERF_SPLIT);
        FloatVector erfc = cl.blend(one.sub(es), small);
        FloatVector erf = one.sub(cl).blend(es, small);
        return erfc.mul(0.5f).blend(erf.fma(0.5f, 0.5f), x.compare(VectorOperators.GE, 0f));
    }

    private static float cdf(float x) {
        float a = Math.abs(x) * INV_SQRT2;
        float es = Math.fma(a, erfSmallPoly(a * a), a);
        float cl = erfcLarge(a);
        boolean small = a < ERF_SPLIT;
        float erfc = small ? 1f - es : cl;
        float erf = small ? es : 1f - cl;
        return x >= 0f ? Math.fma(erf, 0.5f, 0.5f) : erfc * 0.5f;
    }

    private static FloatVector erfSmallPolyV(FloatVector s) {
        FloatVector p = s.fma(ER6, ER5);
        p = p.fma(s, FloatVector.broadcast(S, ER4));
        p = p.fma(s, FloatVector.broadcast(S, ER3));
        p = p.fma(s, FloatVector.broadcast(S, ER2));
        p = p.fma(s, FloatVector.broadcast(S, ER1));
        return p.fma(s, FloatVector.broadcast(S, ER0));
    }

    private static float erfSmallPoly(float s) {
        float p = Math.fma(s, ER6, ER5);
        p = Math.fma(p, s, ER4);
        p = Math.fma(p, s, ER3);
        p = Math.fma(p, s, ER2);
        p = Math.fma(p, s, ER1);
        return Math.fma(p, s, ER0);
    }

    /** erfc(a) = e^P(a − 1) for a in [1, 5], 0 above 5 (the polynomial is also finite, unused, below 1). */
    private static FloatVector erfcLargeV(FloatVector a) {
        FloatVector t = a.min(ERFC_MAX).sub(1f);
        FloatVector p = t.fma(EP8, EP7);
        p = p.fma(t, FloatVector.broadcast(S, EP6));
        p = p.fma(t, FloatVector.broadcast(S, EP5));
        p = p.fma(t, FloatVector.broadcast(S, EP4));
        p = p.fma(t, FloatVector.broadcast(S, EP3));
        p = p.fma(t, FloatVector.broadcast(S, EP2));
        p = p.fma(t, FloatVector.broadcast(S, EP1));
        p = p.fma(t, FloatVector.broadcast(S, EP0));
        return expV(p).blend(0f, a.compare(VectorOperators.GT, ERFC_MAX));
    }

    private static float erfcLarge(float a) {
        float t = Math.min(a, ERFC_MAX) - 1f;
        float p = Math.fma(t, EP8, EP7);
        p = Math.fma(p, t, EP6);
        p = Math.fma(p, t, EP5);
        p = Math.fma(p, t, EP4);
        p = Math.fma(p, t, EP3);
        p = Math.fma(p, t, EP2);
        p = Math.fma(p, t, EP1);
        p = Math.fma(p, t, EP0);
        float c = exp(p);
        return a > ERFC_MAX ? 0f : c;
    }

    private static FloatVector tanhV(FloatVector u) {
        FloatVector a = u.abs();
        FloatVector s = u.mul(u);
        FloatVector p = s.fma(TT4, TT3);
        p = p.fma(s, FloatVector.broadcast(S, TT2));
        p = p.fma(s, FloatVector.broadcast(S, TT1));
        p = p.fma(s, FloatVector.broadcast(S, TT0));
        FloatVector small = u.fma(s.mul(p), u);
        FloatVector e = expV(a.add(a));
        FloatVector large = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(e.add(1f)));
        large = large.blend(large.neg(), u.lt(0f));
        return large.blend(small, a.lt(TANH_SPLIT));
    }

    static float tanh(float u) {
        float a = Math.abs(u);
        float s = u * u;
        float p = Math.fma(s, TT4, TT3);
        p = Math.fma(p, s, TT2);
        p = Math.fma(p, s, TT1);
        p = Math.fma(p, s, TT0);
        float small = Math.fma(u, s * p, u);
        float e = exp(a + a);
        float large = 1f - 2f / (e + 1f);
        if (u < 0f) large = -large;
        return a < TANH_SPLIT ? small : large;
    }
}
