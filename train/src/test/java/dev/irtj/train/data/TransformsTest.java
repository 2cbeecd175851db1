package dev.irtj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.irtj.tensor.Rng;
import dev.irtj.vit.image.Preprocess;
import dev.irtj.vit.image.Preprocess.Planes;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TransformsTest {
    private static final float[] ZERO = {0f}, ONE = {1f};

    /** 6 rows x 8 columns, pixel (y, x) = 10y + x. */
    private static BufferedImage positions() {
        return TestImages.gray(8, 6, (y, x) -> 10 * y + x);
    }

    @Test
    void resizeFollowsTimm() {
        assertEquals(256, Transforms.resizeFor(224));
        assertEquals(438, Transforms.resizeFor(384));
        assertEquals(32, Transforms.resizeFor(28));
        assertEquals(256, Transforms.forModel(224, 3).resize());
        assertThrows(IllegalArgumentException.class, () -> Transforms.forModel(16, 2));
        assertThrows(IllegalArgumentException.class, () -> new Transforms(10, 12, 1, true, ZERO, ONE));
    }

    @Test
    void evalOnAKnownImageGivesTheCenterCrop() {
        // Shorter side 6 = resize: no resampling. Crop 4: top = round(2/2) = 1, left = round(4/2) = 2.
        Transforms t = new Transforms(6, 4, 1, true, ZERO, ONE);
        float[] out = t.eval(positions());
        assertEquals(16, out.length);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) assertEquals((10 * (y + 1) + x + 2) / 255f, out[y * 4 + x], "at " + y + "," + x);
        }
        // Three channels: the gray image is replicated, each channel with its own mean/std.
        Transforms t3 = new Transforms(6, 4, 3, true, new float[] {0f, 0.1f, 0.2f}, new float[] {1f, 0.5f, 0.25f});
        float[] rgb = t3.eval(positions());
        for (int c = 0; c < 3; c++) {
            float m = new float[] {0f, 0.1f, 0.2f}[c], s = new float[] {1f, 0.5f, 0.25f}[c];
            assertEquals(((10 * 1 + 2) / 255f - m) / s, rgb[c * 16], 0f);
            assertEquals(((10 * 4 + 5) / 255f - m) / s, rgb[c * 16 + 15], 0f);
        }
    }

    @Test
    void evalMatchesPreprocessWhenResampling() {
        BufferedImage img = TestImages.rgb(37, 29, 11);
        Transforms t = Transforms.forModel(16, 3); // resize 18 (29x37 -> 18x22), crop 16
        assertArrayEquals(Preprocess.eval(img, 18, 16, true), t.eval(img));
        Transforms g = Transforms.forModel(16, 1);
        assertArrayEquals(Preprocess.eval(img, 18, 16, false), g.eval(img));
    }

    @Test
    void mnistSizedImagesAreNotResampled() {
        BufferedImage digit = TestImages.gray(28, 28, (y, x) -> (y * 28 + x) % 256);
        Transforms t = Transforms.forModel(28, 1).withResize(28).withFlip(false);
        float[] out = t.train(digit, new Rng(3));
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) assertEquals(((y * 28 + x) % 256 / 255f - 0.5f) / 0.5f, out[y * 28 + x], 0f);
        }
        assertArrayEquals(out, t.eval(digit));
    }

    @Test
    void grayPixelsLoadLikeAGrayImage() throws IOException {
        byte[] data = new byte[2 + 4 * 5];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 11);
        ImageSource.GrayPixels src = new ImageSource.GrayPixels(data, 2, 4, 5, "x#0");
        BufferedImage same = TestImages.gray(5, 4, (y, x) -> (2 + y * 5 + x) * 11 & 0xFF);
        for (int channels : new int[] {1, 3}) {
            Transforms t = new Transforms(4, 3, channels, true, Transforms.defaultMean(channels), Transforms.defaultStd(channels));
            Planes p = t.load(src);
            assertArrayEquals(Preprocess.toPlanarFloat(same, channels).data(), p.data());
            assertArrayEquals(t.eval(same), t.eval(p));
        }
    }

    /** Every training output is some in-bounds window of the image, flipped or not; all windows occur. */
    @Test
    void trainCropsAndFlipsStayInBounds() {
        Transforms t = new Transforms(6, 4, 1, true, ZERO, ONE); // no resampling: 3 x 5 windows
        BufferedImage img = positions();
        Set<String> seen = new HashSet<>();
        for (int s = 0; s < 400; s++) {
            float[] out = t.train(img, new Rng(s));
            int top = Math.round(out[0] * 255f) / 10;
            int a = Math.round(out[0] * 255f) % 10, b = Math.round(out[3] * 255f) % 10;
            boolean flipped = a > b;
            int left = flipped ? b : a;
            assertTrue(top >= 0 && top <= 2 && left >= 0 && left <= 4, "window " + top + "," + left);
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 4; x++) {
                    int sx = flipped ? left + 3 - x : left + x;
                    assertEquals((10 * (top + y) + sx) / 255f, out[y * 4 + x]);
                }
            }
            seen.add(top + "," + left + "," + flipped);
        }
        assertEquals(3 * 5 * 2, seen.size());
    }

    @Property(tries = 30)
    void trainIsDeterministicPerRng(@ForAll @IntRange(min = 16, max = 40) int w, @ForAll @IntRange(min = 16, max = 40) int h,
            @ForAll long seed) {
        BufferedImage img = TestImages.rgb(w, h, seed);
        Transforms t = Transforms.forModel(14, 3);
        float[] a = t.train(img, Rng.stream(seed, 1));
        float[] b = t.train(img, Rng.stream(seed, 1));
        assertArrayEquals(a, b);
        float lo = (0f - 0.485f) / 0.229f - 1e-4f, hi = (1f - 0.406f) / 0.225f + 1e-4f;
        for (float v : a) assertTrue(v >= lo && v <= hi, "value " + v);
        // The flip only mirrors: with flipping off, the same Rng gives the same window, maybe mirrored.
        float[] c = t.withFlip(false).train(img, Rng.stream(seed, 1));
        boolean same = java.util.Arrays.equals(a, c);
        boolean mirrored = true;
        for (int ch = 0; ch < 3 && mirrored; ch++) {
            for (int y = 0; y < 14 && mirrored; y++) {
                for (int x = 0; x < 14; x++) {
                    if (a[(ch * 14 + y) * 14 + x] != c[(ch * 14 + y) * 14 + 13 - x]) {
                        mirrored = false;
                        break;
                    }
                }
            }
        }
        assertTrue(same || mirrored);
    }

    @Test
    void fileSourcesDecodeThroughTheImageDecoder(@TempDir Path dir) throws IOException {
        BufferedImage img = TestImages.rgb(20, 17, 5);
        Path f = TestImages.write(img, dir.resolve("a.png"));
        Transforms t = Transforms.forModel(12, 3);
        assertArrayEquals(t.eval(img), t.eval(t.load(ImageSource.file(f))));
    }
}
