package dev.irtj.eval;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Recall@K for metric-learning retrieval benchmarks.
 *
 * <p>A query is a hit at K when at least one of its K nearest gallery items (by the {@link Knn}
 * ranking: larger dot product first, the smaller gallery index first at equal similarity) has
 * the query's label; Recall@K is the fraction of queries that are hits. Every query counts in
 * the denominator, also one that cannot hit because no other gallery item has its label (as in
 * the SOP/CUB/Cars protocol). When K exceeds the number of candidates, all candidates are
 * considered, so Recall@K is then 1 for every query whose label appears among them.
 *
 * <p>Because of the tie rule, equal similarities are resolved by gallery order: with a query
 * equally similar to a wrong item at index 3 and a right item at index 7, the wrong one ranks
 * first and Recall@1 misses.
 *
 * <p>The search runs one block of {@link Knn#DEFAULT_QUERY_BLOCK} queries at a time and keeps only
 * each query's first-hit rank, so memory is O(query block · max K) besides the similarity block,
 * whatever the number of queries (Recall@1000 on SOP's 60k images needs no 60k × 1000 table).
 */
public final class Recall {
    private Recall() {
    }

    /**
     * Recall@K with every sample querying all the others (itself excluded): SOP, CUB-200,
     * Cars-196.
     *
     * @param descriptors [N, D] descriptors (L2-normalized for cosine similarity)
     * @param labels      N class labels
     * @param ks          the K values, each at least 1
     * @return K → recall in [0, 1], in increasing K order
     */
    public static Map<Integer, Double> atK(Tensor descriptors, long[] labels, int... ks) {
        return atKBlocked(descriptors, labels, Knn.DEFAULT_QUERY_BLOCK, Knn.DEFAULT_DATABASE_BLOCK, ks);
    }

    /**
     * Recall@K of queries against a separate gallery, nothing excluded (In-Shop's protocol).
     *
     * @param queries       [Q, D] query descriptors
     * @param queryLabels   Q labels
     * @param gallery       [N, D] gallery descriptors
     * @param galleryLabels N labels
     * @param ks            the K values, each at least 1
     */
    public static Map<Integer, Double> queryGallery(Tensor queries, long[] queryLabels, Tensor gallery,
                                                    long[] galleryLabels, int... ks) {
        return queryGalleryBlocked(queries, queryLabels, gallery, galleryLabels,
                Knn.DEFAULT_QUERY_BLOCK, Knn.DEFAULT_DATABASE_BLOCK, ks);
    }

    static Map<Integer, Double> atKBlocked(Tensor descriptors, long[] labels, int queryBlock, int databaseBlock, int[] ks) {
        SimilarityBlocks.checkMatrix(descriptors, "descriptors");
        checkLabels(labels, descriptors.shape(0), "labels", "descriptors");
        return compute(descriptors, labels, descriptors, labels, true, queryBlock, databaseBlock, ks);
    }

    static Map<Integer, Double> queryGalleryBlocked(Tensor queries, long[] queryLabels, Tensor gallery, long[] galleryLabels,
                                                    int queryBlock, int databaseBlock, int[] ks) {
        SimilarityBlocks.checkPair(queries, gallery);
        checkLabels(queryLabels, queries.shape(0), "queryLabels", "queries");
        checkLabels(galleryLabels, gallery.shape(0), "galleryLabels", "gallery");
        return compute(queries, queryLabels, gallery, galleryLabels, false, queryBlock, databaseBlock, ks);
    }

    /**
     * Runs the k-NN search one block of queries at a time and keeps only each query's first-hit
     * rank, so memory stays O(queryBlock · max K) however many queries there are.
     */
    private static Map<Integer, Double> compute(Tensor queries, long[] queryLabels, Tensor gallery, long[] galleryLabels,
                                                boolean self, int queryBlock, int databaseBlock, int[] ks) {
        int kMax = checkKs(ks);
        SimilarityBlocks.checkBlock(queryBlock, "query");
        int nq = queries.shape(0);
        if (nq == 0) throw new IllegalArgumentException("Recall@K of no queries");
        int[] firstHit = new int[nq];
        try (MemoryScope scope = MemoryScope.open()) { // releases the F32 copies
            Tensor q = queries.to(DType.F32), g = self ? q : gallery.to(DType.F32);
            for (int qs = 0; qs < nq; qs += queryBlock) {
                int ql = Math.min(queryBlock, nq - qs);
                Neighbors nn = Knn.search(q.narrow(0, qs, ql), g, kMax, self ? qs : -1, queryBlock, databaseBlock);
                firstHits(nn, queryLabels, qs, galleryLabels, firstHit);
            }
        }
        return recalls(firstHit, ks);
    }

    /**
     * Recall@K from neighbours already found (e.g. to evaluate several K or label sets on one
     * search). {@code nn} must come from a search with k at least max(ks); rows shorter than a K
     * are taken to hold every candidate.
     */
    public static Map<Integer, Double> fromNeighbors(Neighbors nn, long[] queryLabels, long[] galleryLabels, int... ks) {
        checkKs(ks);
        if (queryLabels == null || galleryLabels == null) throw new NullPointerException("labels are null");
        if (queryLabels.length != nn.queries()) {
            throw new IllegalArgumentException(queryLabels.length + " query labels for " + nn.queries() + " queries");
        }
        if (nn.queries() == 0) throw new IllegalArgumentException("Recall@K of no queries");
        int[] firstHit = new int[nn.queries()];
        firstHits(nn, queryLabels, 0, galleryLabels, firstHit);
        return recalls(firstHit, ks);
    }

    /** firstHit[qs + i]: 0-based rank of query qs+i's first neighbour with its label, MAX_VALUE if none. */
    private static void firstHits(Neighbors nn, long[] queryLabels, int qs, long[] galleryLabels, int[] firstHit) {
        for (int i = 0; i < nn.queries(); i++) {
            int[] row = nn.indices()[i];
            long label = queryLabels[qs + i];
            int p = 0;
            while (p < row.length) {
                int g = row[p];
                if (g < 0 || g >= galleryLabels.length) {
                    throw new IllegalArgumentException("neighbour index " + g + " of query " + (qs + i) + " is outside the "
                            + galleryLabels.length + " gallery labels");
                }
                if (galleryLabels[g] == label) break;
                p++;
            }
            firstHit[qs + i] = p < row.length ? p : Integer.MAX_VALUE;
        }
    }

    private static Map<Integer, Double> recalls(int[] firstHit, int[] ks) {
        TreeMap<Integer, Double> out = new TreeMap<>();
        for (int k : ks) {
            long hits = 0;
            for (int f : firstHit) if (f < k) hits++;
            out.put(k, (double) hits / firstHit.length);
        }
        return Collections.unmodifiableMap(out);
    }

    private static int checkKs(int[] ks) {
        if (ks == null || ks.length == 0) throw new IllegalArgumentException("no K given for Recall@K");
        int max = 0;
        for (int k : ks) {
            if (k < 1) throw new IllegalArgumentException("Recall@K needs K >= 1, got " + k);
            max = Math.max(max, k);
        }
        return max;
    }

    private static void checkLabels(long[] labels, int rows, String what, String of) {
        if (labels == null) throw new NullPointerException(what + " is null");
        if (labels.length != rows) {
            throw new IllegalArgumentException(what + " has " + labels.length + " entries but " + of + " has " + rows + " rows");
        }
    }
}
