package dev.irtj.eval;

import java.util.Objects;

/**
 * The result of a {@link Knn} search: for each query, the indices of its nearest database items
 * and their similarities, best first (larger similarity first; the smaller index first at equal
 * similarity).
 *
 * <p>Every row has the same length {@link #k()}, which is the k asked for, or the number of
 * candidates when there were fewer. The arrays are the search's own (no copies are made for
 * large results); treat them as read-only.
 *
 * @param indices      {@code indices[q][r]}: database index of query q's r-th neighbour
 * @param similarities {@code similarities[q][r]}: its similarity (dot product) with query q
 */
public record Neighbors(int[][] indices, float[][] similarities) {
    public Neighbors {
        Objects.requireNonNull(indices, "indices");
        Objects.requireNonNull(similarities, "similarities");
        if (indices.length != similarities.length) {
            throw new IllegalArgumentException(indices.length + " rows of indices but " + similarities.length + " of similarities");
        }
        int k = indices.length == 0 ? 0 : indices[0].length;
        for (int q = 0; q < indices.length; q++) {
            if (indices[q].length != k || similarities[q].length != k) {
                throw new IllegalArgumentException("row " + q + " has " + indices[q].length + " indices and "
                        + similarities[q].length + " similarities; every row must have " + k);
            }
        }
    }

    /** Number of queries (rows). */
    public int queries() {
        return indices.length;
    }

    /** Neighbours per query (0 when there are no queries). */
    public int k() {
        return indices.length == 0 ? 0 : indices[0].length;
    }
}
