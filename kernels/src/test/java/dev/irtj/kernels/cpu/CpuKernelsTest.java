package dev.irtj.kernels.cpu;

import dev.irtj.tensor.Backend;
import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.ReduceOp;
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.SpecialFunctions;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.UnaryOp;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CPU kernel families ({@link SoftmaxKernels}, {@link LayerNormKernels}, {@link GeluKernels},
 * {@link L2NormalizeKernels}, {@link AdamWKernel}, {@link ReductionKernels}) against the
 * double-precision {@link ReferenceBackend}: inputs are random
 * floats placed at a random offset inside arrays whose other elements are NaN (a read outside the
 * block would poison the result), outputs are written into arrays pre-filled with a sentinel that
 * must survive outside the block, and the reference runs in F64 on the same float values. Each
 * tolerance is {@code |got − want| ≤ atol + rtol·|want|} with its reason next to it; F32 machine
 * epsilon is 1.19e-7, so "k ulp" is about k·6e-8 relative.
 */
class CpuKernelsTest {

    private static final ReferenceBackend REF = new ReferenceBackend();
    private static final float SENTINEL = -7.25e30f;
    private static final double EPS32 = 0x1p-23;
    private static final boolean VERBOSE = Boolean.getBoolean("irtj.test.verbose");

    // ---- generators ---------------------------------------------------------------------------

    @Provide
    Arbitrary<Integer> widths() {
        return Arbitraries.of(1, 3, 17, 63, 197, 257, 384, 1152);
    }

