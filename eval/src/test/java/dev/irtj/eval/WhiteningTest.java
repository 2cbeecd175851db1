package dev.irtj.eval;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WhiteningTest {
    /** N correlated, shifted rows of D dimensions. */
    private static Tensor correlated(int n, int d, long seed) {
        Tensor z = Tensor.randn(new Rng(seed), DType.F64, n, d);
        Tensor mix = Tensor.randn(new Rng(seed + 1), DType.F64, d, d);
        return z.matmul(mix).add(Tensor.full(3.0, DType.F64, 1, d));
    }

    @Test
    void learningDataComesOutWithIdentityCovariance() {
        int n = 200, d = 6;
        Tensor x = correlated(n, d, 1);
        Whitening w = Whitening.fit(x, 0);
        assertEquals(d, w.outputDims());
        double[] y = w.whiten(x).toDoubleArray();
        // |cov_ij - δ_ij| <= 1e-9: the fit is in double precision, the data well conditioned.
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double c = 0, mi = 0, mj = 0;
                for (int r = 0; r < n; r++) {
                    mi += y[r * d + i];
                    mj += y[r * d + j];
                }
                mi /= n;
                mj /= n;
                for (int r = 0; r < n; r++) c += (y[r * d + i] - mi) * (y[r * d + j] - mj);
                c /= n - 1;
                assertEquals(i == j ? 1.0 : 0.0, c, 1e-9, "cov[" + i + "][" + j + "]");
                if (i == j) assertEquals(0.0, mi, 1e-9, "centred");
            }
        }
        // apply() normalizes each row.
        double[] a = w.apply(x.narrow(0, 0, 3)).toDoubleArray();
        for (int r = 0; r < 3; r++) {
            double s = 0;
            for (int c = 0; c < d; c++) s += a[r * d + c] * a[r * d + c];
            assertEquals(1.0, s, 1e-12);
        }
    }

    @Test
    void savedAndReloadedItWhitensTheSame() {
        Tensor x = correlated(50, 5, 2);
        Whitening w = Whitening.fit(x, 3);
        Whitening back = Whitening.fromTensors(w.toTensors());
        assertArrayEquals(w.apply(x).toDoubleArray(), back.apply(x).toDoubleArray(), 0.0);
        assertEquals(3, back.outputDims());
    }

    @Test
    void atMostTheDimensionsTheDataSpans() {
        Tensor x = correlated(5, 8, 3); // 5 rows span 4 dimensions after centring
        assertEquals(4, Whitening.fit(x, 0).outputDims());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Whitening.fit(x, 6));
        assertTrue(e.getMessage().contains("span only 4 dimensions"), e.getMessage());
    }
}
