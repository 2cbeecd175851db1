package dev.irtj.kernels.cpu;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ExpKernel#expScaledSum}, the online softmax's one pass, against the passes it replaced:
 * scale and shift (one fma per element), {@link ExpKernel#exp(float[], int, float[], int, int)},
 * then a sum. Each exponential must be bit for bit the separate passes' value (the fma and the
 * lanes' operations are the same); the sum adds in another order, so it is checked against the
 * double-precision sum of those values, |a − b| ≤ 4e-6·|b| + 1e-30 (n ≤ 300 positive terms, each
 * addition off by half an ulp at most: a relative error under n·2^-24 ≈ 1.8e-5 in the worst case,
 * far less for random rows, whose rounding errors cancel).
 */
class ExpKernelTest {

    @Property(tries = 300)
    void oneFusedPassGivesTheSeparatePassesValues(@ForAll @IntRange(min = 0, max = 300) int n,
                                                   @ForAll @IntRange(min = 0, max = 5) int offset,
                                                   @ForAll boolean inPlace, @ForAll long seed) {
        Random rng = new Random(seed);
        float scale = (float) (0.05 + rng.nextDouble() * 3);
        float[] z = new float[offset + n];
        for (int j = 0; j < z.length; j++) z[j] = (float) (rng.nextGaussian() * 20);
        float max = Float.NEGATIVE_INFINITY;
        for (int j = offset; j < offset + n; j++) max = Math.max(max, z[j] * scale);
        float shift = n == 0 ? 0f : -max;
        if (n > 2) z[offset + 1] = Float.NEGATIVE_INFINITY; // a padded score: e^-inf must be exactly 0

        float[] expected = new float[offset + n];
        for (int j = offset; j < offset + n; j++) expected[j] = Math.fma(z[j], scale, shift);
        ExpKernel.exp(expected, offset, expected, offset, n);
        double want = 0;
        for (int j = offset; j < offset + n; j++) want += expected[j];

        float[] e = inPlace ? z : new float[offset + n];
        float got = ExpKernel.expScaledSum(z, offset, scale, shift, e, offset, n, new float[Sgemm.VLEN]);
        for (int j = offset; j < offset + n; j++) {
            assertEquals(Float.floatToRawIntBits(expected[j]), Float.floatToRawIntBits(e[j]),
                    "e[" + j + "] of n=" + n + ": " + e[j] + " vs the separate passes' " + expected[j]);
        }
        if (n > 2) assertEquals(0f, e[offset + 1], "e^-inf");
        assertTrue(Math.abs(got - want) <= 4e-6 * Math.abs(want) + 1e-30, "sum " + got + " vs " + want + " (n=" + n + ")");
    }
}
