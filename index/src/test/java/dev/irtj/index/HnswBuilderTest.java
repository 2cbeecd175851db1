package dev.irtj.index;

import dev.irtj.tensor.Rng;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HnswBuilder}: recall against exact k-NN with a plain beam search over the built graph,
 * the graph's invariants, and determinism for a seed.
 */
class HnswBuilderTest {
    private static final int M = 16;
    private static final int BEAM = 100;
    /** The search's beam in the recall checks (efSearch). */
    private static final int EF = 100;
    private static final int K = 10;

    /** Random unit rows. */
    static float[] random(long seed, int n, int d) {
        Rng rng = new Rng(seed);
        float[] all = new float[n * d];
        for (int i = 0; i < n; i++) System.arraycopy(Vectors.unit(rng, d), 0, all, i * d, d);
        return all;
    }

    /** Unit rows around 20 random centres (spread 0.15 per coordinate before normalizing): hard for a graph. */
    static float[] clustered(long seed, int n, int d) {
        Rng rng = new Rng(seed);
        float[][] centres = new float[20][];
        for (int c = 0; c < centres.length; c++) centres[c] = Vectors.unit(rng, d);
        float[] all = new float[n * d];
        for (int i = 0; i < n; i++) {
            float[] c = centres[rng.nextInt(centres.length)];
            double sq = 0;
            float[] v = new float[d];
            for (int j = 0; j < d; j++) {
                v[j] = c[j] + 0.15f * (float) rng.nextGaussian() / (float) Math.sqrt(d) * 4;
                sq += (double) v[j] * v[j];
            }
            for (int j = 0; j < d; j++) all[i * d + j] = (float) (v[j] / Math.sqrt(sq));
        }
        return all;
    }

    @Test
    void recallAgainstExactOnRandomAndClusteredData() {
        for (int n : new int[] {1, 2, 17, 1000}) {
            for (int d : new int[] {48, 13}) {
                check(random(n * 31L + d, n + 200, d), n, d, "random");
                check(clustered(n * 37L + d, n + 200, d), n, d, "clustered");
            }
        }
    }

    @Test
    void recallOnALargerClusteredSet() {
        int n = 5000, d = 48;
        check(clustered(5, n + 200, d), n, d, "clustered 5000");
    }

    /** Builds over the first n rows of v and queries with the 200 rows after them (same distribution, not indexed). */
    private static void check(float[] all, int n, int d, String what) {
        float[] v = Arrays.copyOf(all, n * d);
        float[] queries = Arrays.copyOfRange(all, n * d, (n + 200) * d);
        HnswBuilder g = HnswBuilder.build(v, n, d, M, BEAM, 42);
        invariants(g, what + " n=" + n + " d=" + d);
        int hits = 0, total = 0;
        for (int qi = 0; qi < 200; qi++) {
            float[] q = Arrays.copyOfRange(queries, qi * d, qi * d + d);
            int[] exact = exact(v, n, d, q, Math.min(K, n));
            Set<Integer> found = new HashSet<>();
            for (int x : search(g, v, d, q, Math.min(K, n))) found.add(x);
            for (int x : exact) if (found.contains(x)) hits++;
            total += exact.length;
        }
        double recall = (double) hits / total;
        assertTrue(recall >= 0.98, what + " n=" + n + " d=" + d + ": recall@10 " + recall + " at ef " + EF);
    }

