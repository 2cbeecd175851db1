package dev.irtj.eval;

import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.TopKSelector;

import java.util.stream.IntStream;

/**
 * Exact k nearest neighbours by dot-product similarity.
 *
 * <p>irtj's descriptors are L2-normalized, and for unit vectors the dot product is the cosine
 * similarity (and ranks exactly as Euclidean distance does, since ‖a − b‖² = 2 − 2·a·b). For
 * descriptors that are not normalized the search still ranks by dot product; normalize them first
 * ({@link Tensor#l2Normalize()}) for cosine similarity.
 *
 * <p>The similarity matrix is never built whole: the search walks it in blocks of
 * {@code queryBlock} query rows × {@code databaseBlock} database rows, each block one
 * {@link Tensor#matmul} in F32 on the tensors' device followed by that device's
 * {@link Tensor#topk} of each block row (so the fastest backend computes both, and only k
 * values and positions per row leave a GPU). The host merges the blocks' candidates into every
 * query's k best ({@link TopKSelector}: a threshold, a buffer of about 2k and a quickselect).
 * Memory beyond the result is O(queryBlock · databaseBlock) floats for the block plus
 * O(queryBlock · k) for the candidates; with the defaults (1024 × 16384) a block is 64 MiB.
 * F64 inputs are converted to F32 first.
 *
 * <p>Order and ties: larger similarity first; at exactly equal similarity the smaller database
 * index first; NaN similarities after every number (−0 is reported as 0). The result is
 * therefore deterministic and independent of the block sizes.
 */
public final class Knn {
    /** Query rows per block by default. */
    public static final int DEFAULT_QUERY_BLOCK = 1024;
    /** Database rows per block by default. */
    public static final int DEFAULT_DATABASE_BLOCK = 16384;

    /** Below this many similarities in a block, the top-k update runs on the calling thread. */
    private static final long PARALLEL_THRESHOLD = 1L << 16;

    private Knn() {
    }

    /**
     * The k most similar database items of every query, with the default block sizes.
     *
     * @param queries     [Q, D] descriptors (F32 or F64)
     * @param database    [N, D] descriptors on the same device
     * @param k           neighbours per query, at least 1; when larger than the number of
     *                    candidates (N, or N − 1 with {@code excludeSelf}), every candidate is
     *                    returned, so rows are {@code min(k, candidates)} long
     * @param excludeSelf true when queries and database are the same set in the same order: then
     *                    item i is never a neighbour of query i (other items with identical
     *                    descriptors still are)
     */
    public static Neighbors search(Tensor queries, Tensor database, int k, boolean excludeSelf) {
        return search(queries, database, k, excludeSelf, DEFAULT_QUERY_BLOCK, DEFAULT_DATABASE_BLOCK);
    }

    /**
     * As {@link #search(Tensor, Tensor, int, boolean)} with explicit block sizes (the result does
     * not depend on them; they trade memory against the number of matrix products).
     */
    public static Neighbors search(Tensor queries, Tensor database, int k, boolean excludeSelf,
                                   int queryBlock, int databaseBlock) {
        SimilarityBlocks.checkPair(queries, database);
        if (excludeSelf && queries.shape(0) != database.shape(0)) {
            throw new IllegalArgumentException("excludeSelf needs the queries to be the database itself, but there are "
                    + queries.shape(0) + " queries and " + database.shape(0) + " database items");
        }
        return search(queries, database, k, excludeSelf ? 0 : -1, queryBlock, databaseBlock);
    }

    /**
     * The search behind the public methods. With {@code selfOffset} ≥ 0, the queries are database
     * rows selfOffset .. selfOffset+Q-1 and query r never gets item selfOffset + r; -1 excludes
     * nothing.
     */
    static Neighbors search(Tensor queries, Tensor database, int k, int selfOffset, int queryBlock, int databaseBlock) {
        SimilarityBlocks.checkPair(queries, database);
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        int nq = queries.shape(0), nd = database.shape(0);
        boolean excludeSelf = selfOffset >= 0;
        if (excludeSelf && selfOffset + nq > nd) {
            throw new IllegalArgumentException("queries " + selfOffset + ".." + (selfOffset + nq - 1) + " are not rows of a database of " + nd);
        }
        int candidates = excludeSelf ? nd - 1 : nd;
        int kk = Math.min(k, Math.max(candidates, 0));
        int[][] indices = new int[nq][kk];
        float[][] sims = new float[nq][kk];
        if (kk == 0) return new Neighbors(indices, sims);

        int perBlock = excludeSelf ? kk + 1 : kk; // a block's best kk others, even when it holds the query itself
        TopKSelector[] best = new TopKSelector[Math.min(queryBlock, nq)];
        int[] bestFor = {-1}; // first query of the block that `best` belongs to
        SimilarityBlocks.forEachTopK(queries, database, queryBlock, databaseBlock, perBlock, (qs, ql, ds, take, values, positions) -> {
            if (bestFor[0] != qs) {
                // A new query block: the previous one has seen the whole database.
                if (bestFor[0] >= 0) drain(best, bestFor[0], Math.min(best.length, nq - bestFor[0]), indices, sims);
                for (int r = 0; r < ql; r++) best[r] = new TopKSelector(kk);
                bestFor[0] = qs;
            }
            IntStream rows = IntStream.range(0, ql);
            if ((long) ql * take >= PARALLEL_THRESHOLD) rows = rows.parallel();
            rows.forEach(r -> {
                int self = excludeSelf ? selfOffset + qs + r : -1;
                for (int c = 0; c < take; c++) {
                    int j = ds + (int) positions[r * take + c];
                    if (j != self) best[r].offer(values[r * take + c], j);
                }
            });
        });
        if (bestFor[0] >= 0) drain(best, bestFor[0], Math.min(best.length, nq - bestFor[0]), indices, sims);
        return new Neighbors(indices, sims);
    }

    private static void drain(TopKSelector[] best, int qs, int ql, int[][] indices, float[][] sims) {
        IntStream rows = IntStream.range(0, ql);
        if ((long) ql * indices[qs].length >= PARALLEL_THRESHOLD) rows = rows.parallel();
        rows.forEach(r -> best[r].sortedInto(indices[qs + r], sims[qs + r]));
    }

}
