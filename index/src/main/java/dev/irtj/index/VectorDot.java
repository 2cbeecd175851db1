package dev.irtj.index;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.apache.lucene.util.VectorUtil;

import java.util.Arrays;

/**
 * The float dot product of the HNSW scorer ({@link IrtjFlatVectorsScorer}): a
 * {@code jdk.incubator.vector} loop where the Vector API is usable, else Lucene's
 * {@link VectorUtil#dotProduct}.
 *
 * <p>Why our own: Lucene 9.12 vectorizes its similarity code only on JDK 21 and later; on JDK 17
 * (irtj's) it falls back to a scalar loop, which profiling showed at ~85% of an HNSW query (and
 * of the graph construction, which scores the same way). The loop here is written from the
 * Vector API documentation and irtj's own CPU kernels (kernels module); Lucene's PanamaVectorUtilSupport
 * was read only to confirm that four independent FMA accumulators are what hides the FMA latency.
 *
 * <p>{@link #scalar} is the plain reference the vector loop is tested against (its summation
 * order differs, so results differ in the last bits; see VectorDotPropertiesTest for the
 * tolerance).
 */
final class VectorDot {
    /** Null when the vector loop is used; otherwise why not (module absent, narrow SIMD, no C2). */
    static final String PROBLEM = detect();
    private static final boolean VECTOR = PROBLEM == null;

    private VectorDot() {
    }

    static float dot(float[] a, float[] b) {
        return VECTOR ? Simd.dot(a, b) : VectorUtil.dotProduct(a, b);
    }

    /**
     * The dot product of {@code a} with {@code b[off .. off + a.length)}: a row of a matrix held
     * in one array ({@link SegmentGraph}'s vectors), bit for bit {@link #dot(float[], float[])} of
     * {@code a} with a copy of that row (the same loop, in the same order).
     */
    static float dot(float[] a, float[] b, int off) {
        if (VECTOR) return Simd.dot(a, b, off);
        float[] row = Arrays.copyOfRange(b, off, off + a.length);
        return VectorUtil.dotProduct(a, row);
    }

    /**
     * Rows shorter than this go to {@link #shortRows} even where the Vector API is usable:
     * measured on the demo's 48-d descriptors (AVX-512, 16 lanes), the graph build took the same
     * CPU time with either loop in a warm JVM and 0.54 against 0.67-0.85 CPU s in a fresh one,
     * where Vector API code runs slowly until C2 has compiled it.
     */
    static final int SHORT_ROWS = 64;

