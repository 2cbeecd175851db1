package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.irtj.tensor.TestTensors.assertClose;
import static dev.irtj.tensor.TestTensors.assertF32MatchesF64;
import static dev.irtj.tensor.TestTensors.assertSameValues;
import static dev.irtj.tensor.TestTensors.assertShape;
import static dev.irtj.tensor.TestTensors.strided;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** sum/mean/max/min over any set of dims, argmax/argmin, against hand-written loops. */
class ReductionOpsTest {

    /**
     * The reduction written the slow, obvious way: for every output cell, walk all input
     * elements and fold those whose kept coordinates match.
     */
    private static double[] handReduce(ReduceOp op, double[] x, int[] shape, int[] dims) {
        boolean[] reduced = new boolean[shape.length];
        for (int d : dims) reduced[d] = true;
        int[] kept = shape.clone();
        for (int d : dims) kept[d] = 1;
        int outN = Shape.numel(kept);
        double[] out = new double[outN];
        for (int o = 0; o < outN; o++) {
            int[] oc = TestTensors.unflat(o, kept);
            double acc = op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : op == ReduceOp.MIN ? Double.POSITIVE_INFINITY : 0;
            int count = 0;
            for (int i = 0; i < x.length; i++) {
                int[] ic = TestTensors.unflat(i, shape);
                boolean match = true;
                for (int d = 0; d < shape.length; d++) if (!reduced[d] && ic[d] != oc[d]) match = false;
                if (!match) continue;
                count++;
                double v = x[i];
                acc = switch (op) {
                    case SUM, MEAN -> acc + v;
                    case MAX -> Double.isNaN(acc) || Double.isNaN(v) ? Double.NaN : Math.max(acc, v);
                    case MIN -> Double.isNaN(acc) || Double.isNaN(v) ? Double.NaN : Math.min(acc, v);
                };
            }
            out[o] = op == ReduceOp.MEAN ? acc / count : acc;
        }
        return out;
    }

