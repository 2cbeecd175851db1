package dev.irtj.train.data;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hard negatives: the most similar candidates of other clusters than the query's, one per cluster. */
class HardNegativeMinerTest {

    /**
     * Hand-made: the query is (1, 0); candidates by decreasing similarity are its own cluster
     * (skipped), cluster 7 twice (only the first taken), cluster 8, cluster 9, cluster 7 again.
     */
    @Test
    void hardestOfOtherClustersOnePerCluster() {
        float[] q = {1, 0};
        // position:          0            1              2              3             4             5
        float[] pool = {0.99f, 0.141f, 0.95f, 0.312f, 0.9f, 0.436f, 0.2f, 0.98f, 0.6f, 0.8f, 0.8f, 0.6f};
        long[] poolClusters = {3, 7, 7, 9, 8, 7};
        long[] queryClusters = {3};
        int[][] got = HardNegativeMiner.mine(Tensor.of(q, 1, 2), Tensor.of(pool, 6, 2), queryClusters, poolClusters, 3);
        // similarities: 0.99 (own), 0.95 (7), 0.9 (7, taken), 0.2 (9), 0.6 (8), 0.8 (7, taken)
        assertArrayEquals(new int[] {1, 4, 3}, got[0]);
        int[][] two = HardNegativeMiner.mine(Tensor.of(q, 1, 2), Tensor.of(pool, 6, 2), queryClusters, poolClusters, 2);
        assertArrayEquals(new int[] {1, 4}, two[0]);
    }

    @Test
    void tooFewOtherClustersIsOneClearLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HardNegativeMiner.mine(Tensor.of(new float[] {1, 0}, 1, 2),
                Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2), new long[] {1}, new long[] {1, 2, 2}, 2));
        assertTrue(e.getMessage().contains("holds 1 clusters other than the query's, fewer than the 2 negatives"), e.getMessage());
    }

    /**
     * Random descriptors, many queries (more than one scoring block), against cirtorch's walk
     * written independently: sort every candidate by decreasing score (the earlier one first on
     * a tie), keep the first of each new cluster that is not the query's.
     */
    @Test
    void agreesWithTheSortedWalkOnRandomDescriptors() {
        Rng rng = new Rng(21);
        int nq = HardNegativeMiner.QUERY_BLOCK + 37, np = 300, dims = 8, negatives = 5;
        Tensor q = Tensor.randn(rng, DType.F32, nq, dims).l2Normalize(), p = Tensor.randn(rng, DType.F32, np, dims).l2Normalize();
        long[] qc = new long[nq], pc = new long[np];
        for (int i = 0; i < nq; i++) qc[i] = rng.nextInt(12);
        for (int i = 0; i < np; i++) pc[i] = rng.nextInt(12);
        int[][] got = HardNegativeMiner.mine(q, p, qc, pc, negatives);
        float[] qs = q.toFloatArray(), ps = p.toFloatArray();
        for (int i = 0; i < nq; i++) {
            double[] s = new double[np];
            for (int j = 0; j < np; j++) for (int k = 0; k < dims; k++) s[j] += (double) qs[i * dims + k] * ps[j * dims + k];
            Integer[] order = IntStream.range(0, np).boxed().sorted(Comparator.<Integer>comparingDouble(j -> -s[j]).thenComparingInt(j -> j)).toArray(Integer[]::new);
            Set<Long> seen = new HashSet<>(Set.of(qc[i]));
            int[] want = new int[negatives];
            int n = 0;
            for (int j : order) {
                if (n == negatives) break;
                if (seen.add(pc[j])) want[n++] = j;
            }
            // The two score in different orders (GEMM in float vs the double sum here); a
            // near-tie could swap, so only exact agreement on well-separated scores is asked.
            if (!nearTie(s, want)) assertArrayEquals(want, got[i], "query " + i + ": " + Arrays.toString(got[i]));
            for (int j : got[i]) assertTrue(pc[j] != qc[i], "a negative of the query's own cluster");
            assertTrue(Arrays.stream(got[i]).mapToLong(j -> pc[j]).distinct().count() == negatives, "one per cluster");
        }
    }

    private static boolean nearTie(double[] s, int[] chosen) {
        for (int c : chosen) for (double v : s) if (v != s[c] && Math.abs(v - s[c]) < 1e-5) return true;
        return false;
    }
}
