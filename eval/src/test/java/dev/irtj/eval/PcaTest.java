package dev.irtj.eval;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PcaTest {

    /** An orthonormal basis of a random k-dimensional subspace of R^d, as k rows (Gram-Schmidt). */
    private static double[][] randomBasis(Random rnd, int k, int d) {
        double[][] u = new double[k][d];
        for (int i = 0; i < k; i++) {
            for (int c = 0; c < d; c++) u[i][c] = rnd.nextGaussian();
            for (int j = 0; j < i; j++) {
                double dot = 0;
                for (int c = 0; c < d; c++) dot += u[i][c] * u[j][c];
                for (int c = 0; c < d; c++) u[i][c] -= dot * u[j][c];
            }
            double norm = 0;
            for (int c = 0; c < d; c++) norm += u[i][c] * u[i][c];
            for (int c = 0; c < d; c++) u[i][c] /= Math.sqrt(norm);
        }
        return u;
    }

    /** n points: offset + Σ_i scale_i·z_i·u_i + noise·gaussian, as [n, d] F64. */
    private static Tensor planted(Random rnd, int n, double[][] u, double[] scales, double[] offset, double noise) {
        int d = offset.length;
        double[] x = new double[n * d];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < d; c++) x[r * d + c] = offset[c] + noise * rnd.nextGaussian();
            for (int i = 0; i < u.length; i++) {
                double z = scales[i] * rnd.nextGaussian();
                for (int c = 0; c < d; c++) x[r * d + c] += z * u[i][c];
            }
        }
        return Tensor.of(x, n, d);
    }

    @Test
    void recoversAPlantedSubspace() {
        Random rnd = new Random(1);
        int d = 12;
        double[][] u = randomBasis(rnd, 3, d);
        double[] offset = new double[d];
        for (int c = 0; c < d; c++) offset[c] = 3 * rnd.nextGaussian();
        Tensor x = planted(rnd, 2000, u, new double[] {5, 3, 2}, offset, 1e-3);
        Pca pca = Pca.fit(x.to(DType.F32), 3);
        double[] comps = pca.components().toDoubleArray();
        // The projector onto the fitted components equals the projector onto the planted subspace.
        for (int a = 0; a < d; a++) {
            for (int b = 0; b < d; b++) {
                double want = 0, got = 0;
                for (int i = 0; i < 3; i++) {
                    want += u[i][a] * u[i][b];
                    got += comps[i * d + a] * comps[i * d + b];
                }
                assertEquals(want, got, 1e-4, "projector entry " + a + "," + b);
            }
        }
        double[] ev = pca.eigenvalues();
        assertEquals(d, ev.length);
        for (int i = 1; i < d; i++) assertTrue(ev[i] <= ev[i - 1], "descending spectrum");
        assertEquals(25, ev[0], 25 * 0.1);
        assertEquals(9, ev[1], 9 * 0.1);
        assertEquals(4, ev[2], 4 * 0.1);
        assertTrue(ev[3] < 1e-5, "noise eigenvalue " + ev[3]);
        assertTrue(pca.retainedVariance() > 0.99999);
        double total = 0;
        for (double v : pca.explainedVariance()) total += v;
        assertEquals(1.0, total, 1e-12);
        // The planted offset is the mean.
        assertArrayEquals(offset, pca.mean().toDoubleArray(), 0.5);
    }

    @Test
    void spectrumSumsToTheTotalSampleVariance() {
        Random rnd = new Random(2);
        int n = 300, d = 9;
        double[] x = new double[n * d];
        for (int i = 0; i < x.length; i++) x[i] = rnd.nextGaussian() * (1 + i % d);
        double trace = 0;
        for (int c = 0; c < d; c++) {
            double m = 0, v = 0;
            for (int r = 0; r < n; r++) m += x[r * d + c] / n;
            for (int r = 0; r < n; r++) v += (x[r * d + c] - m) * (x[r * d + c] - m) / (n - 1);
            trace += v;
        }
        double sum = 0;
        for (double e : Pca.fit(Tensor.of(x, n, d), 4).eigenvalues()) sum += e;
        assertEquals(trace, sum, 1e-9 * trace);
    }

    @Test
    void componentsAreOrthonormalAndSignFixed() {
        Random rnd = new Random(3);
        Tensor x = Naive.gaussianUnit(rnd, 500, 16);
        Pca pca = Pca.fit(x, 10);
        double[] c = pca.components().toDoubleArray();
        int d = 16;
        for (int i = 0; i < 10; i++) {
            for (int j = 0; j < 10; j++) {
                double dot = 0;
                for (int t = 0; t < d; t++) dot += c[i * d + t] * c[j * d + t];
                assertEquals(i == j ? 1.0 : 0.0, dot, 1e-10, "components " + i + ", " + j);
            }
            int big = 0;
            for (int t = 1; t < d; t++) if (Math.abs(c[i * d + t]) > Math.abs(c[i * d + big])) big = t;
            assertTrue(c[i * d + big] > 0, "largest entry of component " + i + " is positive");
        }
        // Negating the data leaves the covariance, hence the signed components, unchanged.
        Pca negated = Pca.fit(x.neg(), 10);
        assertArrayEquals(c, negated.components().toDoubleArray(), 1e-9);
    }

    @Test
    void projectionOfTheMeanIsZeroAndApplyNormalizes() {
        Random rnd = new Random(4);
        Tensor x = Naive.gaussianUnit(rnd, 200, 8);
        Pca pca = Pca.fit(x, 5);
        Tensor mean = pca.mean().reshape(1, 8);
        assertArrayEquals(new double[5], pca.project(mean).toDoubleArray(), 0.0);
        assertArrayEquals(new double[5], pca.apply(mean).toDoubleArray(), 0.0);
        assertArrayEquals(new float[5], pca.project(mean.to(DType.F32)).toFloatArray(), 0f);

        Tensor y = pca.apply(x);
        assertArrayEquals(new int[] {200, 5}, y.shape());
        assertEquals(DType.F32, y.dtype());
        float[] v = y.toFloatArray();
        for (int r = 0; r < 200; r++) {
            double norm = 0;
            for (int c = 0; c < 5; c++) norm += v[r * 5 + c] * v[r * 5 + c];
            assertEquals(1.0, norm, 1e-5, "row " + r);
        }
        // Projected training data is centred and its per-component variances are the eigenvalues.
        double[] p = pca.project(x.to(DType.F64)).toDoubleArray();
        double[] ev = pca.eigenvalues();
        for (int c = 0; c < 5; c++) {
            double m = 0, var = 0;
            for (int r = 0; r < 200; r++) m += p[r * 5 + c] / 200;
            for (int r = 0; r < 200; r++) var += p[r * 5 + c] * p[r * 5 + c] / 199;
            assertEquals(0, m, 1e-7);
            assertEquals(ev[c], var, 1e-6 * ev[0]);
        }
    }

    @Test
    void saveAndLoad() {
        Random rnd = new Random(5);
        Tensor x = Naive.gaussianUnit(rnd, 100, 6);
        Pca pca = Pca.fit(x, 3);
        Map<String, Tensor> saved = pca.toTensors();
        assertArrayEquals(new int[] {6}, saved.get("pca.mean").shape());
        assertArrayEquals(new int[] {3, 6}, saved.get("pca.components").shape());
        Pca loaded = Pca.fromTensors(saved);
        assertEquals(3, loaded.outputDims());
        assertEquals(6, loaded.inputDims());
        assertArrayEquals(pca.apply(x).toFloatArray(), loaded.apply(x).toFloatArray(), 0f);
        assertArrayEquals(pca.eigenvalues(), loaded.eigenvalues(), 0.0);

        Map<String, Tensor> f32 = Map.of("pca.mean", saved.get("pca.mean").to(DType.F32),
                "pca.components", saved.get("pca.components").to(DType.F32));
        Pca fromF32 = Pca.fromTensors(f32);
        assertArrayEquals(pca.apply(x).toFloatArray(), fromF32.apply(x).toFloatArray(), 1e-5f);
        assertThrows(IllegalStateException.class, fromF32::eigenvalues);
        assertThrows(IllegalArgumentException.class, () -> Pca.fromTensors(Map.of("pca.mean", saved.get("pca.mean"))));
    }

    @Test
    void rejectsBadArguments() {
        Tensor x = Naive.gaussianUnit(new Random(6), 20, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pca.fit(x, 9));
        assertTrue(e.getMessage().contains("9") && e.getMessage().contains("8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Pca.fit(x, 0));
        assertThrows(IllegalArgumentException.class, () -> Pca.fit(x.narrow(0, 0, 1), 2));
        Pca pca = Pca.fit(x, 8); // dims = D is allowed
        assertEquals(8, pca.outputDims());
        assertThrows(IllegalArgumentException.class, () -> pca.apply(Tensor.zeros(DType.F32, 2, 7)));
    }
}
