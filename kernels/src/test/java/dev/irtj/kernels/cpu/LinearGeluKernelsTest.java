package dev.irtj.kernels.cpu;

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
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.irtj.kernels.cpu.SimdBackendTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The fused Linear + GELU kernels of the CPU backend ({@link Sgemm#sgemmBiasGelu}'s epilogue and
 * {@link GeluKernels#biasGeluBackward}) against the composition of reference ops they replace:
 * z = x·Wᵀ, y = gelu(z + b); dz = dy·gelu'(z + b), db = Σ rows dz. Sizes are the odd ones
 * (rows 1, 17, 197, 257; widths 1, 17, 384, 1536) with inner dims that take one k slice, several
 * (k > {@link Sgemm#KC}) and the split-k route, with and without a leading batch dim.
 *
 * <p>Tolerances, F32 against the reference's double arithmetic on the same z: y and dz within
 * rtol 1e-5, atol 1e-6 (SimdBackendTest's bound for GELU and its backward); db, a sum of up to
 * 514 rows, within rtol 1e-5, atol 1e-6·rows. Beyond that, the fusion must change nothing: z is
 * bit for bit the plain GEMM's product, and y, dz and db bit for bit the unfused CPU ops.
 */
class LinearGeluKernelsTest {
    private static final Backend SIMD = new SimdBackend();
    private static final Backend REF = new ReferenceBackend();

    @Provide
    Arbitrary<int[]> sizes() {
        Arbitrary<Integer> batch = Arbitraries.of(0, 2);
        Arbitrary<Integer> rows = Arbitraries.of(1, 17, 197, 257);
        Arbitrary<Integer> width = Arbitraries.of(1, 17, 384, 1536);
        Arbitrary<Integer> inner = Arbitraries.of(1, 17, 384, 1000, 3100);
        return Combinators.combine(batch, rows, width, inner).as((b, r, n, k) -> new int[] {b, r, n, k});
    }

    @Property(tries = 40)
    void linearGeluMatchesTheReferenceCompositionForwardAndBackward(@ForAll("sizes") int[] s, @ForAll long seed) {
        Assume.that((long) Math.max(s[0], 1) * s[1] * s[2] * s[3] <= 150_000_000L); // keeps a try under a second
        checkAgainstReference(s[0], s[1], s[2], s[3], seed);
    }

    /** Each route of the GEMM's epilogue at least once, whatever the property drew. */
    @Test
    void everyRouteOfTheEpilogue() {
        checkAgainstReference(0, 17, 17, 17, 1);     // below the parallel threshold: one thread
        checkAgainstReference(2, 197, 384, 384, 2);  // row-stacked batch, one k slice, row blocks over threads
        checkAgainstReference(0, 257, 1536, 1000, 3); // two k slices: GELU only after the last
        checkAgainstReference(0, 197, 384, 3100, 4); // small C, long k: split over k, GELU after the partial sums
        checkAgainstReference(0, 1, 1536, 384, 5);   // one row: the B panels split into column chunks
        checkAgainstReference(0, 257, 1, 17, 6);     // one column: edge tiles only
    }

    private static void checkAgainstReference(int batch, int rows, int n, int k, long seed) {
        Rng rng = new Rng(seed);
        Tensor x = batch == 0 ? Tensor.randn(rng, DType.F32, rows, k) : Tensor.randn(rng, DType.F32, batch, rows, k);
        Tensor w = Tensor.randn(rng, DType.F32, n, k).mul(1.0f / (float) Math.sqrt(k)), b = Tensor.randn(rng, DType.F32, n);
        String what = Arrays.toString(x.shape()) + " · [" + n + ", " + k + "]ᵀ";

        Backend.LinearGeluResult fused = SIMD.linearGelu(dev.irtj.tensor.GemmShape.resolve(x, false, w, true, null), b);
        Tensor z = SIMD.gemm(x, false, w, true, 1, null, 0);
        assertArrayEquals(z.toFloatArray(), fused.z().toFloatArray(), what + ": z is the plain GEMM's product");
        Tensor pre = REF.binary(BinaryOp.ADD, fused.z(), b);
        assertClose(what + ": y", REF.unary(UnaryOp.GELU, pre, 0, 0), fused.y(), 1e-5, 1e-6);
        assertArrayEquals(SIMD.unary(UnaryOp.GELU, SIMD.binary(BinaryOp.ADD, z, b), 0, 0).toFloatArray(), fused.y().toFloatArray(),
                what + ": y is the unfused CPU bias add and GELU");

        Tensor dy = Tensor.randn(rng, DType.F32, fused.y().shape());
        Tensor[] grads = SIMD.linearGeluBackward(fused.z(), b, dy);
        Tensor[] expected = REF.linearGeluBackward(fused.z(), b, dy);
        int allRows = Math.max(batch, 1) * rows;
        assertClose(what + ": dz", expected[0], grads[0], 1e-5, 1e-6);
        assertClose(what + ": db", expected[1], grads[1], 1e-5, 1e-6 * allRows);
        Tensor dz = SIMD.unaryBackward(UnaryOp.GELU, SIMD.binary(BinaryOp.ADD, fused.z(), b), dy, 0, 0);
        assertArrayEquals(dz.toFloatArray(), grads[0].toFloatArray(), what + ": dz is the unfused CPU GELU backward");
        int[] leading = batch == 0 ? new int[] {0} : new int[] {0, 1};
        assertArrayEquals(SIMD.reduce(ReduceOp.SUM, dz, leading, false).toFloatArray(), grads[1].toFloatArray(),
                what + ": db is the unfused CPU column sum");
    }

    @Test
    void fullyReferenceOnSmallProductsIncludingAnEmptyInnerDim() {
        Rng rng = new Rng(3);
        for (int[] s : new int[][] {{1, 1, 1}, {17, 17, 5}, {9, 40, 0}, {33, 65, 70}}) {
            Tensor x = Tensor.randn(rng, DType.F32, s[0], s[2]), w = Tensor.randn(rng, DType.F32, s[1], s[2]);
            Tensor b = Tensor.randn(rng, DType.F32, s[1]);
            var plan = dev.irtj.tensor.GemmShape.resolve(x, false, w, true, null);
            Backend.LinearGeluResult want = REF.linearGelu(plan, b), got = SIMD.linearGelu(plan, b);
            assertClose(Arrays.toString(s) + " z", want.z(), got.z(), 1e-5, 1e-5);
            assertClose(Arrays.toString(s) + " y", want.y(), got.y(), 1e-5, 1e-5);
        }
    }

    @Test
    void aBatchOfPerItemWeightsTakesTheUnfusedRouteWithTheSameResult() {
        // Not a Linear layer (B differs per item), so the product cannot be one tall GEMM: the
        // dispatcher multiplies, then makes one bias + GELU pass.
        Rng rng = new Rng(5);
        Tensor x = Tensor.randn(rng, DType.F32, 3, 19, 24), w = Tensor.randn(rng, DType.F32, 3, 33, 24), b = Tensor.randn(rng, DType.F32, 33);
        var plan = dev.irtj.tensor.GemmShape.resolve(x, false, w, true, null);
        Backend.LinearGeluResult got = SIMD.linearGelu(plan, b), want = REF.linearGelu(plan, b);
        assertClose("z", want.z(), got.z(), 1e-5, 1e-5);
        assertClose("y", want.y(), got.y(), 1e-5, 1e-5);
    }
}
