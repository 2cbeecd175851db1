package dev.irtj.kernels.cpu;

/**
 * Straightforward triple-loop SGEMM used as the ground truth in tests. Same contract as
 * {@link Sgemm#sgemm}; the dot products are accumulated in double so that the reference is
 * clearly more accurate than the kernel under test.
 */
public final class SgemmReference {

    private SgemmReference() {}

    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float aip = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bpj = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += (double) aip * bpj;
                }
                int ci = cOff + i * ldc + j;
                double old = beta == 0f ? 0.0 : (double) beta * c[ci];
                c[ci] = (float) (alpha * sum + old);
            }
        }
    }

    /** Reference for {@link Sgemm#sgemmBatched}: one {@link #sgemm} per batch item. */
    public static void sgemmBatched(int batch, boolean transA, boolean transB, int m, int n, int k,
                                    float alpha, float[] a, int aOff, int strideA, int lda,
                                    float[] b, int bOff, int strideB, int ldb, float beta,
                                    float[] c, int cOff, int strideC, int ldc) {
        for (int item = 0; item < batch; item++) {
            sgemm(transA, transB, m, n, k, alpha, a, aOff + item * strideA, lda,
                    b, bOff + item * strideB, ldb, beta, c, cOff + item * strideC, ldc);
        }
    }
}
