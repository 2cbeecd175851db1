package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.irtj.tensor.TestTensors.assertClose;
import static dev.irtj.tensor.TestTensors.assertF32MatchesF64;
import static dev.irtj.tensor.TestTensors.assertShape;
import static dev.irtj.tensor.TestTensors.strided;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * matmul (torch rules), gemm (transposes, α/β, broadcast C0), linear and the patch convolution,
 * against naive loops.
 *
 * <p>Tolerance: products are summed in double; a different summation order changes a dot product
 * of length K by at most about K·eps·Σ|aᵢbᵢ|, so results are compared with
 * |a − b| ≤ 1e-13·(1 + Σ|aᵢbᵢ|) per element, far below any indexing mistake.
 */
class MatmulOpsTest {

    /** Naive C[b] = A[b]·B[b] for contiguous row-major data; A is [nb, m, k], B [nb, k, n]. */
    private static double[] naiveBatched(double[] a, double[] b, int nb, int m, int k, int n) {
        double[] c = new double[nb * m * n];
        for (int q = 0; q < nb; q++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a[(q * m + i) * k + p] * b[(q * k + p) * n + j];
                    c[(q * m + i) * n + j] = s;
                }
        return c;
    }

    /** Σ|aᵢbᵢ| for each output cell: the scale of the rounding error of each dot product. */
    private static double[] absScale(double[] a, double[] b, int nb, int m, int k, int n) {
        double[] aa = Arrays.stream(a).map(Math::abs).toArray(), bb = Arrays.stream(b).map(Math::abs).toArray();
        return naiveBatched(aa, bb, nb, m, k, n);
    }

    private static void assertMatmulClose(String what, double[] want, double[] scale, Tensor got) {
        double[] g = got.toDoubleArray();
        assertEquals(want.length, g.length, what + ": element count");
        for (int i = 0; i < want.length; i++) {
            double tol = 1e-13 * (1 + scale[i]);
            if (!(Math.abs(g[i] - want[i]) <= tol)) {
                throw new AssertionError(what + ": element " + i + ": expected " + want[i] + ", got " + g[i]);
            }
        }
    }

    /** The expected matmul of a [.., m, k] and b [.., k, n] with broadcast batch dims. */
    private static Tensor expectedMatmul(Tensor a, Tensor b, double[][] scaleOut) {
        int m = a.shape(-2), k = a.shape(-1), n = b.shape(-1);
        int[] ba = Arrays.copyOf(a.shape(), a.rank() - 2), bb = Arrays.copyOf(b.shape(), b.rank() - 2);
        int[] batch = Shape.broadcast(ba, bb);
        int nb = Shape.numel(batch);
        int[] sa = Arrays.copyOf(batch, batch.length + 2), sb = Arrays.copyOf(batch, batch.length + 2);
        sa[batch.length] = m;
        sa[batch.length + 1] = k;
        sb[batch.length] = k;
        sb[batch.length + 1] = n;
        double[] av = a.expand(sa).contiguous().toDoubleArray(), bv = b.expand(sb).contiguous().toDoubleArray();
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = m;
        out[batch.length + 1] = n;
        scaleOut[0] = absScale(av, bv, nb, m, k, n);
        return Tensor.of(naiveBatched(av, bv, nb, m, k, n), out);
    }

