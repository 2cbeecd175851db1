package dev.irtj.autograd;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.util.List;

/**
 * jqwik arbitraries for property tests over tensors, public for other projects' suites.
 *
 * <pre>{@code
 * @Provide Arbitrary<Tensor> matrices() {
 *     return TensorArbitraries.tensors(TensorArbitraries.shapes(2, 2, 5), DType.F64, -2, 2);
 * }
 * }</pre>
 * Values shrink towards 0 and shapes towards fewer and smaller dims.
 */
public final class TensorArbitraries {
    private TensorArbitraries() {
    }

    /** Shapes of rank minRank..maxRank with every dim in 1..maxDim (size-1 dims included). */
    public static Arbitrary<int[]> shapes(int minRank, int maxRank, int maxDim) {
        return Arbitraries.integers().between(1, maxDim).array(int[].class).ofMinSize(minRank).ofMaxSize(maxRank);
    }

    /**
     * Pairs of shapes that broadcast together: both derive from one full shape, each may drop
     * leading dims and turn some dims into 1.
     */
    public static Arbitrary<int[][]> broadcastPairs(int maxRank, int maxDim) {
        return shapes(1, maxRank, maxDim).flatMap(full -> {
            int r = full.length;
            Arbitrary<int[]> a = derived(full);
            Arbitrary<int[]> b = derived(full);
            return Combinators.combine(a, b).as((x, y) -> new int[][] {x, y}).filter(p -> p[0].length == r || p[1].length == r);
        });
    }

    private static Arbitrary<int[]> derived(int[] full) {
        int r = full.length;
        Arbitrary<Integer> drop = Arbitraries.integers().between(0, r - 1);
        Arbitrary<List<Boolean>> ones = Arbitraries.of(true, false).list().ofSize(r);
        return Combinators.combine(drop, ones).as((d, o) -> {
            int[] s = new int[r - d];
            for (int i = 0; i < s.length; i++) s[i] = o.get(i + d) ? 1 : full[i + d];
            return s;
        });
    }

    /** Tensors of the given shapes with values uniform-ish in [min, max]. */
    public static Arbitrary<Tensor> tensors(Arbitrary<int[]> shapes, DType dtype, double min, double max) {
        return shapes.flatMap(shape -> tensors(shape, dtype, min, max));
    }

    /** Tensors of one shape with values in [min, max]. */
    public static Arbitrary<Tensor> tensors(int[] shape, DType dtype, double min, double max) {
        int n = Shape.numel(shape);
        return Arbitraries.doubles().between(min, max).ofScale(6).list().ofSize(n)
                .map(values -> {
                    double[] v = new double[n];
                    for (int i = 0; i < n; i++) v[i] = values.get(i);
                    return Tensor.of(dtype, v, shape);
                });
    }

    /**
     * Tensors whose values avoid a band of ±{@code gap} around 0 (and so around the kinks of
     * relu, abs and clamp at 0) — for gradient checks of non-smooth ops.
     */
    public static Arbitrary<Tensor> tensorsAwayFromZero(Arbitrary<int[]> shapes, DType dtype, double gap, double max) {
        return tensors(shapes, dtype, gap, max).flatMap(t -> Arbitraries.of(true, false).list().ofSize(t.numel()).map(signs -> {
            double[] v = t.toDoubleArray();
            for (int i = 0; i < v.length; i++) if (signs.get(i)) v[i] = -v[i];
            return Tensor.of(dtype, v, t.shape());
        }));
    }
}
