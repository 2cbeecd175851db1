package dev.irtj.kernels.cpu;

import dev.irtj.autograd.TensorArbitraries;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.ReduceOp;
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.UnaryOp;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Vector API backend's wiring (strides, broadcasting, batching, transposes) against the
 * reference backend, on F32 tensors of odd and prime sizes and on non-contiguous views. The
 * kernels themselves are checked element by element in {@link CpuKernelsTest}.
 */
class SimdBackendTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend REF = new ReferenceBackend();

    /** |a − b| ≤ atol + rtol·|b| elementwise, b the reference. */
    static void assertClose(String what, Tensor expected, Tensor actual, double rtol, double atol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] b = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            boolean same = Double.isNaN(b[i]) ? Double.isNaN(a[i]) : Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]);
            if (!same) fail(what + ": element " + i + " of " + Arrays.toString(expected.shape()) + ": expected " + b[i] + ", got " + a[i]);
        }
    }

    /** A random F32 tensor stored non-contiguously (a transposed, offset view) when asked. */
    static Tensor f32(Rng rng, boolean strided, int... shape) {
        if (!strided || shape.length < 2) return Tensor.randn(rng, DType.F32, shape);
        int[] swapped = shape.clone();
        swapped[0] = shape[shape.length - 1];
        swapped[shape.length - 1] = shape[0];
        int[] padded = swapped.clone();
        padded[0] += 1;
        return Tensor.randn(rng, DType.F32, padded).narrow(0, 1, swapped[0]).transpose(0, shape.length - 1);
    }

    @Test
    void isUsableAndPreferredHere() {
        assertNull(SIMD.unavailableReason(), "the Vector API should be usable on this machine");
        assertEquals("cpu", dev.irtj.tensor.Backends.forDevice(dev.irtj.tensor.Device.CPU).name());
    }

    @Provide
    Arbitrary<int[][]> broadcastPairs() {
        return TensorArbitraries.broadcastPairs(4, 17);
    }

    // Elementwise arithmetic is exact in F32 up to rounding of one operation: rtol 1e-6.
    @Property(tries = 60)
    void binaryOpsWithBroadcasting(@ForAll("broadcastPairs") int[][] shapes, @ForAll long seed, @ForAll boolean strided) {
        Rng rng = new Rng(seed);
        Tensor a = f32(rng, strided, shapes[0]), b = f32(rng, false, shapes[1]).add(3.0f);
        for (BinaryOp op : BinaryOp.values()) {
            assertClose(op + " " + Arrays.toString(shapes[0]) + " " + Arrays.toString(shapes[1]), REF.binary(op, a, b), SIMD.binary(op, a, b), 1e-6, 1e-7);
            assertClose(op + " swapped", REF.binary(op, b, a), SIMD.binary(op, b, a), 1e-6, 1e-7);
        }
    }

    // Transcendentals use the Vector API's (SVML) versions: a few ulp, so rtol 1e-5, atol 1e-6.
    @Property(tries = 40)
    void unaryOpsAndTheirBackward(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll boolean strided) {
        Rng rng = new Rng(seed);
        Tensor x = f32(rng, strided, shape), positive = x.abs().add(0.1f), dy = Tensor.randn(rng, DType.F32, shape);
        for (UnaryOp op : UnaryOp.values()) {
            Tensor in = switch (op) {
                case LOG, SQRT, RSQRT, POW -> positive;
                default -> x;
            };
            double p0 = op == UnaryOp.CLAMP ? -0.5 : op == UnaryOp.POW ? 2.5 : 1.7, p1 = op == UnaryOp.CLAMP ? 0.7 : -0.3;
            assertClose(op.name(), REF.unary(op, in, p0, p1), SIMD.unary(op, in, p0, p1), 1e-5, 1e-6);
            assertClose(op + " backward", REF.unaryBackward(op, in, dy, p0, p1), SIMD.unaryBackward(op, in, dy, p0, p1), 1e-5, 1e-6);
        }
    }

    @Provide
    Arbitrary<int[]> shapes() {
        return Arbitraries.of(1, 2, 3, 5, 17, 63, 64, 257).array(int[].class).ofMinSize(1).ofMaxSize(3).filter(s -> Arrays.stream(s).reduce(1, (p, q) -> p * q) < 70_000);
    }

    // Sums of up to a few thousand terms in a different order: rtol 1e-4, atol 1e-4·sqrt(n).
    @Property(tries = 60)
    void reductionsOverAnyDims(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll boolean keepdim, @ForAll boolean strided) {
        Rng rng = new Rng(seed);
        Tensor x = f32(rng, strided, shape);
        int mask = 1 + rng.nextInt((1 << shape.length) - 1);
        int[] dims = java.util.stream.IntStream.range(0, shape.length).filter(d -> (mask >> d & 1) == 1).toArray();
        for (ReduceOp op : ReduceOp.values()) {
            assertClose(op + " over " + Arrays.toString(dims) + " of " + Arrays.toString(shape),
                    REF.reduce(op, x, dims, keepdim), SIMD.reduce(op, x, dims, keepdim), 1e-4, 1e-4 * Math.sqrt(x.numel()));
        }
    }

    @Provide
    Arbitrary<int[]> gemmSizes() {
        Arbitrary<Integer> d = Arbitraries.of(1, 3, 7, 17, 31, 64, 65, 129);
        return Combinators.combine(d, d, d, Arbitraries.integers().between(0, 3)).as((m, k, n, b) -> new int[] {m, k, n, b});
    }

    // K-term dot products in float vs double: rtol 1e-4, atol 1e-5·K.
    @Property(tries = 120)
    void gemmWithTransposesStridesBatchesAndBeta(@ForAll("gemmSizes") int[] s, @ForAll long seed,
                                                 @ForAll boolean transA, @ForAll boolean transB,
                                                 @ForAll boolean stridedA, @ForAll boolean broadcastB, @ForAll @IntRange(max = 2) int cMode,
                                                 @ForAll boolean unitBeta) {
        Rng rng = new Rng(seed);
        int m = s[0], k = s[1], n = s[2], batch = s[3];
        int[] aShape = batch == 0 ? (transA ? new int[] {k, m} : new int[] {m, k}) : (transA ? new int[] {batch, k, m} : new int[] {batch, m, k});
        int[] bCore = transB ? new int[] {n, k} : new int[] {k, n};
        int[] bShape = batch == 0 || broadcastB ? bCore : new int[] {batch, bCore[0], bCore[1]};
        Tensor a = f32(rng, stridedA, aShape), b = f32(rng, false, bShape);
        Tensor c0 = switch (cMode) {
            case 1 -> Tensor.randn(rng, DType.F32, n);
            case 2 -> Tensor.randn(rng, DType.F32, m, n);
            default -> null;
        };
        // beta = 1 with a [n] c0 is a Linear layer's bias, which is added as tiles are stored.
        double alpha = 0.75, beta = c0 == null ? 0 : unitBeta ? 1 : -1.25;
        assertClose("gemm " + Arrays.toString(s), REF.gemm(a, transA, b, transB, alpha, c0, beta),
                SIMD.gemm(a, transA, b, transB, alpha, c0, beta), 1e-4, 1e-5 * k);
    }

    @Test
    void attentionShapedBatchedProductsOfPermutedViews() {
        Rng rng = new Rng(3);
        int batch = 2, tokens = 197, heads = 3, hd = 64;
        Tensor qkv = Tensor.randn(rng, DType.F32, batch, tokens, 3, heads, hd).permute(2, 0, 3, 1, 4);
        Tensor q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);
        Tensor scores = SIMD.gemm(q, false, k, true, 0.125, null, 0);
        assertClose("q·kᵀ", REF.gemm(q, false, k, true, 0.125, null, 0), scores, 1e-4, 1e-4);
        assertClose("attn·v", REF.gemm(scores, false, v, false, 1, null, 0), SIMD.gemm(scores, false, v, false, 1, null, 0), 1e-4, 1e-3);
    }

    @Test
    void copiesCatAndRowOpsOfViews() {
        Rng rng = new Rng(4);
        Tensor x = Tensor.randn(rng, DType.F32, 3, 5, 7, 2).permute(3, 1, 0, 2);
        assertClose("copy", REF.copy(x, DType.F32), SIMD.copy(x, DType.F32), 0, 0);
        assertClose("download", Tensor.of(REF.download(x).f32(), x.shape()), Tensor.of(SIMD.download(x).f32(), x.shape()), 0, 0);
        Tensor y = Tensor.randn(rng, DType.F32, 2, 1, 3, 7);
        assertClose("cat", REF.cat(List.of(x, y), 1), SIMD.cat(List.of(x, y), 1), 0, 0);
        Tensor w = Tensor.randn(rng, DType.F32, 7), bias = Tensor.randn(rng, DType.F32, 7);
        Backend.LayerNormResult r = REF.layerNorm(x, w, bias, 1e-6), s = SIMD.layerNorm(x, w, bias, 1e-6);
        assertClose("layer norm", r.y(), s.y(), 1e-4, 1e-5);
        Tensor dy = Tensor.randn(rng, DType.F32, x.shape());
        Tensor[] gr = REF.layerNormBackward(dy, x, w, r.mean(), r.rstd(), true), gs = SIMD.layerNormBackward(dy, x, w, s.mean(), s.rstd(), true);
        for (int i = 0; i < 3; i++) assertClose("layer norm grad " + i, gr[i], gs[i], 1e-4, 1e-4);
        assertClose("softmax", REF.softmax(x, 0.3, false), SIMD.softmax(x, 0.3, false), 1e-5, 1e-6);
        assertClose("log softmax", REF.softmax(x, 1, true), SIMD.softmax(x, 1, true), 1e-5, 1e-5);
        assertClose("l2", REF.l2Normalize(x, 1e-12), SIMD.l2Normalize(x, 1e-12), 1e-5, 1e-6);
        assertClose("l2 grad", REF.l2NormalizeBackward(x, dy, 1e-12), SIMD.l2NormalizeBackward(x, dy, 1e-12), 1e-4, 1e-5);
    }
}
