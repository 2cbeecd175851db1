package dev.irtj.eval;

import dev.irtj.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.irtj.eval.UnitVectors.atAngles;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KnnTest {

    @Test
    void nearestByCosineBestFirst() {
        Tensor db = atAngles(0, 90, 10, 180, 45);
        Tensor q = atAngles(5, 100);
        Neighbors nn = Knn.search(q, db, 3, false);
        assertEquals(2, nn.queries());
        assertEquals(3, nn.k());
        assertArrayEquals(new int[] {0, 2, 4}, nn.indices()[0]); // 5° from 0° and 10°, then 40° from 45°
        assertArrayEquals(new int[] {1, 4, 3}, nn.indices()[1]); // 10° from 90°, 55° from 45°, 80° from 180°
        assertEquals(Math.cos(Math.toRadians(5)), nn.similarities()[0][0], 1e-6);
        assertEquals(Math.cos(Math.toRadians(40)), nn.similarities()[0][2], 1e-6);
    }

    @Test
    void tiesGoToTheSmallerIndex() {
        // Items 1, 2 and 4 are identical: equal similarity to every query.
        Tensor db = Tensor.of(new float[] {0, 1, 1, 0, 1, 0, -1, 0, 1, 0}, 5, 2);
        Tensor q = Tensor.of(new float[] {1, 0}, 1, 2);
        for (int block : new int[] {1, 2, 5}) {
            Neighbors nn = Knn.search(q, db, 4, false, 1, block);
            assertArrayEquals(new int[] {1, 2, 4, 0}, nn.indices()[0], "database block " + block);
            assertArrayEquals(new float[] {1, 1, 1, 0}, nn.similarities()[0]);
        }
    }

    @Test
    void excludeSelfRemovesOnlyTheQueryItself() {
        // Items 0 and 1 are duplicates: each is the other's nearest neighbour at similarity 1.
        Tensor x = Tensor.of(new float[] {1, 0, 1, 0, 0, 1}, 3, 2);
        Neighbors nn = Knn.search(x, x, 1, true);
        assertArrayEquals(new int[] {1}, nn.indices()[0]);
        assertArrayEquals(new int[] {0}, nn.indices()[1]);
        assertArrayEquals(new int[] {0}, nn.indices()[2]); // tie between 0 and 1 at 0 → smaller index
        Neighbors withSelf = Knn.search(x, x, 1, false);
        assertArrayEquals(new int[] {0}, withSelf.indices()[1]); // item 0 ties with itself and wins by index
        assertArrayEquals(new int[] {2}, withSelf.indices()[2]);
    }

    @Test
    void kLargerThanTheCandidatesReturnsAllOfThem() {
        Tensor x = atAngles(0, 30, 60, 90);
        Neighbors all = Knn.search(x, x, 100, false);
        assertEquals(4, all.k());
        Neighbors others = Knn.search(x, x, 100, true);
        assertEquals(3, others.k());
        assertArrayEquals(new int[] {1, 2, 3}, others.indices()[0]);
        assertArrayEquals(new int[] {2, 1, 0}, others.indices()[3]);
        Neighbors single = Knn.search(atAngles(0), atAngles(0), 5, true);
        assertEquals(1, single.queries());
        assertEquals(0, single.k());
    }

    @Test
    void emptyQueriesOrDatabase() {
        Tensor none = Tensor.zeros(dev.irtj.tensor.DType.F32, 0, 2);
        Neighbors noQueries = Knn.search(none, atAngles(0, 10), 3, false);
        assertEquals(0, noQueries.queries());
        Neighbors noDatabase = Knn.search(atAngles(0, 10), none, 3, false);
        assertEquals(2, noDatabase.queries());
        assertEquals(0, noDatabase.k());
        assertEquals(0, Knn.search(none, none, 1, true).queries());
    }

    @Test
    void nanSimilaritiesRankLast() {
        Tensor db = Tensor.of(new float[] {Float.NaN, 0, 1, 0, -1, 0}, 3, 2);
        Tensor q = Tensor.of(new float[] {1, 0}, 1, 2);
        Neighbors nn = Knn.search(q, db, 3, false);
        assertArrayEquals(new int[] {1, 2, 0}, nn.indices()[0]);
        assertTrue(Float.isNaN(nn.similarities()[0][2]));
    }

    @Test
    void blockedEqualsNaiveOnQuantizedDataWithManyTies() {
        Random rnd = new Random(7);
        Tensor x = Naive.quantized(rnd, 97, 5);
        Tensor q = Naive.quantized(rnd, 41, 5);
        for (boolean self : new boolean[] {true, false}) {
            Tensor queries = self ? x : q;
            Neighbors expected = Naive.knn(queries, x, 10, self);
            for (int[] b : new int[][] {{1, 1}, {3, 7}, {16, 16}, {40, 97}, {1024, 5}, {1024, 16384}}) {
                Neighbors got = Knn.search(queries, x, 10, self, b[0], b[1]);
                assertSame(expected, got, "blocks " + b[0] + "x" + b[1] + ", excludeSelf " + self);
            }
        }
    }

    @Test
    void blockedEqualsNaiveOnGaussianUnitVectors() {
        Random rnd = new Random(11);
        Tensor x = Naive.gaussianUnit(rnd, 150, 16);
        Neighbors expected = Naive.knn(x, x, 7, true);
        for (int[] b : new int[][] {{1, 1}, {8, 13}, {64, 150}, {150, 32}}) {
            assertSame(expected, Knn.search(x, x, 7, true, b[0], b[1]), "blocks " + b[0] + "x" + b[1]);
        }
    }

    @Property(tries = 60)
    void blockedEqualsNaiveForAnySizes(@ForAll @IntRange(min = 1, max = 40) int nq,
                                       @ForAll @IntRange(min = 1, max = 60) int nd,
                                       @ForAll @IntRange(min = 1, max = 6) int d,
                                       @ForAll @IntRange(min = 1, max = 70) int k,
                                       @ForAll @IntRange(min = 1, max = 50) int qBlock,
                                       @ForAll @IntRange(min = 1, max = 70) int dBlock,
                                       @ForAll long seed) {
        Random rnd = new Random(seed);
        Tensor q = Naive.quantized(rnd, nq, d), db = Naive.quantized(rnd, nd, d);
        assertSame(Naive.knn(q, db, k, false), Knn.search(q, db, k, false, qBlock, dBlock), "queries vs database");
        assertSame(Naive.knn(db, db, k, true), Knn.search(db, db, k, true, qBlock, dBlock), "excluding self");
    }

    @Test
    void acceptsF64AndStridedViews() {
        Random rnd = new Random(3);
        Tensor x = Naive.quantized(rnd, 30, 4);
        Neighbors expected = Knn.search(x, x, 5, true);
        assertSame(expected, Knn.search(x.to(dev.irtj.tensor.DType.F64), x.to(dev.irtj.tensor.DType.F64), 5, true, 7, 9), "F64");
        Tensor strided = x.mT().contiguous().mT(); // same values, column-major layout
        assertSame(expected, Knn.search(strided, strided, 5, true, 4, 11), "strided");
    }

    @Test
    void rejectsBadArguments() {
        Tensor a = atAngles(0, 1), b = Tensor.of(new float[] {1, 2, 3}, 1, 3);
        assertThrows(IllegalArgumentException.class, () -> Knn.search(a, b, 1, false));
        assertThrows(IllegalArgumentException.class, () -> Knn.search(a, a, 0, false));
        assertThrows(IllegalArgumentException.class, () -> Knn.search(a, atAngles(0, 1, 2), 1, true));
        assertThrows(IllegalArgumentException.class, () -> Knn.search(a.flatten(), a, 1, false));
        assertThrows(IllegalArgumentException.class, () -> Knn.search(a, a, 1, false, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> Knn.search(Tensor.ofLongs(new long[] {1, 2}, 1, 2), a, 1, false));
    }

    static void assertSame(Neighbors expected, Neighbors got, String what) {
        assertEquals(expected.queries(), got.queries(), what);
        assertEquals(expected.k(), got.k(), what);
        for (int i = 0; i < expected.queries(); i++) {
            assertArrayEquals(expected.indices()[i], got.indices()[i], what + ", query " + i);
            assertArrayEquals(expected.similarities()[i], got.similarities()[i], what + ", query " + i);
        }
    }
}
