package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Tensor#topk} on the reference backend: the plan's refusals (before any backend runs) and
 * the result against an independent stable sort of each row, with ties, −0/+0, ±∞ and NaN.
 */
class TopKPlanTest {

    /** Values drawn from a small set so that ties, signed zeros, infinities and NaN all occur. */
    static double[] awkwardValues(Rng rng, int count) {
        double[] pool = {0.0, -0.0, 1.0, -1.0, 2.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.25};
        double[] v = new double[count];
        for (int i = 0; i < count; i++) v[i] = rng.nextInt(4) == 0 ? pool[rng.nextInt(pool.length)] : Math.round(rng.nextGaussian() * 3) / 2.0;
        return v;
    }

    /** Positions of one row in the order: NaN last, larger first, equal values (−0 = +0) in index order. */
    static Integer[] stableOrder(double[] row) {
        Comparator<Integer> byValue = Comparator.comparingInt((Integer j) -> Double.isNaN(row[j]) ? 1 : 0)
                .thenComparing((Integer j) -> Double.isNaN(row[j]) ? 0.0 : -(row[j] + 0.0));
        Integer[] order = IntStream.range(0, row.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, byValue); // stable: equal keys keep index order
        return order;
    }

    @Property(tries = 200)
    void referenceMatchesAStableSort(@ForAll @IntRange(min = 1, max = 5) int rows, @ForAll @IntRange(min = 1, max = 70) int n,
                                     @ForAll @IntRange(min = 0, max = 70) int kWanted, @ForAll long seed, @ForAll boolean f64,
                                     @ForAll boolean transposed) {
        int k = Math.min(kWanted, n);
        DType dtype = f64 ? DType.F64 : DType.F32;
        double[] v = awkwardValues(new Rng(seed), rows * n);
        // A transposed view exercises the strided read: the logical rows are the same.
        Tensor x = transposed ? Tensor.of(dtype, transpose(v, rows, n), n, rows).mT() : Tensor.of(dtype, v, rows, n);
        TopK got = new ReferenceBackend().topk(TopKPlan.resolve(x, k));
        assertArrayEquals(new int[] {rows, k}, got.values().shape());
        assertEquals(DType.I64, got.indices().dtype());
        double[] values = got.values().toDoubleArray();
        long[] indices = got.indices().toLongArray();
        for (int r = 0; r < rows; r++) {
            double[] row = Arrays.copyOfRange(x.to(DType.F64).toDoubleArray(), r * n, (r + 1) * n);
            Integer[] order = stableOrder(row);
            for (int j = 0; j < k; j++) {
                assertEquals(order[j].longValue(), indices[r * k + j], "row " + r + " rank " + j);
                assertEquals(Double.doubleToLongBits(row[order[j]]), Double.doubleToLongBits(values[r * k + j]), "value row " + r + " rank " + j);
            }
        }
    }

    static double[] transpose(double[] v, int rows, int cols) {
        double[] t = new double[v.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c];
        return t;
    }

    @Test
    void higherRankTensorsAreRowsOfTheLastDim() {
        Tensor x = Tensor.of(new double[] {3, 1, 2, 9, 9, 0, -1, 5, 4, 0, 0, 7}, 2, 2, 3);
        TopK t = x.topk(2);
        assertArrayEquals(new int[] {2, 2, 2}, t.values().shape());
        assertArrayEquals(new double[] {3, 2, 9, 9, 5, 4, 7, 0}, t.values().toDoubleArray());
        assertArrayEquals(new long[] {0, 2, 0, 1, 1, 2, 2, 0}, t.indices().toLongArray());
    }

    @Test
    void refusalsAreOneLineAndNeverReachABackend() {
        CountingBackend counting = new CountingBackend();
        Tensor x = Tensor.zeros(DType.F32, 2, 4);
        String[][] expected = {{"k = 5 for rows of 4"}, {"k = -1"}, {"not defined for I64"}, {"rank >= 1"}};
        Runnable[] calls = {() -> x.topk(5), () -> x.topk(-1), () -> x.to(DType.I64).topk(1), () -> Tensor.scalar(1, DType.F32).topk(0)};
        for (int i = 0; i < calls.length; i++) {
            Runnable call = calls[i];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> counting.around(() -> {
                call.run();
                return null;
            }));
            assertTrue(e.getMessage().contains(expected[i][0]) && !e.getMessage().contains("\n"), e.getMessage());
        }
        assertEquals(0, counting.calls("topk", 1), "no backend ran for a refused top-k");
        counting.around(() -> x.topk(4));
        assertEquals(1, counting.calls("topk", 1));
    }
}