    /** The graph's invariants: every node reachable from the entry, degrees, no self-links, no duplicates, links on the level. */
    static void invariants(HnswBuilder g, String what) {
        int n = g.size();
        if (n == 0) {
            assertEquals(-1, g.entryNode(), what);
            return;
        }
        int top = g.levels() - 1;
        assertEquals(g.entryNode(), g.nodesOnLevel(top)[0], what + ": the entry is the lowest node on the top level");
        for (int l = 0; l <= top; l++) {
            int[] onLevel = g.nodesOnLevel(l);
            Set<Integer> members = new HashSet<>();
            for (int x : onLevel) members.add(x);
            for (int node : onLevel) {
                int[] nbs = g.neighbours(l, node);
                assertTrue(nbs.length <= (l == 0 ? 2 * M : M), what + ": degree " + nbs.length + " on level " + l);
                Set<Integer> seen = new HashSet<>();
                for (int x : nbs) {
                    assertFalse(x == node, what + ": self-link of " + node + " on level " + l);
                    assertTrue(seen.add(x), what + ": duplicate link " + node + " -> " + x + " on level " + l);
                    assertTrue(members.contains(x), what + ": link to " + x + ", not on level " + l);
                }
            }
            // Every node of the level reachable from the entry's descent point on it (the entry is on every level).
            boolean[] reached = new boolean[n];
            ArrayDeque<Integer> queue = new ArrayDeque<>();
            queue.add(g.entryNode());
            reached[g.entryNode()] = true;
            int count = 1;
            while (!queue.isEmpty()) {
                for (int x : g.neighbours(l, queue.poll())) {
                    if (!reached[x]) {
                        reached[x] = true;
                        count++;
                        queue.add(x);
                    }
                }
            }
            assertEquals(onLevel.length, count, what + ": nodes reachable on level " + l);
        }
    }

    @Test
    void theSameSeedGivesTheSameGraphAndAnotherSeedAnotherOne() {
        int n = 1000, d = 48;
        float[] v = random(3, n, d);
        HnswBuilder a = HnswBuilder.build(v, n, d, M, BEAM, 7), b = HnswBuilder.build(v, n, d, M, BEAM, 7);
        HnswBuilder c = HnswBuilder.build(v, n, d, M, BEAM, 8);
        assertEquals(a.levels(), b.levels());
        assertEquals(a.entryNode(), b.entryNode());
        boolean differs = a.levels() != c.levels() || a.entryNode() != c.entryNode();
        for (int l = 0; l < a.levels(); l++) {
            assertArrayEquals(a.nodesOnLevel(l), b.nodesOnLevel(l));
            for (int node : a.nodesOnLevel(l)) {
                assertArrayEquals(a.neighbours(l, node), b.neighbours(l, node), "level " + l + " node " + node);
                if (l < c.levels() && !differs && Arrays.binarySearch(c.nodesOnLevel(l), node) >= 0) {
                    differs = !Arrays.equals(a.neighbours(l, node), c.neighbours(l, node));
                }
            }
        }
        assertTrue(differs, "seed 8 drew the same graph as seed 7");
    }

