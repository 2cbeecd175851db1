package dev.irtj.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static dev.irtj.kernels.cpu.ExpKernel.EXP_HI;
import static dev.irtj.kernels.cpu.KernelBlocks.ROW_BLOCK;
import static dev.irtj.kernels.cpu.KernelBlocks.checkBlock;
import static dev.irtj.kernels.cpu.KernelBlocks.forElements;
import static dev.irtj.kernels.cpu.KernelBlocks.rowCost;

/**
 * GELU over F32 elements, forward and backward, in its exact form x·Φ(x) and its tanh form.
 * Reference: {@code dev.irtj.tensor.ReferenceBackend.unary / unaryBackward} (GELU, GELU_TANH),
 * whose Φ is {@code dev.irtj.tensor.SpecialFunctions.normalCdf}; CUDA twin {@code native/src/cuda/gelu.cu}.
 *
 * <ul>
 *   <li>Φ(x) = ½(1 + erf(a)) for x ≥ 0 and ½·erfc(a) below, a = |x|/√2. erf(a) = a + a·R(a²) on
 *       [0, 1) with R of degree 6; on [1, ∞) erf = 1 − erfc with erfc(a) = e^(−a²)·S(1/a)/a, S of
 *       degree 9 fitted on [1, 9.3] (where erfc reaches the bottom of the float range), and e^(−a²)
 *       taken as e^(−hi)·(1 − lo) from the exact split a² = hi + lo (one fma), so the squaring loses
 *       nothing. Because erfc is formed directly, Φ keeps its relative precision through the
 *       whole negative tail (CpuKernelsTest: within 16 ulp from −3 up, 1e-5 relative down to
 *       −12), and φ(x) = e^(−x²/2)/√(2π) in the gradient reuses the same exponential: one
 *       {@link ExpKernel} exponential per element forward and backward.</li>
 *   <li>The tanh form uses ½(1 + tanh u) = 1/(1 + e^{−2u}), which has no cancellation in either
 *       tail.</li>
 * </ul>
 * The coefficients were fitted for this class by weighted minimax (Lawson's iteratively
 * reweighted least squares over 6 000–8 000 points, in double precision, against double-precision
 * erf/erfc): relative weights for R; for S the relative error weighted by
 * max(erfc(a)/erfc(1), 0.01), so that the absolute error of erf = 1 − erfc is smallest near
 * a = 1 while erfc keeps relative accuracy further out; then rounded to float and the float
 * evaluation (Horner with fused multiply-adds) checked over a dense grid. The scalar twins at the end repeat the vector lanes' exact operations for the tails,
 * so an element's value depends neither on its position nor on the thread split.
 */
