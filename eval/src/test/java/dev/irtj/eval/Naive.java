package dev.irtj.eval;

import dev.irtj.tensor.Tensor;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;

/** Unblocked reference computations for the tests: the full similarity matrix and full sorts. */
final class Naive {
    private Naive() {
    }

    /** The whole Q×N similarity matrix from one matrix product. */
    static float[][] similarities(Tensor q, Tensor db) {
        Tensor s = q.to(dev.irtj.tensor.DType.F32).matmul(db.to(dev.irtj.tensor.DType.F32).mT());
        int nq = q.shape(0), nd = db.shape(0);
        float[] flat = s.toFloatArray();
        float[][] out = new float[nq][];
        for (int i = 0; i < nq; i++) out[i] = Arrays.copyOfRange(flat, i * nd, (i + 1) * nd);
        return out;
    }

    /** Every database index of a query, fully sorted: larger similarity first, then smaller index. */
    static Integer[] fullRanking(float[] row, int skip) {
        return java.util.stream.IntStream.range(0, row.length).filter(j -> j != skip).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> -row[j]).thenComparingInt(j -> j))
                .toArray(Integer[]::new);
    }

    static Neighbors knn(Tensor q, Tensor db, int k, boolean excludeSelf) {
        float[][] s = similarities(q, db);
        int[][] idx = new int[s.length][];
        float[][] sims = new float[s.length][];
        for (int i = 0; i < s.length; i++) {
            Integer[] r = fullRanking(s[i], excludeSelf ? i : -1);
            int kk = Math.min(k, r.length);
            idx[i] = new int[kk];
            sims[i] = new float[kk];
            for (int t = 0; t < kk; t++) {
                idx[i][t] = r[t];
                sims[i][t] = s[i][r[t]];
            }
        }
        return new Neighbors(idx, sims);
    }

    /**
     * [n, d] F32 values from {-1, -0.5, 0, 0.5, 1}: every product and sum is exact in float, so
     * any backend and any blocking give identical similarities, and ties are frequent.
     */
    static Tensor quantized(Random rnd, int n, int d) {
        float[] v = new float[n * d];
        for (int i = 0; i < v.length; i++) v[i] = (rnd.nextInt(5) - 2) * 0.5f;
        return Tensor.of(v, n, d);
    }

    /** [n, d] Gaussian rows, L2-normalized. */
    static Tensor gaussianUnit(Random rnd, int n, int d) {
        float[] v = new float[n * d];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return Tensor.of(v, n, d).l2Normalize();
    }
}