    @Test
    void badParametersAreRefused() {
        float[] v = random(1, 4, 8);
        assertThrows(IllegalArgumentException.class, () -> HnswBuilder.build(v, 4, 8, 1, BEAM, 1));
        assertThrows(IllegalArgumentException.class, () -> HnswBuilder.build(v, 4, 8, M, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> HnswBuilder.build(v, 5, 8, M, BEAM, 1));
        assertEquals(0, HnswBuilder.build(v, 0, 8, M, BEAM, 1).levels());
    }

    /** The k best rows by dot product, ties to the lower row. */
    static int[] exact(float[] v, int n, int d, float[] q, int k) {
        Integer[] order = new Integer[n];
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
            s[i] = VectorDot.scalar(q, Arrays.copyOfRange(v, i * d, i * d + d));
        }
        Arrays.sort(order, (a, b) -> s[a] != s[b] ? Float.compare(s[b], s[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = order[i];
        return out;
    }

    /**
     * The builder's beam search (one sorted array with expanded flags) against the textbook
     * two-heap search written here, on the builder's own graphs and scores: the same keys in the
     * same order, from entries on every level, for rows in the graph and rows outside it, with
     * beams that fill (and drop keys) and beams that do not. Exact equality, not a tolerance:
     * the two must expand the same nodes, or the builder's graph would change.
     */
    @Test
    void theBeamSearchFindsWhatTwoHeapsFind() {
        for (int beam : new int[] {1, 5, BEAM}) {
            for (int n : new int[] {1, 17, 600}) {
                for (int d : new int[] {48, 13}) {
                    float[] all = (n % 2 == 0 ? random(n * 41L + d + beam, n + 40, d) : clustered(n * 43L + d + beam, n + 40, d));
                    HnswBuilder g = HnswBuilder.build(all, n, d, M, beam, 7);
                    for (int row = 0; row < n + 40; row += 3) {
                        for (int l = 0; l < g.levels(); l++) {
                            int[] on = g.nodesOnLevel(l);
                            int entry = on[(row * 7) % on.length];
                            long[] expected = twoHeapSearch(g, all, d, row, l, entry, beam);
                            assertArrayEquals(expected, g.beamSearch(row, l, entry),
                                    "beam " + beam + ", n " + n + ", d " + d + ", row " + row + ", level " + l + ", entry " + entry);
                        }
                    }
                }
            }
        }
    }

    /**
     * The textbook beam search (Malkov and Yashunin's SEARCH-LAYER): a max-heap of candidates to
     * expand and a min-heap of the ef best results, stopping when the best candidate is worse
     * than the worst result of a full beam; keys and scores as the builder makes them.
     */
    private static long[] twoHeapSearch(HnswBuilder g, float[] all, int d, int row, int level, int entry, int ef) {
        java.util.PriorityQueue<Long> candidates = new java.util.PriorityQueue<>(java.util.Comparator.reverseOrder());
        java.util.PriorityQueue<Long> results = new java.util.PriorityQueue<>();
        Set<Integer> seen = new HashSet<>();
        long first = HnswWalk.key(VectorDot.dot(all, row * d, all, entry * d, d), entry);
        candidates.add(first);
        results.add(first);
        seen.add(entry);
        while (!candidates.isEmpty()) {
            long best = candidates.poll();
            if (results.size() >= ef && best < results.peek()) break;
            for (int x : g.neighbours(level, HnswWalk.ord(best))) {
                if (!seen.add(x)) continue;
                long k = HnswWalk.key(VectorDot.dot(all, row * d, all, x * d, d), x);
                if (results.size() < ef || k > results.peek()) {
                    candidates.add(k);
                    results.add(k);
                    if (results.size() > ef) results.poll();
                }
            }
        }
        long[] out = new long[results.size()];
        for (int i = out.length - 1; i >= 0; i--) out[i] = results.poll();
        return out;
    }

    /** A plain HNSW search over the builder's graph (a reference written for the test: lists, no packed keys). */
    static int[] search(HnswBuilder g, float[] v, int d, float[] q, int k) {
        int ep = g.entryNode();
        for (int l = g.levels() - 1; l >= 1; l--) {
            boolean moved = true;
            while (moved) {
                moved = false;
                for (int x : g.neighbours(l, ep)) {
                    if (sim(v, d, q, x) > sim(v, d, q, ep)) {
                        ep = x;
                        moved = true;
                    }
                }
            }
        }
        java.util.PriorityQueue<Integer> cand = new java.util.PriorityQueue<>((a, b) -> Float.compare(sim(v, d, q, b), sim(v, d, q, a)));
        java.util.PriorityQueue<Integer> res = new java.util.PriorityQueue<>((a, b) -> Float.compare(sim(v, d, q, a), sim(v, d, q, b)));
        Set<Integer> seen = new HashSet<>();
        cand.add(ep);
        res.add(ep);
        seen.add(ep);
        int ef = Math.max(EF, k);
        while (!cand.isEmpty()) {
            int c = cand.poll();
            if (res.size() >= ef && sim(v, d, q, c) < sim(v, d, q, res.peek())) break;
            for (int x : g.neighbours(0, c)) {
                if (!seen.add(x)) continue;
                if (res.size() < ef || sim(v, d, q, x) > sim(v, d, q, res.peek())) {
                    cand.add(x);
                    res.add(x);
                    if (res.size() > ef) res.poll();
                }
            }
        }
        Integer[] all = res.toArray(new Integer[0]);
        Arrays.sort(all, (a, b) -> Float.compare(sim(v, d, q, b), sim(v, d, q, a)));
        int[] out = new int[Math.min(k, all.length)];
        for (int i = 0; i < out.length; i++) out[i] = all[i];
        return out;
    }

    private static float sim(float[] v, int d, float[] q, int row) {
        return VectorDot.scalar(q, Arrays.copyOfRange(v, row * d, row * d + d));
    }
}
