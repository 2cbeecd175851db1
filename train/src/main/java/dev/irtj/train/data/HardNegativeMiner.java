package dev.irtj.train.data;

import dev.irtj.tensor.Tensor;

import java.util.Arrays;

/**
 * Hard-negative selection as cirtorch's {@code TuplesDataset.create_epoch_tuples}: for each query,
 * walk the candidate pool by decreasing similarity to the query and take a candidate if its
 * cluster is neither the query's (those images may show the same building) nor one already
 * taken for this query, until {@code negatives} are chosen. Similarities are dot products of the
 * descriptors (L2-normalized by the caller); of equal similarities the earlier candidate comes
 * first.
 */
public final class HardNegativeMiner {
    /** Queries scored against the pool at once (bounds the score block: 256 × 22,000 floats). */
    static final int QUERY_BLOCK = 256;

    private HardNegativeMiner() {
    }

    /**
     * @param queries       [Q, D] query descriptors
     * @param pool          [P, D] candidate descriptors
     * @param queryClusters cluster of each query
     * @param poolClusters  cluster of each candidate
     * @return for each query, the positions in the pool of its negatives, hardest first
     * @throws IllegalArgumentException if the pool holds fewer than {@code negatives} clusters other than a query's
     */
    public static int[][] mine(Tensor queries, Tensor pool, long[] queryClusters, long[] poolClusters, int negatives) {
        int q = queries.shape(0), p = pool.shape(0);
        if (queryClusters.length != q || poolClusters.length != p) {
            throw new IllegalArgumentException(q + " queries and " + p + " candidates need as many cluster ids, got " + queryClusters.length + " and " + poolClusters.length);
        }
        if (negatives < 1) throw new IllegalArgumentException("negatives must be at least 1, got " + negatives);
        int[][] out = new int[q][];
        Tensor poolT = pool.mT();
        for (int start = 0; start < q; start += QUERY_BLOCK) {
            int n = Math.min(QUERY_BLOCK, q - start);
            float[] scores = queries.narrow(0, start, n).matmul(poolT).toFloatArray();
            for (int i = 0; i < n; i++) out[start + i] = pick(scores, i * p, p, queryClusters[start + i], poolClusters, negatives, start + i);
        }
        return out;
    }

    /** The hardest candidates of row {@code offset..offset+p} of {@code scores}, one per cluster, none of {@code own}. */
    static int[] pick(float[] scores, int offset, int p, long own, long[] poolClusters, int negatives, int query) {
        int[] chosen = new int[negatives];
        long[] taken = new long[negatives + 1];
        taken[0] = own;
        for (int k = 0; k < negatives; k++) {
            int best = -1;
            float bestScore = 0;
            for (int j = 0; j < p; j++) {
                float s = scores[offset + j];
                if (best >= 0 && !(s > bestScore)) continue;
                if (contains(taken, k + 1, poolClusters[j])) continue;
                best = j;
                bestScore = s;
            }
            if (best < 0) {
                long others = Arrays.stream(poolClusters).filter(c -> c != own).distinct().count();
                throw new IllegalArgumentException("query " + query + " (cluster " + own + "): the negative pool of " + p + " images holds "
                        + others + " clusters other than the query's, fewer than the " + negatives + " negatives asked for");
            }
            chosen[k] = best;
            taken[k + 1] = poolClusters[best];
        }
        return chosen;
    }

    private static boolean contains(long[] a, int n, long v) {
        for (int i = 0; i < n; i++) if (a[i] == v) return true;
        return false;
    }
}
