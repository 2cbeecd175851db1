package dev.irtj.vit.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Resample against Pillow and against its own invariants.
 *
 * <p>Expected values below were produced with Pillow 9.4.0 (Debian's python3-pil) on float ("F")
 * images: {@code Image.fromarray(a, "F").resize((w, h), Image.BICUBIC)}, printed with "%.7e".
 * Tolerance 1e-5 absolute on values of magnitude ~1 (Pillow accumulates in double, we in float).
 * Beyond these, a scratch comparison on 300 random shapes from 1x1 to 40x40 resized to 1x1 ..
 * 50x50 (values ~N(0, 10)) agreed to 8e-6.
 */
class ResampleTest {
    /**
     * 5 rows x 7 columns: {@code numpy.random.default_rng(2024).uniform(-1, 1, (5, 7))} rounded to
     * 4 decimals, as float32.
     */
    static final float[] RANDOM_5x7 = {
        3.5170001e-01f, -5.7139999e-01f, -3.8110000e-01f, 5.9890002e-01f, 9.9159998e-01f, -7.1550000e-01f, -8.4249997e-01f,
        -6.3840002e-01f, -2.8070000e-01f, -6.6079998e-01f, 1.7749999e-01f, 2.3360001e-01f, -7.8920001e-01f, 1.3150001e-01f,
        -9.9070001e-01f, -6.9799997e-02f, 9.5120001e-01f, 5.9890002e-01f, 1.9360000e-01f, -3.4930000e-01f, -5.8730000e-01f,
        -1.1450000e-01f, -4.4389999e-01f, 7.4989998e-01f, -5.7370001e-01f, -4.5150000e-01f, 6.1440003e-01f, -4.6329999e-01f,
        -4.6390000e-01f, -8.5820001e-01f, -6.5600000e-02f, -4.7160000e-01f, 7.7789998e-01f, -4.2739999e-01f, 5.4750001e-01f
    };

    /** RANDOM_5x7 to 4 rows x 3 columns (Pillow size (3, 4)): both axes shrink. */
    static final float[] PIL_4x3 = {
        -2.9667771e-01f, 2.5585639e-01f, -3.6805603e-01f,
        -4.1437277e-01f, 2.1157269e-01f, -2.9346263e-01f,
        -8.8367209e-02f, 1.8608716e-01f, -1.7371282e-01f,
        -4.8559901e-01f, -1.1280958e-01f, 1.6991870e-01f
    };

    /** RANDOM_5x7 to 9 rows x 11 columns (Pillow size (11, 9)): both axes grow. */
    static final float[] PIL_9x11 = {
        5.0452518e-01f, -6.7616710e-03f, -6.2386245e-01f, -5.1152712e-01f, -2.9309092e-02f, 6.3320005e-01f, 1.0853015e+00f, 6.8804097e-01f, -5.9929299e-01f, -9.2668122e-01f, -9.3670481e-01f,
        1.3214512e-01f, -1.5310651e-01f, -5.2517909e-01f, -5.9710854e-01f, -2.0216890e-01f, 4.6812069e-01f, 8.3334553e-01f, 4.5177516e-01f, -6.6975993e-01f, -7.1389496e-01f, -5.3482270e-01f,
        -5.6244612e-01f, -4.2812297e-01f, -3.2978991e-01f, -6.7775863e-01f, -4.4365337e-01f, 1.9187243e-01f, 3.7896824e-01f, 2.7888289e-02f, -7.7307844e-01f, -3.4020883e-01f, 1.4970425e-01f,
        -9.5933801e-01f, -6.0115832e-01f, -1.1237330e-01f, -2.0547481e-02f, 1.6900864e-01f, 3.9444596e-01f, 3.4308308e-01f, -2.4049215e-02f, -6.2969637e-01f, -3.8738295e-01f, -8.0169506e-02f,
        -1.0554508e+00f, -6.6222990e-01f, 2.4416758e-02f, 7.6908898e-01f, 9.2643535e-01f, 5.9890002e-01f, 3.5334307e-01f, 4.7214199e-02f, -3.1088233e-01f, -5.1713639e-01f, -6.0403436e-01f,
        -5.0446010e-01f, -4.5034608e-01f, -1.5983352e-01f, 7.8355503e-01f, 7.3662359e-01f, -5.2510150e-02f, -2.7555019e-01f, -1.2387955e-01f, 2.9700077e-01f, -2.1404132e-01f, -6.9019240e-01f,
        -7.6065011e-02f, -3.2670417e-01f, -4.3538439e-01f, 4.9417073e-01f, 3.2412621e-01f, -6.1695170e-01f, -5.8651865e-01f, -1.2300740e-01f, 5.5741042e-01f, 6.7768686e-02f, -4.4641453e-01f,
        -3.0780318e-01f, -5.5947012e-01f, -7.1805048e-01f, -1.5951905e-02f, -5.0889667e-02f, -5.4020000e-01f, 1.0819262e-01f, 3.5611883e-01f, -8.7566383e-02f, 8.7659642e-02f, 2.9963288e-01f,
        -4.6424389e-01f, -6.9835609e-01f, -8.6229539e-01f, -2.9188937e-01f, -2.4247798e-01f, -4.6328953e-01f, 5.2097803e-01f, 6.2735111e-01f, -4.7067982e-01f, 8.2254432e-02f, 7.1006936e-01f
    };

    /** RANDOM_5x7 to 8 rows x 4 columns (Pillow size (4, 8)): rows grow, columns shrink. */
    static final float[] PIL_8x4 = {
        -7.2894663e-02f, -1.4068881e-01f, 6.8830943e-01f, -8.2424986e-01f,
        -2.5802833e-01f, -2.7764186e-01f, 3.9478898e-01f, -5.8104259e-01f,
        -5.2030170e-01f, -2.9489088e-01f, 2.8274598e-02f, -2.8525609e-01f,
        -5.9551132e-01f, 4.9095500e-01f, 1.9735755e-01f, -4.6713427e-01f,
        -4.7064698e-01f, 6.7693019e-01f, 8.7729119e-02f, -3.7462890e-01f,
        -2.2593802e-01f, 1.7952198e-01f, -2.8537023e-01f, 1.2859132e-02f,
        -4.5427489e-01f, -1.8524025e-01f, -2.3058465e-02f, 1.2926012e-01f,
        -6.6303551e-01f, -3.8368136e-01f, 2.3081414e-01f, 1.5316725e-01f
    };

    /**
     * A 30x40 image {@code f(y, x) = sin(0.37 x) + cos(0.23 y) + 0.01 x y} (computed in double,
     * stored as float32) shrunk to 5x7 (Pillow size (7, 5)): kernels ~12 and ~11 taps wide.
     */
    static final float[] PIL_BIG_TO_5x7 = {
        1.5485739e+00f, 1.0938678e+00f, 3.5614929e-01f, 1.9460819e+00f, 1.5074943e+00f, 8.5014683e-01f, 2.3651519e+00f,
        5.8430600e-01f, 4.4303277e-01f, 3.9996266e-02f, 1.9576581e+00f, 1.8467999e+00f, 1.5241343e+00f, 3.3525722e+00f,
        1.3678890e-01f, 3.3023572e-01f, 2.8461149e-01f, 2.5522609e+00f, 2.7913899e+00f, 2.8261366e+00f, 4.9892950e+00f,
        1.2450953e+00f, 1.7732621e+00f, 2.0850503e+00f, 4.7026868e+00f, 5.2918034e+00f, 5.6839628e+00f, 8.1818409e+00f,
        2.2966101e+00f, 3.1382098e+00f, 3.7846799e+00f, 6.7300458e+00f, 7.6468916e+00f, 8.3737326e+00f, 1.1185043e+01f
    };

    private static void assertClose(float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            double scale = Math.max(1.0, Math.abs(expected[i]));
            assertTrue(
                    Math.abs(expected[i] - actual[i]) <= tol * scale,
                    "index " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    /** CHW to HWC. */
    static float[] toHwc(float[] chw, int c, int h, int w) {
        float[] out = new float[chw.length];
        for (int k = 0; k < c; k++) {
            for (int i = 0; i < h * w; i++) {
                out[i * c + k] = chw[k * h * w + i];
            }
        }
        return out;
    }

    // ---- Pillow ---------------------------------------------------------------------------------

    @Test
    void matchesPillowShrinking() {
        assertClose(PIL_4x3, Resample.resize(RANDOM_5x7, 1, 5, 7, 4, 3), 1e-5);
    }

    @Test
    void matchesPillowEnlarging() {
        assertClose(PIL_9x11, Resample.resize(RANDOM_5x7, 1, 5, 7, 9, 11), 1e-5);
    }

    @Test
    void matchesPillowMixed() {
        assertClose(PIL_8x4, Resample.resize(RANDOM_5x7, 1, 5, 7, 8, 4), 1e-5);
    }

    @Test
    void matchesPillowShrinkingByAboutSix() {
        int h = 30;
        int w = 40;
        float[] src = new float[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                src[y * w + x] = (float) (Math.sin(0.37 * x) + Math.cos(0.23 * y) + 0.01 * x * y);
            }
        }
        assertClose(PIL_BIG_TO_5x7, Resample.resize(src, 1, h, w, 5, 7), 1e-5);
    }

    @Test
    void everyChannelIsResizedAlike() {
        float[] three = new float[3 * 35];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 35; i++) {
                three[c * 35 + i] = RANDOM_5x7[i] * (c + 1);
            }
        }
        float[] out = Resample.resize(three, 3, 5, 7, 9, 11);
        for (int c = 0; c < 3; c++) {
            float[] expected = PIL_9x11.clone();
            for (int i = 0; i < expected.length; i++) {
                expected[i] *= c + 1;
            }
            assertClose(expected, Arrays.copyOfRange(out, c * 99, (c + 1) * 99), 1e-5);
        }
    }

    // ---- the kernel and its weights -------------------------------------------------------------

    @Test
    void cubicKernelValues() {
        assertEquals(1.0, Resample.cubic(0.0));
        assertEquals(0.5625, Resample.cubic(0.5), 1e-15);
        assertEquals(0.5625, Resample.cubic(-0.5), 1e-15);
        assertEquals(0.0, Resample.cubic(1.0), 1e-15);
        assertEquals(-0.0625, Resample.cubic(1.5), 1e-15);
        assertEquals(0.0, Resample.cubic(2.0), 1e-15);
        assertEquals(0.0, Resample.cubic(7.0));
    }

    @Property(tries = 200)
    void weightsSumToOneAndStayInside(@ForAll @IntRange(min = 1, max = 300) int in, @ForAll @IntRange(min = 1, max = 300) int out) {
        Resample.Weights w = Resample.weights(in, out);
        for (int o = 0; o < out; o++) {
            assertTrue(w.count(o) > 0);
            assertTrue(w.first(o) >= 0 && w.first(o) + w.count(o) <= in);
            double sum = 0;
            for (int k = 0; k < w.count(o); k++) {
                sum += w.weight(o, k);
            }
            assertEquals(1.0, sum, 1e-5, "output " + o);
        }
    }

    @Test
    void doublingTapsAndEdgeRenormalization() {
        // 8 -> 16: output o is centered at input coordinate (o + 0.5) / 2; input i at i + 0.5.
        Resample.Weights w = Resample.weights(8, 16);
        // Output 4, at 2.25: inputs 0..3 at distances -1.75, -0.75, 0.25, 1.25; they sum to 1.
        assertEquals(0, w.first(4));
        assertEquals(4, w.count(4));
        double[] d = {-1.75, -0.75, 0.25, 1.25};
        for (int k = 0; k < 4; k++) {
            assertEquals(Resample.cubic(d[k]), w.weight(4, k), 1e-7);
        }
        // Output 0, at 0.25: input -1 (distance -0.75) does not exist; the two that do are
        // renormalized.
        assertEquals(0, w.first(0));
        assertEquals(2, w.count(0));
        double sum = Resample.cubic(0.25) + Resample.cubic(1.25);
        assertEquals(Resample.cubic(0.25) / sum, w.weight(0, 0), 1e-7);
        assertEquals(Resample.cubic(1.25) / sum, w.weight(0, 1), 1e-7);
        // Shrinking by 4 stretches the kernel to support 8: 16 taps at 1/4 steps of the kernel.
        Resample.Weights s = Resample.weights(64, 16);
        assertEquals(16, s.count(8)); // centered at 34: inputs 26..41
        assertEquals(26, s.first(8));
        double total = 0;
        for (int k = 0; k < 16; k++) {
            total += Resample.cubic((26 + k + 0.5 - 34) / 4);
        }
        assertEquals(Resample.cubic(0.125) / total, s.weight(8, 7), 1e-7);
    }

    // ---- invariants -----------------------------------------------------------------------------

    @Property(tries = 150)
    void constantStaysConstant(
            @ForAll @IntRange(min = 1, max = 4) int channels,
            @ForAll @IntRange(min = 1, max = 40) int srcH,
            @ForAll @IntRange(min = 1, max = 40) int srcW,
            @ForAll @IntRange(min = 1, max = 60) int dstH,
            @ForAll @IntRange(min = 1, max = 60) int dstW,
            @ForAll @DoubleRange(min = -300, max = 300) double value) {
        float[] src = new float[channels * srcH * srcW];
        Arrays.fill(src, (float) value);
        for (float v : Resample.resize(src, channels, srcH, srcW, dstH, dstW)) {
            assertEquals(value, v, 1e-5 * Math.max(1, Math.abs(value)));
        }
    }

    @Test
    void sameSizeIsAnExactCopy() {
        float[] src = random(3 * 6 * 5, 1);
        float[] out = Resample.resize(src, 3, 6, 5, 6, 5);
        assertArrayEquals(src, out);
        assertNotSame(src, out);
        float[] hwc = Resample.resizeHwc(src, 6, 5, 3, 6, 5);
        assertArrayEquals(src, hwc);
        assertNotSame(src, hwc);
    }

    @Test
    void anUnchangedAxisIsCopiedNotFiltered() {
        // Only the columns change: each row is resized on its own, rows stay exact.
        float[] src = random(4 * 9, 2);
        float[] out = Resample.resize(src, 1, 4, 9, 4, 5);
        for (int y = 0; y < 4; y++) {
            float[] row = Resample.resize1d(Arrays.copyOfRange(src, y * 9, y * 9 + 9), 5);
            assertArrayEquals(row, Arrays.copyOfRange(out, y * 5, y * 5 + 5));
        }
    }

    @Property(tries = 150)
    void shrinkingASmoothGradientStaysInItsRange(
            @ForAll @IntRange(min = 2, max = 64) int srcH,
            @ForAll @IntRange(min = 2, max = 64) int srcW,
            @ForAll @IntRange(min = 1, max = 64) int dstH,
            @ForAll @IntRange(min = 1, max = 64) int dstW,
            @ForAll @DoubleRange(min = -5, max = 5) double gy,
            @ForAll @DoubleRange(min = -5, max = 5) double gx) {
        int h = Math.min(dstH, srcH);
        int w = Math.min(dstW, srcW);
        float[] src = new float[srcH * srcW];
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (int y = 0; y < srcH; y++) {
            for (int x = 0; x < srcW; x++) {
                float v = (float) (100 + gy * y + gx * x);
                src[y * srcW + x] = v;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        float slack = 1e-4f * Math.max(1f, Math.max(Math.abs(lo), Math.abs(hi)));
        for (float v : Resample.resize(src, 1, srcH, srcW, h, w)) {
            assertTrue(v >= lo - slack && v <= hi + slack, v + " outside [" + lo + ", " + hi + "]");
        }
    }

    @Test
    void aLinearRampIsReproducedAwayFromTheEdges() {
        // Catmull-Rom reproduces linear functions at unit tap spacing: enlarging (any phase) and
        // shrinking by an integer factor (taps symmetric about the center) give the ramp at the
        // output center when all taps are inside the input. (A non-integer shrink samples the
        // stretched kernel asymmetrically and is only close: 40 -> 17 misses by ~0.01.)
        int n = 40;
        float[] ramp = new float[n];
        for (int i = 0; i < n; i++) {
            ramp[i] = 3f * (i + 0.5f);
        }
        for (int m : new int[] {10, 20, 40, 57, 100}) {
            float[] out = Resample.resize1d(ramp, m);
            Resample.Weights w = Resample.weights(n, m);
            double scale = (double) n / m;
            for (int o = 0; o < m; o++) {
                double center = (o + 0.5) * scale;
                double support = 2 * Math.max(scale, 1);
                if (center - support >= 0 && center + support <= n) {
                    assertEquals(3 * center, out[o], 1e-4, "size " + m + ", output " + o + ", taps " + w.count(o));
                }
            }
        }
    }

    @Property(tries = 100)
    void interleavedLayoutGivesTheSameNumbers(
            @ForAll @IntRange(min = 1, max = 20) int channels,
            @ForAll @IntRange(min = 1, max = 20) int srcH,
            @ForAll @IntRange(min = 1, max = 20) int srcW,
            @ForAll @IntRange(min = 1, max = 30) int dstH,
            @ForAll @IntRange(min = 1, max = 30) int dstW) {
        float[] chw = random(channels * srcH * srcW, 31L * srcH + srcW);
        float[] expected = toHwc(Resample.resize(chw, channels, srcH, srcW, dstH, dstW), channels, dstH, dstW);
        float[] actual = Resample.resizeHwc(toHwc(chw, channels, srcH, srcW), srcH, srcW, channels, dstH, dstW);
        assertArrayEquals(expected, actual);
    }

    @Property(tries = 100)
    void aWindowIsTheCropOfTheFullResize(
            @ForAll @IntRange(min = 1, max = 3) int channels,
            @ForAll @IntRange(min = 1, max = 30) int srcH,
            @ForAll @IntRange(min = 1, max = 30) int srcW,
            @ForAll @IntRange(min = 1, max = 30) int dstH,
            @ForAll @IntRange(min = 1, max = 30) int dstW,
            @ForAll @IntRange(min = 0, max = 1000) int a,
            @ForAll @IntRange(min = 0, max = 1000) int b) {
        int outH = 1 + a % dstH;
        int outW = 1 + b % dstW;
        int top = (a / 7) % (dstH - outH + 1);
        int left = (b / 7) % (dstW - outW + 1);
        float[] src = random(channels * srcH * srcW, a * 1000L + b);
        float[] full = Resample.resize(src, channels, srcH, srcW, dstH, dstW);
        float[] window = Resample.resizeWindow(src, channels, srcH, srcW, dstH, dstW, top, left, outH, outW);
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    assertEquals(
                            full[(c * dstH + top + y) * dstW + left + x],
                            window[(c * outH + y) * outW + x],
                            0f);
                }
            }
        }
    }

    @Test
    void positionEmbeddingGridFrom14To24() {
        // The pos-embed use: 384 channels on a 14x14 grid, in timm's token-major (HWC) layout.
        int d = 384;
        float[] grid = random(14 * 14 * d, 9);
        float[] hwc = Resample.resizeHwc(grid, 14, 14, d, 24, 24);
        assertEquals(24 * 24 * d, hwc.length);
        float[] chw = new float[grid.length];
        for (int i = 0; i < 14 * 14; i++) {
            for (int c = 0; c < d; c++) {
                chw[c * 196 + i] = grid[i * d + c];
            }
        }
        assertArrayEquals(toHwc(Resample.resize(chw, d, 14, 14, 24, 24), d, 24, 24), hwc);
        // Channel 5 is the 1-channel resize of channel 5.
        float[] one = Resample.resize(Arrays.copyOfRange(chw, 5 * 196, 6 * 196), 1, 14, 14, 24, 24);
        for (int i = 0; i < 24 * 24; i++) {
            assertEquals(one[i], hwc[i * d + 5], 0f);
        }
    }

    @Test
    void resize1dMatchesAOneRowImage() {
        float[] src = random(13, 4);
        assertArrayEquals(Resample.resize(src, 1, 1, 13, 1, 6), Resample.resize1d(src, 6));
        assertArrayEquals(Resample.resize(src, 1, 1, 13, 1, 29), Resample.resize1d(src, 29));
        assertArrayEquals(src, Resample.resize1d(src, 13));
    }

    @Test
    void badArgumentsAreRejected() {
        float[] src = new float[12];
        assertThrows(IllegalArgumentException.class, () -> Resample.resize(src, 1, 3, 5, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> Resample.resize(src, 1, 3, 4, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> Resample.resize(src, 0, 3, 4, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> Resample.resizeWindow(src, 1, 3, 4, 5, 5, 3, 0, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> Resample.resizeHwc(src, 3, 4, 2, 5, 5));
        assertThrows(IllegalArgumentException.class, () -> Resample.weights(0, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> Resample.weights(4, 4).weight(0, 9));
    }
}
