package dev.irtj.index;

import org.apache.lucene.codecs.hnsw.FlatVectorScorerUtil;
import org.apache.lucene.codecs.hnsw.FlatVectorsScorer;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.util.hnsw.RandomAccessVectorValues;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;

import java.io.IOException;

/**
 * Lucene's flat-vector scorer with irtj's float dot product ({@link VectorDot}, Vector API on
 * JDK 17), for {@link VectorSimilarityFunction#DOT_PRODUCT} on float vectors: the only
 * similarity irtj writes. Everything else (byte vectors, other similarities) goes to Lucene's own
 * scorer unchanged.
 *
 * <p>The score is Lucene's for DOT_PRODUCT, {@code max((1 + dot) / 2, 0)}, so graphs and
 * top-docs come out as Lucene's would (up to the last bits of the sum's order).
 */
final class IrtjFlatVectorsScorer implements FlatVectorsScorer {
    static final IrtjFlatVectorsScorer INSTANCE = new IrtjFlatVectorsScorer();

    private static final FlatVectorsScorer LUCENE = FlatVectorScorerUtil.getLucene99FlatVectorsScorer();

    private IrtjFlatVectorsScorer() {
    }

    static float score(float dot) {
        return Math.max((1 + dot) / 2, 0);
    }

    @Override
    public RandomVectorScorerSupplier getRandomVectorScorerSupplier(VectorSimilarityFunction sim, RandomAccessVectorValues values)
            throws IOException {
        if (sim == VectorSimilarityFunction.DOT_PRODUCT && values instanceof RandomAccessVectorValues.Floats f) return new Supplier(f);
        return LUCENE.getRandomVectorScorerSupplier(sim, values);
    }

    @Override
    public RandomVectorScorer getRandomVectorScorer(VectorSimilarityFunction sim, RandomAccessVectorValues values, float[] target)
            throws IOException {
        if (sim == VectorSimilarityFunction.DOT_PRODUCT && values instanceof RandomAccessVectorValues.Floats f) {
            if (target.length != f.dimension()) {
                throw new IllegalArgumentException("the query has " + target.length + " dims; the field holds " + f.dimension());
            }
            return new RandomVectorScorer.AbstractRandomVectorScorer(f) {
                @Override
                public float score(int node) throws IOException {
                    return IrtjFlatVectorsScorer.score(VectorDot.dot(target, f.vectorValue(node)));
                }
            };
        }
        return LUCENE.getRandomVectorScorer(sim, values, target);
    }

    @Override
    public RandomVectorScorer getRandomVectorScorer(VectorSimilarityFunction sim, RandomAccessVectorValues values, byte[] target)
            throws IOException {
        return LUCENE.getRandomVectorScorer(sim, values, target);
    }

    @Override
    public String toString() {
        return "IrtjFlatVectorsScorer(" + (VectorDot.vectorized() ? "Vector API" : "Lucene's scalar code: " + VectorDot.PROBLEM) + ")";
    }

    /**
     * Scores graph nodes against each other while the graph is built or merged. Two copies of
     * the values: off-heap values reuse one buffer per copy, so the node being inserted and the
     * node it is compared with must not share one.
     */
    private static final class Supplier implements RandomVectorScorerSupplier {
        private final RandomAccessVectorValues.Floats values;
        private final RandomAccessVectorValues.Floats fixed;
        private final RandomAccessVectorValues.Floats other;

        Supplier(RandomAccessVectorValues.Floats values) throws IOException {
            this.values = values;
            this.fixed = values.copy();
            this.other = values.copy();
        }

        @Override
        public RandomVectorScorer scorer(int ord) {
            return new RandomVectorScorer.AbstractRandomVectorScorer(values) {
                @Override
                public float score(int node) throws IOException {
                    // Read at every call (a cached ord costs nothing off-heap) rather than held:
                    // another scorer of this supplier may have read a new ord into the buffer since.
                    return IrtjFlatVectorsScorer.score(VectorDot.dot(fixed.vectorValue(ord), other.vectorValue(node)));
                }
            };
        }

        @Override
        public RandomVectorScorerSupplier copy() throws IOException {
            return new Supplier(values.copy());
        }
    }
}