    /**
     * The dot product of rows {@code a[aOff .. aOff + n)} and {@code b[bOff .. bOff + n)}: two rows
     * of matrices held in one array each (the graph builder's vectors, {@link HnswBuilder}).
     * From {@link #SHORT_ROWS} floats up the vector loop of {@link #dot(float[], float[], int)}
     * (the same order); shorter rows, or without the Vector API, {@link #shortRows}. The builder
     * needs no agreement with any other scorer's bits.
     */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        if (aOff < 0 || aOff > a.length - n || bOff < 0 || bOff > b.length - n) {
            throw new IndexOutOfBoundsException("rows at " + aOff + " and " + bOff + " of " + n + " floats in arrays of " + a.length
                    + " and " + b.length);
        }
        if (VECTOR && n >= SHORT_ROWS) return Simd.dot(a, aOff, b, bOff, n);
        return shortRows(a, aOff, b, bOff, n);
    }

    /**
     * Eight independent accumulators over blocks of eight (a scalar loop the JIT compiles fast,
     * whose adds do not wait on each other), then a scalar tail; summed pairwise at the end.
     */
    static float shortRows(float[] a, int aOff, float[] b, int bOff, int n) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i <= n - 8; i += 8) {
            int x = aOff + i, y = bOff + i;
            s0 += a[x] * b[y];
            s1 += a[x + 1] * b[y + 1];
            s2 += a[x + 2] * b[y + 2];
            s3 += a[x + 3] * b[y + 3];
            s4 += a[x + 4] * b[y + 4];
            s5 += a[x + 5] * b[y + 5];
            s6 += a[x + 6] * b[y + 6];
            s7 += a[x + 7] * b[y + 7];
        }
        for (; i < n; i++) s0 += a[aOff + i] * b[bOff + i];
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /**
     * The dot products of row {@code q} (at {@code m[q .. q + n)}) with rows {@code ids[from ..
     * to)} of the same matrix (row {@code r} at {@code m[r * n ..]}), into {@code out[0 .. to -
     * from)}: bit for bit {@link #dot(float[], int, float[], int, int)} of each pair (the same
     * loops in the same order).
     *
     * <p>Why one method for a row against many, with the eight-accumulator loop written out here
     * rather than called: it is the graph builder's one way to score (its beam search, descent,
     * selection and pruning all come here), and written out it puts this method's bytecode above
     * C2's FreqInlineSize (325 bytes), so C2 compiles the loop once on its own instead of
     * inlining a copy into each of the builder's callers (as kernels' ExpKernel does for its exp).
     * In a fresh JVM those copies were compiler time the index build paid: a diagnostic run that
     * kept the dot product out of its callers took the builder alone from 0.61 to 0.53 CPU s
     * (bench/README.md, branch coldbuild).
     */
    static void rows(float[] m, int q, int[] ids, int from, int to, int n, float[] out) {
        if (q < 0 || q > m.length - n || from < 0 || to > ids.length || to - from > out.length) {
            throw new IndexOutOfBoundsException("row at " + q + " of " + n + " floats against ids [" + from + ", " + to + ") of "
                    + ids.length + " into " + out.length + " scores, in an array of " + m.length);
        }
        if (VECTOR && n >= SHORT_ROWS) {
            for (int j = from; j < to; j++) out[j - from] = Simd.dot(m, q, m, ids[j] * n, n);
            return;
        }
        for (int j = from; j < to; j++) {
            int r = ids[j] * n;
            if (r < 0 || r > m.length - n) {
                throw new IndexOutOfBoundsException("row " + ids[j] + " of " + n + " floats in an array of " + m.length);
            }
            // shortRows's loop, written out (see above).
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            int i = 0;
            for (; i <= n - 8; i += 8) {
                int x = q + i, y = r + i;
                s0 += m[x] * m[y];
                s1 += m[x + 1] * m[y + 1];
                s2 += m[x + 2] * m[y + 2];
                s3 += m[x + 3] * m[y + 3];
                s4 += m[x + 4] * m[y + 4];
                s5 += m[x + 5] * m[y + 5];
                s6 += m[x + 6] * m[y + 6];
                s7 += m[x + 7] * m[y + 7];
            }
            for (; i < n; i++) s0 += m[q + i] * m[r + i];
            out[j - from] = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        }
    }

    /** Whether {@link #dot} runs the Vector API loop. */
    static boolean vectorized() {
        return VECTOR;
    }

    /** The reference: one accumulator, index order, multiply then add (as written). */
    static float scalar(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("vector dimensions differ: " + a.length + " != " + b.length);
        float s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static String detect() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "the jdk.incubator.vector module is not loaded (start the JVM with --add-modules jdk.incubator.vector)";
        }
        if (System.getProperty("java.vm.info", "").contains("interpreted mode")) return "the JVM runs interpreted (-Xint)";
        try {
            int bits = Simd.bits();
            // Narrower than AVX2 the vector loop is no faster than the JIT's own code for the scalar one.
            if (bits < 256) return "the preferred float vector is " + bits + " bits wide (at least 256 needed)";
        } catch (LinkageError e) {
            return "the Vector API failed to load: " + e;
        }
        return null;
    }

    /**
     * The Vector API loop, in a class of its own so that a JVM without the incubator module
     * never loads it (the outer class then uses Lucene's scalar code; imports are compile-time
     * only, and only this class's code names FloatVector).
     */
    static final class Simd {
        // One species only: the preferred one (512 bits with AVX-512, 256 with AVX2), so the
        // JIT sees one shape and intrinsifies every operation.
        private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
        private static final int L = S.length();

        private Simd() {
        }

        static int bits() {
            return S.vectorBitSize();
        }

        static float dot(float[] a, float[] b) {
            if (a.length != b.length) throw new IllegalArgumentException("vector dimensions differ: " + a.length + " != " + b.length);
            return dot(a, b, 0);
        }

        /** {@code a} against {@code b[off .. off + a.length)}. */
        static float dot(float[] a, float[] b, int off) {
            return dot(a, 0, b, off, a.length);
        }

        /**
         * {@code a[aOff .. aOff + n)} against {@code b[bOff .. bOff + n)} (checked once here, so
         * the loads need no per-lane checks of ours).
         */
        static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            if (aOff < 0 || aOff > a.length - n || bOff < 0 || bOff > b.length - n) {
                throw new IndexOutOfBoundsException("rows at " + aOff + " and " + bOff + " of " + n + " floats in arrays of " + a.length
                        + " and " + b.length);
            }
            int i = 0;
            float sum = 0;
            if (n >= 4 * L) {
                // Four independent accumulators: an FMA has a latency of ~4 cycles and a throughput
                // of 1-2 per cycle, so one accumulator would leave the unit idle most of the time.
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                for (int end = n - 4 * L; i <= end; i += 4 * L) {
                    s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
                    s1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), s1);
                    s2 = FloatVector.fromArray(S, a, aOff + i + 2 * L).fma(FloatVector.fromArray(S, b, bOff + i + 2 * L), s2);
                    s3 = FloatVector.fromArray(S, a, aOff + i + 3 * L).fma(FloatVector.fromArray(S, b, bOff + i + 3 * L), s3);
                }
                // Whole vectors left over (fewer than four).
                for (int end = n - L; i <= end; i += L) {
                    s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
                }
                sum = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
            } else if (n >= L) {
                FloatVector s0 = FloatVector.zero(S);
                for (int end = n - L; i <= end; i += L) {
                    s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
                }
                sum = s0.reduceLanes(VectorOperators.ADD);
            }
            // Scalar tail (fewer than L elements): no masked loads, which are slow on AVX2.
            for (; i < n; i++) sum = Math.fma(a[aOff + i], b[bOff + i], sum);
            return sum;
        }
    }
}