    private static Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepdim) {
        return switch (op) {
            case SUM -> x.sum(dims, keepdim);
            case MEAN -> x.mean(dims, keepdim);
            case MAX -> x.max(dims, keepdim);
            case MIN -> x.min(dims, keepdim);
        };
    }

    /**
     * Any subset of dims (given in any order, possibly negative), with and without keepdim.
     * Sums may be accumulated in another order than the hand loop, so they are compared with
     * |a − b| ≤ 1e-13·Σ|x| (a few ulp of the largest partial sum); max/min are exact.
     */
    @Property(tries = 60)
    void reductionsMatchHandLoops(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = TestTensors.randomShape(r, 1, 4, 4);
        Tensor x = TestTensors.randn(seed, shape);
        List<Integer> chosen = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) if (r.nextBoolean()) chosen.add(d);
        int[] sorted = chosen.stream().mapToInt(Integer::intValue).toArray();
        int[] given = new int[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            int d = sorted[sorted.length - 1 - i];
            given[i] = r.nextBoolean() ? d - shape.length : d; // reversed order, some negative
        }
        double scale = Arrays.stream(x.toDoubleArray()).map(Math::abs).sum();
        for (ReduceOp op : ReduceOp.values()) {
            double[] want = handReduce(op, x.toDoubleArray(), shape, sorted);
            for (boolean keepdim : new boolean[] {false, true}) {
                String what = op + " over " + Arrays.toString(given) + " of " + Arrays.toString(shape) + " keepdim " + keepdim;
                Tensor got = reduce(op, x, given, keepdim);
                int[] wantShape = expectedShape(shape, sorted, keepdim);
                assertShape(wantShape, got);
                double atol = op == ReduceOp.SUM || op == ReduceOp.MEAN ? 1e-13 * scale : 0;
                assertClose(what, want, got, 0, atol);
                assertSameValues(what + " strided", got, reduce(op, strided(x), given, keepdim));
                assertF32MatchesF64(what, in -> reduce(op, in[0], given, keepdim), x);
            }
        }
    }

    private static int[] expectedShape(int[] shape, int[] dims, boolean keepdim) {
        int[] s = shape.clone();
        for (int d : dims) s[d] = keepdim ? 1 : -1;
        return Arrays.stream(s).filter(v -> v >= 0).toArray();
    }

    @Test
    void fullReductions() {
        Tensor x = Tensor.of(new double[] {1, -2, 3, 4, 5, -6}, 2, 3);
        assertShape(new int[] {}, x.sum());
        assertEquals(5, x.sum().item());
        assertEquals(5 / 6.0, x.mean().item(), 1e-16);
        assertEquals(5, x.max().item());
        assertEquals(-6, x.min().item());
        assertArrayEquals(new double[] {2, 3}, x.sum(1, false).toDoubleArray());
        assertShape(new int[] {2, 1}, x.sum(-1, true));
        assertArrayEquals(new double[] {5, 3, -3}, x.sum(0, false).toDoubleArray());
        assertArrayEquals(new double[] {4, 5, 3}, x.max(0, false).toDoubleArray());
        assertArrayEquals(new double[] {-2, -6}, x.min(1, false).toDoubleArray());
        assertArrayEquals(new double[] {2.5, 1.5, -1.5}, x.mean(0, false).toDoubleArray());
        assertShape(new int[] {1, 1}, x.sum(new int[] {0, 1}, true));
        // Reducing over no dims is the identity.
        assertSameValues("sum over no dims", x, x.sum(new int[0], false));
        // A 0-dim tensor reduces to itself.
        assertEquals(7, Tensor.scalar(7, DType.F64).sum().item());
        assertEquals(7, Tensor.scalar(7, DType.F64).max().item());
    }

    @Test
    void reductionsOverEmptyDims() {
        Tensor e = Tensor.zeros(DType.F64, 2, 0);
        assertArrayEquals(new double[] {0, 0}, e.sum(1, false).toDoubleArray());
        double[] m = e.mean(1, false).toDoubleArray();
        assertTrue(Double.isNaN(m[0]) && Double.isNaN(m[1]), "mean of nothing is NaN, as in torch");
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> e.max(1, false));
        assertTrue(ex.getMessage().contains("[2, 0]"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> e.argmax(1, false));
        assertShape(new int[] {0}, e.sum(0, false));
    }

    @Test
    void maxAndMinPropagateNaN() {
        Tensor x = Tensor.of(new double[] {1, Double.NaN, 3, 4, 5, 6, Double.NaN, 0, 2}, 3, 3);
        double[] mx = x.max(1, false).toDoubleArray();
        assertTrue(Double.isNaN(mx[0]) && mx[1] == 6 && Double.isNaN(mx[2]));
        double[] mn = x.min(0, false).toDoubleArray();
        assertTrue(Double.isNaN(mn[0]) && Double.isNaN(mn[1]) && mn[2] == 2);
        assertTrue(Double.isNaN(x.max().item()) && Double.isNaN(x.min().item()) && Double.isNaN(x.sum().item()));
        // NaN first in the row, too.
        assertTrue(Double.isNaN(Tensor.of(new double[] {Double.NaN, 1}, 2).max().item()));
        assertTrue(Double.isNaN(Tensor.of(new double[] {Double.NaN, 1}, 2).min().item()));
        // Infinities are ordinary values.
        assertEquals(Double.POSITIVE_INFINITY, Tensor.of(new double[] {1, Double.POSITIVE_INFINITY}, 2).max().item());
        assertEquals(Double.NEGATIVE_INFINITY, Tensor.of(new double[] {Double.NEGATIVE_INFINITY}, 1).max().item());
    }

    @Test
    void repeatedOrBadDimsFail() {
        Tensor x = Tensor.zeros(DType.F64, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.sum(new int[] {1, -1}, false));
        assertTrue(e.getMessage().contains("repeated"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> x.sum(2, false));
        assertTrue(e.getMessage().contains("2") && e.getMessage().contains("rank 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.argmax(-3, false));
    }

    // ---- argmax / argmin ------------------------------------------------------------------------

    @Test
    void argmaxArgminTakeFirstIndexOnTies() {
        Tensor x = Tensor.of(new double[] {3, 1, 3, 1,
                                           2, 2, 2, 2,
                                           0, 5, 5, -1}, 3, 4);
        Tensor am = x.argmax(1, false);
        assertEquals(DType.I64, am.dtype());
        assertArrayEquals(new long[] {0, 0, 1}, am.toLongArray());
        assertArrayEquals(new long[] {1, 0, 3}, x.argmin(1, false).toLongArray());
        assertArrayEquals(new long[] {0, 2, 2, 1}, x.argmax(0, false).toLongArray());
        assertArrayEquals(new long[] {2, 0, 1, 2}, x.argmin(-2, false).toLongArray());
        assertShape(new int[] {3, 1}, x.argmax(1, true));
        assertShape(new int[] {1, 4}, x.argmin(0, true));
        assertArrayEquals(new long[] {0, 0, 1}, x.argmax(1, true).toLongArray());
    }

    @Test
    void argmaxTreatsNaNAsLargest() {
        // torch.argmax / argmin return the first NaN's position.
        Tensor x = Tensor.of(new double[] {1, Double.NaN, 5, Double.NaN, 0, 9}, 2, 3);
        assertArrayEquals(new long[] {1, 0}, x.argmax(1, false).toLongArray());
        assertArrayEquals(new long[] {1, 0}, x.argmin(1, false).toLongArray());
    }

    /** argmax along any dim of a random (strided) tensor matches a hand loop, and indexes the max. */
    @Property(tries = 50)
    void argReductionsMatchHandLoops(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = TestTensors.randomShape(r, 1, 4, 4);
        int dim = r.nextInt(shape.length);
        // Small integers so that ties happen.
        Tensor x = TestTensors.randn(seed, shape).mul(1.5);
        double[] v = x.toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.rint(v[i]);
        x = Tensor.of(v, shape);
        for (boolean max : new boolean[] {true, false}) {
            int[] kept = shape.clone();
            kept[dim] = 1;
            long[] want = new long[Shape.numel(kept)];
            for (int o = 0; o < want.length; o++) {
                int[] c = TestTensors.unflat(o, kept);
                int best = 0;
                for (int j = 0; j < shape[dim]; j++) {
                    c[dim] = j;
                    double cand = v[TestTensors.flat(shape, c)];
                    c[dim] = best;
                    double cur = v[TestTensors.flat(shape, c)];
                    if (max ? cand > cur : cand < cur) best = j;
                }
                want[o] = best;
            }
            Tensor got = max ? x.argmax(dim, true) : x.argmin(dim, true);
            assertShape(kept, got);
            assertArrayEquals(want, got.toLongArray(), (max ? "argmax" : "argmin") + " dim " + dim + " of " + Arrays.toString(shape));
            Tensor gotStrided = max ? strided(x).argmax(dim - shape.length, false) : strided(x).argmin(dim - shape.length, false);
            assertArrayEquals(want, gotStrided.toLongArray());
            // gather at the argmax gives the max.
            Tensor picked = x.gather(dim, got);
            assertSameValues("gather(argmax) = max", max ? x.max(dim, true) : x.min(dim, true), picked);
        }
    }
}
