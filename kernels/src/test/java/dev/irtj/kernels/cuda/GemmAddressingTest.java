package dev.irtj.kernels.cuda;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.HostStorage;
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.StridedIndex;
import dev.irtj.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The host-side arithmetic of the CUDA backend, checked without a GPU: the GEMM operand
 * addressing that CudaBackend hands to the kernels (gemm.cuh's GemmArgs) and the column-major
 * cuBLAS call it derives from it, each executed here by a plain-Java emulation of the device
 * code's index formulas and compared with {@link ReferenceBackend#gemm} (F64, so any addressing
 * error shows as a difference far above rounding: rtol 1e-12, atol 1e-12·K); the Strided
 * descriptor's layout; and the allocator's size classes.
 */
@Tag("device-check") // scripts/device-check.sh runs every class with this tag on a GPU
@net.jqwik.api.Tag("device-check")
class GemmAddressingTest {
    private static final ReferenceBackend REF = new ReferenceBackend();

    @Provide
    Arbitrary<int[]> sizes() {
        Arbitrary<Integer> d = Arbitraries.of(1, 2, 3, 5, 8, 13);
        return Combinators.combine(d, d, d, Arbitraries.integers().between(0, 3)).as((m, k, n, b) -> new int[] {m, k, n, b});
    }

    /** A random F64 tensor of `shape`, optionally as a transposed, offset view of a larger one. */
    static Tensor operand(Rng rng, boolean strided, int... shape) {
        if (!strided || shape.length < 2) return Tensor.randn(rng, DType.F64, shape);
        int r = shape.length;
        int[] swapped = shape.clone();
        swapped[r - 2] = shape[r - 1];
        swapped[r - 1] = shape[r - 2] + 2;
        return Tensor.randn(rng, DType.F64, swapped).narrow(r - 1, 1, shape[r - 2]).transpose(r - 2, r - 1);
    }

