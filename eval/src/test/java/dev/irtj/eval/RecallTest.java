package dev.irtj.eval;

import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static dev.irtj.eval.UnitVectors.atAngles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RecallTest {

    @Test
    void handMadeCase() {
        // Angles:   0   4   10  13  30  52
        // Labels:   A   B   A   B   C   C
        // Nearest others: 0 → 4(B), 10(A)     : first hit at rank 2
        //                 4 → 0(A), 10(A), 13(B): rank 3
        //                 10 → 13(B), 4(B), 0(A): rank 3
        //                 13 → 10(A), 4(B)     : rank 2
        //                 30 → 13(B), 10(A), 52(C): rank 3
        //                 52 → 30(C)           : rank 1
        Tensor x = atAngles(0, 4, 10, 13, 30, 52);
        long[] labels = {0, 1, 0, 1, 2, 2};
        Map<Integer, Double> r = Recall.atK(x, labels, 1, 2, 3, 4);
        assertEquals(1 / 6.0, r.get(1), 1e-12);
        assertEquals(3 / 6.0, r.get(2), 1e-12);
        assertEquals(1.0, r.get(3), 1e-12);
        assertEquals(1.0, r.get(4), 1e-12);
        assertEquals(java.util.List.of(1, 2, 3, 4), java.util.List.copyOf(r.keySet()));
    }

    @Test
    void tiesAreResolvedByTheSmallerGalleryIndex() {
        // The query (index 0) is exactly as similar to item 1 (other class) as to item 2 (own class).
        Tensor x = Tensor.of(new float[] {1, 0, 0, 1, 0, 1}, 3, 2);
        Map<Integer, Double> r = Recall.fromNeighbors(Knn.search(x, x, 2, true), new long[] {7, 8, 7}, new long[] {7, 8, 7}, 1, 2);
        // Query 0 (label 7): items 1 and 2 tie at 0 → item 1 (label 8) first, item 2 (7) second.
        // Query 1 (label 8): item 2 (sim 1, label 7), then item 0 (label 7): never hits.
        // Query 2 (label 7): item 1 (sim 1, label 8), then item 0 (label 7): hit at rank 2.
        assertEquals(0.0, r.get(1), 1e-12);
        assertEquals(2 / 3.0, r.get(2), 1e-12);
        // Swapping the labels of items 1 and 2 puts the right item first for query 0.
        Map<Integer, Double> swapped = Recall.atK(x, new long[] {7, 7, 8}, 1);
        assertEquals(1 / 3.0, swapped.get(1), 1e-12); // query 0 hits (item 1); queries 1 and 2 each see the other first
    }

    @Test
    void kLargerThanTheClassAndThanTheCandidates() {
        Tensor x = atAngles(0, 1, 2, 40, 41, 42, 90);
        long[] labels = {0, 0, 0, 1, 1, 1, 2};
        Map<Integer, Double> r = Recall.atK(x, labels, 1, 3, 6, 100);
        // Sample 6 (label 2) is alone in its class: it never hits but counts in the denominator.
        assertEquals(6 / 7.0, r.get(1), 1e-12);
        assertEquals(6 / 7.0, r.get(3), 1e-12);  // K = 3 > the 2 other class members
        assertEquals(6 / 7.0, r.get(6), 1e-12);  // K = N − 1: all others
        assertEquals(6 / 7.0, r.get(100), 1e-12); // K > N − 1
    }

    @Test
    void aSingleSampleCanNeverHit() {
        assertEquals(0.0, Recall.atK(atAngles(0), new long[] {1}, 1, 5).get(5), 0.0);
    }

    @Test
    void queryGalleryExcludesNothing() {
        Tensor gallery = atAngles(0, 20, 40);
        long[] gl = {1, 2, 3};
        // A query identical to a gallery image finds it at rank 1 (In-Shop: queries are separate photos).
        Tensor queries = atAngles(0, 21, 39, 60);
        long[] ql = {1, 3, 3, 9};
        Map<Integer, Double> r = Recall.queryGallery(queries, ql, gallery, gl, 1, 2, 3);
        assertEquals(2 / 4.0, r.get(1), 1e-12); // queries 0 and 2
        assertEquals(3 / 4.0, r.get(2), 1e-12); // query 1: 20 (2), then 40 (3)
        assertEquals(3 / 4.0, r.get(3), 1e-12); // query 3's label is not in the gallery
    }

    @Test
    void blockedRecallEqualsRecallFromTheFullMatrix() {
        Random rnd = new Random(5);
        int n = 120;
        Tensor x = Naive.quantized(rnd, n, 6);
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) labels[i] = rnd.nextInt(25);
        int[] ks = {1, 2, 4, 8, 16, 32, 200};
        // Naive: full matrix, full sort, first hit.
        float[][] s = Naive.similarities(x, x);
        double[] expected = new double[ks.length];
        for (int i = 0; i < n; i++) {
            Integer[] r = Naive.fullRanking(s[i], i);
            int first = Integer.MAX_VALUE;
            for (int t = 0; t < r.length; t++) if (labels[r[t]] == labels[i]) { first = t; break; }
            for (int k = 0; k < ks.length; k++) if (first < ks[k]) expected[k] += 1.0 / n;
        }
        for (int[] b : new int[][] {{1, 1}, {7, 13}, {50, 120}, {1024, 16384}}) {
            Map<Integer, Double> viaNeighbors = Recall.fromNeighbors(Knn.search(x, x, 200, true, b[0], b[1]), labels, labels, ks);
            Map<Integer, Double> blocked = Recall.atKBlocked(x, labels, b[0], b[1], ks);
            for (int k = 0; k < ks.length; k++) {
                assertEquals(expected[k], viaNeighbors.get(ks[k]), 1e-12, "R@" + ks[k] + " from neighbours, blocks " + b[0] + "x" + b[1]);
                assertEquals(expected[k], blocked.get(ks[k]), 1e-12, "R@" + ks[k] + " with blocks " + b[0] + "x" + b[1]);
            }
        }
        Map<Integer, Double> direct = Recall.atK(x, labels, ks);
        for (int k = 0; k < ks.length; k++) assertEquals(expected[k], direct.get(ks[k]), 1e-12);
    }

    @Test
    void blockedQueryGalleryEqualsTheFullMatrix() {
        Random rnd = new Random(6);
        int nq = 37, ng = 90;
        Tensor q = Naive.quantized(rnd, nq, 5), g = Naive.quantized(rnd, ng, 5);
        long[] ql = new long[nq], gl = new long[ng];
        for (int i = 0; i < nq; i++) ql[i] = rnd.nextInt(30);
        for (int i = 0; i < ng; i++) gl[i] = rnd.nextInt(30);
        int[] ks = {1, 3, 10, 90, 1000};
        float[][] s = Naive.similarities(q, g);
        double[] expected = new double[ks.length];
        for (int i = 0; i < nq; i++) {
            Integer[] r = Naive.fullRanking(s[i], -1);
            int first = Integer.MAX_VALUE;
            for (int t = 0; t < r.length; t++) if (gl[r[t]] == ql[i]) { first = t; break; }
            for (int k = 0; k < ks.length; k++) if (first < ks[k]) expected[k] += 1.0 / nq;
        }
        for (int[] b : new int[][] {{1, 1}, {5, 17}, {37, 90}, {100, 4}}) {
            Map<Integer, Double> got = Recall.queryGalleryBlocked(q, ql, g, gl, b[0], b[1], ks);
            for (int k = 0; k < ks.length; k++) {
                assertEquals(expected[k], got.get(ks[k]), 1e-12, "R@" + ks[k] + " with blocks " + b[0] + "x" + b[1]);
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        Tensor x = atAngles(0, 1, 2);
        assertThrows(IllegalArgumentException.class, () -> Recall.atK(x, new long[] {1, 2}, 1));
        assertThrows(IllegalArgumentException.class, () -> Recall.atK(x, new long[] {1, 2, 3}));
        assertThrows(IllegalArgumentException.class, () -> Recall.atK(x, new long[] {1, 2, 3}, 0));
        assertThrows(IllegalArgumentException.class, () -> Recall.queryGallery(x, new long[] {1, 2, 3}, x, new long[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> Recall.atK(Tensor.zeros(dev.irtj.tensor.DType.F32, 0, 2), new long[0], 1));
    }
}
