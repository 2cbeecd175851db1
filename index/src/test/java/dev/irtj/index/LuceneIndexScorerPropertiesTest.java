package dev.irtj.index;

import dev.irtj.tensor.Rng;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Vector API dot product of the HNSW scorer ({@link VectorDot.Simd}) against the plain scalar
 * reference ({@link VectorDot#scalar}). The two sum in different orders (four vector accumulators
 * and FMA against one running float sum), so they agree to a tolerance, not bit for bit:
 * {@code |simd − ref| ≤ atol + rtol·|ref|}.
 *
 * <p>Tolerances: for unit vectors (what the index holds) Σ|aᵢbᵢ| ≤ 1, and each float sum is within
 * about n·2⁻²⁴ of exact in the worst case (6.6e-5 at n = 1100) but √n·2⁻²⁴ in practice (~2e-6);
 * atol = rtol = 1e-5 leaves a factor ~5 over what is seen. For unnormalized vectors the absolute
 * part is scaled by Σ|aᵢbᵢ|, the condition of the sum.
 *
 * <p>Dimensions run from 1 to 1100 so that every path is taken: shorter than one vector, one to
 * four vectors, the four-accumulator loop, and the scalar tail of every length.
 */
class LuceneIndexScorerPropertiesTest {
    static final double ATOL = 1e-5;
    static final double RTOL = 1e-5;

    @Property(tries = 300)
    void vectorDotMatchesTheScalarReferenceOnUnitVectors(@ForAll @IntRange(min = 1, max = 1100) int dims, @ForAll long seed) {
        Rng rng = new Rng(seed);
        float[] a = Vectors.unit(rng, dims), b = Vectors.unit(rng, dims);
        float ref = VectorDot.scalar(a, b), simd = VectorDot.Simd.dot(a, b);
        assertTrue(Math.abs(simd - ref) <= ATOL + RTOL * Math.abs(ref), () -> "dims " + dims + ": simd " + simd + " ref " + ref);
        // The dispatching entry point is one of the two implementations, whichever this JVM uses.
        float used = VectorDot.dot(a, b);
        assertTrue(Math.abs(used - ref) <= ATOL + RTOL * Math.abs(ref), () -> "dims " + dims + ": dot " + used + " ref " + ref);
    }

    @Property(tries = 300)
    void vectorDotMatchesTheScalarReferenceOnUnnormalizedVectors(@ForAll @IntRange(min = 1, max = 1100) int dims, @ForAll long seed) {
        Rng rng = new Rng(seed);
        float[] a = new float[dims], b = new float[dims];
        double mag = 0;
        for (int i = 0; i < dims; i++) {
            a[i] = (float) (8 * rng.nextGaussian());
            b[i] = (float) (0.25 * rng.nextGaussian());
            mag += Math.abs((double) a[i] * b[i]);
        }
        float ref = VectorDot.scalar(a, b), simd = VectorDot.Simd.dot(a, b);
        double tol = ATOL * mag + RTOL * Math.abs(ref);
        assertTrue(Math.abs(simd - ref) <= tol, () -> "dims " + dims + ": simd " + simd + " ref " + ref);
    }

    /**
     * The builder's row-against-row dot product ({@link VectorDot#dot(float[], int, float[], int, int)}:
     * the eight-accumulator scalar loop below {@link VectorDot#SHORT_ROWS} floats, the vector loop
     * from there) and both of its loops on their own, against the reference on copies of the rows,
     * at random offsets in larger arrays; same tolerances (the loops sum in other orders).
     */
    @Property(tries = 300)
    void rowDotMatchesTheScalarReferenceAtAnyOffset(@ForAll @IntRange(min = 1, max = 600) int dims, @ForAll @IntRange(min = 0, max = 37) int aOff,
                                                   @ForAll @IntRange(min = 0, max = 53) int bOff, @ForAll long seed) {
        Rng rng = new Rng(seed);
        float[] a = new float[aOff + dims + 5], b = new float[bOff + dims + 3];
        for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextGaussian();
        float[] ra = java.util.Arrays.copyOfRange(a, aOff, aOff + dims), rb = java.util.Arrays.copyOfRange(b, bOff, bOff + dims);
        double mag = 0;
        for (int i = 0; i < dims; i++) mag += Math.abs((double) ra[i] * rb[i]);
        float ref = VectorDot.scalar(ra, rb);
        double tol = ATOL * mag + RTOL * Math.abs(ref);
        float used = VectorDot.dot(a, aOff, b, bOff, dims), plain = VectorDot.shortRows(a, aOff, b, bOff, dims);
        float simd = VectorDot.Simd.dot(a, aOff, b, bOff, dims);
        assertTrue(Math.abs(used - ref) <= tol, () -> "dims " + dims + ": row dot " + used + " ref " + ref);
        assertTrue(Math.abs(plain - ref) <= tol, () -> "dims " + dims + ": eight-accumulator loop " + plain + " ref " + ref);
        assertTrue(Math.abs(simd - ref) <= tol, () -> "dims " + dims + ": vector loop " + simd + " ref " + ref);
    }

    /**
     * The builder's one-row-against-many scoring ({@link VectorDot#rows}): bit for bit the row dot
     * product of each pair (the same loops in the same order, written out there), and so within
     * the reference's tolerance; rows of a matrix in one array, ids in any order and repeated.
     */
    @Property(tries = 200)
    void rowsAreTheRowDotOfEachPair(@ForAll @IntRange(min = 1, max = 200) int dims, @ForAll @IntRange(min = 1, max = 40) int rowCount,
                                    @ForAll @IntRange(min = 0, max = 33) int count, @ForAll long seed) {
        Rng rng = new Rng(seed);
        float[] m = new float[rowCount * dims];
        for (int i = 0; i < m.length; i++) m[i] = (float) rng.nextGaussian();
        int q = (int) Math.floorMod(rng.nextLong(), (long) rowCount) * dims;
        int[] ids = new int[count + 3];
        for (int i = 0; i < ids.length; i++) ids[i] = (int) Math.floorMod(rng.nextLong(), (long) rowCount);
        float[] out = new float[count + 1];
        VectorDot.rows(m, q, ids, 2, 2 + count, dims, out);
        for (int j = 0; j < count; j++) {
            int r = ids[2 + j] * dims;
            float pair = VectorDot.dot(m, q, m, r, dims);
            assertEquals(Float.floatToIntBits(pair), Float.floatToIntBits(out[j]), "dims " + dims + " score " + j);
            float[] ra = java.util.Arrays.copyOfRange(m, q, q + dims), rb = java.util.Arrays.copyOfRange(m, r, r + dims);
            double mag = 0;
            for (int i = 0; i < dims; i++) mag += Math.abs((double) ra[i] * rb[i]);
            float ref = VectorDot.scalar(ra, rb);
            assertTrue(Math.abs(out[j] - ref) <= ATOL * mag + RTOL * Math.abs(ref), "dims " + dims + ": " + out[j] + " ref " + ref);
        }
    }

    @Property(tries = 100)
    void scorerScoreIsLucenesDotProductScore(@ForAll @IntRange(min = 1, max = 1024) int dims, @ForAll long seed) {
        Rng rng = new Rng(seed);
        float[] a = Vectors.unit(rng, dims), b = Vectors.unit(rng, dims);
        float lucene = org.apache.lucene.index.VectorSimilarityFunction.DOT_PRODUCT.compare(a, b);
        float ours = IrtjFlatVectorsScorer.score(VectorDot.dot(a, b));
        // Lucene's score is (1 + dot) / 2: half the dot product's tolerance.
        assertTrue(Math.abs(ours - lucene) <= (ATOL + RTOL * Math.abs(lucene)) / 2 + Math.ulp(lucene),
                () -> "dims " + dims + ": ours " + ours + " lucene " + lucene);
    }
}
