package dev.irtj.eval;

import dev.irtj.eval.RevisitedMap.Protocol;
import dev.irtj.eval.RevisitedMap.Result;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RevisitedMapTest {

    private static GroundTruth gt(int[] easy, int[] hard, int[] junk) {
        return new GroundTruth(easy, hard, junk);
    }

    private static int[] ints(int... v) {
        return v;
    }

    /**
     * Queries and a database whose similarities produce the given rankings: the database is the
     * identity (item j = e_j), so query q's similarity with item j is its j-th coordinate.
     */
    private static Tensor[] withRankings(int n, int[]... rankings) {
        float[] q = new float[rankings.length * n];
        for (int i = 0; i < rankings.length; i++) {
            for (int r = 0; r < rankings[i].length; r++) q[i * n + rankings[i][r]] = 1f - r / 64f;
        }
        return new Tensor[] {Tensor.of(q, rankings.length, n), Tensor.eye(n, dev.irtj.tensor.DType.F32)};
    }

    private static double ap(int n, int[] ranking, GroundTruth g, Protocol p) {
        Tensor[] t = withRankings(n, ranking);
        double fromDescriptors = RevisitedMap.evaluate(t[0], t[1], List.of(g), p).map();
        double fromRanks = RevisitedMap.fromRanks(new int[][] {ranking}, List.of(g), p).map();
        assertEquals(fromRanks, fromDescriptors, 1e-15);
        return fromDescriptors;
    }

    @Test
    void computeApOnHandMadeRanks() {
        assertEquals(1.0, RevisitedMap.averagePrecision(ints(0, 1, 2), 3), 1e-15);
        // Positives at ranks 0 and 2: (1 + 1)/2·½ + (½ + ⅔)/2·½ = 12/24 + 7/24.
        assertEquals(19 / 24.0, RevisitedMap.averagePrecision(ints(0, 2), 2), 1e-15);
        // Positives at ranks 1 and 3: (0 + ½)/2·½ + (⅓ + ½)/2·½ = 3/24 + 5/24.
        assertEquals(1 / 3.0, RevisitedMap.averagePrecision(ints(1, 3), 2), 1e-15);
        // One of two positives never retrieved.
        assertEquals(0.5, RevisitedMap.averagePrecision(ints(0), 2), 1e-15);
        assertEquals(0.0, RevisitedMap.averagePrecision(ints(), 4), 0.0);
        assertThrows(IllegalArgumentException.class, () -> RevisitedMap.averagePrecision(ints(2, 1), 2));
        assertThrows(IllegalArgumentException.class, () -> RevisitedMap.averagePrecision(ints(0), 0));
    }

    @Test
    void perfectRankingGivesOne() {
        GroundTruth g = gt(ints(0, 1), ints(2), ints());
        assertEquals(1.0, ap(5, ints(0, 1, 2, 3, 4), g, Protocol.MEDIUM), 1e-15);
        assertEquals(1.0, ap(5, ints(2, 1, 0, 4, 3), g, Protocol.MEDIUM), 1e-15);
    }

    @Test
    void handComputedInterpolatedAp() {
        GroundTruth g = gt(ints(0, 1), ints(), ints());
        assertEquals(1 / 3.0, ap(4, ints(2, 0, 3, 1), g, Protocol.EASY), 1e-15);
        assertEquals(19 / 24.0, ap(4, ints(0, 2, 1, 3), g, Protocol.EASY), 1e-15);
    }

    @Test
    void junkInsertedAnywhereLeavesApUnchanged() {
        GroundTruth plain = gt(ints(0, 1), ints(), ints());
        GroundTruth withJunk = gt(ints(0, 1), ints(), ints(4));
        double base = ap(5, ints(2, 0, 3, 1, 4), plain, Protocol.MEDIUM);
        assertEquals(1 / 3.0, base, 1e-15);
        for (int[] ranking : new int[][] {{4, 2, 0, 3, 1}, {2, 4, 0, 3, 1}, {2, 0, 4, 3, 1}, {2, 0, 3, 4, 1}, {2, 0, 3, 1, 4}}) {
            assertEquals(base, ap(5, ranking, withJunk, Protocol.MEDIUM), 1e-15, java.util.Arrays.toString(ranking));
        }
        // The same item as a negative lowers AP when it ranks before a positive.
        assertTrue(ap(5, ints(4, 2, 0, 3, 1), plain, Protocol.MEDIUM) < base);
    }

    @Test
    void protocolsAndSkippedQueries() {
        // Query 0: easy {0}, hard {1}, junk {2}; ranking 3, 1, 2, 0.
        // Query 1: easy {3}, no hard: ranking 3, 0, 1, 2. Under Hard it has no positives.
        List<GroundTruth> gnd = List.of(gt(ints(0), ints(1), ints(2)), gt(ints(3), ints(), ints()));
        Tensor[] t = withRankings(4, ints(3, 1, 2, 0), ints(3, 0, 1, 2));
        Map<Protocol, Result> all = RevisitedMap.evaluateAll(t[0], t[1], gnd, 1, 5);

        // Easy, query 0: positive 0 at rank 3, junk 1 and 2 before it → rank 1: (0 + ½)/2 = ¼.
        Result easy = all.get(Protocol.EASY);
        assertArrayEquals(new double[] {0.25, 1.0}, easy.aps(), 1e-15);
        assertEquals(0.625, easy.map(), 1e-15);
        assertEquals(2, easy.evaluatedQueries());

        // Medium, query 0: positives at 1 and 3, junk at 2 → ranks 1, 2: 3/24 + 7/24 = 5/12.
        Result medium = all.get(Protocol.MEDIUM);
        assertArrayEquals(new double[] {5 / 12.0, 1.0}, medium.aps(), 1e-15);
        assertEquals(17 / 24.0, medium.map(), 1e-15);
        // mP@k: query 0's positives at 1-based ranks 2, 3 → P@1 = 0, P@5 = 2/min(5, 3); query 1: 1, 1.
        assertArrayEquals(new double[] {0, 2 / 3.0}, medium.precisionAtK()[0], 1e-15);
        assertArrayEquals(new double[] {1, 1}, medium.precisionAtK()[1], 1e-15);
        assertEquals(0.5, medium.meanPrecisionAt(1), 1e-15);
        assertEquals(5 / 6.0, medium.meanPrecisionAt(5), 1e-15);

        // Hard: query 0's positive 1 at rank 1, junk (2, 0) after it: ¼. Query 1 is left out of the mean.
        Result hard = all.get(Protocol.HARD);
        assertEquals(0.25, hard.aps()[0], 1e-15);
        assertTrue(Double.isNaN(hard.aps()[1]));
        assertTrue(Double.isNaN(hard.precisionAtK()[1][0]));
        assertEquals(0.25, hard.map(), 1e-15);
        assertEquals(1, hard.evaluatedQueries());

        assertEquals(hard.map(), RevisitedMap.evaluate(t[0], t[1], gnd, Protocol.HARD).map(), 0.0);
        assertTrue(medium.toString().startsWith("MEDIUM: mAP 70.83, mP@1 50.00, mP@5 83.33"), medium.toString());
    }

    @Test
    void noQueryWithPositivesGivesNaN() {
        Tensor[] t = withRankings(3, ints(0, 1, 2));
        Result r = RevisitedMap.evaluate(t[0], t[1], List.of(gt(ints(0), ints(), ints())), Protocol.HARD, 1);
        assertTrue(Double.isNaN(r.map()));
        assertTrue(Double.isNaN(r.meanPrecisionAtK()[0]));
        assertEquals(0, r.evaluatedQueries());
    }

    @Test
    void anItemBothPositiveAndJunkCountsAsPositive() {
        GroundTruth g = gt(ints(0), ints(), ints(0, 1));
        assertArrayEquals(ints(1), Protocol.EASY.junk(g));
        assertEquals(1.0, ap(3, ints(1, 0, 2), g, Protocol.EASY), 1e-15);
    }

    @Test
    void truncatedRankings() {
        // Positive 1 is not in the ranking: only positive 0, at rank 1, adds (0 + ½)/2·½.
        Result r = RevisitedMap.fromRanks(new int[][] {{2, 0}}, List.of(gt(ints(0, 1), ints(), ints())), Protocol.EASY, 1, 5);
        assertEquals(0.125, r.map(), 1e-15);
        assertArrayEquals(new double[] {0, 0.5}, r.precisionAtK()[0], 1e-15);
        Result none = RevisitedMap.fromRanks(new int[][] {{2}}, List.of(gt(ints(0, 1), ints(), ints())), Protocol.EASY, 1);
        assertEquals(0.0, none.map(), 0.0);
        assertEquals(0.0, none.meanPrecisionAtK()[0], 0.0);
    }

    @Test
    void descriptorPathEqualsFullSortOnRandomDataWithTies() {
        Random rnd = new Random(9);
        int nq = 23, nd = 150;
        Tensor db = Naive.quantized(rnd, nd, 4);
        Tensor q = Naive.quantized(rnd, nq, 4);
        List<GroundTruth> gnd = new ArrayList<>();
        for (int i = 0; i < nq; i++) {
            int[] perm = rnd.ints(0, nd).distinct().limit(30).toArray();
            int e = rnd.nextInt(8), h = rnd.nextInt(8), j = rnd.nextInt(14);
            gnd.add(gt(java.util.Arrays.copyOfRange(perm, 0, e), java.util.Arrays.copyOfRange(perm, e, e + h),
                    java.util.Arrays.copyOfRange(perm, e + h, e + h + j)));
        }
        float[][] s = Naive.similarities(q, db);
        int[][] ranks = new int[nq][];
        for (int i = 0; i < nq; i++) {
            ranks[i] = java.util.Arrays.stream(Naive.fullRanking(s[i], -1)).mapToInt(Integer::intValue).toArray();
        }
        int[] kappas = {1, 5, 10};
        for (int block : new int[] {1, 4, 23, 1000}) {
            Map<Protocol, Result> got = RevisitedMap.evaluateAllBlocked(q, db, gnd, block, kappas);
            for (Protocol p : Protocol.values()) {
                Result want = RevisitedMap.fromRanks(ranks, gnd, p, kappas);
                assertArrayEquals(want.aps(), got.get(p).aps(), 0.0, p + ", block " + block);
                assertArrayEquals(want.meanPrecisionAtK(), got.get(p).meanPrecisionAtK(), 0.0, p + ", block " + block);
                assertEquals(want.map(), got.get(p).map(), 0.0);
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        Tensor[] t = withRankings(3, ints(0, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> RevisitedMap.evaluate(t[0], t[1], List.of(), Protocol.EASY));
        assertThrows(IllegalArgumentException.class,
                () -> RevisitedMap.evaluate(t[0], t[1], List.of(gt(ints(3), ints(), ints())), Protocol.EASY));
        assertThrows(IllegalArgumentException.class,
                () -> RevisitedMap.evaluate(t[0], t[1], List.of(gt(ints(0), ints(), ints())), Protocol.EASY, 0));
        assertThrows(IllegalArgumentException.class, () -> gt(ints(-1), ints(), ints()));
    }
}
