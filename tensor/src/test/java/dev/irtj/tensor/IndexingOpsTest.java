package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.irtj.tensor.TestTensors.assertClose;
import static dev.irtj.tensor.TestTensors.assertSameValues;
import static dev.irtj.tensor.TestTensors.assertShape;
import static dev.irtj.tensor.TestTensors.strided;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cat, stack, index_select, gather and their adjoints index_add and scatter_add. */
class IndexingOpsTest {
    private static final Backend BE = Backends.forDevice(Device.CPU);

    // ---- cat / stack ----------------------------------------------------------------------------

    @Test
    void catAlongEachDim() {
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2), b = Tensor.of(new double[] {5, 6}, 1, 2);
        Tensor c0 = Tensor.cat(List.of(a, b), 0);
        assertShape(new int[] {3, 2}, c0);
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, c0.toDoubleArray());
        Tensor c1 = Tensor.cat(List.of(a, b.mT().contiguous().reshape(2, 1)), -1);
        assertShape(new int[] {2, 3}, c1);
        assertArrayEquals(new double[] {1, 2, 5, 3, 4, 6}, c1.toDoubleArray());
        // Non-contiguous inputs, and an empty piece.
        Tensor c2 = Tensor.cat(List.of(a.mT(), Tensor.zeros(DType.F64, 2, 0), strided(a)), 1);
        assertArrayEquals(new double[] {1, 3, 1, 2, 2, 4, 3, 4}, c2.toDoubleArray());
        // A single tensor: a copy.
        assertSameValues("cat of one", a, Tensor.cat(List.of(a), 0));
        // I64 tensors concatenate too.
        assertArrayEquals(new long[] {1, 2, 3}, Tensor.cat(List.of(Tensor.ofLongs(new long[] {1}, 1), Tensor.ofLongs(new long[] {2, 3}, 2)), 0).toLongArray());
    }

    @Test
    void catErrorsNameShapes() {
        Tensor a = Tensor.zeros(DType.F64, 2, 3), b = Tensor.zeros(DType.F64, 2, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.cat(List.of(a, b), 0));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[2, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.cat(List.of(a, Tensor.zeros(DType.F64, 6)), 0));
        assertTrue(e.getMessage().contains("ranks"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.cat(List.of(a, Tensor.zeros(DType.F32, 2, 3)), 0));
        assertThrows(IllegalArgumentException.class, () -> Tensor.cat(List.of(), 0));
        assertThrows(IllegalArgumentException.class, () -> Tensor.cat(List.of(a), 2));
    }

    @Property(tries = 40)
    void catThenNarrowGivesThePiecesBack(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = TestTensors.randomShape(r, 1, 4, 4);
        int dim = r.nextInt(shape.length);
        List<Tensor> pieces = new ArrayList<>();
        int total = 0;
        for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
            int[] s = shape.clone();
            s[dim] = r.nextInt(4);
            total += s[dim];
            Tensor t = TestTensors.randn(seed + i, s);
            pieces.add(r.nextBoolean() ? strided(t) : t);
        }
        Tensor c = Tensor.cat(pieces, dim);
        assertEquals(total, c.shape(dim));
        int at = 0;
        for (Tensor p : pieces) {
            assertSameValues("piece", p, c.narrow(dim, at, p.shape(dim)));
            at += p.shape(dim);
        }
    }

    @Test
    void stackAddsADim() {
        Tensor a = Tensor.of(new double[] {1, 2, 3}, 3), b = Tensor.of(new double[] {4, 5, 6}, 3);
        Tensor s0 = Tensor.stack(List.of(a, b), 0);
        assertShape(new int[] {2, 3}, s0);
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, s0.toDoubleArray());
        Tensor s1 = Tensor.stack(List.of(a, b), 1);
        assertShape(new int[] {3, 2}, s1);
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, s1.toDoubleArray());
        assertSameValues("stack -1", s1, Tensor.stack(List.of(a, b), -1));
        Tensor sc = Tensor.stack(List.of(Tensor.scalar(1, DType.F64), Tensor.scalar(2, DType.F64)), 0);
        assertShape(new int[] {2}, sc);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.stack(List.of(a, Tensor.zeros(DType.F64, 4)), 0));
        assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.stack(List.of(a, b), 2));
    }

    // ---- index_select / index_add ---------------------------------------------------------------

    @Test
    void indexSelectPicksSlices() {
        Tensor x = Tensor.arange(12, DType.F64).reshape(3, 4);
        Tensor idx = Tensor.ofLongs(new long[] {2, 0, 2}, 3);
        Tensor rows = x.indexSelect(0, idx);
        assertShape(new int[] {3, 4}, rows);
        assertArrayEquals(new double[] {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}, rows.toDoubleArray());
        Tensor cols = x.indexSelect(-1, Tensor.ofLongs(new long[] {3, 1}, 2));
        assertArrayEquals(new double[] {3, 1, 7, 5, 11, 9}, cols.toDoubleArray());
        assertShape(new int[] {0, 4}, x.indexSelect(0, Tensor.ofLongs(new long[0], 0)));
        // Works on I64 data (labels).
        assertArrayEquals(new long[] {30, 10}, Tensor.ofLongs(new long[] {10, 20, 30}, 3).indexSelect(0, Tensor.ofLongs(new long[] {2, 0}, 2)).toLongArray());
    }

    @Test
    void indexErrorsAreClear() {
        Tensor x = Tensor.zeros(DType.F64, 3, 4);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> x.indexSelect(0, Tensor.ofLongs(new long[] {3}, 1)));
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("[0, 3)"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> x.indexSelect(1, Tensor.ofLongs(new long[] {-1}, 1)));
        IllegalArgumentException ie = assertThrows(IllegalArgumentException.class, () -> x.indexSelect(0, Tensor.of(new double[] {1}, 1)));
        assertTrue(ie.getMessage().contains("I64"), ie.getMessage());
        ie = assertThrows(IllegalArgumentException.class, () -> x.indexSelect(0, Tensor.ofLongs(new long[] {1}, 1, 1)));
        assertTrue(ie.getMessage().contains("rank 1"), ie.getMessage());
        ie = assertThrows(IllegalArgumentException.class, () -> x.gather(0, Tensor.ofLongs(new long[] {1}, 1)));
        assertTrue(ie.getMessage().contains("rank 2"), ie.getMessage());
        ie = assertThrows(IllegalArgumentException.class, () -> x.gather(0, Tensor.ofLongs(new long[5], 1, 5)));
        assertTrue(ie.getMessage().contains("[1, 5]") && ie.getMessage().contains("[3, 4]"), ie.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> x.gather(1, Tensor.ofLongs(new long[] {4}, 1, 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> BE.scatterAdd(new int[] {3, 4}, 1, Tensor.ofLongs(new long[] {4}, 1, 1), Tensor.ones(DType.F64, 1, 1)));
    }

    /** Every position of the index may address only cells that exist in the output (torch rule). */
    @Test
    void scatterAddRejectsIndexLargerThanOutput() {
        // Index [1, 3] into a [3, 2] output along dim 0: column 2 does not exist. It must fail,
        // not silently wrap into the next row.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BE.scatterAdd(new int[] {3, 2}, 0, Tensor.ofLongs(new long[] {0, 0, 0}, 1, 3), Tensor.ones(DType.F64, 1, 3)));
        assertTrue(e.getMessage().contains("[1, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BE.scatterAdd(new int[] {3, 2}, 0, Tensor.ofLongs(new long[] {0, 1}, 2), Tensor.ones(DType.F64, 2)));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
    }

    @Property(tries = 40)
    void indexSelectMatchesLoopAndIndexAddIsItsAdjoint(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = TestTensors.randomShape(r, 1, 3, 4);
        int dim = r.nextInt(shape.length);
        int count = r.nextInt(6);
        long[] idx = new long[count];
        for (int i = 0; i < count; i++) idx[i] = r.nextInt(shape[dim]); // repeats are likely
        Tensor index = Tensor.ofLongs(idx, count);
        Tensor x = TestTensors.randn(seed, shape);
        Tensor sel = x.indexSelect(dim, index);
        int[] outShape = shape.clone();
        outShape[dim] = count;
        assertShape(outShape, sel);
        double[] xv = x.toDoubleArray(), sv = sel.toDoubleArray();
        for (int o = 0; o < sv.length; o++) {
            int[] c = TestTensors.unflat(o, outShape);
            c[dim] = (int) idx[c[dim]];
            assertEquals(xv[TestTensors.flat(shape, c)], sv[o]);
        }
        assertSameValues("index_select strided", sel, strided(x).indexSelect(dim, strided(index)));
        // ⟨index_select(x), y⟩ = ⟨x, index_add(y)⟩ (exact up to summation order).
        Tensor y = TestTensors.randn(seed + 1, outShape);
        Tensor added = BE.indexAdd(shape, dim, index, y);
        assertShape(shape, added);
        double lhs = sel.mul(y).sum().item(), rhs = x.mul(added).sum().item();
        double scale = sel.abs().mul(y.abs()).sum().item();
        assertEquals(lhs, rhs, 1e-13 * (1 + scale));
        // index_add by hand: accumulate every slice into its target.
        double[] want = new double[x.numel()], yv = y.toDoubleArray();
        for (int o = 0; o < yv.length; o++) {
            int[] c = TestTensors.unflat(o, outShape);
            c[dim] = (int) idx[c[dim]];
            want[TestTensors.flat(shape, c)] += yv[o];
        }
        assertClose("index_add", want, added, 1e-15, 1e-15);
        assertClose("index_add strided", want, BE.indexAdd(shape, dim, strided(index), strided(y)), 1e-15, 1e-15);
    }

    // ---- gather / scatter_add -------------------------------------------------------------------

    @Test
    void gatherExample() {
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor idx = Tensor.ofLongs(new long[] {2, 0, 1, 1}, 2, 2);
        // out[i][j] = x[i][idx[i][j]]
        assertArrayEquals(new double[] {3, 1, 5, 5}, x.gather(1, idx).toDoubleArray());
        // out[i][j] = x[idx[i][j]][j]; the index may be smaller than x in the other dims.
        Tensor idx0 = Tensor.ofLongs(new long[] {1, 0}, 1, 2);
        assertArrayEquals(new double[] {4, 2}, x.gather(0, idx0).toDoubleArray());
        // Picking each row's label column (cross-entropy style).
        Tensor labels = Tensor.ofLongs(new long[] {2, 0}, 2, 1);
        assertArrayEquals(new double[] {3, 4}, x.gather(-1, labels).toDoubleArray());
    }

    @Test
    void scatterAddExample() {
        Tensor idx = Tensor.ofLongs(new long[] {2, 0, 2, 1, 1, 1}, 2, 3);
        Tensor src = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor out = BE.scatterAdd(new int[] {2, 4}, 1, idx, src);
        assertArrayEquals(new double[] {2, 0, 4, 0, 0, 15, 0, 0}, out.toDoubleArray());
        // src larger than index: only the index-shaped leading block is used (torch semantics).
        Tensor big = Tensor.of(new double[] {1, 2, 3, 100, 4, 5, 6, 100}, 2, 4);
        assertArrayEquals(new double[] {2, 0, 4, 0, 0, 15, 0, 0}, BE.scatterAdd(new int[] {2, 4}, 1, idx, big).toDoubleArray());
    }

    /** gather against a loop, and ⟨gather(x), y⟩ = ⟨x, scatter_add(y)⟩ for random shapes and indices. */
    @Property(tries = 50)
    void gatherMatchesLoopAndScatterAddIsItsAdjoint(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = TestTensors.randomShape(r, 1, 3, 4);
        int dim = r.nextInt(shape.length);
        int[] idxShape = new int[shape.length];
        for (int d = 0; d < shape.length; d++) idxShape[d] = d == dim ? 1 + r.nextInt(5) : 1 + r.nextInt(shape[d]);
        long[] idx = new long[Shape.numel(idxShape)];
        for (int i = 0; i < idx.length; i++) idx[i] = r.nextInt(shape[dim]);
        Tensor index = Tensor.ofLongs(idx, idxShape);
        Tensor x = TestTensors.randn(seed, shape);
        Tensor g = x.gather(dim, index);
        assertShape(idxShape, g);
        double[] xv = x.toDoubleArray(), gv = g.toDoubleArray();
        for (int o = 0; o < gv.length; o++) {
            int[] c = TestTensors.unflat(o, idxShape);
            c[dim] = (int) idx[o];
            assertEquals(xv[TestTensors.flat(shape, c)], gv[o], "gather at " + Arrays.toString(TestTensors.unflat(o, idxShape)));
        }
        assertSameValues("gather strided", g, strided(x).gather(dim, strided(index)));
        Tensor y = TestTensors.randn(seed + 1, idxShape);
        Tensor scattered = BE.scatterAdd(shape, dim, index, y);
        assertShape(shape, scattered);
        double lhs = g.mul(y).sum().item(), rhs = x.mul(scattered).sum().item();
        double scale = g.abs().mul(y.abs()).sum().item();
        // The two sides sum the same products in different orders: ≤ n·eps·Σ|products|.
        assertEquals(lhs, rhs, 1e-13 * (1 + scale));
        assertSameValues("scatter_add strided", scattered, BE.scatterAdd(shape, dim, strided(index), strided(y)));
    }
}
