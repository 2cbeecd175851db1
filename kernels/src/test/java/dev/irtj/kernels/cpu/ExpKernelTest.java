package dev.irtj.kernels.cpu;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link ExpKernel#expAffineSum}, the fused attention's one-pass e^(scale·z + shift) and sum,
 * against the separate steps it replaced: the F32 {@code fma(z, scale, shift)}, then the scalar
 * {@link ExpKernel#exp(float)} (which repeats the vector lanes' operations, so every element must
 * match bit for bit, in the vector body and in the tail alike), then a sum in double. The sum's
 * tolerance: n F32 additions of positive terms, relative 1e-6·(1 + n/16) (each of the L lane
 * chains and the tail adds at most n/L + L roundings of 6e-8).
 */
class ExpKernelTest {
    @Property(tries = 200)
    void expAffineSumIsTheSeparateStepsInOnePass(@ForAll @IntRange(min = 0, max = 300) int n,
                                                 @ForAll @FloatRange(min = -2, max = 2) float scale,
                                                 @ForAll @FloatRange(min = -100, max = 0) float shift,
                                                 @ForAll long seed) {
        Random rng = new Random(seed);
        int off = rng.nextInt(5);
        float[] z = new float[off + n + 3];
        for (int i = 0; i < z.length; i++) z[i] = (float) (rng.nextGaussian() * 8);
        float[] want = z.clone();
        double sum = 0;
        for (int j = 0; j < n; j++) {
            want[off + j] = ExpKernel.exp(Math.fma(z[off + j], scale, shift));
            sum += want[off + j];
        }
        float got = ExpKernel.expAffineSum(z, off, n, scale, shift, new float[Sgemm.SPECIES.length()]);
        for (int i = 0; i < z.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(z[i]), "element " + i + " of n=" + n);
        }
        assertEquals(sum, got, 1e-6 * (1 + n / 16.0) * sum + Float.MIN_NORMAL, "sum of n=" + n);
    }
}