    /** Mostly 1..7 rows; sometimes enough rows that the work is split over threads. */
    @Provide
    Arbitrary<Integer> rowCounts() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.integers().between(1, 7)),
                Tuple.of(1, Arbitraries.of(64, 131, 211)));
    }

    /** An array with {@code count} values N(mean, sd²) at offset {@code off} and NaN around them. */
    private static float[] block(SplittableRandom r, int off, int count, double mean, double sd) {
        float[] a = new float[off + count + 1 + r.nextInt(20)];
        Arrays.fill(a, Float.NaN);
        for (int i = 0; i < count; i++) a[off + i] = (float) (mean + sd * r.nextGaussian());
        return a;
    }

    private static float[] output(int off, int count) {
        float[] a = new float[off + count + 7];
        Arrays.fill(a, SENTINEL);
        return a;
    }

    private static Tensor f64(float[] a, int off, int... shape) {
        int count = 1;
        for (int s : shape) count *= s;
        double[] d = new double[count];
        for (int i = 0; i < count; i++) d[i] = a[off + i];
        return Tensor.of(d, shape);
    }

    private static double[] values(Tensor t) {
        return REF.download(t).f64();
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static void assertUntouchedOutside(String what, float[] a, int off, int count) {
        for (int i = 0; i < a.length; i++) {
            if ((i < off || i >= off + count) && Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(SENTINEL)) {
                fail(what + ": element " + i + " outside the output block [" + off + ", " + (off + count) + ") was written");
            }
        }
    }

    /** |got − want| ≤ atol + rtol·|want| element by element; NaN must meet NaN. */
    private static void assertClose(String what, float[] got, int off, double[] want, double atol, double rtol) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double g = got[off + i], w = want[i];
            if (Double.isNaN(w) || Double.isNaN(g)) {
                if (!(Double.isNaN(w) && Double.isNaN(g))) fail(what + " at " + i + ": got " + g + ", want " + w);
                continue;
            }
            if (Double.isInfinite(w) || Double.isInfinite(g)) {
                if (g != w) fail(what + " at " + i + ": got " + g + ", want " + w);
                continue;
            }
            double bound = atol + rtol * Math.abs(w), err = Math.abs(g - w);
            if (!(err <= bound)) {
                fail(what + " at " + i + " of " + want.length + ": got " + g + ", want " + w + ", |diff| " + err
                        + " > " + bound + " (atol " + atol + ", rtol " + rtol + ")");
            }
            if (bound > 0) worst = Math.max(worst, err / bound);
        }
        if (VERBOSE) System.out.printf("%-40s worst error / tolerance = %.3f%n", what, worst);
    }

    // ---- softmax ------------------------------------------------------------------------------

    @Property(tries = 40)
    void softmaxForwardMatchesReference(@ForAll long seed, @ForAll("widths") int n, @ForAll("rowCounts") int rows,
                                        @ForAll boolean log) {
        SplittableRandom r = new SplittableRandom(seed);
        float scale = (float) ((r.nextBoolean() ? 1 : -1) * (0.05 + 4 * r.nextDouble()));
        int xOff = r.nextInt(40), yOff = r.nextInt(40), count = rows * n;
        float[] x = block(r, xOff, count, r.nextGaussian(), 0.1 + 8 * r.nextDouble());
        float[] y = output(yOff, count);
        SoftmaxKernels.forward(x, xOff, y, yOff, rows, n, scale, log);
        double[] want = values(REF.softmax(f64(x, xOff, rows, n), scale, log));
        String what = (log ? "log-softmax" : "softmax") + " " + rows + "x" + n + " scale " + scale;
        if (log) {
            // y = z − log Σ: the fused z = scale·x − max and log Σ (≤ log n) each round to ~½ ulp;
            // 2e-6 covers ulp(log 1152) = 4.8e-7 with margin, 1e-6 relative covers ulp(|z|).
            assertClose(what, y, yOff, want, 2e-6, 1e-6);
        } else {
            // Each probability is e^z (≤ 1 ulp), times 1/Σ (Σ of ≤ 1152 terms in one float partial
            // sum per vector lane, ~1e-6 worst), and z's own ½-ulp rounding grows into |z|·6e-8 (≤ 3e-6 for the
            // |z| ≤ 50 these inputs reach).
            assertClose(what, y, yOff, want, 1e-30, 6e-6);
        }
        assertUntouchedOutside(what, y, yOff, count);
    }

    @Property(tries = 40)
    void softmaxBackwardMatchesReference(@ForAll long seed, @ForAll("widths") int n, @ForAll("rowCounts") int rows,
                                         @ForAll boolean log) {
        SplittableRandom r = new SplittableRandom(seed);
        float scale = (float) ((r.nextBoolean() ? 1 : -1) * (0.05 + 4 * r.nextDouble()));
        int yOff = r.nextInt(40), gOff = r.nextInt(40), dxOff = r.nextInt(40), count = rows * n;
        float[] x = block(r, 0, count, 0, 0.1 + 4 * r.nextDouble());
        float[] y = output(yOff, count);
        SoftmaxKernels.forward(x, 0, y, yOff, rows, n, scale, log);
        float[] dy = block(r, gOff, count, 0, 1);
        float[] dx = output(dxOff, count);
        SoftmaxKernels.backward(y, yOff, dy, gOff, dx, dxOff, rows, n, scale, log);
        double[] want = values(REF.softmaxBackward(f64(y, yOff, rows, n), f64(dy, gOff, rows, n), scale, log));
        double[] g = values(f64(dy, gOff, rows, n));
        double maxRowAbsSum = 0;
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) s += Math.abs(g[i * n + j]);
            maxRowAbsSum = Math.max(maxRowAbsSum, s);
        }
        String what = (log ? "log-softmax" : "softmax") + " backward " + rows + "x" + n;
        if (log) {
            // dx = scale·(dy − e^y·Σdy): Σdy in float errs by up to ~(n/32 + 16)·eps·Σ|dy|, and
            // e^y (≤ 1) carries it into dx; so atol ∝ |scale|·Σ|dy|, plus a few ulp relative.
            assertClose(what, dx, dxOff, want, 4 * EPS32 * Math.abs(scale) * maxRowAbsSum, 1e-5);
        } else {
            // dx = scale·y·(dy − Σ dy·y): y ≤ 1 sums to 1, so the float dot errs by ~eps·max|dy|,
            // and dy − dot may cancel: atol ∝ |scale|·max|dy|.
            assertClose(what, dx, dxOff, want, 8 * EPS32 * Math.abs(scale) * maxAbs(g), 1e-5);
        }
        assertUntouchedOutside(what, dx, dxOff, count);
    }

    @Test
    void softmaxOfMaskedEntriesIsZero() {
        int n = 37;
        float[] x = new float[2 * n];
        for (int j = 0; j < 2 * n; j++) x[j] = j % 3 == 0 ? Float.NEGATIVE_INFINITY : (float) Math.sin(j);
        float[] y = new float[2 * n];
        SoftmaxKernels.forward(x, 0, y, 0, 2, n, 0.7f, false);
        double[] want = values(REF.softmax(f64(x, 0, 2, n), 0.7f, false));
        assertClose("masked softmax", y, 0, want, 1e-30, 1e-5);
        for (int j = 0; j < 2 * n; j += 3) assertEquals(0f, y[j]);
        SoftmaxKernels.forward(x, 0, y, 0, 2, n, 0.7f, true);
        want = values(REF.softmax(f64(x, 0, 2, n), 0.7f, true));
        assertClose("masked log-softmax", y, 0, want, 2e-6, 1e-6);
    }

    // ---- layer norm ---------------------------------------------------------------------------

    @Property(tries = 40)
    void layerNormForwardMatchesReference(@ForAll long seed, @ForAll("widths") int n, @ForAll("rowCounts") int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int xOff = r.nextInt(40), yOff = r.nextInt(40), count = rows * n;
        double mean = 5 * r.nextGaussian(), sd = Math.pow(10, -2 + 3 * r.nextDouble());
        float[] x = block(r, xOff, count, mean, sd);
        float[] w = r.nextBoolean() ? block(r, 0, n, 1, 0.5) : null;
        float[] b = r.nextBoolean() ? block(r, 0, n, 0, 0.5) : null;
        float eps = r.nextBoolean() ? 1e-6f : 1e-5f;
        float[] y = output(yOff, count), mu = new float[rows], rs = new float[rows];
        LayerNormKernels.forward(x, xOff, w, b, y, yOff, mu, rs, rows, n, eps);
        Backend.LayerNormResult want = REF.layerNorm(f64(x, xOff, rows, n), w == null ? null : f64(w, 0, n),
                b == null ? null : f64(b, 0, n), eps);
        String what = "layer norm " + rows + "x" + n + (w == null ? "" : " w") + (b == null ? "" : " b") + " mean " + mean + " sd " + sd;
        // y = x̂·w + b with |x̂| ≲ 5: the corrected two-pass statistics keep x̂ within a few ulp
        // (the mean to ~eps·sd, rstd to ~eps relative), so ~1e-6 of the output's scale suffices.
        double wMax = w == null ? 1 : maxAbs(values(f64(w, 0, n)));
        assertClose(what + " y", y, yOff, values(want.y()), 4e-7 * (1 + 5 * wMax), 4e-6);
        // The mean itself: rounded once to float, plus a sum error of order eps·sd.
        assertClose(what + " mean", mu, 0, values(want.mean()), 1e-6 * sd, 2 * EPS32);
        // rstd = 1/√(var + eps): var from float sums of squares, a few ulp.
        assertClose(what + " rstd", rs, 0, values(want.rstd()), 0, 4e-6);
        assertUntouchedOutside(what, y, yOff, count);
    }

    @Property(tries = 40)
    void layerNormBackwardMatchesReference(@ForAll long seed, @ForAll("widths") int n, @ForAll("rowCounts") int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int xOff = r.nextInt(40), gOff = r.nextInt(40), dxOff = r.nextInt(40), count = rows * n;
        float[] x = block(r, xOff, count, 3 * r.nextGaussian(), Math.pow(10, -1 + 2 * r.nextDouble()));
        float[] w = r.nextInt(4) > 0 ? block(r, 0, n, 1, 0.5) : null;
        float[] mu = new float[rows], rs = new float[rows], y = new float[count];
        LayerNormKernels.forward(x, xOff, w, null, y, 0, mu, rs, rows, n, 1e-6f);
        float[] dy = block(r, gOff, count, 0, 1);
        float[] dx = output(dxOff, count);
        boolean wantDw = w != null && r.nextInt(4) > 0, wantDb = r.nextInt(4) > 0;
        float[] dw = wantDw ? new float[n] : null, db = wantDb ? new float[n] : null;
        if (dw != null) Arrays.fill(dw, Float.NaN); // overwritten, not accumulated into
        if (db != null) Arrays.fill(db, Float.NaN);
        LayerNormKernels.backward(dy, gOff, x, xOff, w, mu, rs, dx, dxOff, dw, db, rows, n);
        Tensor wt = w == null ? null : f64(w, 0, n);
        Tensor[] want = REF.layerNormBackward(f64(dy, gOff, rows, n), f64(x, xOff, rows, n), wt,
                f64(mu, 0, rows), f64(rs, 0, rows), true);
        String what = "layer norm backward " + rows + "x" + n;
        double[] wantDx = values(want[0]);
        // dx = rstd·(g − mean(g) − x̂·mean(g·x̂)): two float row sums and a possible cancellation,
        // so the absolute error is a few eps of the output's scale.
        assertClose(what + " dx", dx, dxOff, wantDx, 2e-6 * maxAbs(wantDx), 2e-6);
        // Column sums over rows: float partial sums over 64-row blocks, combined pairwise: the
        // error is at most ~(64 + log2 blocks)·eps·Σ|term|, measured against Σ|term| per column.
        double[] xs = values(f64(x, xOff, rows, n)), gs = values(f64(dy, gOff, rows, n));
        double absDw = 0, absDb = 0;
        for (int j = 0; j < n; j++) {
            double sw = 0, sb = 0;
            for (int i = 0; i < rows; i++) {
                double xh = (xs[i * n + j] - mu[i]) * rs[i];
                sw += Math.abs(gs[i * n + j] * xh);
                sb += Math.abs(gs[i * n + j]);
            }
            absDw = Math.max(absDw, sw);
            absDb = Math.max(absDb, sb);
        }
        if (dw != null) assertClose(what + " dw", dw, 0, values(want[1]), 70 * EPS32 * absDw, 1e-6);
        if (db != null) assertClose(what + " db", db, 0, values(want[2]), 70 * EPS32 * absDb, 1e-6);
        assertUntouchedOutside(what, dx, dxOff, count);
    }

    // ---- GELU, erf, tanh ----------------------------------------------------------------------

    @Property(tries = 40)
    void geluFamilyMatchesReference(@ForAll long seed, @ForAll("widths") int n, @ForAll("rowCounts") int rows,
                                    @ForAll boolean tanhForm) {
        SplittableRandom r = new SplittableRandom(seed);
        int xOff = r.nextInt(40), gOff = r.nextInt(40), yOff = r.nextInt(40), count = rows * n;
        float[] x = block(r, xOff, count, 0, 0.3 + 5 * r.nextDouble());
        float[] dy = block(r, gOff, count, 0, 1);
        float[] y = output(yOff, count), dx = output(yOff, count);
        UnaryOp op = tanhForm ? UnaryOp.GELU_TANH : UnaryOp.GELU;
        if (tanhForm) {
            GeluKernels.geluTanh(x, xOff, y, yOff, count);
            GeluKernels.geluTanhBackward(x, xOff, dy, gOff, dx, yOff, count);
        } else {
            GeluKernels.gelu(x, xOff, y, yOff, count);
            GeluKernels.geluBackward(x, xOff, dy, gOff, dx, yOff, count);
        }
        Tensor xt = f64(x, xOff, count);
        String what = op + " " + count;
        // y = x·Φ(x): Φ within ~2 ulp where it matters (erf ≤ 1 ulp, then ½(1 ± erf)); in the
        // negative tail y is tiny and only its absolute error (≤ 1e-7, the brief) is asked for.
        assertClose(what, y, yOff, values(REF.unary(op, xt, 0, 0)), 5e-8, 1e-6);
        // dx = dy·(Φ + x·φ): the bracket crosses 0 near x = −0.75, where only an absolute bound
        // (a few ulp of Φ's scale) is meaningful.
        double[] g = values(f64(dy, gOff, count));
        assertClose(what + " backward", dx, yOff, values(REF.unaryBackward(op, xt, f64(dy, gOff, count), 0, 0)),
                2e-7 * maxAbs(g), 1e-6);
        assertUntouchedOutside(what, y, yOff, count);
        assertUntouchedOutside(what + " backward", dx, yOff, count);
    }

    @Test
    void geluFamilyAtExtremes() {
        float[] x = {0f, -0f, 1e-30f, -1e-30f, 3f, -3f, 7.5f, -7.5f, 10f, -10f, 50f, -50f, 1e4f, -1e4f, 1e30f, -1e30f,
                Float.POSITIVE_INFINITY, Float.NaN};
        int n = x.length;
        float[] dy = new float[n];
        Arrays.fill(dy, 1f);
        for (UnaryOp op : new UnaryOp[] {UnaryOp.GELU, UnaryOp.GELU_TANH}) {
            float[] y = new float[n], dx = new float[n];
            if (op == UnaryOp.GELU) {
                GeluKernels.gelu(x, 0, y, 0, n);
                GeluKernels.geluBackward(x, 0, dy, 0, dx, 0, n);
            } else {
                GeluKernels.geluTanh(x, 0, y, 0, n);
                GeluKernels.geluTanhBackward(x, 0, dy, 0, dx, 0, n);
            }
            for (int i = 0; i < n; i++) {
                double want = op == UnaryOp.GELU ? SpecialFunctions.gelu(x[i]) : SpecialFunctions.geluTanh(x[i]);
                double wantD = op == UnaryOp.GELU ? SpecialFunctions.geluGrad(x[i]) : SpecialFunctions.geluTanhGrad(x[i]);
                String what = op + "(" + x[i] + ")";
                if (Double.isNaN(want)) {
                    assertTrue(Float.isNaN(y[i]), what + " = " + y[i]);
                } else if (Double.isInfinite(want)) {
                    assertEquals(want, y[i], what);
                } else {
                    assertEquals(want, y[i], 1e-7 + 3e-6 * Math.abs(want), what);
                }
                if (!Double.isNaN(wantD) && Float.isFinite(x[i])) assertEquals(wantD, dx[i], 1e-6, what + " derivative");
            }
        }
        float[] big = {Float.NEGATIVE_INFINITY};
        float[] out = new float[1];
        GeluKernels.geluTanh(big, 0, out, 0, 1);
        assertTrue(Float.isNaN(out[0]), "−∞·0 is NaN, as in the reference");
    }

    /** Max ulp error of the kernel's f against the exact g over a grid, and where it is. */
    private static double[] maxUlpError(float[] x, float[] got, java.util.function.DoubleUnaryOperator exact) {
        double worst = 0, at = 0;
        for (int i = 0; i < x.length; i++) {
            double want = exact.applyAsDouble(x[i]);
            double ulp = Math.ulp((float) want);
            double err = Math.abs(got[i] - want) / ulp;
            if (err > worst) {
                worst = err;
                at = x[i];
            }
        }
        return new double[] {worst, at};
    }

    /** Every multiple of 2^-16 in [−10, 10], then a geometric grid over [1e-37, 1] and its negative. */
    private static float[] denseGrid() {
        int uniform = 20 * 65536 + 1, geometric = 20_000;
        float[] x = new float[uniform + 2 * geometric];
        for (int i = 0; i < uniform; i++) x[i] = -10f + i * 0x1p-16f;
        for (int i = 0; i < geometric; i++) {
            float v = (float) Math.pow(10, -37 + 37.0 * i / (geometric - 1));
            x[uniform + 2 * i] = v;
            x[uniform + 2 * i + 1] = -v;
        }
        return x;
    }

    @Test
    void normalCdfOfTheGeluKernelsIsAccurateOnADenseGrid() {
        // Φ through its erf/erfc polynomials and the shared exponential, as the GELU kernels form
        // it (gelu(x) = x·Φ(x) bit for bit, checked below). From −3 up (Φ ≥ 1.3e-3, where GELU's
        // values and gradients live) the error is that of ½(1 + erf) or of erfc/2 near its fitted
        // centre; the deep negative tail is held to relative precision by the next test.
        float[] grid = denseGrid();
        int m = 0;
        for (float v : grid) if (v >= -3f) m++;
        float[] x = new float[m], y = new float[m];
        m = 0;
        for (float v : grid) if (v >= -3f) x[m++] = v;
        for (int i = 0; i < x.length; i++) y[i] = GeluKernels.normalCdf(x[i]);
        double[] e = maxUlpError(x, y, SpecialFunctions::normalCdf);
        System.out.printf("GeluKernels.normalCdf: max error %.3f ulp (at x = %s) over %d points in [-3, 10]%n", e[0], (float) e[1], x.length);
        assertTrue(e[0] <= MAX_CDF_ULP, "Φ max error " + e[0] + " ulp at " + e[1]);
        float[] gelu = new float[x.length];
        GeluKernels.gelu(x, 0, gelu, 0, x.length);
        for (int i = 0; i < x.length; i += 13) assertEquals(x[i] * y[i], gelu[i], "gelu(" + x[i] + ") = x·Φ(x)");
        assertTrue(Float.isNaN(GeluKernels.normalCdf(Float.NaN)));
        assertEquals(1f, GeluKernels.normalCdf(Float.POSITIVE_INFINITY));
        assertEquals(0f, GeluKernels.normalCdf(Float.NEGATIVE_INFINITY));
        assertEquals(0.5f, GeluKernels.normalCdf(0f));
    }

    private static final double MAX_CDF_ULP = 16; // measured 13.6 ulp (at x = −2.89)

    @Test
    void negativeTailOfTheNormalCdfKeepsRelativePrecision() {
        // gelu(x)/x = Φ(x): down to x = −12 (Φ = 1.8e-33) the directly formed erfc keeps better
        // than 1e-5 relative, so gradients through very negative pre-activations stay meaningful.
        float[] x = new float[2401];
        for (int i = 0; i < x.length; i++) x[i] = -12f + i * 0.005f;
        float[] y = new float[x.length];
        GeluKernels.gelu(x, 0, y, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            if (x[i] == 0) continue;
            double want = SpecialFunctions.normalCdf(x[i]);
            assertEquals(want, y[i] / (double) x[i], 1e-5 * want + 1e-7 * Math.ulp(1f), "Φ(" + x[i] + ")");
        }
    }

    // ---- L2 normalize -------------------------------------------------------------------------

    @Property(tries = 40)
    void l2NormalizeMatchesReference(@ForAll long seed, @ForAll("widths") int n, @ForAll("rowCounts") int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int xOff = r.nextInt(40), gOff = r.nextInt(40), yOff = r.nextInt(40), count = rows * n;
        float eps = r.nextBoolean() ? 1e-12f : 1e-6f;
        float[] x = block(r, xOff, count, 0, 1);
        double[] rowScale = new double[rows];
        for (int i = 0; i < rows; i++) {
            // some rows below eps (the dy/eps branch), some tiny, large, or ordinary
            rowScale[i] = new double[] {1e-14, 1e-8, 1e-3, 1, 1e3, 1e15}[r.nextInt(6)];
            for (int j = 0; j < n; j++) x[xOff + i * n + j] *= (float) rowScale[i];
        }
        float[] dy = block(r, gOff, count, 0, 1);
        float[] y = output(yOff, count), dx = output(yOff, count);
        L2NormalizeKernels.forward(x, xOff, y, yOff, rows, n, eps);
        L2NormalizeKernels.backward(x, xOff, dy, gOff, dx, yOff, rows, n, eps);
        Tensor xt = f64(x, xOff, rows, n);
        String what = "l2 normalize " + rows + "x" + n + " eps " + eps;
        // y = x·(1/‖x‖): ‖x‖² from float partial sums (a few ulp), the reciprocal and product one
        // ulp each; relative error only.
        assertClose(what, y, yOff, values(REF.l2Normalize(xt, eps)), 0, 1e-6);
        // dx = (dy − x·(dy·x)/‖x‖²)/‖x‖ may cancel, so the error is bounded per row by a few eps of
        // max|dy|/‖x‖ (or max|dy|/eps on the small-norm branch).
        double[] want = values(REF.l2NormalizeBackward(xt, f64(dy, gOff, rows, n), eps));
        double[] xs = values(xt), gs = values(f64(dy, gOff, rows, n));
        for (int i = 0; i < rows; i++) {
            double ss = 0, gmax = 0;
            for (int j = 0; j < n; j++) {
                ss += xs[i * n + j] * xs[i * n + j];
                gmax = Math.max(gmax, Math.abs(gs[i * n + j]));
            }
            double scaleOut = gmax / Math.max(Math.sqrt(ss), eps);
            float[] rowGot = Arrays.copyOfRange(dx, yOff + i * n, yOff + (i + 1) * n);
            assertClose(what + " backward row " + i + " (scale " + rowScale[i] + ")", rowGot, 0,
                    Arrays.copyOfRange(want, i * n, (i + 1) * n), 16 * EPS32 * scaleOut, 2e-6);
        }
        assertUntouchedOutside(what, y, yOff, count);
        assertUntouchedOutside(what + " backward", dx, yOff, count);
    }

    // ---- AdamW --------------------------------------------------------------------------------

    @Property(tries = 30)
    void adamwMatchesReference(@ForAll long seed, @ForAll("widths") int n, @ForAll("rowCounts") int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int off = r.nextInt(40), count = rows * n;
        float[] p = block(r, off, count, 0, 0.5), g = block(r, off, count, 0, 1e-2);
        float[] m = block(r, off, count, 0, 1e-2), v = block(r, off, count, 0, 1e-2);
        for (int i = 0; i < count; i++) v[off + i] = v[off + i] * v[off + i];
        // same lengths, so one offset fits all four
        int len = Math.min(Math.min(p.length, g.length), Math.min(m.length, v.length));
        p = Arrays.copyOf(p, len);
        g = Arrays.copyOf(g, len);
        m = Arrays.copyOf(m, len);
        v = Arrays.copyOf(v, len);
        long step = 1 + r.nextInt(2000);
        float lr = (float) Math.pow(10, -5 + 3 * r.nextDouble()), b1 = r.nextBoolean() ? 0.9f : 0.8f;
        float b2 = r.nextBoolean() ? 0.999f : 0.95f, eps = 1e-8f, wd = r.nextBoolean() ? 0f : (float) (0.1 * r.nextDouble());
        Tensor pt = f64(p, off, count), gt = f64(g, off, count), mt = f64(m, off, count), vt = f64(v, off, count);
        REF.adamw(pt, gt, mt, vt, new Backend.AdamWStep(step, lr, b1, b2, eps, wd));
        float[] p0 = p.clone(), m0 = m.clone();
        AdamWKernel.step(p, g, m, v, off, count, step, lr, b1, b2, eps, wd);
        String what = "adamw step " + step + " lr " + lr;
        // m and v: one fused multiply-add of float products, ≤ 2 ulp of the larger term (β1·m and
        // (1 − β1)·g may cancel).
        double mTerms = 0;
        for (int i = 0; i < count; i++) mTerms = Math.max(mTerms, Math.abs(b1 * (double) m0[off + i]) + Math.abs((1 - b1) * (double) g[off + i]));
        assertClose(what + " m", m, off, values(mt), 2 * EPS32 * mTerms, 2 * EPS32);
        assertClose(what + " v", v, off, values(vt), 1e-30, 3 * EPS32);
        // p = p·(1 − lr·wd) − lr/bc1·m/(√v/√bc2 + eps): the update carries a few ulp of itself
        // (atol: 4 eps of the largest update), and the result one more rounding of p.
        double[] wantP = values(pt);
        double maxUpdate = 0;
        for (int i = 0; i < count; i++) maxUpdate = Math.max(maxUpdate, Math.abs(wantP[i] - p0[off + i] * (1 - (double) lr * wd)));
        assertClose(what + " p", p, off, wantP, 4 * EPS32 * maxUpdate, 2 * EPS32);
        for (int i = 0; i < off; i++) assertTrue(Float.isNaN(p[i]) && Float.isNaN(p0[i]));
    }

    // ---- sums --------------------------------------------------------------------------------

    @Property(tries = 40)
    void sumsMatchReference(@ForAll long seed, @ForAll("widths") int n, @ForAll("rowCounts") int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int xOff = r.nextInt(40), yOff = r.nextInt(40);
        float[] x = block(r, xOff, rows * n, r.nextGaussian(), 2);
        Tensor xt = f64(x, xOff, rows, n);
        String what = rows + "x" + n;
        double[] xs = values(xt);
        float[] cols = output(yOff, n);
        ReductionKernels.sumDownColumns(x, xOff, cols, yOff, rows, n);
        double absCol = 0;
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = 0; i < rows; i++) s += Math.abs(xs[i * n + j]);
            absCol = Math.max(absCol, s);
        }
        // Float sums in row order within 64-row blocks, then a pairwise tree over blocks:
        // error ≤ ~(64 + log2 blocks)·eps·Σ|x|.
        assertClose("sumDownColumns " + what, cols, yOff, values(REF.reduce(ReduceOp.SUM, xt, new int[] {0}, false)),
                70 * EPS32 * absCol, 0);
        assertUntouchedOutside("sumDownColumns " + what, cols, yOff, n);

        float[] sums = output(yOff, rows);
        ReductionKernels.sumAlongRows(x, xOff, sums, yOff, rows, n);
        double absRow = 0;
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) s += Math.abs(xs[i * n + j]);
            absRow = Math.max(absRow, s);
        }
        // 4 vector accumulators (≤ n/64 terms each on 512-bit lanes), then ≤ 64 lanes in order.
        assertClose("sumAlongRows " + what, sums, yOff, values(REF.reduce(ReduceOp.SUM, xt, new int[] {1}, false)),
                (n / 16.0 + 70) * EPS32 * absRow, 0);
        assertUntouchedOutside("sumAlongRows " + what, sums, yOff, rows);
    }

    @Test
    void sumDownColumnsOverManyRowsIsAccurate() {
        // 100 000 rows of 0.1: a plain running float sum would be off by ~1e-3 relative.
        int rows = 100_000, n = 5;
        float[] x = new float[rows * n];
        Arrays.fill(x, 0.1f);
        float[] out = new float[n];
        ReductionKernels.sumDownColumns(x, 0, out, 0, rows, n);
        for (float v : out) assertEquals(rows * (double) 0.1f, v, 1e-5 * rows * 0.1);
    }

    // ---- determinism --------------------------------------------------------------------------

    /** Every kernel on one input; returns all outputs concatenated (each call's outputs in order). */
    private static float[][] runAll(float[] x, float[] dy, float[] w, float[] b, int rows, int n) {
        int count = rows * n;
        float[] sm = new float[count], lsm = new float[count], dsm = new float[count], dlsm = new float[count];
        SoftmaxKernels.forward(x, 0, sm, 0, rows, n, 0.37f, false);
        SoftmaxKernels.forward(x, 0, lsm, 0, rows, n, 0.37f, true);
        SoftmaxKernels.backward(sm, 0, dy, 0, dsm, 0, rows, n, 0.37f, false);
        SoftmaxKernels.backward(lsm, 0, dy, 0, dlsm, 0, rows, n, 0.37f, true);
        float[] ln = new float[count], mu = new float[rows], rs = new float[rows], dln = new float[count];
        float[] dw = new float[n], db = new float[n];
        LayerNormKernels.forward(x, 0, w, b, ln, 0, mu, rs, rows, n, 1e-6f);
        LayerNormKernels.backward(dy, 0, x, 0, w, mu, rs, dln, 0, dw, db, rows, n);
        float[] ge = new float[count], dge = new float[count], gt = new float[count], dgt = new float[count];
        GeluKernels.gelu(x, 0, ge, 0, count);
        GeluKernels.geluBackward(x, 0, dy, 0, dge, 0, count);
        GeluKernels.geluTanh(x, 0, gt, 0, count);
        GeluKernels.geluTanhBackward(x, 0, dy, 0, dgt, 0, count);
        float[] l2 = new float[count], dl2 = new float[count];
        L2NormalizeKernels.forward(x, 0, l2, 0, rows, n, 1e-12f);
        L2NormalizeKernels.backward(x, 0, dy, 0, dl2, 0, rows, n, 1e-12f);
        float[] cols = new float[n], sums = new float[rows];
        ReductionKernels.sumDownColumns(x, 0, cols, 0, rows, n);
        ReductionKernels.sumAlongRows(x, 0, sums, 0, rows, n);
        float[] p = x.clone(), m = dy.clone(), v = new float[count];
        for (int i = 0; i < count; i++) v[i] = dy[i] * dy[i];
        AdamWKernel.step(p, dy, m, v, 0, count, 7, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f);
        return new float[][] {sm, lsm, dsm, dlsm, ln, mu, rs, dln, dw, db, ge, dge, gt, dgt, l2, dl2, cols, sums, p, m, v};
    }

    private static final String[] NAMES = {"softmax", "log-softmax", "softmax bwd", "log-softmax bwd", "layer norm", "mean",
        "rstd", "layer norm dx", "dw", "db", "gelu", "gelu bwd", "gelu tanh", "gelu tanh bwd", "l2", "l2 bwd", "sumDownColumns",
        "sumAlongRows", "adamw p", "adamw m", "adamw v"};

    @Test
    void resultsAreBitIdenticalAcrossCallsThreadSplitsAndRowByRow() throws Exception {
        int rows = 389, n = 197; // enough work that every kernel splits over threads (when there are several)
        SplittableRandom r = new SplittableRandom(42);
        float[] x = block(r, 0, rows * n, 0.3, 2), dy = block(r, 0, rows * n, 0, 1);
        float[] w = block(r, 0, n, 1, 0.3), b = block(r, 0, n, 0, 0.3);
        x = Arrays.copyOf(x, rows * n);
        dy = Arrays.copyOf(dy, rows * n);
        w = Arrays.copyOf(w, n);
        b = Arrays.copyOf(b, n);
        float[][] first = runAll(x, dy, w, b, rows, n), second = runAll(x, dy, w, b, rows, n);
        // Inside a pool worker, Parallel runs every range inline: one chunk, a different split.
        ForkJoinPool single = new ForkJoinPool(1);
        float[] fx = x, fdy = dy, fw = w, fb = b;
        float[][] inline;
        try {
            inline = single.submit(() -> runAll(fx, fdy, fw, fb, rows, n)).get();
        } finally {
            single.shutdown();
        }
        for (int k = 0; k < first.length; k++) {
            assertArrayEquals(first[k], second[k], NAMES[k] + ": second call differs");
            assertArrayEquals(first[k], inline[k], NAMES[k] + ": single-threaded run differs");
        }
        // Row by row (rows = 1 at an offset; elementwise kernels one element at a time, which runs
        // the scalar tail instead of the vector lanes).
        for (int i = 0; i < rows; i += 17) {
            int o = i * n;
            float[] row = new float[n];
            SoftmaxKernels.forward(x, o, row, 0, 1, n, 0.37f, false);
            assertArrayEquals(Arrays.copyOfRange(first[0], o, o + n), row, "softmax row " + i);
            SoftmaxKernels.forward(x, o, row, 0, 1, n, 0.37f, true);
            assertArrayEquals(Arrays.copyOfRange(first[1], o, o + n), row, "log-softmax row " + i);
            SoftmaxKernels.backward(first[0], o, dy, o, row, 0, 1, n, 0.37f, false);
            assertArrayEquals(Arrays.copyOfRange(first[2], o, o + n), row, "softmax backward row " + i);
            SoftmaxKernels.backward(first[1], o, dy, o, row, 0, 1, n, 0.37f, true);
            assertArrayEquals(Arrays.copyOfRange(first[3], o, o + n), row, "log-softmax backward row " + i);
            float[] mu = new float[1], rs = new float[1];
            LayerNormKernels.forward(x, o, w, b, row, 0, mu, rs, 1, n, 1e-6f);
            assertArrayEquals(Arrays.copyOfRange(first[4], o, o + n), row, "layer norm row " + i);
            assertEquals(first[5][i], mu[0]);
            assertEquals(first[6][i], rs[0]);
            LayerNormKernels.backward(dy, o, x, o, w, mu, rs, row, 0, null, null, 1, n);
            assertArrayEquals(Arrays.copyOfRange(first[7], o, o + n), row, "layer norm backward row " + i);
            L2NormalizeKernels.forward(x, o, row, 0, 1, n, 1e-12f);
            assertArrayEquals(Arrays.copyOfRange(first[14], o, o + n), row, "l2 row " + i);
            L2NormalizeKernels.backward(x, o, dy, o, row, 0, 1, n, 1e-12f);
            assertArrayEquals(Arrays.copyOfRange(first[15], o, o + n), row, "l2 backward row " + i);
            float[] one = new float[1];
            ReductionKernels.sumAlongRows(x, o, one, 0, 1, n);
            assertEquals(first[17][i], one[0], "sumAlongRows row " + i);
        }
        float[] one = new float[1];
        for (int i = 0; i < rows * n; i += 7) {
            GeluKernels.gelu(x, i, one, 0, 1);
            assertEquals(first[10][i], one[0], "gelu element " + i);
            GeluKernels.geluBackward(x, i, dy, i, one, 0, 1);
            assertEquals(first[11][i], one[0], "gelu backward element " + i);
            GeluKernels.geluTanh(x, i, one, 0, 1);
            assertEquals(first[12][i], one[0], "gelu tanh element " + i);
            GeluKernels.geluTanhBackward(x, i, dy, i, one, 0, 1);
            assertEquals(first[13][i], one[0], "gelu tanh backward element " + i);
        }
    }

    // ---- edges --------------------------------------------------------------------------------

    @Test
    void emptyBlocksAreNoOps() {
        float[] a = {1f, 2f}, out = {SENTINEL, SENTINEL};
        SoftmaxKernels.forward(a, 0, out, 0, 0, 2, 1f, false);
        LayerNormKernels.forward(a, 0, null, null, out, 0, new float[0], new float[0], 0, 2, 1e-5f);
        GeluKernels.gelu(a, 0, out, 0, 0);
        L2NormalizeKernels.forward(a, 0, out, 0, 0, 2, 1e-12f);
        ReductionKernels.sumAlongRows(a, 0, out, 0, 0, 2);
        assertArrayEquals(new float[] {SENTINEL, SENTINEL}, out);
        float[] dw = {5f, 5f}, db = {5f, 5f};
        LayerNormKernels.backward(a, 0, a, 0, null, new float[0], new float[0], out, 0, dw, db, 0, 2);
        assertArrayEquals(new float[] {0f, 0f}, dw, "the gradient of no rows is zero");
        ReductionKernels.sumDownColumns(a, 0, dw, 0, 0, 2);
        assertArrayEquals(new float[] {0f, 0f}, dw);
    }

    @Test
    void blocksOutsideTheirArraysAreRejected() {
        float[] a = new float[10], out = new float[10];
        assertThrows(IndexOutOfBoundsException.class, () -> SoftmaxKernels.forward(a, 2, out, 0, 3, 3, 1f, false));
        assertThrows(IndexOutOfBoundsException.class, () -> SoftmaxKernels.forward(a, 0, out, 2, 3, 3, 1f, false));
        assertThrows(IndexOutOfBoundsException.class, () -> GeluKernels.gelu(a, -1, out, 0, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> LayerNormKernels.forward(a, 0, new float[2], null, out, 0,
                new float[3], new float[3], 3, 3, 1e-5f));
        assertThrows(IndexOutOfBoundsException.class, () -> AdamWKernel.step(a, a, a, new float[5], 0, 10, 1, 1e-3f,
                0.9f, 0.999f, 1e-8f, 0f));
        assertThrows(IllegalArgumentException.class, () -> AdamWKernel.step(a, a, a, a, 0, 10, 0, 1e-3f,
                0.9f, 0.999f, 1e-8f, 0f));
    }
}
