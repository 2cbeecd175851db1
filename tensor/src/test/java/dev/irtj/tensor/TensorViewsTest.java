package dev.irtj.tensor;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import static dev.irtj.tensor.TestTensors.assertSameValues;
import static dev.irtj.tensor.TestTensors.assertShape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Views share storage and index the right elements; bad dims and shapes fail with clear messages. */
class TensorViewsTest {

    /** 0, 1, ..., n-1 in the given shape (F64), so every element names its own row-major position. */
    private static Tensor iota(int... shape) {
        return Tensor.arange(Shape.numel(shape), DType.F64).reshape(shape);
    }

    // ---- reshape / view -------------------------------------------------------------------------

    @Test
    void reshapeOfContiguousSharesStorage() {
        Tensor t = iota(2, 3, 4);
        Tensor r = t.reshape(4, -1);
        assertSame(t.storage(), r.storage(), "reshape of contiguous data must not copy");
        assertShape(new int[] {4, 6}, r);
        assertArrayEquals(new int[] {6, 1}, r.strides());
        assertArrayEquals(t.toDoubleArray(), r.toDoubleArray());
        // A write through the view is visible in the original.
        r.narrow(0, 1, 1).narrow(1, 2, 1).fill(-7);
        assertEquals(-7, t.get(0, 2, 0));
    }

