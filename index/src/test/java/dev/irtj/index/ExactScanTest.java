package dev.irtj.index;

import dev.irtj.eval.Knn;
import dev.irtj.eval.Neighbors;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** ExactScan gives Knn.search's indices and similarities bit for bit (the CPU backend's GEMM arithmetic). */
class ExactScanTest {
    static void check(int n, int d, int k, long seed, boolean duplicates) {
        Rng rng = new Rng(seed);
        float[] rows = new float[n * d];
        for (int i = 0; i < rows.length; i++) rows[i] = (float) rng.nextGaussian() / (float) Math.sqrt(d);
        if (duplicates) {
            for (int i = 1; i < n; i += 3) System.arraycopy(rows, (i - 1) * d, rows, i * d, d);   // exact ties: by index
        }
        float[] q = new float[d];
        for (int i = 0; i < d; i++) q[i] = (float) rng.nextGaussian() / (float) Math.sqrt(d);
        float[] xt = new float[n * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) xt[j * n + i] = rows[i * d + j];
        Neighbors want = Knn.search(Tensor.of(q, 1, d), Tensor.of(rows, n, d), k, false);
        // 1 thread: the scan on the calling thread (-Dirtj.threads=1); 3: split in parts where it is large enough.
        for (int threads : new int[] {1, 3}) {
            ExactScan.Result got = ExactScan.topK(xt, n, d, q, k, threads);
            String what = n + " x " + d + ", k " + k + ", " + threads + " thread(s)";
            assertArrayEquals(want.indices()[0], got.indices(), what);
            assertArrayEquals(want.similarities()[0], got.similarities(), 0f, what);
        }
    }

    @Property(tries = 40)
    void equalsKnnSearch(@ForAll @IntRange(min = 1, max = 1200) int n, @ForAll @IntRange(min = 1, max = 80) int d,
                         @ForAll @IntRange(min = 1, max = 40) int k, @ForAll boolean duplicates) {
        check(n, d, k, 31L * n + d, duplicates);
    }

    @Test
    void equalsKnnSearchAcrossGemmKSlicesAndThreads() {
        check(3000, 384, 10, 1, false);    // one k slice, several threads
        check(700, 1000, 25, 2, true);     // two k slices of 500
        check(300, 2500, 7, 3, false);     // four k slices of 625
        check(1500, 769, 1500, 4, true);   // two slices of 385; every item returned
    }

    /** The scalar form (used where the Vector API module is absent) computes the same sums as the SIMD one. */
    @Test
    void scalarFallbackGivesTheSameSimilarities() {
        int n = 333, d = 50;
        Rng rng = new Rng(9);
        float[] xt = new float[n * d], q = new float[d];
        for (int i = 0; i < xt.length; i++) xt[i] = (float) rng.nextGaussian();
        for (int i = 0; i < d; i++) q[i] = (float) rng.nextGaussian();
        float[] acc = new float[n];
        ExactScan.scalarChain(xt, n, q, 0, n, 0, d, acc);
        ExactScan.Result all = ExactScan.topK(xt, n, d, q, n);
        float[] bySimd = new float[n];
        for (int i = 0; i < n; i++) bySimd[all.indices()[i]] = all.similarities()[i];
        assertArrayEquals(acc, bySimd, 0f);
    }
}
