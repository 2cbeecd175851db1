package dev.irtj.vit.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The eval transform: exact tensors for known pixels, torchvision's size and crop rules. */
class PreprocessTest {
    @TempDir Path dir;

    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    /** What torchvision's ToTensor + Normalize give for an 8-bit value v, in float32. */
    private static float tv(int v, int c) {
        return (v / 255f - MEAN[c]) / STD[c];
    }

    private static int channel(int rgb, int c) {
        return (rgb >> (16 - 8 * c)) & 0xFF;
    }

    private static BufferedImage pattern(int w, int h, long seed) {
        return ImageDecoderTest.pattern(w, h, seed);
    }

    @Test
    void fourByFourPngGivesTheExactTensor() throws IOException {
        BufferedImage img = pattern(4, 4, 42);
        img.setRGB(0, 0, 0xFFFFFF);
        img.setRGB(1, 0, 0x000000);
        Path file = ImageDecoderTest.writePng(img, dir.resolve("four.png"));

        float[] t = Preprocess.eval(ImageDecoder.readRgb(file), 4, 4, true);
        assertEquals(3 * 16, t.length);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 4; x++) {
                    int v = channel(img.getRGB(x, y), c);
                    assertEquals(tv(v, c), t[(c * 4 + y) * 4 + x], 0f, "c" + c + " (" + x + ", " + y + ")");
                }
            }
        }
        // Independently, in double: white and black in the red and blue planes.
        assertEquals((1 - 0.485) / 0.229, t[0], 1e-6);
        assertEquals((0 - 0.485) / 0.229, t[1], 1e-6);
        assertEquals((1 - 0.406) / 0.225, t[2 * 16], 1e-6);
        assertEquals((0 - 0.406) / 0.225, t[2 * 16 + 1], 1e-6);
    }

    @Test
    void centerCropOffsetsRoundHalfToEven() throws IOException {
        // 7 wide x 5 high; resize 5 keeps the size (5 * 7 / 5 = 7). Crop 4: top = round(0.5) =
        // 0, left = round(1.5) = 2.
        BufferedImage img = pattern(7, 5, 5);
        Path file = ImageDecoderTest.writePng(img, dir.resolve("seven.png"));
        float[] t = Preprocess.eval(ImageDecoder.readRgb(file), 5, 4, true);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 4; x++) {
                    assertEquals(tv(channel(img.getRGB(x + 2, y), c), c), t[(c * 4 + y) * 4 + x], 0f);
                }
            }
        }
        // 9 wide x 6 high, crop 3: top = round(1.5) = 2, left = round(3) = 3; and 10 x 10, crop
        // 5: round(2.5) = 2 both ways.
        BufferedImage other = pattern(9, 6, 6);
        float[] u = Preprocess.eval(other, 6, 3, true);
        assertEquals(tv(channel(other.getRGB(3, 2), 1), 1), u[9], 0f);
        assertEquals(tv(channel(other.getRGB(5, 4), 2), 2), u[18 + 8], 0f);
        BufferedImage square = pattern(10, 10, 7);
        float[] s = Preprocess.eval(square, 10, 5, true);
        assertEquals(tv(channel(square.getRGB(2, 2), 0), 0), s[0], 0f);
    }

    @Test
    void cropOffsetRule() {
        assertEquals(0, Preprocess.cropOffset(5, 4));
        assertEquals(2, Preprocess.cropOffset(7, 4));
        assertEquals(2, Preprocess.cropOffset(9, 4));
        assertEquals(2, Preprocess.cropOffset(8, 4));
        assertEquals(16, Preprocess.cropOffset(256, 224));
        assertEquals(80, Preprocess.cropOffset(383, 224)); // round(79.5) = 80
        assertEquals(0, Preprocess.cropOffset(4, 4));
        assertEquals(-1, Preprocess.cropOffset(3, 6)); // padding (6 - 3) // 2 = 1 before
        assertEquals(-1, Preprocess.cropOffset(2, 5));
    }

    @Test
    void resizedSizeFollowsTorchvision() {
        // int(size * long / short): truncation, not rounding.
        assertArrayEquals(new int[] {256, 383}, Preprocess.resizedSize(427, 640, 256)); // 383.7
        assertArrayEquals(new int[] {383, 256}, Preprocess.resizedSize(640, 427, 256));
        assertArrayEquals(new int[] {256, 384}, Preprocess.resizedSize(333, 500, 256)); // 384.4
        assertArrayEquals(new int[] {224, 224}, Preprocess.resizedSize(300, 300, 224));
        assertArrayEquals(new int[] {100, 150}, Preprocess.resizedSize(200, 300, 100));
        assertArrayEquals(new int[] {256, 341}, Preprocess.resizedSize(3, 4, 256)); // 341.33
        assertArrayEquals(new int[] {7, 5}, Preprocess.resizedSize(7, 5, 5));
    }

    @Test
    void grayImageBecomesThreeEqualChannels() throws IOException {
        BufferedImage gray = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
        int[] values = new int[16];
        for (int i = 0; i < 16; i++) {
            values[i] = 16 * i + 3;
        }
        gray.getRaster().setPixels(0, 0, 4, 4, values);
        Path file = ImageDecoderTest.writePng(gray, dir.resolve("g.png"));
        BufferedImage decoded = ImageDecoder.read(file);

        Preprocess.Planes p = Preprocess.toPlanarFloat(decoded, 3);
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 16; i++) {
                assertEquals(values[i], p.data()[c * 16 + i], 0f);
            }
        }
        float[] t = Preprocess.eval(decoded, 4, 4, true);
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 16; i++) {
                assertEquals(tv(values[i], c), t[c * 16 + i], 0f);
            }
        }
        // One channel: the stored values, mean 0.5 std 0.5.
        float[] one = Preprocess.eval(decoded, 4, 4, false);
        assertEquals(16, one.length);
        for (int i = 0; i < 16; i++) {
            assertEquals((values[i] / 255f - 0.5f) / 0.5f, one[i], 0f);
        }
    }

    @Test
    void colorImageBecomesLumaForOneChannel() {
        BufferedImage img = pattern(3, 3, 9);
        float[] t = Preprocess.eval(img, 3, 3, false);
        for (int i = 0; i < 9; i++) {
            int l = ImageDecoder.luma(img.getRGB(i % 3, i / 3));
            assertEquals((l / 255f - 0.5f) / 0.5f, t[i], 0f);
        }
        // Explicit mean/std for one channel.
        float[] u = Preprocess.eval(img, 3, 3, new float[] {0.25f}, new float[] {2f});
        int l0 = ImageDecoder.luma(img.getRGB(0, 0));
        assertEquals((l0 / 255f - 0.25f) / 2f, u[0], 0f);
    }

    @Test
    void resizeRunsInFloatAndClampsToPixelRange() {
        // A hard black/white edge overshoots under bicubic; the pixel values are clamped.
        BufferedImage img = new BufferedImage(8, 6, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 8; x++) {
                img.setRGB(x, y, x < 4 ? 0x000000 : 0xFFFFFF);
            }
        }
        Preprocess.Planes p = Preprocess.toPlanarFloat(img, 3);
        float[] raw = Resample.resize(p.data(), 3, 6, 8, 13, 17);
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : raw) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min < 0 && max > 255, "bicubic overshoots: " + min + " .. " + max);

        Preprocess.Planes r = Preprocess.resizeShorterSide(p, 13);
        assertEquals(13, r.height());
        assertEquals(17, r.width()); // int(13 * 8 / 6) = 17
        for (int i = 0; i < raw.length; i++) {
            assertEquals(Math.max(0f, Math.min(255f, raw[i])), r.data()[i], 0f);
        }
    }

    @Property(tries = 60)
    void evalIsResizeThenCropThenNormalize(
            @ForAll @IntRange(min = 1, max = 40) int w,
            @ForAll @IntRange(min = 1, max = 40) int h,
            @ForAll @IntRange(min = 1, max = 32) int size,
            @ForAll @IntRange(min = 1, max = 40) int crop,
            @ForAll boolean rgb) {
        BufferedImage img = pattern(w, h, 1000L * w + h);
        int channels = rgb ? 3 : 1;
        Preprocess.Planes p = Preprocess.toPlanarFloat(img, channels);
        Preprocess.Planes cropped = Preprocess.centerCrop(Preprocess.resizeShorterSide(p, size), crop, crop);
        float[] expected =
                Preprocess.normalize(
                        cropped, rgb ? Preprocess.imagenetMean() : Preprocess.grayMean(), rgb ? Preprocess.imagenetStd() : Preprocess.grayStd());
        assertArrayEquals(expected, Preprocess.eval(img, size, crop, rgb));
    }

    @Test
    void cropLargerThanTheImagePadsWithBlack() {
        float[] data = {1, 2, 3, 4, 5, 6}; // 1 channel, 2 rows x 3 columns
        Preprocess.Planes p = new Preprocess.Planes(data, 1, 2, 3);
        Preprocess.Planes c = Preprocess.centerCrop(p, 4, 4);
        // torchvision pads (left, top, right, bottom) = (0, 1, 1, 1).
        float[] expected = {
            0, 0, 0, 0,
            1, 2, 3, 0,
            4, 5, 6, 0,
            0, 0, 0, 0
        };
        assertArrayEquals(expected, c.data());
        // Mixed: taller crop, narrower crop.
        Preprocess.Planes d = Preprocess.centerCrop(p, 3, 1);
        assertArrayEquals(new float[] {2, 5, 0}, d.data()); // top pad (3 - 2) // 2 = 0, left round(1) = 1
        // Through eval: a 4x4 image, crop 6, pads with normalized black.
        BufferedImage img = pattern(4, 4, 3);
        float[] t = Preprocess.eval(img, 4, 6, true);
        assertEquals(3 * 36, t.length);
        assertEquals(tv(0, 0), t[0], 0f);
        assertEquals(tv(channel(img.getRGB(0, 0), 0), 0), t[7], 0f);
    }

    @Test
    void subimagesOfIntRgbImagesUseTheirOwnPixels() {
        BufferedImage img = pattern(9, 7, 13);
        BufferedImage sub = img.getSubimage(2, 3, 4, 3);
        Preprocess.Planes p = Preprocess.toPlanarFloat(sub, 3);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 4; x++) {
                    assertEquals(channel(img.getRGB(x + 2, y + 3), c), p.get(c, y, x), 0f);
                }
            }
        }
        assertSame(img, ImageDecoder.toRgb(img));
    }

    @Test
    void sameSizeStepsReturnTheirInput() {
        Preprocess.Planes p = Preprocess.toPlanarFloat(pattern(5, 5, 1), 3);
        assertSame(p, Preprocess.resizeShorterSide(p, 5));
        assertSame(p, Preprocess.centerCrop(p, 5, 5));
    }

    @Test
    void normalizeWorksInPlace() {
        float[] data = {0, 255, 51, 102};
        Preprocess.Planes p = new Preprocess.Planes(data, 1, 2, 2);
        assertSame(data, Preprocess.normalize(p, new float[] {0.5f}, new float[] {0.5f}));
        assertArrayEquals(new float[] {-1f, 1f, (0.2f - 0.5f) / 0.5f, (0.4f - 0.5f) / 0.5f}, data, 1e-7f);
    }

    @Test
    void typicalSizes() {
        // 640x480 -> shorter side 256 -> 341x256 -> crop 224.
        BufferedImage img = pattern(640, 480, 12);
        float[] t = Preprocess.eval(img, 256, 224, true);
        assertEquals(3 * 224 * 224, t.length);
        float lo = (0 - 0.485f) / 0.229f;
        float hi = (1 - 0.406f) / 0.225f;
        for (float v : t) {
            assertTrue(v >= lo - 1e-6f && v <= hi + 1e-6f, String.valueOf(v));
        }
    }

    @Test
    void badArgumentsAreRejected() {
        BufferedImage img = pattern(4, 4, 1);
        assertThrows(IllegalArgumentException.class, () -> Preprocess.toPlanarFloat(img, 2));
        assertThrows(IllegalArgumentException.class, () -> Preprocess.eval(img, 0, 4, true));
        assertThrows(IllegalArgumentException.class, () -> Preprocess.eval(img, 4, 4, new float[3], new float[1]));
        assertThrows(IllegalArgumentException.class, () -> new Preprocess.Planes(new float[5], 1, 2, 3));
        assertThrows(
                IllegalArgumentException.class,
                () -> Preprocess.normalize(new Preprocess.Planes(new float[4], 1, 2, 2), MEAN, STD));
    }
}
