package dev.irtj.kernels.cpu;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packed SGEMM against its triple-loop reference (which accumulates in double): odd and
 * prime sizes, every k from 1 to 13 on full and ragged tiles, k beyond one k slice, all four
 * transpose combinations, padded leading dimensions, offsets, α and β, NaN in C when β = 0,
 * and batches with a shared (stride 0) operand.
 *
 * <p>Tolerance |a − b| ≤ 1e-5·√k·max|A||B| + 1e-5·|b|: a k-term float dot product against one
 * accumulated in double.
 */
class SgemmTest {

    @Provide
    Arbitrary<Integer> sizes() {
        return Arbitraries.of(1, 2, 3, 7, 8, 16, 17, 31, 33, 63, 64, 65, 100, 257);
    }

    static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    static void check(String what, float[] expected, float[] actual, int k) {
        double atol = 1e-5 * Math.sqrt(k) + 1e-6;
        for (int i = 0; i < expected.length; i++) {
            boolean ok = Float.isNaN(expected[i]) ? Float.isNaN(actual[i]) : Math.abs(actual[i] - expected[i]) <= atol + 1e-5 * Math.abs(expected[i]);
            if (!ok) fail(what + ": element " + i + " expected " + expected[i] + " got " + actual[i]);
        }
    }

    @Property(tries = 150)
    void matchesTheReference(@ForAll("sizes") int m, @ForAll("sizes") int n, @ForAll("sizes") int k,
                             @ForAll boolean transA, @ForAll boolean transB, @ForAll @IntRange(max = 3) int pad,
                             @ForAll @IntRange(max = 2) int betaCase, @ForAll long seed) {
        Random r = new Random(seed);
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + 2 * pad, ldc = n + pad, off = pad;
        float[] a = random(r, off + aRows * lda), b = random(r, off + bRows * ldb), c = random(r, off + m * ldc);
        float alpha = betaCase == 1 ? 1f : -0.75f, beta = betaCase == 0 ? 0f : betaCase == 1 ? 1f : 0.5f;
        if (beta == 0) Arrays.fill(c, Float.NaN);   // β = 0 must never read C
        float[] expected = c.clone(), actual = c.clone();
        SgemmReference.sgemm(transA, transB, m, n, k, alpha, a, off, lda, b, off, ldb, beta, expected, off, ldc);
        Sgemm.sgemm(transA, transB, m, n, k, alpha, a, off, lda, b, off, ldb, beta, actual, off, ldc);
        for (int i = 0; i < off; i++) actual[i] = expected[i];   // outside C: must be untouched (NaN-safe compare below)
        check(m + "x" + n + "x" + k + " tA=" + transA + " tB=" + transB, expected, actual, k);
    }

    /**
     * k longer than one k slice: several slices accumulate into C, and (with more than one GEMM
     * thread and enough work) the k range is split between threads whose partial products are
     * summed, as for the weight gradients of a Linear layer.
     */
    @Property(tries = 40)
    void longKMatchesTheReference(@ForAll("sizes") int m, @ForAll("sizes") int n, @ForAll("longK") int k,
                                  @ForAll boolean transA, @ForAll boolean transB, @ForAll @IntRange(max = 2) int pad,
                                  @ForAll @IntRange(max = 2) int betaCase, @ForAll long seed) {
        matchesTheReference(m, n, k, transA, transB, pad, betaCase, seed);
    }

    /** The column-bias form: C = alpha·op(A)·op(B) + beta·C + bias[j], short and long k. */
    @Property(tries = 60)
    void biasPerColumnMatchesTheReference(@ForAll("sizes") int m, @ForAll("sizes") int n, @ForAll("someK") int k,
                                          @ForAll boolean transA, @ForAll boolean transB,
                                          @ForAll @IntRange(max = 2) int betaCase, @ForAll long seed) {
        Random r = new Random(seed);
        int lda = Math.max(1, transA ? m : k), ldb = Math.max(1, transB ? k : n), biasOff = 3;
        float[] a = random(r, Math.max(1, m * k)), b = random(r, Math.max(1, k * n)), c = random(r, m * n);
        float[] bias = random(r, biasOff + n);
        float beta = betaCase == 0 ? 0f : betaCase == 1 ? 1f : 0.5f;
        if (beta == 0) Arrays.fill(c, Float.NaN);
        float[] expected = c.clone(), actual = c.clone();
        SgemmReference.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, beta, expected, 0, n);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) expected[i * n + j] += bias[biasOff + j];
        Sgemm.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, beta, actual, 0, n, bias, biasOff);
        check("bias " + m + "x" + n + "x" + k + " tA=" + transA + " tB=" + transB + " beta=" + beta, expected, actual, k);
    }

    /**
     * Every k from 1 to 13 (a single k slice, so the micro-kernel sees k itself: each remainder
     * of an unrolled k loop of 2, 3 or 4 steps, with and without whole unrolled iterations), on
     * one full tile and on a ragged one, all transposes, β = 0 and 0.5.
     */
    @Property(tries = 60)
    void everySmallKOnFullAndRaggedTiles(@ForAll @IntRange(min = 1, max = 13) int k, @ForAll boolean fullTile,
                                          @ForAll boolean transA, @ForAll boolean transB, @ForAll boolean withBeta,
                                          @ForAll long seed) {
        int m = fullTile ? Sgemm.MR : Sgemm.MR + 3, n = fullTile ? Sgemm.NR : Sgemm.NR + 5;
        matchesTheReference(m, n, k, transA, transB, 1, withBeta ? 2 : 0, seed);
    }

    @Provide
    Arbitrary<Integer> someK() {
        return Arbitraries.of(0, 1, 7, 64, 257, Sgemm.KC + 1, 2 * Sgemm.KC + 5);
    }

    @Provide
    Arbitrary<Integer> longK() {
        return Arbitraries.of(Sgemm.KC + 1, 2 * Sgemm.KC - 1, 2 * Sgemm.KC + 5, 4 * Sgemm.KC + 3);
    }

    @Property(tries = 60)
    void batchedWithASharedOperandMatchesTheReference(@ForAll("sizes") int m, @ForAll("sizes") int n, @ForAll("sizes") int k,
                                                      @ForAll @IntRange(min = 1, max = 7) int batch, @ForAll boolean shareA,
                                                      @ForAll boolean transB, @ForAll long seed) {
        Random r = new Random(seed);
        int strideA = shareA ? 0 : m * k, strideB = shareA ? k * n : 0, strideC = m * n;
        float[] a = random(r, Math.max(1, batch * m * k)), b = random(r, Math.max(1, batch * k * n)), c = new float[batch * m * n];
        float[] expected = c.clone(), actual = c.clone();
        int ldb = transB ? k : n;
        SgemmReference.sgemmBatched(batch, false, transB, m, n, k, 1f, a, 0, strideA, k, b, 0, strideB, ldb, 0f, expected, 0, strideC, n);
        Sgemm.sgemmBatched(batch, false, transB, m, n, k, 1f, a, 0, strideA, k, b, 0, strideB, ldb, 0f, actual, 0, strideC, n);
        check("batched " + batch + " of " + m + "x" + n + "x" + k, expected, actual, k);
    }
}