public final class GeluKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

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

    // ---- GELU ----------------------------------------------------------------------------------
    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float INV_SQRT_2PI = 0.39894228040143268f;
    private static final float SQRT_2_OVER_PI = 0.79788456080286536f;
    private static final float GELU_TANH_C = 0.044715f;
    private static final float GELU_TANH_3CK = (float) (3 * 0.044715 * 0.7978845608028654);

    private GeluKernels() {
    }

    /** y = x·Φ(x), the exact (erf) GELU, over {@code count} elements. */
    public static void gelu(float[] x, int xOff, float[] y, int yOff, int count) {
        run(false, x, xOff, null, 0, y, yOff, count);
    }

    /** dx = dy·(Φ(x) + x·φ(x)). */
    public static void geluBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int count) {
        run(false, x, xOff, dy, dyOff, dx, dxOff, count);
    }

    /**
     * One call of either form: forward when {@code dy} is null (out is y), else backward (out is
     * dx), with its blocks checked first and its elements split over threads.
     */
    private static void run(boolean tanhForm, float[] x, int xOff, float[] dy, int dyOff, float[] out, int outOff, int count) {
        checkBlock("x", x, xOff, count, 1);
        if (dy != null) checkBlock("dy", dy, dyOff, count, 1);
        checkBlock(dy == null ? "y" : "dx", out, outOff, count, 1);
        int cost = tanhForm ? (dy == null ? 24 : 30) : (dy == null ? 40 : 45);
        forElements(count, cost, (from, to) -> {
            if (tanhForm) {
                geluTanhRange(x, xOff, out, outOff, dy, dyOff, from, to);
            } else {
                geluRange(x, xOff, out, outOff, dy, dyOff, from, to);
            }
        });
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
        for (int j = 0; j < n; j += L) {
            FloatVector a = FloatVector.fromArray(S, x, xo + j).abs().mul(invSqrt2).min(erfcClamp);
            a.mul(a).neg().intoArray(e, j);
        }
        ExpKernel.exp(e, 0, e, 0, n);
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

    // ---- bias + GELU after a Linear layer ---------------------------------------------------------

    /** Per-thread chunk buffers of the bias + GELU kernels: pre-activation, e^(−a²), small-argument erf, Φ. */
    private static final ThreadLocal<float[][]> BIAS_GELU_SCRATCH =
            ThreadLocal.withInitial(() -> new float[][] {new float[GELU_CHUNK], new float[GELU_CHUNK], new float[GELU_CHUNK], new float[GELU_CHUNK]});

    /**
     * The epilogue of {@link Sgemm#sgemmBiasGelu}, on the calling thread, for a block of the
     * product z the GEMM has just finished (still in cache): for rows [0, rows) and columns
     * [0, cols), row stride {@code ld} in both z and y, y[r, j] = gelu(z[r, j] + bias[biasOff + j]).
     * The same operations as {@link #gelu} on the materialised sum, so an element does not
     * depend on the block split.
     */
    static void biasGeluBlock(float[] z, int zOff, int ld, float[] bias, int biasOff, float[] y, int yOff, int rows, int cols) {
        float[][] scratch = BIAS_GELU_SCRATCH.get();
        for (int r = 0; r < rows; r++) biasGeluRow(z, zOff + r * ld, bias, biasOff, null, 0, y, yOff + r * ld, cols, scratch);
    }

    /**
     * y = gelu(z + bias) over a [rows × n] block (bias [n]), split over threads by rows: the
     * bias + GELU pass for products {@link Sgemm#sgemmBiasGelu} cannot take (batched operands).
     */
    public static void biasGelu(float[] z, int zOff, float[] bias, int biasOff, float[] y, int yOff, int rows, int n) {
        checkBlock("z", z, zOff, rows, n);
        checkBlock("bias", bias, biasOff, 1, n);
        checkBlock("y", y, yOff, rows, n);
        Parallel.forRange(rows, rowCost(n, 40), (from, to) -> {
            float[][] scratch = BIAS_GELU_SCRATCH.get();
            for (int r = from; r < to; r++) biasGeluRow(z, zOff + r * n, bias, biasOff, null, 0, y, yOff + r * n, n, scratch);
        });
    }

    /**
     * GELU's backward behind a Linear layer's bias, with the bias gradient in the same pass:
     * dz = dy·gelu'(z + bias) over a [rows × n] block and db[j] = Σ_r dz[r, j]. Each block of
     * {@value KernelBlocks#ROW_BLOCK} rows sums its columns in row order while its rows are
     * computed, and the block sums are combined in {@link ReductionKernels}'s fixed pairwise tree:
     * the same additions as {@link ReductionKernels#sumDownColumns} on dz, so the result depends
     * on neither the thread split nor the fusion.
     */
    public static void biasGeluBackward(float[] z, int zOff, float[] bias, int biasOff, float[] dy, int dyOff,
                                        float[] dz, int dzOff, float[] db, int dbOff, int rows, int n) {
        checkBlock("z", z, zOff, rows, n);
        checkBlock("bias", bias, biasOff, 1, n);
        checkBlock("dy", dy, dyOff, rows, n);
        checkBlock("dz", dz, dzOff, rows, n);
        checkBlock("db", db, dbOff, 1, n);
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        if (blocks <= 1) {
            biasGeluBackwardBlock(z, zOff, bias, biasOff, dy, dyOff, dz, dzOff, db, dbOff, rows, n, BIAS_GELU_SCRATCH.get());
            return;
        }
        float[] partial = new float[blocks * n];
        Parallel.forRange(blocks, (long) ROW_BLOCK * n * 50, (b0, b1) -> {
            float[][] scratch = BIAS_GELU_SCRATCH.get();
            for (int blk = b0; blk < b1; blk++) {
                int r0 = blk * ROW_BLOCK, count = Math.min(rows, r0 + ROW_BLOCK) - r0;
                biasGeluBackwardBlock(z, zOff + r0 * n, bias, biasOff, dy, dyOff + r0 * n, dz, dzOff + r0 * n,
                        partial, blk * n, count, n, scratch);
            }
        });
        ReductionKernels.combineBlocks(partial, blocks, n);
        System.arraycopy(partial, 0, db, dbOff, n);
    }

    /** One row block of {@link #biasGeluBackward}: its dz rows, and their column sums (rows added in order) at sum[so..]. */
    private static void biasGeluBackwardBlock(float[] z, int zo, float[] bias, int bo, float[] dy, int go, float[] dz, int dzo,
                                              float[] sum, int so, int rows, int n, float[][] scratch) {
        if (rows == 0) {
            java.util.Arrays.fill(sum, so, so + n, 0f);
            return;
        }
        for (int r = 0; r < rows; r++) {
            int row = dzo + r * n;
            biasGeluRow(z, zo + r * n, bias, bo, dy, go + r * n, dz, row, n, scratch);
            if (r == 0) {
                System.arraycopy(dz, row, sum, so, n);
            } else {
                int j = 0;
                for (; j <= n - L; j += L) {
                    FloatVector.fromArray(S, sum, so + j).add(FloatVector.fromArray(S, dz, row + j)).intoArray(sum, so + j);
                }
                for (; j < n; j++) sum[so + j] += dz[row + j];
            }
        }
    }

    /**
     * One row of n: the pre-activation p = z + bias formed chunk by chunk in scratch, then
     * out = gelu(p) when {@code dy} is null, else out = dy·gelu'(p). out may be z itself.
     */
    private static void biasGeluRow(float[] z, int zo, float[] bias, int bo, float[] dy, int go, float[] out, int oo, int n,
                                    float[][] scratch) {
        float[] pre = scratch[0], e = scratch[1], small = scratch[2], cdf = scratch[3];
        int i = 0;
        while (i <= n - L) {
            int len = Math.min(GELU_CHUNK, (n - i) / L * L);
            addBiasPass(z, zo + i, bias, bo + i, pre, len);
            geluExpPass(pre, 0, e, len);
            geluErfSmallPass(pre, 0, small, len);
            geluCdfPass(pre, 0, e, small, cdf, len);
            if (dy == null) {
                geluOutPass(pre, 0, cdf, out, oo + i, len);
            } else {
                geluGradPass(pre, 0, e, cdf, dy, go + i, out, oo + i, len);
            }
            i += len;
        }
        for (; i < n; i++) {
            float v = z[zo + i] + bias[bo + i];
            out[oo + i] = dy != null ? dy[go + i] * geluGrad(v) : gelu(v);
        }
    }

    /** pre[j] = z[zo + j] + bias[bo + j] (len a multiple of the vector length). */
    private static void addBiasPass(float[] z, int zo, float[] bias, int bo, float[] pre, int len) {
        for (int j = 0; j < len; j += L) {
            FloatVector.fromArray(S, z, zo + j).add(FloatVector.fromArray(S, bias, bo + j)).intoArray(pre, j);
        }
    }

    /** y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), computed as x / (1 + e^(−2u)). */
    public static void geluTanh(float[] x, int xOff, float[] y, int yOff, int count) {
        run(true, x, xOff, null, 0, y, yOff, count);
    }

    /** Gradient of {@link #geluTanh}: dx = dy·(σ + 2x·σ(1 − σ)·u'), σ = ½(1 + tanh u), with σ(1 − σ) = e^(−2u)·σ². */
    public static void geluTanhBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int count) {
        run(true, x, xOff, dy, dyOff, dx, dxOff, count);
    }

    /** tanh-GELU over [from, to): forward when {@code dy} is null, else dy times its derivative. */
    private static void geluTanhRange(float[] x, int xOff, float[] out, int outOff, float[] dy, int dyOff, int from, int to) {
        float[] e = new float[GELU_CHUNK];
        int i = from;
        while (i <= to - L) {
            int n = Math.min(GELU_CHUNK, (to - i) / L * L);
            geluTanhExponentPass(x, xOff + i, e, n);
            ExpKernel.exp(e, 0, e, 0, n);
            if (dy == null) {
                geluTanhOutPass(x, xOff + i, e, out, outOff + i, n);
            } else {
                geluTanhGradPass(x, xOff + i, e, dy, dyOff + i, out, outOff + i, n);
            }
            i += n;
        }
        for (; i < to; i++) {
            float v = x[xOff + i];
            out[outOff + i] = dy != null ? dy[dyOff + i] * geluTanhGrad(v) : geluTanh(v);
        }
    }

    /** z[j] = −2u = −2·√(2/π)·(x + c·x³) (n a multiple of the vector length). */
    private static void geluTanhExponentPass(float[] x, int xo, float[] z, int n) {
        FloatVector cubic = FloatVector.broadcast(S, GELU_TANH_C);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + j);
            v.mul(v).mul(v).fma(cubic, v).mul(SQRT_2_OVER_PI).mul(-2f).intoArray(z, j);
        }
    }

    /** out = x·σ(2u) from e = e^(−2u); σ is 0 where −2u passed the exponential's clamp. */
    private static void geluTanhOutPass(float[] x, int xo, float[] e, float[] out, int oo, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f), cubic = FloatVector.broadcast(S, GELU_TANH_C);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + j);
            FloatVector z = v.mul(v).mul(v).fma(cubic, v).mul(SQRT_2_OVER_PI).mul(-2f);
            FloatVector sg = one.div(FloatVector.fromArray(S, e, j).add(1f)).blend(0f, z.compare(VectorOperators.GT, EXP_HI));
            v.mul(sg).intoArray(out, oo + j);
        }
    }

    /** out = dy·(σ + 2x·e·σ²·u'), u' = √(2/π)·(1 + 3c·x²), x² capped so that 0·u' stays 0 for huge |x|. */
    private static void geluTanhGradPass(float[] x, int xo, float[] e, float[] dy, int go, float[] out, int oo, int n) {
        FloatVector one = FloatVector.broadcast(S, 1f), cubic = FloatVector.broadcast(S, GELU_TANH_C);
        for (int j = 0; j < n; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + j);
            FloatVector v2 = v.mul(v);
            FloatVector z = v2.mul(v).fma(cubic, v).mul(SQRT_2_OVER_PI).mul(-2f);
            FloatVector ev = FloatVector.fromArray(S, e, j);
            FloatVector sg = one.div(ev.add(1f)).blend(0f, z.compare(VectorOperators.GT, EXP_HI));
            FloatVector du = v2.min(1e30f).fma(GELU_TANH_3CK, SQRT_2_OVER_PI);
            FloatVector es2 = ev.mul(sg).mul(sg);
            FloatVector grad = v.add(v).mul(es2).fma(du, sg);
            FloatVector.fromArray(S, dy, go + j).mul(grad).intoArray(out, oo + j);
        }
    }

    // ---- scalar twins of the vector code above: the same operations in the same order, so a tail
    // element gets exactly the value a vector lane would give it.

    // erfSmall and erfcLarge are two different polynomials evaluated by Horner, one fused
    // multiply-add per coefficient, written out to mirror the vector chains above step for step
    // (their likeness is the method, not a copy).
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

    /** Φ(x), given a = min(|x|/√2, 10), a² = hi + lo and e = e^(−hi). */
    private static float cdf(float x, float a, float hi, float lo, float e) {
        float es = erfSmall(a, hi);
        float cl = erfcLarge(a, lo, e);
        boolean small = a < ERF_SPLIT;
        float erfc = small ? 1f - es : cl;
        float erf = small ? es : 1f - cl;
        return x >= 0f ? Math.fma(erf, 0.5f, 0.5f) : erfc * 0.5f;
    }

    /** Φ(x), the standard normal distribution function, as the GELU kernels form it. */
    static float normalCdf(float x) {
        float a = Math.min(Math.abs(x) * INV_SQRT2, ERFC_CLAMP);
        float hi = a * a;
        float lo = Math.fma(a, a, -hi);
        float e = ExpKernel.exp(-hi);
        return cdf(x, a, hi, lo, e);
    }

    static float gelu(float x) {
        return x * normalCdf(x);
    }

    static float geluGrad(float x) {
        float a = Math.min(Math.abs(x) * INV_SQRT2, ERFC_CLAMP);
        float hi = a * a;
        float lo = Math.fma(a, a, -hi);
        float e = ExpKernel.exp(-hi);
        return Math.fma(x, e * INV_SQRT_2PI, cdf(x, a, hi, lo, e));
    }

    static float geluTanh(float x) {
        float z = Math.fma(x * x * x, GELU_TANH_C, x) * SQRT_2_OVER_PI * -2f;
        float e = ExpKernel.exp(z);
        float sg = z > EXP_HI ? 0f : 1f / (e + 1f);
        return x * sg;
    }

    static float geluTanhGrad(float x) {
        float x2 = x * x;
        float z = Math.fma(x2 * x, GELU_TANH_C, x) * SQRT_2_OVER_PI * -2f;
        float e = ExpKernel.exp(z);
        float sg = z > EXP_HI ? 0f : 1f / (e + 1f);
        float du = Math.fma(Math.min(x2, 1e30f), GELU_TANH_3CK, SQRT_2_OVER_PI);
        float es2 = e * sg * sg;
        return Math.fma((x + x) * es2, du, sg);
    }
}