    @Test
    void viewSharesStorageAndKeepsOffset() {
        Tensor t = iota(4, 5).narrow(0, 1, 2); // rows 1..2: contiguous, offset 5
        assertTrue(t.isContiguous());
        assertEquals(5, t.offset());
        Tensor v = t.view(10);
        assertSame(t.storage(), v.storage());
        assertEquals(5, v.offset());
        assertArrayEquals(new double[] {5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, v.toDoubleArray());
    }

    @Test
    void reshapeOfNonContiguousCopies() {
        Tensor t = iota(3, 4);
        Tensor tt = t.transpose(0, 1);
        assertFalse(tt.isContiguous());
        Tensor r = tt.reshape(12);
        assertNotSame(t.storage(), r.storage(), "reshape of a transposed tensor must copy");
        assertArrayEquals(new double[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, r.toDoubleArray());
        // The copy is independent of the source.
        r.fill(0);
        assertEquals(11, t.get(2, 3));
    }

    @Test
    void viewOfNonContiguousFailsNamingShape() {
        Tensor tt = iota(3, 4).transpose(0, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> tt.view(12));
        assertTrue(e.getMessage().contains("[4, 3]"), e.getMessage());
        assertTrue(e.getMessage().contains("reshape"), e.getMessage());
    }

    @Test
    void reshapeErrorsNameShapes() {
        Tensor t = iota(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.reshape(-1, -1));
        assertTrue(e.getMessage().contains("[-1, -1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.reshape(4, -1));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, -1]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.reshape(0, -1));
        assertTrue(e.getMessage().contains("[0, -1]"), e.getMessage());
    }

    @Test
    void reshapeInfersOneDimAndHandlesScalars() {
        Tensor s = Tensor.scalar(3, DType.F64);
        assertEquals(0, s.rank());
        assertShape(new int[] {1, 1}, s.reshape(1, -1));
        assertShape(new int[] {1}, s.flatten());
        assertShape(new int[] {}, iota(1, 1).reshape());
        assertEquals(3.0, s.reshape(1, 1, 1).get(0, 0, 0));
        Tensor empty = Tensor.zeros(DType.F32, 0, 5);
        assertShape(new int[] {5, 0}, empty.reshape(5, 0));
        assertShape(new int[] {0}, empty.flatten());
    }

    // ---- transpose / permute / mT ---------------------------------------------------------------

    @Test
    void transposeSwapsShapeAndStrides() {
        Tensor t = iota(2, 3, 4);
        Tensor tt = t.transpose(0, -1);
        assertSame(t.storage(), tt.storage());
        assertShape(new int[] {4, 3, 2}, tt);
        assertArrayEquals(new int[] {1, 4, 12}, tt.strides());
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++) assertEquals(t.get(i, j, k), tt.get(k, j, i));
        assertSame(t.storage(), t.mT().storage());
        assertShape(new int[] {2, 4, 3}, t.mT());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> iota(5).mT());
        assertTrue(e.getMessage().contains("[5]"), e.getMessage());
    }

    @Test
    void permuteReordersDims() {
        Tensor t = iota(2, 3, 4);
        Tensor p = t.permute(2, 0, 1);
        assertShape(new int[] {4, 2, 3}, p);
        assertArrayEquals(new int[] {1, 12, 4}, p.strides());
        assertSame(t.storage(), p.storage());
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++) assertEquals(t.get(i, j, k), p.get(k, i, j));
        // Negative dims are accepted.
        assertArrayEquals(p.shape(), t.permute(-1, 0, -2).shape());
    }

    @Test
    void permuteRejectsBadDims() {
        Tensor t = iota(2, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.permute(0, 1));
        assertTrue(e.getMessage().contains("rank 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.permute(0, 1, 1));
        assertTrue(e.getMessage().contains("repeats"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.permute(0, 1, 3));
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("rank 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.transpose(0, -4));
        assertTrue(e.getMessage().contains("-4"), e.getMessage());
    }

    // ---- narrow / select / narrowTo -------------------------------------------------------------

    @Test
    void narrowAndSelect() {
        Tensor t = iota(3, 4);
        Tensor n = t.narrow(1, 1, 2);
        assertShape(new int[] {3, 2}, n);
        assertArrayEquals(new int[] {4, 1}, n.strides());
        assertEquals(1, n.offset());
        assertSame(t.storage(), n.storage());
        assertFalse(n.isContiguous());
        assertArrayEquals(new double[] {1, 2, 5, 6, 9, 10}, n.toDoubleArray());

        Tensor row = t.select(0, 2);
        assertShape(new int[] {4}, row);
        assertEquals(8, row.offset());
        assertArrayEquals(new double[] {8, 9, 10, 11}, row.toDoubleArray());
        Tensor col = t.select(-1, 3);
        assertShape(new int[] {3}, col);
        assertArrayEquals(new int[] {4}, col.strides());
        assertArrayEquals(new double[] {3, 7, 11}, col.toDoubleArray());

        Tensor none = t.narrow(0, 3, 0);
        assertShape(new int[] {0, 4}, none);
        assertEquals(0, none.toDoubleArray().length);
    }

    @Test
    void narrowOutOfRangeFailsNamingShape() {
        Tensor t = iota(3, 4);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> t.narrow(1, 3, 2));
        assertTrue(e.getMessage().contains("[3, 4]"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> t.narrow(0, -1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> t.narrow(0, 0, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> t.select(0, 3));
        assertThrows(IllegalArgumentException.class, () -> t.narrow(2, 0, 1));
    }

    @Test
    void narrowToTakesLeadingBlock() {
        Tensor t = iota(3, 4, 5);
        Tensor b = t.narrowTo(new int[] {2, 1, 3});
        assertShape(new int[] {2, 1, 3}, b);
        assertSame(t.storage(), b.storage());
        assertArrayEquals(new double[] {0, 1, 2, 20, 21, 22}, b.toDoubleArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.narrowTo(new int[] {2, 2}));
        assertTrue(e.getMessage().contains("[2, 2]"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> t.narrowTo(new int[] {4, 1, 1}));
    }

    // ---- expand / squeeze / unsqueeze -----------------------------------------------------------

    @Test
    void expandBroadcastsWithZeroStrides() {
        Tensor t = iota(3, 1);
        Tensor e = t.expand(2, 3, 4);
        assertShape(new int[] {2, 3, 4}, e);
        assertArrayEquals(new int[] {0, 1, 0}, e.strides());
        assertSame(t.storage(), e.storage());
        assertFalse(e.isContiguous());
        for (int a = 0; a < 2; a++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++) assertEquals(i, e.get(a, i, j));
        assertShape(new int[] {3, 5}, t.expand(-1, 5));
        // Expanding to the same shape keeps the strides.
        assertArrayEquals(t.strides(), t.expand(3, 1).strides());
    }

    @Test
    void expandErrorsNameShapes() {
        Tensor t = iota(3, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.expand(3, 4));
        assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[3, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.expand(2));
        assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.expand(-1, 3, 2));
        assertTrue(e.getMessage().contains("[-1, 3, 2]"), e.getMessage());
    }

    @Test
    void squeezeAndUnsqueeze() {
        Tensor t = iota(1, 3, 1, 2);
        assertShape(new int[] {3, 2}, t.squeeze());
        assertShape(new int[] {3, 1, 2}, t.squeeze(0));
        assertShape(new int[] {1, 3, 1, 2}, t.squeeze(1)); // not size 1: unchanged
        assertSame(t, t.squeeze(1));
        assertShape(new int[] {1, 3, 2}, t.squeeze(-2));
        assertSame(t.storage(), t.squeeze().storage());

        Tensor u = iota(3, 2);
        assertShape(new int[] {1, 3, 2}, u.unsqueeze(0));
        assertShape(new int[] {3, 1, 2}, u.unsqueeze(1));
        assertShape(new int[] {3, 2, 1}, u.unsqueeze(2));
        assertShape(new int[] {3, 2, 1}, u.unsqueeze(-1));
        assertShape(new int[] {3, 1, 2}, u.unsqueeze(-2));
        for (int d = -3; d <= 2; d++) {
            Tensor v = u.unsqueeze(d);
            assertTrue(v.isContiguous(), "unsqueeze of contiguous stays contiguous");
            assertSame(u.storage(), v.storage());
            assertArrayEquals(u.toDoubleArray(), v.toDoubleArray());
        }
        assertThrows(IllegalArgumentException.class, () -> u.unsqueeze(3));
        assertThrows(IllegalArgumentException.class, () -> u.unsqueeze(-4));
        // unsqueeze of a transposed view keeps the element mapping.
        Tensor ut = u.mT().unsqueeze(1);
        assertShape(new int[] {2, 1, 3}, ut);
        assertArrayEquals(new double[] {0, 2, 4, 1, 3, 5}, ut.toDoubleArray());
        assertShape(new int[] {}, Tensor.scalar(1, DType.F64).squeeze());
        assertShape(new int[] {1}, Tensor.scalar(1, DType.F64).unsqueeze(0));
    }

    // ---- contiguity -----------------------------------------------------------------------------

    @Test
    void isContiguousIgnoresStridesOfSizeOneDims() {
        Storage s = HostStorage.wrap(new double[6]);
        assertTrue(Tensor.strided(s, new int[] {2, 1, 3}, new int[] {3, 99, 1}, 0).isContiguous());
        assertFalse(Tensor.strided(s, new int[] {2, 3}, new int[] {1, 2}, 0).isContiguous());
        assertTrue(Tensor.strided(s, new int[] {}, new int[] {}, 5).isContiguous());
    }

    @Test
    void contiguousReturnsSelfOrCopy() {
        Tensor t = iota(3, 4);
        assertSame(t, t.contiguous());
        Tensor tt = t.mT();
        Tensor c = tt.contiguous();
        assertTrue(c.isContiguous());
        assertNotSame(t.storage(), c.storage());
        assertArrayEquals(new int[] {3, 1}, c.strides());
        assertSameValues("contiguous copy", tt, c);
        Tensor e = iota(1, 4).expand(3, 4).contiguous();
        assertEquals(12, e.storage().size());
        assertArrayEquals(new double[] {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}, e.toDoubleArray());
    }

    // ---- Tensor.view bounds ---------------------------------------------------------------------

    @Test
    void viewBoundsAreChecked() {
        Storage s = HostStorage.wrap(new double[10]);
        // Exactly fits: offset 2, shape [2, 4], strides [4, 1] reaches position 2 + 4 + 3 = 9, the last one.
        Tensor ok = Tensor.strided(s, new int[] {2, 4}, new int[] {4, 1}, 2);
        assertEquals(8, ok.numel());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.strided(s, new int[] {2, 4}, new int[] {4, 1}, 3));
        assertTrue(e.getMessage().contains("10 elements") && e.getMessage().contains("[2, 4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.strided(s, new int[] {2, 4}, new int[] {4, 1}, -1));
        // Negative strides are allowed as long as every element is inside.
        Tensor rev = Tensor.strided(s, new int[] {10}, new int[] {-1}, 9);
        assertEquals(10, rev.numel());
        assertThrows(IllegalArgumentException.class, () -> Tensor.strided(s, new int[] {10}, new int[] {-1}, 8));
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.strided(s, new int[] {2, 4}, new int[] {4}, 0));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
        // An empty view may sit anywhere.
        assertEquals(0, Tensor.strided(s, new int[] {0, 3}, new int[] {3, 1}, 10).numel());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.contiguousView(s, 3, 4));
        assertTrue(e.getMessage().contains("[3, 4]") && e.getMessage().contains("10"), e.getMessage());
    }

    @Test
    void reversedViewReadsBackwards() {
        Storage s = HostStorage.wrap(new double[] {0, 1, 2, 3, 4, 5});
        Tensor rev = Tensor.strided(s, new int[] {2, 3}, new int[] {-3, -1}, 5);
        assertArrayEquals(new double[] {5, 4, 3, 2, 1, 0}, rev.toDoubleArray());
        assertArrayEquals(new double[] {5, 4, 3, 2, 1, 0}, rev.reshape(6).toDoubleArray());
        assertArrayEquals(new double[] {10, 8, 6, 4, 2, 0}, rev.mul(2).toDoubleArray());
    }

    @Test
    void getChecksIndex() {
        Tensor t = iota(2, 3);
        assertEquals(5, t.get(1, 2));
        assertThrows(IllegalArgumentException.class, () -> t.get(1));
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> t.get(2, 0));
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(0, -1));
        IllegalStateException ie = assertThrows(IllegalStateException.class, t::item);
        assertTrue(ie.getMessage().contains("[2, 3]"), ie.getMessage());
        assertEquals(4, t.narrow(0, 1, 1).narrow(1, 1, 1).item());
    }

    // ---- copyFrom -------------------------------------------------------------------------------

    @Test
    void copyFromWritesThroughViewAndBroadcasts() {
        Tensor t = Tensor.zeros(DType.F64, 3, 4);
        t.narrow(1, 1, 2).copyFrom(Tensor.of(new double[] {7, 8}, 2));
        assertArrayEquals(new double[] {0, 7, 8, 0, 0, 7, 8, 0, 0, 7, 8, 0}, t.toDoubleArray());
        // Overlapping source and destination: a transpose in place of a square matrix.
        Tensor sq = iota(3, 3);
        sq.copyFrom(sq.mT());
        assertArrayEquals(new double[] {0, 3, 6, 1, 4, 7, 2, 5, 8}, sq.toDoubleArray());
        // dtype conversion on copy.
        Tensor f = Tensor.zeros(DType.F32, 2);
        f.copyFrom(Tensor.of(new double[] {0.1, 2.5}, 2));
        assertArrayEquals(new float[] {0.1f, 2.5f}, f.toFloatArray());
    }

    // ---- properties over random shapes ----------------------------------------------------------

    @Provide
    Arbitrary<int[]> shapes() {
        return Arbitraries.integers().between(1, 4).array(int[].class).ofMinSize(1).ofMaxSize(4);
    }

    /** Any permutation view reads the same elements as explicit index arithmetic. */
    @Property(tries = 50)
    void permuteMatchesIndexArithmetic(@ForAll("shapes") int[] shape, @ForAll long seed) {
        Tensor t = TestTensors.randn(seed, shape);
        int r = shape.length;
        int[] perm = new int[r];
        for (int i = 0; i < r; i++) perm[i] = i;
        new Rng(seed).shuffle(perm);
        Tensor p = t.permute(perm);
        double[] src = t.toDoubleArray(), got = p.toDoubleArray();
        int[] pShape = p.shape();
        for (int i = 0; i < got.length; i++) {
            int[] pi = TestTensors.unflat(i, pShape);
            int[] ti = new int[r];
            for (int d = 0; d < r; d++) ti[perm[d]] = pi[d];
            assertEquals(src[TestTensors.flat(shape, ti)], got[i]);
        }
        // Permuting back gives the original layout and values.
        int[] inv = new int[r];
        for (int d = 0; d < r; d++) inv[perm[d]] = d;
        Tensor back = p.permute(inv);
        assertArrayEquals(t.strides(), back.strides());
        assertArrayEquals(src, back.toDoubleArray());
        // A contiguous copy of the permuted view, reshaped, equals a reshape of the view.
        assertArrayEquals(got, p.reshape(-1).toDoubleArray());
    }

    /** A strided (non-contiguous) copy holds the same values and reshapes like the original. */
    @Property(tries = 50)
    void stridedViewsBehaveLikeContiguous(@ForAll("shapes") int[] shape, @ForAll long seed) {
        Tensor t = TestTensors.randn(seed, shape);
        Tensor s = TestTensors.strided(t);
        if (t.numel() > 1) assertFalse(s.isContiguous());
        assertArrayEquals(t.toDoubleArray(), s.toDoubleArray());
        assertArrayEquals(t.toDoubleArray(), s.reshape(-1).toDoubleArray());
        assertArrayEquals(t.toDoubleArray(), s.contiguous().toDoubleArray());
        int last = shape.length - 1;
        assertArrayEquals(t.narrow(last, 0, 1).toDoubleArray(), s.narrow(last, 0, 1).toDoubleArray());
    }

    @Provide
    Arbitrary<int[][]> splitShapes() {
        return Combinators.combine(Arbitraries.integers().between(1, 4), Arbitraries.integers().between(1, 4),
                Arbitraries.integers().between(1, 4)).as((a, b, c) -> new int[][] {{a, b, c}, {a * b, c}, {a, b * c}, {a * b * c}});
    }

    /** Reshape round trips keep row-major order and never copy contiguous data. */
    @Property(tries = 30)
    void reshapeRoundTrips(@ForAll("splitShapes") int[][] shapes) {
        Tensor t = iota(shapes[0]);
        for (int[] s : shapes) {
            Tensor r = t.reshape(s);
            assertSame(t.storage(), r.storage());
            assertArrayEquals(t.toDoubleArray(), r.toDoubleArray());
            assertArrayEquals(shapes[0], r.reshape(shapes[0]).shape());
        }
    }
}