    @Property(tries = 200)
    void kernelAndCublasAddressingMatchTheReference(@ForAll("sizes") int[] s, @ForAll long seed, @ForAll boolean transA,
                                                    @ForAll boolean transB, @ForAll boolean stridedA, @ForAll boolean stridedB,
                                                    @ForAll boolean broadcastB, @ForAll @IntRange(max = 2) int cMode) {
        Rng rng = new Rng(seed);
        int m = s[0], k = s[1], n = s[2], nb = s[3];
        int[] batch = nb == 0 ? new int[0] : new int[] {2, nb};
        int[] aShape = BatchShapes.with(batch, transA ? k : m, transA ? m : k);
        int[] bShape = BatchShapes.with(broadcastB ? new int[0] : batch, transB ? n : k, transB ? k : n);
        Tensor a = operand(rng, stridedA, aShape), b = operand(rng, stridedB, bShape);
        Tensor c0 = switch (cMode) {
            case 1 -> Tensor.randn(rng, DType.F64, n);
            case 2 -> Tensor.randn(rng, DType.F64, m, n);
            default -> null;
        };
        double alpha = 0.75, beta = c0 == null ? 0 : -1.25;
        Tensor expected = REF.gemm(a, transA, b, transB, alpha, c0, beta);

        Tensor opA = transA ? a.mT() : a, opB = transB ? b.mT() : b;
        int[] outShape = expected.shape();
        int[] batchShape = Arrays.copyOf(outShape, outShape.length - 2);
        Tensor ea = CudaBackend.collapsible(opA.expand(CudaBackend.concat(batchShape, m, k)));
        Tensor eb = CudaBackend.collapsible(opB.expand(CudaBackend.concat(batchShape, k, n)));
        Tensor ec = c0 == null ? null : CudaBackend.collapsible(c0.expand(outShape));
        int count = Shape.numel(batchShape);
        CudaGemm.GemmPlan p = CudaBackend.plan(ea, eb, ec, m, n, k, count);

        double[] av = ((HostStorage) ea.storage()).f64(), bv = ((HostStorage) eb.storage()).f64();
        double[] cv = ec == null ? null : ((HostStorage) ec.storage()).f64();
        double[] kernel = new double[count * m * n];
        for (int bi = 0; bi < count; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int q = 0; q < k; q++) {
                        acc += av[p.aOff + bi * p.aBs + i * p.aRs + q * p.aCs] * bv[p.bOff + bi * p.bBs + q * p.bRs + j * p.bCs];
                    }
                    double v = alpha * acc;
                    if (cv != null) v += beta * cv[p.cOff + bi * p.cBs + i * p.cRs + j * p.cCs];
                    kernel[(bi * m + i) * n + j] = v;
                }
            }
        }
        assertClose("irtj kernel addressing", expected.toDoubleArray(), kernel, k);

        if (CudaGemm.cublasLayout(p)) {
            // cublasSgemmStridedBatched(opB, opA, n, m, k, B, ldb, strideB, A, lda, strideA, C, ldc = n, strideC = m·n)
            int[] la = CudaGemm.layoutOf(p.aRs, p.aCs, p.k, p.m), lb = CudaGemm.layoutOf(p.bRs, p.bCs, p.n, p.k);
            double[] c = new double[count * m * n];
            if (cv != null) {
                int[] off = StridedIndex.offsets(ec);
                for (int i = 0; i < c.length; i++) c[i] = cv[off[i]];
            }
            for (int bi = 0; bi < count; bi++) {
                for (int col = 0; col < m; col++) {
                    for (int row = 0; row < n; row++) {
                        double acc = 0;
                        for (int q = 0; q < k; q++) {
                            double x = lb[0] == 0 ? bv[p.bOff + bi * p.bBs + row + q * lb[1]] : bv[p.bOff + bi * p.bBs + q + row * lb[1]];
                            double y = la[0] == 0 ? av[p.aOff + bi * p.aBs + q + col * la[1]] : av[p.aOff + bi * p.aBs + col + q * la[1]];
                            acc += x * y;
                        }
                        int at = bi * m * n + row + col * n;
                        c[at] = alpha * acc + (cv == null ? 0 : beta * c[at]);
                    }
                }
            }
            assertClose("cuBLAS column-major call", expected.toDoubleArray(), c, k);
        }
    }

    private static void assertClose(String what, double[] expected, double[] actual, int k) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > 1e-12 * Math.max(1, k) + 1e-12 * Math.abs(expected[i])) {
                fail(what + ": element " + i + " expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    @Test
    void contiguousAndTransposedOperandsGoToCublasAsTheyAre() {
        Rng rng = new Rng(1);
        Tensor x = Tensor.randn(rng, DType.F64, 4, 6, 5);
        assertEquals(30, CudaBackend.batchStrideOrMin(x));
        assertEquals(30, CudaBackend.batchStrideOrMin(x.mT()));
        assertEquals(0, CudaBackend.batchStrideOrMin(Tensor.randn(rng, DType.F64, 6, 5).expand(4, 6, 5)));
        // [B, H, N, d] heads sliced out of [B, N, 3, H, d]: batch dims (B, H) do not collapse.
        Tensor qkv = Tensor.randn(rng, DType.F64, 2, 7, 3, 3, 4).permute(2, 0, 3, 1, 4).select(0, 0);
        assertEquals(Integer.MIN_VALUE, CudaBackend.batchStrideOrMin(qkv));
        assertArrayEquals(new int[] {0, 5}, CudaGemm.layoutOf(5, 1, 5, 6));
        assertArrayEquals(new int[] {1, 6}, CudaGemm.layoutOf(1, 6, 5, 6));
    }

    @Test
    void stridedDescriptorMatchesCommonCuh() {
        int[] s = KernelArgs.stridedInts(new int[] {2, 3}, new int[] {1, 2}, 5, "test");
        assertEquals(18, s.length);
        assertArrayEquals(new int[] {2, 2, 3, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 5}, s);
        try {
            KernelArgs.stridedInts(new int[9], new int[9], 0, "where");
            fail("rank 9 accepted");
        } catch (IllegalArgumentException e) {
            assertEquals(true, e.getMessage().startsWith("where on cuda supports tensors of rank <= 8"));
        }
    }

    @Test
    void allocatorSizeClasses() {
        assertEquals(512, CudaAllocator.roundUp(1));
        assertEquals(1024, CudaAllocator.roundUp(513));
        assertEquals(1 << 20, CudaAllocator.roundUp(1 << 20));
        assertEquals((1 << 20) + (1 << 17), CudaAllocator.roundUp((1 << 20) + 1));
        for (long b = 1; b < (1L << 33); b = b * 3 + 7) {
            long r = CudaAllocator.roundUp(b);
            if (r < b || r > Math.max(512, b + b / 8 + 512)) fail("size class " + r + " for " + b);
        }
    }

    /** Shape helpers. */
    static final class BatchShapes {
        static int[] with(int[] batch, int r, int c) {
            return CudaBackend.concat(batch, r, c);
        }
    }
}
