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
 *   <li>erf: erf(a) = a + a·R(a²) on [0, 1) with R of degree 6; on [1, ∞) erf = 1 − erfc with
 *       erfc(a) = e^(−a²)·S(1/a)/a, S of degree 9 fitted on [1, 9.3] (where erfc reaches the
 *       bottom of the float range), and e^(−a²) taken as e^(−hi)·(1 − lo) from the exact split
 *       a² = hi + lo (one fma), so the squaring loses nothing. Because erfc is formed directly,
 *       Φ(x) = erfc(−x/√2)/2 keeps its relative precision (≈ 4e-7) through the whole negative
 *       tail, and φ(x) = e^(−x²/2)/√(2π) in the GELU gradient reuses the same exponential: one
 *       exp per element for GELU forward and backward.</li>
 *   <li>tanh: u + u·s·T(s) with s = u², T of degree 4, for |u| &lt; 0.625, else 1 − 2/(e^{2|u|} + 1)
 *       with the sign of u. The tanh-GELU uses the equivalent ½(1 + tanh u) = 1/(1 + e^{−2u}),
 *       which has no cancellation in either tail.</li>
 * </ul>
 * All coefficients were fitted for this class by weighted minimax (Lawson's iteratively
 * reweighted least squares over 6 000–8 000 points, in double precision, against double-precision
 * erf/erfc/exp/tanh): relative weights for exp, R and T; for S the relative error weighted by
 * max(erfc(a)/erfc(1), 0.01), so that the absolute error of erf = 1 − erfc is smallest near
 * a = 1 while erfc keeps relative accuracy further out. The coefficients were then rounded to
 * float and the float evaluation (Horner with fused multiply-adds) checked over a dense grid: erf
 * is within 0.9 ulp, tanh within 1.4 ulp of the exact values (RowKernelsTest measures both).
 *
 * <p>No method here passes a FloatVector to another (see the note on code layout below the
 * softmax entry point): each loop has its transcendental written out, so C2's inlining heuristics
 * can never leave a vector boxed across a call.
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
    // 2^k is built from the bits of t = 1.5·2^23 + k as (k + 127) << 23 (the magic's own bits
    // shift out), through a constant int species and a multiply by 2^23: JDK 17's C2 intrinsifies
    // neither reinterpretAsInts() (its species is looked up at run time) nor the lane shift, and
    // their fallbacks are two orders of magnitude slower.
    private static final float EQ0 = 0.4999999403953552f, EQ1 = 0.1666652113199234f, EQ2 = 0.04166838899254799f,
            EQ3 = 0.008368712849915028f, EQ4 = 0.0013814620906487107f;

    // ---- erf / erfc ----------------------------------------------------------------------------
    /** erf(a) = a + a·R(a²), 0 ≤ a < 1. */
    private static final float ER0 = 0.12837916612625122f, ER1 = -0.3761262595653534f, ER2 = 0.1128358542919159f,
            ER3 = -0.026853810995817184f, ER4 = 0.005188326351344585f, ER5 = -0.0008010179735720158f,
            ER6 = 7.853811257518828e-05f;
    /** erfc(a)·e^(a²)·a = S(u), u = 1/a, as a polynomial in u − EU0, for 1 ≤ a ≤ 9.3 (u ≥ 0.1075). */
    private static final float EU0 = 0.5537634491920471f;
    private static final float EC0 = 0.501713216304779f, EC1 = -0.1701844334602356f, EC2 = -0.019258569926023483f,
            EC3 = 0.09690190851688385f, EC4 = -0.09620572626590729f, EC5 = 0.050572410225868225f,
            EC6 = 0.011609720066189766f, EC7 = -0.06638752669095993f, EC8 = 0.08143575489521027f,
            EC9 = -0.04080595076084137f;
    private static final float ERF_SPLIT = 1.0f;
    /** Arguments of erfc are clamped here: e^(−100) is below the float range, so erfc is 0 past it. */
    private static final float ERFC_CLAMP = 10.0f;

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
            Parallel.forRange(rows, rowCost(n, 24), (from, to) -> {
                // Maxima, exponentials and normalization in three methods: written as one, the
                // method (with its inlined helpers) passed C2's inlining node budget, and the
                // vector operations left un-inlined ran boxed.
                float[] negMax = new float[to - from], inverseSums = new float[to - from];
                negatedRowMaxima(x, xOff, n, scale, from, to, negMax);
                softmaxRows(x, xOff, y, yOff, n, scale, from, to, negMax, inverseSums);
                scaleRows(y, yOff, n, inverseSums, from, to);
            });
        }
    }

    // Code layout for C2. A FloatVector passed to or returned from a method that C2 does not
    // inline is boxed, and the loop runs one to two orders of magnitude slower. Whether a helper
    // is inlined depends on heuristics (node budget, "already compiled into a big method", call
    // site frequency), so no method here takes or returns a vector: each transcendental is written
    // out in the loop that uses it (the blocks marked "e = exp(z)" are the same code), and its
    // scalar twin (exp, gelu, ...) repeats the operations for the tails.

    /** negMax[r − from] = −max_j scale·x[r][j] for rows [from, to). */
    private static void negatedRowMaxima(float[] x, int xOff, int n, float scale, int from, int to, float[] negMax) {
        for (int r = from; r < to; r++) negMax[r - from] = -maxScaled(x, xOff + r * n, n, scale);
    }

    /** y[r] = exp(scale·x[r] + negMax[r − from]) for rows [from, to); inverseSums[r − from] = 1 / Σ y[r]. */
    private static void softmaxRows(float[] x, int xOff, float[] y, int yOff, int n, float scale, int from, int to,
                                    float[] negMaxes, float[] inverseSums) {
        float[] scratch = new float[L];
        FloatVector one = FloatVector.broadcast(S, 1f), nLn2Hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector nLn2Lo = FloatVector.broadcast(S, -LN2_LO), q2 = FloatVector.broadcast(S, EQ2);
        FloatVector q1 = FloatVector.broadcast(S, EQ1), q0 = FloatVector.broadcast(S, EQ0);
        for (int r = from; r < to; r++) {
            int xo = xOff + r * n, yo = yOff + r * n;
            float negMax = negMaxes[r - from];
            java.util.Arrays.fill(scratch, 0f);
            int j = 0;
            for (; j <= n - L; j += L) {
                FloatVector z = FloatVector.fromArray(S, x, xo + j).fma(scale, negMax);
                // e = exp(z)
                FloatVector zc = z.max(EXP_LO).min(EXP_HI);
                FloatVector t = zc.fma(LOG2E, ROUND_MAGIC);
                FloatVector k = t.sub(ROUND_MAGIC);
                FloatVector rr = k.fma(nLn2Lo, k.fma(nLn2Hi, zc));
                FloatVector p = rr.fma(EQ4, EQ3).fma(rr, q2).fma(rr, q1).fma(rr, q0).fma(rr, one).fma(rr, one);
                FloatVector e = p.mul(((FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23).reinterpretShape(S, 0))).blend(0f, z.lt(EXP_LO));
                e.intoArray(y, yo + j);
                // Lane sums kept in memory rather than in a loop-carried vector: on JDK 17 a
                // vector phi stored after the loop sometimes fails the store intrinsic, and the
                // whole loop then runs boxed.
                FloatVector.fromArray(S, scratch, 0).add(e).intoArray(scratch, 0);
            }
            float sum = addLanes(scratch);
            for (; j < n; j++) {
                float e = exp(Math.fma(x[xo + j], scale, negMax));
                y[yo + j] = e;
                sum += e;
            }
            inverseSums[r - from] = 1f / sum;
        }
    }

    private static void logSoftmaxRows(float[] x, int xOff, float[] y, int yOff, int n, float scale, int from, int to) {
        float[] scratch = new float[L];
        FloatVector one = FloatVector.broadcast(S, 1f), nLn2Hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector nLn2Lo = FloatVector.broadcast(S, -LN2_LO), q2 = FloatVector.broadcast(S, EQ2);
        FloatVector q1 = FloatVector.broadcast(S, EQ1), q0 = FloatVector.broadcast(S, EQ0);
        for (int r = from; r < to; r++) {
            int xo = xOff + r * n, yo = yOff + r * n;
            float negMax = -maxScaled(x, xo, n, scale);
            java.util.Arrays.fill(scratch, 0f);
            int j = 0;
            for (; j <= n - L; j += L) {
                FloatVector z = FloatVector.fromArray(S, x, xo + j).fma(scale, negMax);
                // e = exp(z)
                FloatVector zc = z.max(EXP_LO).min(EXP_HI);
                FloatVector t = zc.fma(LOG2E, ROUND_MAGIC);
                FloatVector k = t.sub(ROUND_MAGIC);
                FloatVector rr = k.fma(nLn2Lo, k.fma(nLn2Hi, zc));
                FloatVector p = rr.fma(EQ4, EQ3).fma(rr, q2).fma(rr, q1).fma(rr, q0).fma(rr, one).fma(rr, one);
                FloatVector e = p.mul(((FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23).reinterpretShape(S, 0))).blend(0f, z.lt(EXP_LO));
                FloatVector.fromArray(S, scratch, 0).add(e).intoArray(scratch, 0);
            }
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
    public static void softmaxBackward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff,
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
        float[] scratch = new float[L];
        FloatVector one = FloatVector.broadcast(S, 1f), nLn2Hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector nLn2Lo = FloatVector.broadcast(S, -LN2_LO), q2 = FloatVector.broadcast(S, EQ2);
        FloatVector q1 = FloatVector.broadcast(S, EQ1), q0 = FloatVector.broadcast(S, EQ0);
        for (int r = from; r < to; r++) {
            int yo = yOff + r * n, go = dyOff + r * n, xo = dxOff + r * n;
            float negS = -sum(dy, go, n, scratch);
            FloatVector vNegS = FloatVector.broadcast(S, negS);
            int j = 0;
            for (; j <= n - L; j += L) {
                FloatVector z = FloatVector.fromArray(S, y, yo + j);
                // e = exp(z)
                FloatVector zc = z.max(EXP_LO).min(EXP_HI);
                FloatVector t = zc.fma(LOG2E, ROUND_MAGIC);
                FloatVector k = t.sub(ROUND_MAGIC);
                FloatVector rr = k.fma(nLn2Lo, k.fma(nLn2Hi, zc));
                FloatVector p = rr.fma(EQ4, EQ3).fma(rr, q2).fma(rr, q1).fma(rr, q0).fma(rr, one).fma(rr, one);
                FloatVector e = p.mul(((FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23).reinterpretShape(S, 0))).blend(0f, z.lt(EXP_LO));
                e.fma(vNegS, FloatVector.fromArray(S, dy, go + j)).mul(scale).intoArray(dx, xo + j);
            }
            for (; j < n; j++) dx[xo + j] = Math.fma(exp(y[yo + j]), negS, dy[go + j]) * scale;
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
        forElements(count, 40, (from, to) -> geluRange(x, xOff, y, yOff, null, 0, from, to));
    }

    /** dx = dy·(Φ(x) + x·φ(x)). */
    public static void geluBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("dy", dy, dyOff, count, 1);
        checkBlock("dx", dx, dxOff, count, 1);
        forElements(count, 45, (from, to) -> geluRange(x, xOff, dx, dxOff, dy, dyOff, from, to));
    }

    /**
     * GELU over [from, to): out = x·Φ(x) when {@code dy} is null, else out = dy·(Φ(x) + x·φ(x)).
     * Φ(x) = ½(1 + erf(a)) for x ≥ 0 and ½·erfc(a) below, a = |x|/√2; φ(x) = e^(−a²)/√(2π)
     * shares the exponential of erfc.
     */
    private static void geluRange(float[] x, int xOff, float[] out, int outOff, float[] dy, int dyOff, int from, int to) {
        // Several short loops over chunks instead of one long one: a loop body with this many
        // vector operations exceeds C2's inlining budget on JDK 17, and the vectors it then fails
        // to inline are boxed (a 20-50x slowdown that comes and goes with JIT timing).
        float[] e = new float[GELU_CHUNK], small = new float[GELU_CHUNK], cdf = new float[GELU_CHUNK];
        int i = from;
        while (i <= to - L) {
            int n = Math.min(GELU_CHUNK, (to - i) / L * L);
            geluExpPass(x, xOff + i, e, n);
            geluErfSmallPass(x, xOff + i, small, n);
            geluCdfPass(x, xOff + i, e, small, cdf, n);
            if (dy == null) {
                geluOutPass(x, xOff + i, cdf, out, outOff + i, n);
            } else {
                geluGradPass(x, xOff + i, e, cdf, dy, dyOff + i, out, outOff + i, n);
            }
            i += n;
        }
        for (; i < to; i++) {
            float v = x[xOff + i];
            out[outOff + i] = dy != null ? dy[dyOff + i] * geluGrad(v) : gelu(v);
        }
    }

    private static final int GELU_CHUNK = 1024;

    /** e[j] = exp(−a²) with a = |x|/√2 clamped as for erfc (n a multiple of the vector length). */
    private static void geluExpPass(float[] x, int xo, float[] e, int n) {
        FloatVector invSqrt2 = FloatVector.broadcast(S, INV_SQRT2);
        FloatVector erfcClamp = FloatVector.broadcast(S, ERFC_CLAMP);
        FloatVector expLo = FloatVector.broadcast(S, EXP_LO);
        FloatVector expHi = FloatVector.broadcast(S, EXP_HI);
        FloatVector log2e = FloatVector.broadcast(S, LOG2E);
        FloatVector roundMagic = FloatVector.broadcast(S, ROUND_MAGIC);
        FloatVector q4 = FloatVector.broadcast(S, EQ4);
        FloatVector q3 = FloatVector.broadcast(S, EQ3);
        FloatVector one = FloatVector.broadcast(S, 1f), nLn2Hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector nLn2Lo = FloatVector.broadcast(S, -LN2_LO), q2 = FloatVector.broadcast(S, EQ2);
        FloatVector q1 = FloatVector.broadcast(S, EQ1), q0 = FloatVector.broadcast(S, EQ0);
        for (int j = 0; j < n; j += L) {
            FloatVector a = FloatVector.fromArray(S, x, xo + j).abs().mul(invSqrt2).min(erfcClamp);
            FloatVector z = a.mul(a).neg();
            FloatVector zc = z.max(expLo).min(expHi);
            FloatVector t = zc.fma(log2e, roundMagic);
            FloatVector k = t.sub(roundMagic);
            FloatVector rr = k.fma(nLn2Lo, k.fma(nLn2Hi, zc));
            FloatVector p = rr.fma(q4, q3).fma(rr, q2).fma(rr, q1).fma(rr, q0).fma(rr, one).fma(rr, one);
            p.mul(((FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23).reinterpretShape(S, 0)))
                    .blend(0f, z.lt(expLo)).intoArray(e, j);
        }
    }

    /** small[j] = erf(a) by the small-argument polynomial a + a·R(a²). */
    private static void geluErfSmallPass(float[] x, int xo, float[] small, int n) {
        FloatVector invSqrt2 = FloatVector.broadcast(S, INV_SQRT2);
        FloatVector erfcClamp = FloatVector.broadcast(S, ERFC_CLAMP);
        FloatVector r6 = FloatVector.broadcast(S, ER6);
        FloatVector r5 = FloatVector.broadcast(S, ER5);
        FloatVector r4 = FloatVector.broadcast(S, ER4), r3 = FloatVector.broadcast(S, ER3), r2 = FloatVector.broadcast(S, ER2);
        FloatVector r1 = FloatVector.broadcast(S, ER1), r0 = FloatVector.broadcast(S, ER0);
        for (int j = 0; j < n; j += L) {
            FloatVector a = FloatVector.fromArray(S, x, xo + j).abs().mul(invSqrt2).min(erfcClamp);
            FloatVector hi = a.mul(a);
            a.fma(hi.fma(r6, r5).fma(hi, r4).fma(hi, r3).fma(hi, r2).fma(hi, r1).fma(hi, r0), a).intoArray(small, j);
        }
    }

    /** cdf[j] = Φ(x) from e = exp(−a²) and the small-argument erf, with erfc(a) = e^(−a²)·S(1/a)/a for a ≥ 1. */
    private static void geluCdfPass(float[] x, int xo, float[] eArr, float[] smallArr, float[] cdf, int n) {
        FloatVector invSqrt2 = FloatVector.broadcast(S, INV_SQRT2);
        FloatVector erfcClamp = FloatVector.broadcast(S, ERFC_CLAMP);
        FloatVector u0 = FloatVector.broadcast(S, EU0);
        FloatVector c9 = FloatVector.broadcast(S, EC9);
        FloatVector c8 = FloatVector.broadcast(S, EC8);
        FloatVector erfSplit = FloatVector.broadcast(S, ERF_SPLIT);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector c7 = FloatVector.broadcast(S, EC7), c6 = FloatVector.broadcast(S, EC6), c5 = FloatVector.broadcast(S, EC5);
        FloatVector c4 = FloatVector.broadcast(S, EC4), c3 = FloatVector.broadcast(S, EC3), c2 = FloatVector.broadcast(S, EC2);
        FloatVector c1 = FloatVector.broadcast(S, EC1), c0 = FloatVector.broadcast(S, EC0);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + j);
            FloatVector a = v.abs().mul(invSqrt2).min(erfcClamp);
            FloatVector hi = a.mul(a);
            FloatVector lo = a.fma(a, hi.neg()); // a² = hi + lo exactly
            FloatVector u = one.div(a);
            FloatVector tu = u.sub(u0);
            FloatVector sp = tu.fma(c9, c8).fma(tu, c7).fma(tu, c6).fma(tu, c5).fma(tu, c4).fma(tu, c3).fma(tu, c2)
                    .fma(tu, c1).fma(tu, c0).mul(u);
            FloatVector cl = FloatVector.fromArray(S, eArr, j).mul(lo.neg().fma(sp, sp));
            FloatVector es = FloatVector.fromArray(S, smallArr, j);
            VectorMask<Float> isSmall = a.lt(erfSplit);
            FloatVector erfc = cl.blend(one.sub(es), isSmall);
            FloatVector erf = one.sub(cl).blend(es, isSmall);
            erfc.mul(0.5f).blend(erf.fma(0.5f, 0.5f), v.compare(VectorOperators.GE, 0f)).intoArray(cdf, j);
        }
    }

    private static void geluOutPass(float[] x, int xo, float[] cdf, float[] out, int oo, int n) {
        for (int j = 0; j < n; j += L) {
            FloatVector.fromArray(S, x, xo + j).mul(FloatVector.fromArray(S, cdf, j)).intoArray(out, oo + j);
        }
    }

    /** dx = dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π). */
    private static void geluGradPass(float[] x, int xo, float[] e, float[] cdf, float[] dy, int go, float[] out, int oo, int n) {
        FloatVector invSqrt2Pi = FloatVector.broadcast(S, INV_SQRT_2PI);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + j);
            FloatVector grad = v.fma(FloatVector.fromArray(S, e, j).mul(invSqrt2Pi), FloatVector.fromArray(S, cdf, j));
            FloatVector.fromArray(S, dy, go + j).mul(grad).intoArray(out, oo + j);
        }
    }

    /** y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), computed as x / (1 + e^(−2u)). */
    public static void geluTanh(float[] x, int xOff, float[] y, int yOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("y", y, yOff, count, 1);
        forElements(count, 24, (from, to) -> geluTanhRange(x, xOff, y, yOff, null, 0, from, to));
    }

    /** Gradient of {@link #geluTanh}: dx = dy·(σ + 2x·σ(1 − σ)·u'), σ = ½(1 + tanh u), with σ(1 − σ) = e^(−2u)·σ². */
    public static void geluTanhBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("dy", dy, dyOff, count, 1);
        checkBlock("dx", dx, dxOff, count, 1);
        forElements(count, 30, (from, to) -> geluTanhRange(x, xOff, dx, dxOff, dy, dyOff, from, to));
    }

    /** tanh-GELU over [from, to): forward when {@code dy} is null, else dy times its derivative. */
    private static void geluTanhRange(float[] x, int xOff, float[] out, int outOff, float[] dy, int dyOff, int from, int to) {
        FloatVector one = FloatVector.broadcast(S, 1f), nLn2Hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector nLn2Lo = FloatVector.broadcast(S, -LN2_LO), q2 = FloatVector.broadcast(S, EQ2);
        FloatVector q1 = FloatVector.broadcast(S, EQ1), q0 = FloatVector.broadcast(S, EQ0);
        FloatVector cubic = FloatVector.broadcast(S, GELU_TANH_C);
        boolean backward = dy != null;
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            FloatVector v2 = v.mul(v);
            FloatVector z = v2.mul(v).fma(cubic, v).mul(SQRT_2_OVER_PI).mul(-2f); // −2u
            // e = exp(z)
            FloatVector zc = z.max(EXP_LO).min(EXP_HI);
            FloatVector t = zc.fma(LOG2E, ROUND_MAGIC);
            FloatVector k = t.sub(ROUND_MAGIC);
            FloatVector rr = k.fma(nLn2Lo, k.fma(nLn2Hi, zc));
            FloatVector p = rr.fma(EQ4, EQ3).fma(rr, q2).fma(rr, q1).fma(rr, q0).fma(rr, one).fma(rr, one);
            FloatVector e = p.mul(((FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23).reinterpretShape(S, 0))).blend(0f, z.lt(EXP_LO));
            FloatVector sg = one.div(e.add(1f)).blend(0f, z.compare(VectorOperators.GT, EXP_HI)); // σ(2u)
            if (backward) {
                // u' = √(2/π)·(1 + 3c·x²), with x² capped so that 0·u' stays 0 for huge |x|
                FloatVector du = v2.min(1e30f).fma(GELU_TANH_3CK, SQRT_2_OVER_PI);
                FloatVector es2 = e.mul(sg).mul(sg);
                FloatVector grad = v.add(v).mul(es2).fma(du, sg);
                FloatVector.fromArray(S, dy, dyOff + i).mul(grad).intoArray(out, outOff + i);
            } else {
                v.mul(sg).intoArray(out, outOff + i);
            }
        }
        for (; i < to; i++) {
            float v = x[xOff + i];
            out[outOff + i] = backward ? dy[dyOff + i] * geluTanhGrad(v) : geluTanh(v);
        }
    }

    /** y = erf(x), within about 1 ulp of the exact value (see the class comment). */
    public static void erf(float[] x, int xOff, float[] y, int yOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("y", y, yOff, count, 1);
        forElements(count, 30, (from, to) -> erfRange(x, xOff, y, yOff, from, to));
    }

    private static void erfRange(float[] x, int xOff, float[] y, int yOff, int from, int to) {
        FloatVector one = FloatVector.broadcast(S, 1f), nLn2Hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector nLn2Lo = FloatVector.broadcast(S, -LN2_LO), q2 = FloatVector.broadcast(S, EQ2);
        FloatVector q1 = FloatVector.broadcast(S, EQ1), q0 = FloatVector.broadcast(S, EQ0);
        FloatVector r4 = FloatVector.broadcast(S, ER4), r3 = FloatVector.broadcast(S, ER3), r2 = FloatVector.broadcast(S, ER2);
        FloatVector r1 = FloatVector.broadcast(S, ER1), r0 = FloatVector.broadcast(S, ER0);
        FloatVector c7 = FloatVector.broadcast(S, EC7), c6 = FloatVector.broadcast(S, EC6), c5 = FloatVector.broadcast(S, EC5);
        FloatVector c4 = FloatVector.broadcast(S, EC4), c3 = FloatVector.broadcast(S, EC3), c2 = FloatVector.broadcast(S, EC2);
        FloatVector c1 = FloatVector.broadcast(S, EC1), c0 = FloatVector.broadcast(S, EC0);
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            FloatVector a = v.abs();
            FloatVector ac = a.min(ERFC_CLAMP);
            FloatVector hi = ac.mul(ac);
            FloatVector lo = ac.fma(ac, hi.neg());
            FloatVector z = hi.neg();
            // e = exp(z)
            FloatVector zc = z.max(EXP_LO).min(EXP_HI);
            FloatVector t = zc.fma(LOG2E, ROUND_MAGIC);
            FloatVector k = t.sub(ROUND_MAGIC);
            FloatVector rr = k.fma(nLn2Lo, k.fma(nLn2Hi, zc));
            FloatVector p = rr.fma(EQ4, EQ3).fma(rr, q2).fma(rr, q1).fma(rr, q0).fma(rr, one).fma(rr, one);
            FloatVector e = p.mul(((FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23).reinterpretShape(S, 0))).blend(0f, z.lt(EXP_LO));
            FloatVector es = a.fma(hi.fma(ER6, ER5).fma(hi, r4).fma(hi, r3).fma(hi, r2).fma(hi, r1).fma(hi, r0), a);
            FloatVector u = one.div(ac);
            FloatVector tu = u.sub(EU0);
            FloatVector sp = tu.fma(EC9, EC8).fma(tu, c7).fma(tu, c6).fma(tu, c5).fma(tu, c4).fma(tu, c3).fma(tu, c2)
                    .fma(tu, c1).fma(tu, c0).mul(u);
            FloatVector cl = e.mul(lo.neg().fma(sp, sp));
            FloatVector erf = one.sub(cl).blend(es, a.lt(ERF_SPLIT));
            erf.blend(erf.neg(), v.lt(0f)).intoArray(y, yOff + i);
        }
        for (; i < to; i++) y[yOff + i] = erf(x[xOff + i]);
    }

    /** y = tanh(x), within about 2 ulp of the exact value. */
    public static void tanh(float[] x, int xOff, float[] y, int yOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        checkBlock("y", y, yOff, count, 1);
        forElements(count, 24, (from, to) -> tanhRange(x, xOff, y, yOff, from, to));
    }

    private static void tanhRange(float[] x, int xOff, float[] y, int yOff, int from, int to) {
        FloatVector one = FloatVector.broadcast(S, 1f), nLn2Hi = FloatVector.broadcast(S, -LN2_HI);
        FloatVector nLn2Lo = FloatVector.broadcast(S, -LN2_LO), q2 = FloatVector.broadcast(S, EQ2);
        FloatVector q1 = FloatVector.broadcast(S, EQ1), q0 = FloatVector.broadcast(S, EQ0);
        FloatVector t2 = FloatVector.broadcast(S, TT2), t1 = FloatVector.broadcast(S, TT1), t0 = FloatVector.broadcast(S, TT0);
        FloatVector two = FloatVector.broadcast(S, 2f);
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            FloatVector a = v.abs();
            FloatVector s = v.mul(v);
            FloatVector small = v.fma(s.mul(s.fma(TT4, TT3).fma(s, t2).fma(s, t1).fma(s, t0)), v);
            FloatVector z = a.add(a);
            // e = exp(z)
            FloatVector zc = z.max(EXP_LO).min(EXP_HI);
            FloatVector t = zc.fma(LOG2E, ROUND_MAGIC);
            FloatVector k = t.sub(ROUND_MAGIC);
            FloatVector rr = k.fma(nLn2Lo, k.fma(nLn2Hi, zc));
            FloatVector p = rr.fma(EQ4, EQ3).fma(rr, q2).fma(rr, q1).fma(rr, q0).fma(rr, one).fma(rr, one);
            FloatVector e = p.mul(((FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23).reinterpretShape(S, 0))).blend(0f, z.lt(EXP_LO));
            FloatVector large = one.sub(two.div(e.add(1f)));
            large = large.blend(large.neg(), v.lt(0f));
            large.blend(small, a.lt(TANH_SPLIT)).intoArray(y, yOff + i);
        }
        for (; i < to; i++) y[yOff + i] = tanh(x[xOff + i]);
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
     * The lanes a vector left in {@code scratch} (by intoArray; overwritten), added in a fixed
     * order, unlike reduceLanes(ADD). Taking the array rather than the vector keeps FloatVectors
     * out of call signatures, where a failed inlining would box them.
     */
    private static float addLanes(float[] s) {
        // A fixed pairwise tree (lane i + lane i + w for w = L/2, ..., 1), in registers for the
        // usual widths: short dependency chains, unlike a running sum.
        if (L == 16) {
            float a0 = s[0] + s[8], a1 = s[1] + s[9], a2 = s[2] + s[10], a3 = s[3] + s[11];
            float a4 = s[4] + s[12], a5 = s[5] + s[13], a6 = s[6] + s[14], a7 = s[7] + s[15];
            return ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
        }
        if (L == 8) {
            float a0 = s[0] + s[4], a1 = s[1] + s[5], a2 = s[2] + s[6], a3 = s[3] + s[7];
            return (a0 + a2) + (a1 + a3);
        }
        for (int w = L >> 1; w > 0; w >>= 1) {
            for (int i = 0; i < w; i++) s[i] += s[i + w];
        }
        return s[0];
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

    /**
     * e^z for other kernels of this package ({@link ElementwiseKernels}); saturates at e^88 above
     * 88 and flushes to 0 below ln(FLT_MIN), like {@link #exp(float)}. Only fast where C2 inlines
     * it into the calling loop (see the note on code layout above): RowKernels itself writes the
     * same code out in its loops instead of calling it.
     */
    static FloatVector expV(FloatVector z) {
        FloatVector zc = z.max(EXP_LO).min(EXP_HI);
        FloatVector t = zc.fma(LOG2E, ROUND_MAGIC);
        FloatVector k = t.sub(ROUND_MAGIC);
        FloatVector rr = k.fma(FloatVector.broadcast(S, -LN2_LO), k.fma(FloatVector.broadcast(S, -LN2_HI), zc));
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector p = rr.fma(EQ4, EQ3).fma(rr, FloatVector.broadcast(S, EQ2)).fma(rr, FloatVector.broadcast(S, EQ1))
                .fma(rr, FloatVector.broadcast(S, EQ0)).fma(rr, one).fma(rr, one);
        return p.mul(((FloatVector) ((IntVector) t.reinterpretShape(INT_SPECIES, 0)).mul(1 << 23).add(127 << 23).reinterpretShape(S, 0))).blend(0f, z.lt(EXP_LO));
    }

    // ---- scalar twins of the vector code above: the same operations in the same order, so a tail
    // element gets exactly the value a vector lane would give it.

    static float exp(float z) {
        float zc = Math.min(Math.max(z, EXP_LO), EXP_HI);
        float t = Math.fma(zc, LOG2E, ROUND_MAGIC);
        float k = t - ROUND_MAGIC;
        float r = Math.fma(k, -LN2_LO, Math.fma(k, -LN2_HI, zc));
        float p = Math.fma(r, EQ4, EQ3);
        p = Math.fma(p, r, EQ2);
        p = Math.fma(p, r, EQ1);
        p = Math.fma(p, r, EQ0);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        // 2^k from the bits of t = 1.5·2^23 + k: (k + 127) << 23 (the magic's own bits shift out)
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) << 23) + (127 << 23));
        return z < EXP_LO ? 0f : p * scale;
    }

    private static float erfSmall(float a, float hi) {
        float p = Math.fma(hi, ER6, ER5);
        p = Math.fma(p, hi, ER4);
        p = Math.fma(p, hi, ER3);
        p = Math.fma(p, hi, ER2);
        p = Math.fma(p, hi, ER1);
        p = Math.fma(p, hi, ER0);
        return Math.fma(a, p, a);
    }

    /** erfc(a) for 1 ≤ a ≤ 10 from a² = hi + lo and e = e^(−hi); finite, unused, below 1. */
    private static float erfcLarge(float a, float lo, float e) {
        float u = 1f / a;
        float t = u - EU0;
        float p = Math.fma(t, EC9, EC8);
        p = Math.fma(p, t, EC7);
        p = Math.fma(p, t, EC6);
        p = Math.fma(p, t, EC5);
        p = Math.fma(p, t, EC4);
        p = Math.fma(p, t, EC3);
        p = Math.fma(p, t, EC2);
        p = Math.fma(p, t, EC1);
        p = Math.fma(p, t, EC0);
        float s = p * u;
        return e * Math.fma(-lo, s, s);
    }

    static float erf(float x) {
        float a = Math.abs(x);
        float ac = Math.min(a, ERFC_CLAMP);
        float hi = ac * ac;
        float lo = Math.fma(ac, ac, -hi);
        float e = exp(-hi);
        float es = erfSmall(a, hi);
        float cl = erfcLarge(ac, lo, e);
        float erf = a < ERF_SPLIT ? es : 1f - cl;
        return x < 0f ? -erf : erf;
    }

    /** Φ(x), given a = min(|x|/√2, 10), a² = hi + lo and e = e^(−hi). */
    private static float cdf(float x, float a, float hi, float lo, float e) {
        float es = erfSmall(a, hi);
        float cl = erfcLarge(a, lo, e);
        boolean small = a < ERF_SPLIT;
        float erfc = small ? 1f - es : cl;
        float erf = small ? es : 1f - cl;
        return x >= 0f ? Math.fma(erf, 0.5f, 0.5f) : erfc * 0.5f;
    }

    static float gelu(float x) {
        float a = Math.min(Math.abs(x) * INV_SQRT2, ERFC_CLAMP);
        float hi = a * a;
        float lo = Math.fma(a, a, -hi);
        float e = exp(-hi);
        return x * cdf(x, a, hi, lo, e);
    }

    static float geluGrad(float x) {
        float a = Math.min(Math.abs(x) * INV_SQRT2, ERFC_CLAMP);
        float hi = a * a;
        float lo = Math.fma(a, a, -hi);
        float e = exp(-hi);
        return Math.fma(x, e * INV_SQRT_2PI, cdf(x, a, hi, lo, e));
    }

    static float geluTanh(float x) {
        float z = Math.fma(x * x * x, GELU_TANH_C, x) * SQRT_2_OVER_PI * -2f;
        float e = exp(z);
        float sg = z > EXP_HI ? 0f : 1f / (e + 1f);
        return x * sg;
    }

    static float geluTanhGrad(float x) {
        float x2 = x * x;
        float z = Math.fma(x2 * x, GELU_TANH_C, x) * SQRT_2_OVER_PI * -2f;
        float e = exp(z);
        float sg = z > EXP_HI ? 0f : 1f / (e + 1f);
        float du = Math.fma(Math.min(x2, 1e30f), GELU_TANH_3CK, SQRT_2_OVER_PI);
        float es2 = e * sg * sg;
        return Math.fma((x + x) * es2, du, sg);
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
