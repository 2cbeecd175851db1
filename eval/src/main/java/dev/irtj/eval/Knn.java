package dev.irtj.eval;

import dev.irtj.tensor.Tensor;

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
 * {@link Tensor#matmul} in F32 on the tensors' device (so the fastest backend computes it), and
 * keeps for every query its k best candidates so far (a threshold, a buffer of about 2k and a
 * quickselect: O(1) amortized per candidate, no full sort). Memory beyond the result is
 * O(queryBlock · databaseBlock) floats for the block plus O(queryBlock · k) for the candidates;
 * with the defaults (1024 × 16384) a block is 64 MiB. F64 inputs are converted to F32 first.
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

        TopK[] best = new TopK[Math.min(queryBlock, nq)];
        int[] bestFor = {-1}; // first query of the block that `best` belongs to
        SimilarityBlocks.forEach(queries, database, queryBlock, databaseBlock, (qs, ql, ds, dl, s, off) -> {
            if (bestFor[0] != qs) {
                // A new query block: the previous one has seen the whole database.
                if (bestFor[0] >= 0) drain(best, bestFor[0], Math.min(best.length, nq - bestFor[0]), indices, sims);
                for (int r = 0; r < ql; r++) best[r] = new TopK(kk);
                bestFor[0] = qs;
            }
            IntStream rows = IntStream.range(0, ql);
            if ((long) ql * dl >= PARALLEL_THRESHOLD) rows = rows.parallel();
            rows.forEach(r -> {
                int self = excludeSelf ? selfOffset + qs + r : -1;
                best[r].offerRow(s, off + r * dl, dl, ds, self);
            });
        });
        if (bestFor[0] >= 0) drain(best, bestFor[0], Math.min(best.length, nq - bestFor[0]), indices, sims);
        return new Neighbors(indices, sims);
    }

    private static void drain(TopK[] best, int qs, int ql, int[][] indices, float[][] sims) {
        IntStream rows = IntStream.range(0, ql);
        if ((long) ql * indices[qs].length >= PARALLEL_THRESHOLD) rows = rows.parallel();
        rows.forEach(r -> best[r].sortedInto(indices[qs + r], sims[qs + r]));
    }

    /**
     * The best k (similarity, index) pairs of one query seen so far. Each pair is packed into a
     * long key whose ascending order is the ranking order ({@link #key}). Candidates that beat
     * the current k-th best (the threshold) are appended to a buffer of about 2k keys; when it
     * fills, a quickselect keeps the best k and moves the threshold up. Most candidates are
     * rejected by one float comparison, and each accepted one costs O(1) amortized (a heap would
     * pay O(log k) unpredictable branches per accepted candidate).
     */
    static final class TopK {
        private final int k;
        private final long[] buf;
        private int size;
        /** Keys at or above this cannot enter (the k-th best key once k are known). */
        private long thresholdKey = Long.MAX_VALUE;
        /** Similarities below this cannot enter: a cheap pre-check equivalent to the key test. */
        private float thresholdSim = Float.NEGATIVE_INFINITY;

        TopK(int k) {
            this.k = k;
            this.buf = new long[Math.max(2 * k, k + 64)];
        }

        /** Offers row[from .. from+n-1] as database items base .. base+n-1, skipping item {@code skip}. */
        void offerRow(float[] row, int from, int n, int base, int skip) {
            float thr = thresholdSim;
            for (int c = 0; c < n; c++) {
                float sim = row[from + c];
                if (sim < thr) continue;
                int j = base + c;
                if (j == skip) continue;
                long key = key(sim, j);
                if (key >= thresholdKey) continue;
                buf[size++] = key;
                if (size == buf.length) {
                    compact();
                    thr = thresholdSim;
                }
            }
        }

        /** Keeps the best k keys and raises the threshold to the k-th. */
        private void compact() {
            selectSmallest(buf, size, k);
            size = k;
            thresholdKey = buf[k - 1];
            float t = similarity(thresholdKey);
            thresholdSim = t != t ? Float.NEGATIVE_INFINITY : t; // a NaN threshold leaves only the key test
        }

        /** Writes the best min(k, seen) entries, best first. */
        void sortedInto(int[] outIdx, float[] outSim) {
            if (size > k) {
                selectSmallest(buf, size, k);
                size = k;
            }
            java.util.Arrays.sort(buf, 0, size);
            for (int i = 0; i < size; i++) {
                outIdx[i] = index(buf[i]);
                outSim[i] = similarity(buf[i]);
            }
        }
    }

    /**
     * A long whose ascending order is the ranking order of (similarity, index) pairs: the high
     * 32 bits order similarities descending (NaN after −∞; −0 is folded into +0, as the two are
     * equal similarities), the low 32 bits hold the (non-negative) index.
     */
    static long key(float sim, int index) {
        int desc;
        if (sim != sim) {
            desc = Integer.MAX_VALUE;
        } else {
            int bits = Float.floatToRawIntBits(sim + 0.0f);
            desc = ~(bits ^ ((bits >> 31) & 0x7fffffff)); // floats as ordered ints, then reversed
        }
        return ((long) desc << 32) | (index & 0xffffffffL);
    }

    static int index(long key) {
        return (int) key;
    }

    static float similarity(long key) {
        int desc = (int) (key >>> 32);
        if (desc == Integer.MAX_VALUE) return Float.NaN;
        int ordered = ~desc;
        return Float.intBitsToFloat(ordered ^ ((ordered >> 31) & 0x7fffffff));
    }

    /**
     * Reorders a[0..n) so that a[0..m) holds its m smallest values (in no particular order) and
     * a[m-1] is the largest of them: quickselect with median-of-three pivots, falling back to a
     * sort after too many rounds. Values must be distinct (keys are, by their index).
     */
    static void selectSmallest(long[] a, int n, int m) {
        if (m >= n) return;
        int lo = 0, hi = n - 1, target = m - 1;
        for (int round = 0; hi > lo; round++) {
            if (round > 64) {
                java.util.Arrays.sort(a, lo, hi + 1);
                return;
            }
            int mid = (lo + hi) >>> 1;
            long x = a[lo], y = a[mid], z = a[hi];
            long pivot = x < y ? (y < z ? y : Math.max(x, z)) : (x < z ? x : Math.max(y, z));
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                return; // a[target] is the pivot itself, in place
            }
        }
    }
}
