package dev.irtj.kernels.cpu;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.TopK;
import dev.irtj.tensor.TopKPlan;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The CPU backend's row top-k ({@link TopKKernel}) against the reference's stable sort: the same
 * positions and the same value bits (−0 stays −0), with ties, ±∞ and NaN, on rows long enough
 * that the selector's buffer fills and compacts many times, and on transposed views.
 */
class TopKKernelTest {
    private final SimdBackend simd = new SimdBackend();
    private final ReferenceBackend ref = new ReferenceBackend();

    @Property(tries = 60)
    void simdTopKIsTheReferenceBitForBit(@ForAll @IntRange(min = 1, max = 7) int rows, @ForAll @IntRange(min = 1, max = 3000) int n,
                                         @ForAll @IntRange(min = 0, max = 300) int kWanted, @ForAll long seed, @ForAll boolean transposed) {
        int k = Math.min(kWanted, n);
        Rng rng = new Rng(seed);
        float[] pool = {0f, -0f, 1f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        float[] v = new float[rows * n];
        for (int i = 0; i < v.length; i++) {
            // Few distinct values: ties everywhere, and thresholds that sit on them.
            v[i] = rng.nextInt(8) == 0 ? pool[rng.nextInt(pool.length)] : Math.round(rng.nextGaussian() * 20) / 4f;
        }
        Tensor x = transposed ? Tensor.of(transpose(v, rows, n), n, rows).mT() : Tensor.of(v, rows, n);
        TopKPlan plan = TopKPlan.resolve(x, k);
        TopK want = ref.topk(plan), got = simd.topk(plan);
        assertArrayEquals(want.indices().toLongArray(), got.indices().toLongArray(), "positions");
        float[] wv = want.values().toFloatArray(), gv = got.values().toFloatArray();
        for (int i = 0; i < wv.length; i++) {
            if (Float.floatToRawIntBits(wv[i]) != Float.floatToRawIntBits(gv[i]) && !(Float.isNaN(wv[i]) && Float.isNaN(gv[i]))) {
                throw new AssertionError("value " + i + ": reference " + wv[i] + ", simd " + gv[i]);
            }
        }
        assertArrayEquals(new int[] {rows, k}, got.values().shape());
        if (k > 0) assertArrayEquals(new int[] {rows, k}, got.indices().shape());
        if (x.dtype() != DType.F32) throw new AssertionError("the CPU kernel is the F32 path");
    }

    static float[] transpose(float[] v, int rows, int cols) {
        float[] t = new float[v.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c];
        return t;
    }
}
