package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.irtj.tensor.TestTensors.assertClose;
import static dev.irtj.tensor.TestTensors.assertF32MatchesF64;
import static dev.irtj.tensor.TestTensors.assertSameValues;
import static dev.irtj.tensor.TestTensors.assertShape;
import static dev.irtj.tensor.TestTensors.strided;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fused row kernels over the last dim: softmax (with scale), log-softmax, layer norm and L2
 * normalization. Rows are short (≤ 16), so each row's rounding error is a few ulp: 1e-14
 * relative/absolute tolerances below leave a margin of ~10x over what double rounding can
 * produce, and are orders of magnitude below any formula error.
 */
class RowOpsTest {

    private static final double TOL = 1e-14;

    private static int[] randomRowsShape(Rng r) {
        int[] s = TestTensors.randomShape(r, 1, 3, 4);
        s[s.length - 1] = 1 + r.nextInt(16);
        return s;
    }

    private static double[][] rows(Tensor t) {
        int len = t.shape(-1), n = t.numel() / len;
        double[] v = t.toDoubleArray();
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) out[i] = Arrays.copyOfRange(v, i * len, (i + 1) * len);
        return out;
    }

    // ---- softmax --------------------------------------------------------------------------------

    @Property(tries = 50)
    void softmaxRowsArePositiveAndSumToOne(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = randomRowsShape(r);
        Tensor x = TestTensors.randn(seed, shape).mul(3);
        Tensor y = x.softmax();
        assertShape(shape, y);
        for (double[] row : rows(y)) {
            double s = 0;
            for (double v : row) {
                assertTrue(v > 0 && v <= 1, "softmax value " + v);
                s += v;
            }
            assertEquals(1.0, s, TOL, "row sum");
        }
        // Against the textbook formula exp(x − max) / Σ exp(x − max).
        double[][] xr = rows(x);
        double[] want = new double[x.numel()];
        int p = 0;
        for (double[] row : xr) {
            double m = Arrays.stream(row).max().orElseThrow(), s = 0;
            for (double v : row) s += Math.exp(v - m);
            for (double v : row) want[p++] = Math.exp(v - m) / s;
        }
        assertClose("softmax", want, y, TOL, TOL);
        // log_softmax = log(softmax), and exp(log_softmax) = softmax.
        Tensor ls = x.logSoftmax();
        assertClose("log_softmax vs log(softmax)", y.log(), ls, TOL, TOL);
        assertClose("exp(log_softmax)", y, ls.exp(), TOL, TOL);
        // Shift invariance: softmax(x + c) = softmax(x) for a per-row constant.
        Tensor shifted = x.add(TestTensors.randn(seed + 1, Arrays.copyOf(shape, shape.length - 1)).mul(10).unsqueeze(-1));
        assertClose("shift invariance", y, shifted.softmax(), 1e-13, 1e-13);
        assertSameValues("softmax strided", y, strided(x).softmax());
        assertSameValues("log_softmax strided", ls, strided(x).logSoftmax());
        assertF32MatchesF64("softmax", in -> in[0].softmax(), x);
        assertF32MatchesF64("log_softmax", in -> in[0].logSoftmax(), x);
    }

    @Test
    void softmaxIsStableForLargeValues() {
        Tensor x = Tensor.of(new double[] {1000, 1001, 1002, -1e4, -1e4, -1e4}, 2, 3);
        double[] y = x.softmax().toDoubleArray();
        double e1 = Math.exp(-1), e2 = Math.exp(-2), s = 1 + e1 + e2;
        assertClose("large", new double[] {e2 / s, e1 / s, 1 / s, 1 / 3.0, 1 / 3.0, 1 / 3.0}, y, TOL, 0);
        double[] ls = x.logSoftmax().toDoubleArray();
        assertClose("log large", new double[] {-2 - Math.log(s), -1 - Math.log(s), -Math.log(s)}, Arrays.copyOf(ls, 3), TOL, 0);
        // A masked (−∞) entry gets probability 0 and log-probability −∞.
        Tensor m = Tensor.of(new float[] {0, Float.NEGATIVE_INFINITY, 0}, 3);
        assertArrayEquals(new float[] {0.5f, 0, 0.5f}, m.softmax().toFloatArray());
        assertEquals(Double.NEGATIVE_INFINITY, m.logSoftmax().get(1));
        // One-element rows.
        assertArrayEquals(new double[] {1, 1}, Tensor.of(new double[] {5, -7}, 2, 1).softmax().toDoubleArray());
        assertArrayEquals(new double[] {0, 0}, Tensor.of(new double[] {5, -7}, 2, 1).logSoftmax().toDoubleArray());
    }

    /** The backend's scale parameter is softmax(scale·x), as used by attention with scale = d^-0.5. */
    @Test
    void softmaxScale() {
        Backend be = Backends.forDevice(Device.CPU);
        Tensor x = TestTensors.randn(3, 4, 7);
        for (double scale : new double[] {0.125, 1, -2}) {
            assertClose("softmax scale " + scale, x.mul(scale).softmax(), be.softmax(x, scale, false), TOL, TOL);
            assertClose("log_softmax scale " + scale, x.mul(scale).logSoftmax(), be.softmax(x, scale, true), TOL, TOL);
        }
    }

    // ---- layer norm -----------------------------------------------------------------------------

    @Property(tries = 50)
    void layerNormRowsHaveZeroMeanAndUnitVariance(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = randomRowsShape(r);
        int len = shape[shape.length - 1];
        if (len < 2) return;
        Tensor x = TestTensors.randn(seed, shape).mul(5).add(3);
        double eps = 1e-6;
        Tensor y = x.layerNorm(Tensor.ones(DType.F64, len), Tensor.zeros(DType.F64, len), eps);
        assertShape(shape, y);
        double[][] xr = rows(x);
        double[][] yr = rows(y);
        for (int i = 0; i < yr.length; i++) {
            double mean = Arrays.stream(yr[i]).average().orElseThrow();
            double var = Arrays.stream(yr[i]).map(v -> (v - mean) * (v - mean)).sum() / len;
            double xm = Arrays.stream(xr[i]).average().orElseThrow();
            double xvar = Arrays.stream(xr[i]).map(v -> (v - xm) * (v - xm)).sum() / len;
            assertEquals(0, mean, 1e-13, "row mean");
            // With eps the variance is var/(var + eps), not exactly 1 (biased variance, as torch).
            assertEquals(xvar / (xvar + eps), var, 1e-12, "row variance");
        }
        // Without weight and bias: the same.
        assertClose("layer_norm without affine", y, x.layerNorm(null, null, eps), 0, 0);
        assertSameValues("layer_norm strided", y, strided(x).layerNorm(null, null, eps));
    }

    @Property(tries = 40)
    void layerNormMatchesFormulaWithAffine(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = randomRowsShape(r);
        int len = shape[shape.length - 1];
        Tensor x = TestTensors.randn(seed, shape), w = TestTensors.randn(seed + 1, len), b = TestTensors.randn(seed + 2, len);
        double eps = 1e-5;
        double[] wv = w.toDoubleArray(), bv = b.toDoubleArray();
        double[][] xr = rows(x);
        double[] want = new double[x.numel()], means = new double[xr.length], rstds = new double[xr.length];
        int p = 0;
        for (int i = 0; i < xr.length; i++) {
            double mean = 0;
            for (double v : xr[i]) mean += v / len;
            double var = 0;
            for (double v : xr[i]) var += (v - mean) * (v - mean) / len;
            means[i] = mean;
            rstds[i] = 1 / Math.sqrt(var + eps);
            for (int j = 0; j < len; j++) want[p++] = (xr[i][j] - mean) * rstds[i] * wv[j] + bv[j];
        }
        Backend.LayerNormResult res = Backends.forDevice(Device.CPU).layerNorm(x, w, b, eps);
        assertClose("layer_norm", want, res.y(), 1e-13, 1e-13);
        assertShape(Arrays.copyOf(shape, shape.length - 1), res.mean());
        assertClose("layer_norm mean", means, res.mean(), 1e-13, 1e-13);
        assertClose("layer_norm rstd", rstds, res.rstd(), 1e-12, 0);
        assertSameValues("layer_norm strided", res.y(), strided(x).layerNorm(strided(w), strided(b), eps));
        assertF32MatchesF64("layer_norm", in -> in[0].layerNorm(in[1], in[2], eps), x, w, b);
    }

    @Test
    void layerNormOfConstantRowIsBias() {
        Tensor x = Tensor.full(4, DType.F64, 2, 3);
        Tensor b = Tensor.of(new double[] {1, 2, 3}, 3);
        assertArrayEquals(new double[] {1, 2, 3, 1, 2, 3}, x.layerNorm(Tensor.ones(DType.F64, 3), b, 1e-6).toDoubleArray());
    }

    @Test
    void layerNormChecksAffineShapes() {
        Tensor x = Tensor.zeros(DType.F64, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.layerNorm(Tensor.ones(DType.F64, 4), null, 1e-5));
        assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.layerNorm(null, Tensor.ones(DType.F64, 1, 3), 1e-5));
    }

    // ---- L2 normalize ---------------------------------------------------------------------------

    @Property(tries = 50)
    void l2NormalizeGivesUnitRows(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = randomRowsShape(r);
        Tensor x = TestTensors.randn(seed, shape).mul(0.1 + 10 * r.nextDouble());
        Tensor y = x.l2Normalize();
        assertShape(shape, y);
        double[][] xr = rows(x), yr = rows(y);
        for (int i = 0; i < yr.length; i++) {
            double n2 = 0, xn = 0;
            for (double v : yr[i]) n2 += v * v;
            for (double v : xr[i]) xn += v * v;
            assertEquals(1.0, Math.sqrt(n2), TOL, "row norm");
            // Direction preserved: y = x / ‖x‖.
            for (int j = 0; j < yr[i].length; j++) assertEquals(xr[i][j] / Math.sqrt(xn), yr[i][j], TOL);
        }
        assertSameValues("l2 strided", y, strided(x).l2Normalize());
        assertF32MatchesF64("l2Normalize", in -> in[0].l2Normalize(), x);
    }

    @Test
    void l2NormalizeOfTinyRowsUsesEps() {
        Tensor x = Tensor.of(new double[] {0, 0, 0, 3e-13, 4e-13, 0}, 2, 3);
        // Row 0 has norm 0 and stays 0 (no NaN); row 1 has norm 5e-13, below the default eps
        // 1e-12, so it is divided by eps (torch.nn.functional.normalize's rule).
        assertClose("tiny", new double[] {0, 0, 0, 0.3, 0.4, 0}, x.l2Normalize(), 1e-15, 0);
        assertClose("eps 1e-14", new double[] {0, 0, 0, 0.6, 0.8, 0}, x.l2Normalize(1e-14), 1e-15, 0);
    }

    @Test
    void rowOpsOnI64Fail() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.ofLongs(new long[] {1, 2}, 2).softmax());
        assertTrue(e.getMessage().contains("I64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofLongs(new long[] {1, 2}, 2).layerNorm(null, null, 1e-5));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofLongs(new long[] {1, 2}, 2).l2Normalize());
    }
}