    @Test
    void matmul2d() {
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new double[] {7, 8, 9, 10, 11, 12}, 3, 2);
        Tensor c = a.matmul(b);
        assertShape(new int[] {2, 2}, c);
        assertArrayEquals(new double[] {58, 64, 139, 154}, c.toDoubleArray());
        assertArrayEquals(new double[] {58, 64, 139, 154}, strided(a).matmul(strided(b)).toDoubleArray());
        assertArrayEquals(new double[] {58, 139, 64, 154}, b.mT().matmul(a.mT()).toDoubleArray());
    }

    @Test
    void matmulPromotesOneDimensionalOperands() {
        Tensor m = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor v3 = Tensor.of(new double[] {1, 0, -1}, 3);
        Tensor v2 = Tensor.of(new double[] {2, -1}, 2);
        Tensor mv = m.matmul(v3);
        assertShape(new int[] {2}, mv);
        assertArrayEquals(new double[] {-2, -2}, mv.toDoubleArray());
        Tensor vm = v2.matmul(m);
        assertShape(new int[] {3}, vm);
        assertArrayEquals(new double[] {-2, -1, 0}, vm.toDoubleArray());
        Tensor dot = v3.matmul(v3);
        assertShape(new int[] {}, dot);
        assertEquals(2, dot.item());
        // A vector against a batch of matrices: [3] @ [2, 3, 2] -> [2, 2].
        Tensor batch = Tensor.arange(12, DType.F64).reshape(2, 3, 2);
        Tensor vb = v3.matmul(batch);
        assertShape(new int[] {2, 2}, vb);
        assertArrayEquals(new double[] {-4, -4, -4, -4}, vb.toDoubleArray());
        // A batch of matrices against a vector: [2, 3, 2] @ [2] -> [2, 3].
        Tensor bv = batch.matmul(v2);
        assertShape(new int[] {2, 3}, bv);
        assertArrayEquals(new double[] {-1, 1, 3, 5, 7, 9}, bv.toDoubleArray());
    }

    @Test
    void matmulErrorsNameShapes() {
        Tensor a = Tensor.zeros(DType.F64, 2, 3), b = Tensor.zeros(DType.F64, 4, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.matmul(b));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.matmul(Tensor.scalar(1, DType.F64)));
        assertTrue(e.getMessage().contains("0-dimensional"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.zeros(DType.F64, 2, 2, 3).matmul(Tensor.zeros(DType.F64, 3, 3, 1)));
        assertTrue(e.getMessage().contains("[2]") && e.getMessage().contains("[3]"), e.getMessage());
    }

    /**
     * Batched matmul with broadcast batch dims against naive loops; strided operands and
     * transposed layouts give the same result; F32 is the F64 result rounded once.
     */
    @Property(tries = 50)
    void batchedMatmulMatchesNaiveLoops(@ForAll long seed) {
        Rng r = new Rng(seed);
        int m = 1 + r.nextInt(5), k = 1 + r.nextInt(6), n = 1 + r.nextInt(5);
        int[] batch = TestTensors.randomShape(r, 0, 2, 3);
        int[] ba = TestTensors.broadcastableTo(r, batch), bb = TestTensors.broadcastableTo(r, batch);
        Tensor a = TestTensors.randn(seed, concat(ba, m, k)), b = TestTensors.randn(seed + 1, concat(bb, k, n));
        double[][] scale = new double[1][];
        Tensor want = expectedMatmul(a, b, scale);
        String what = Arrays.toString(a.shape()) + " @ " + Arrays.toString(b.shape());
        Tensor got = a.matmul(b);
        assertShape(want.shape(), got);
        assertMatmulClose(what, want.toDoubleArray(), scale[0], got);
        assertMatmulClose(what + " strided", want.toDoubleArray(), scale[0], strided(a).matmul(strided(b)));
        assertMatmulClose(what + " transposed layout", want.toDoubleArray(), scale[0],
                TestTensors.transposedLayout(a).matmul(TestTensors.transposedLayout(b)));
        assertF32MatchesF64(what, in -> in[0].matmul(in[1]), a, b);
    }

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }

    /** (A·B)ᵀ = Bᵀ·Aᵀ, computed through transposed views (non-contiguous operands). */
    @Property(tries = 50)
    void transposeOfProduct(@ForAll long seed) {
        Rng r = new Rng(seed);
        int m = 1 + r.nextInt(6), k = 1 + r.nextInt(6), n = 1 + r.nextInt(6), nb = 1 + r.nextInt(3);
        Tensor a = TestTensors.randn(seed, nb, m, k), b = TestTensors.randn(seed + 1, nb, k, n);
        Tensor lhs = a.matmul(b).mT().contiguous(), rhs = b.mT().matmul(a.mT());
        // The same products summed in the same order: equal to rounding only.
        assertClose("(AB)ᵀ vs BᵀAᵀ", lhs, rhs, 1e-14, 1e-14);
    }

    // ---- gemm -----------------------------------------------------------------------------------

    /** gemm with every transpose combination, α, β and C0 shapes that broadcast. */
    @Property(tries = 50)
    void gemmMatchesDefinition(@ForAll long seed) {
        Rng r = new Rng(seed);
        int m = 1 + r.nextInt(5), k = 1 + r.nextInt(5), n = 1 + r.nextInt(5), nb = 1 + r.nextInt(3);
        boolean transA = r.nextBoolean(), transB = r.nextBoolean();
        double alpha = Math.rint(4 * r.nextGaussian()) / 2, beta = Math.rint(4 * r.nextGaussian()) / 2;
        Tensor opA = TestTensors.randn(seed, nb, m, k), opB = TestTensors.randn(seed + 1, k, n);
        Tensor a = transA ? opA.mT().contiguous() : opA, b = transB ? opB.mT().contiguous() : opB;
        int[][] c0Shapes = {{n}, {m, 1}, {1}, {}, {nb, 1, n}, {m, n}, {nb, m, n}};
        int[] c0Shape = c0Shapes[r.nextInt(c0Shapes.length)];
        Tensor c0 = TestTensors.randn(seed + 2, c0Shape);
        double[][] scale = new double[1][];
        Tensor prod = expectedMatmul(opA, opB, scale);
        Tensor want = prod.mul(alpha).add(c0.mul(beta));
        String what = "gemm transA " + transA + " transB " + transB + " alpha " + alpha + " beta " + beta + " c0 " + Arrays.toString(c0Shape);
        Backend be = Backends.forDevice(Device.CPU);
        Tensor got = be.gemm(a, transA, b, transB, alpha, c0, beta);
        assertShape(new int[] {nb, m, n}, got);
        double[] sc = Arrays.stream(scale[0]).map(s -> Math.abs(alpha) * s).toArray();
        assertMatmulClose(what, want.toDoubleArray(), sc, got);
        assertMatmulClose(what + " strided", want.toDoubleArray(), sc, be.gemm(strided(a), transA, strided(b), transB, alpha, strided(c0), beta));
        // Without C0 (β ignored).
        assertMatmulClose(what + " no c0", prod.mul(alpha).toDoubleArray(), sc, be.gemm(a, transA, b, transB, alpha, null, beta));
        assertF32MatchesF64(what, in -> be.gemm(in[0], transA, in[1], transB, alpha, in[2], beta), a, b, c0);
    }

    @Test
    void gemmWithBetaZeroIgnoresC0() {
        // BLAS convention: with β = 0, C0 is not read, so NaN or garbage in it cannot leak.
        Backend be = Backends.forDevice(Device.CPU);
        Tensor a = Tensor.eye(2, DType.F64), b = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
        Tensor c0 = Tensor.full(Double.NaN, DType.F64, 2, 2);
        assertArrayEquals(new double[] {2, 4, 6, 8}, be.gemm(a, false, b, false, 2, c0, 0).toDoubleArray());
        assertArrayEquals(new double[] {1, 3, 2, 4}, be.gemm(a, false, b, true, 1, null, 5).toDoubleArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> be.gemm(Tensor.zeros(DType.F64, 2, 3), true, Tensor.zeros(DType.F64, 3, 4), false, 1, null, 0));
        assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[3, 4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> be.gemm(Tensor.zeros(DType.F64, 3), false, b, false, 1, null, 0));
    }

    // ---- linear ---------------------------------------------------------------------------------

    @Property(tries = 40)
    void linearIsXTimesWTransposedPlusBias(@ForAll long seed) {
        Rng r = new Rng(seed);
        int in = 1 + r.nextInt(6), out = 1 + r.nextInt(6);
        int[] lead = TestTensors.randomShape(r, 1, 3, 3);
        Tensor x = TestTensors.randn(seed, concat(lead, 1, in)).squeeze(-2);
        Tensor w = TestTensors.randn(seed + 1, out, in), bias = TestTensors.randn(seed + 2, out);
        double[] xv = x.toDoubleArray(), wv = w.toDoubleArray(), bv = bias.toDoubleArray();
        int rows = x.numel() / in;
        double[] want = new double[rows * out], wantNoBias = new double[rows * out], scale = new double[rows * out];
        for (int i = 0; i < rows; i++)
            for (int o = 0; o < out; o++) {
                double s = 0, sa = 0;
                for (int p = 0; p < in; p++) {
                    s += xv[i * in + p] * wv[o * in + p];
                    sa += Math.abs(xv[i * in + p] * wv[o * in + p]);
                }
                wantNoBias[i * out + o] = s;
                want[i * out + o] = s + bv[o];
                scale[i * out + o] = sa + Math.abs(bv[o]);
            }
        Tensor got = x.linear(w, bias);
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = out;
        assertShape(outShape, got);
        assertMatmulClose("linear", want, scale, got);
        assertMatmulClose("linear without bias", wantNoBias, scale, x.linear(w, null));
        assertMatmulClose("linear strided", want, scale, strided(x).linear(strided(w), strided(bias)));
        assertF32MatchesF64("linear", t -> t[0].linear(t[1], t[2]), x, w, bias);
    }

    @Test
    void linearErrorsNameShapes() {
        Tensor x = Tensor.zeros(DType.F64, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.linear(Tensor.zeros(DType.F64, 4, 5), null));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.linear(Tensor.zeros(DType.F64, 4, 3), Tensor.zeros(DType.F64, 3)));
        assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[4, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.linear(Tensor.zeros(DType.F64, 3), null));
        assertTrue(e.getMessage().contains("2-D"), e.getMessage());
    }

    // ---- patch convolution ----------------------------------------------------------------------

    /** Direct convolution with stride = kernel: out[b,d,i,j] = bias[d] + Σ x[b,c,i·p+u,j·q+v]·w[d,c,u,v]. */
    @Property(tries = 30)
    void conv2dPatchMatchesDirectConvolution(@ForAll long seed) {
        Rng r = new Rng(seed);
        int batch = 1 + r.nextInt(2), ch = 1 + r.nextInt(3), p = 1 + r.nextInt(3), q = 1 + r.nextInt(3);
        int gh = 1 + r.nextInt(3), gw = 1 + r.nextInt(3), d = 1 + r.nextInt(4);
        int h = gh * p, w = gw * q;
        Tensor x = TestTensors.randn(seed, batch, ch, h, w);
        Tensor wt = TestTensors.randn(seed + 1, d, ch, p, q), bias = TestTensors.randn(seed + 2, d);
        double[] xv = x.toDoubleArray(), wv = wt.toDoubleArray(), bv = bias.toDoubleArray();
        int[] outShape = {batch, d, gh, gw};
        double[] want = new double[Shape.numel(outShape)], scale = new double[want.length];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < d; o++)
                for (int i = 0; i < gh; i++)
                    for (int j = 0; j < gw; j++) {
                        double s = bv[o], sa = Math.abs(bv[o]);
                        for (int c = 0; c < ch; c++)
                            for (int u = 0; u < p; u++)
                                for (int v = 0; v < q; v++) {
                                    double term = xv[TestTensors.flat(x.shape(), b, c, i * p + u, j * q + v)]
                                            * wv[TestTensors.flat(wt.shape(), o, c, u, v)];
                                    s += term;
                                    sa += Math.abs(term);
                                }
                        int at = TestTensors.flat(outShape, b, o, i, j);
                        want[at] = s;
                        scale[at] = sa;
                    }
        String what = "conv2dPatch x " + Arrays.toString(x.shape()) + " w " + Arrays.toString(wt.shape());
        Tensor got = x.conv2dPatch(wt, bias);
        assertShape(outShape, got);
        assertTrue(got.isContiguous());
        assertMatmulClose(what, want, scale, got);
        assertMatmulClose(what + " strided", want, scale, strided(x).conv2dPatch(strided(wt), bias));
        assertF32MatchesF64(what, t -> t[0].conv2dPatch(t[1], t[2]), x, wt, bias);
    }

    @Test
    void patchesToRowsIsChannelMajorPerPatch() {
        // One image, 2 channels, 2x4 pixels, patches 2x2: two patches.
        Tensor x = Tensor.arange(16, DType.F64).reshape(1, 2, 2, 4);
        PatchGeometry g = PatchGeometry.of(x.shape(), new int[] {3, 2, 2, 2});
        assertEquals(1, g.gridH());
        assertEquals(2, g.gridW());
        Tensor rows = x.patchesToRows(g);
        assertShape(new int[] {2, 8}, rows);
        assertArrayEquals(new double[] {0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15}, rows.toDoubleArray());
    }

    @Test
    void patchGeometryErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PatchGeometry.of(new int[] {1, 3, 10, 8}, new int[] {4, 3, 4, 4}));
        assertTrue(e.getMessage().contains("10x8") && e.getMessage().contains("4x4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PatchGeometry.of(new int[] {1, 3, 8, 8}, new int[] {4, 2, 4, 4}));
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PatchGeometry.of(new int[] {3, 8, 8}, new int[] {4, 3, 4, 4}));
        assertTrue(e.getMessage().contains("[3, 8, 8]"), e.getMessage());
    }
}
