package dev.irtj.vit.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decoding and pixel conversion.
 *
 * <p>Fixtures in {@code src/test/resources/images/} (made once with ImageMagick 6.9.11, checked
 * with {@code identify -verbose} and Pillow 9.4):
 *
 * <ul>
 *   <li>{@code quadrants.png}: 16x12, four 8x6 blocks, red (255,0,0) top left, green (0,192,0)
 *       top right, blue (0,0,255) bottom left, gray (128,128,128) bottom right; ImageMagick
 *       stored it as a 4-color palette PNG. {@code convert -size 16x12 xc:white -fill '#FF0000'
 *       -draw "rectangle 0,0 7,5" -fill '#00C000' -draw "rectangle 8,0 15,5" -fill '#0000FF'
 *       -draw "rectangle 0,6 7,11" -fill '#808080' -draw "rectangle 8,6 15,11" quadrants.png}
 *   <li>{@code cmyk.jpg}: {@code convert quadrants.png -colorspace CMYK -quality 95 -strip
 *       cmyk.jpg}: a 4-component CMYK JPEG with an Adobe APP14 marker and no ICC profile
 *       (identify: "Colorspace: CMYK", "Type: ColorSeparation"; Pillow opens it as mode CMYK and
 *       converts it to (254,0,2), (0,192,2), (0,0,255), (128,128,128) at the block centers).
 *   <li>{@code progressive.jpg}: {@code convert quadrants.png -interlace Plane -quality 95 -strip
 *       progressive.jpg} (identify: "Interlace: JPEG"; Pillow: progressive = 1).
 * </ul>
 */
class ImageDecoderTest {
    @TempDir Path dir;

    /** Block centers of quadrants.png and their colors. */
    private static final int[][] CENTERS = {{3, 2}, {12, 2}, {3, 9}, {12, 9}};

    private static final int[] COLORS = {0xFF0000, 0x00C000, 0x0000FF, 0x808080};

    static Path resource(String name) throws URISyntaxException {
        return Path.of(ImageDecoderTest.class.getResource("/images/" + name).toURI());
    }

    /** An RGB image with varied, known pixels. */
    static BufferedImage pattern(int w, int h, long seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        return img;
    }

    /** A smooth image with some noise: compresses like a photograph, not like static. */
    static BufferedImage photoLike(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(5);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = clamp(128 + 100 * Math.sin(x / 9.0) * Math.cos(y / 13.0) + rnd.nextGaussian() * 12);
                int g = clamp(128 + 90 * Math.sin((x + y) / 17.0) + rnd.nextGaussian() * 12);
                int b = clamp(x + y / 2.0 + rnd.nextGaussian() * 12);
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }

    static Path writeJpeg(BufferedImage img, Path file, boolean progressive) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.9f);
            if (progressive) {
                param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            writer.write(null, new IIOImage(img, null, null), param);
        } finally {
            writer.dispose();
        }
        return file;
    }

    static Path writePng(BufferedImage img, Path file) throws IOException {
        assertTrue(ImageIO.write(img, "png", file.toFile()), "no PNG writer for " + img);
        return file;
    }

    private static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    private static void assertNear(int expectedRgb, int actualRgb, int tolerance, String what) {
        for (int shift = 16; shift >= 0; shift -= 8) {
            int e = (expectedRgb >> shift) & 0xFF;
            int a = (actualRgb >> shift) & 0xFF;
            assertTrue(
                    Math.abs(e - a) <= tolerance,
                    String.format("%s: expected ~#%06x, got #%06x", what, expectedRgb & 0xFFFFFF, actualRgb & 0xFFFFFF));
        }
    }

    private static UndecodableImageException assertUndecodable(Path file) {
        UndecodableImageException e = assertThrows(UndecodableImageException.class, () -> ImageDecoder.readRgb(file));
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        assertEquals(file, e.path());
        assertTrue(e.getMessage().endsWith(e.reason()), e.getMessage());
        assertInstanceOf(IOException.class, e);
        return e;
    }

    // ---- decodes --------------------------------------------------------------------------------

    @Test
    void rgbPngRoundTripsExactly() throws IOException {
        BufferedImage img = pattern(9, 7, 1);
        BufferedImage back = ImageDecoder.readRgb(writePng(img, dir.resolve("p.png")));
        assertEquals(BufferedImage.TYPE_INT_RGB, back.getType());
        assertEquals(9, back.getWidth());
        assertEquals(7, back.getHeight());
        assertTrue(Arrays.equals(pixels(img), pixels(back)));
    }

    @Test
    void formatComesFromContentNotName() throws IOException {
        BufferedImage img = pattern(5, 4, 2);
        Path png = writePng(img, dir.resolve("p.png"));
        Path lying = Files.copy(png, dir.resolve("really-a-png.jpg"));
        assertTrue(Arrays.equals(pixels(img), pixels(ImageDecoder.readRgb(lying))));
    }

    @Test
    void grayPngKeepsStoredValuesAndBecomesThreeEqualChannels() throws IOException {
        BufferedImage gray = new BufferedImage(6, 3, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = gray.getRaster();
        int[] values = {0, 1, 54, 127, 128, 200, 254, 255, 17, 99, 3, 250, 60, 61, 62, 63, 64, 65};
        r.setPixels(0, 0, 6, 3, values);
        Path file = writePng(gray, dir.resolve("g.png"));

        BufferedImage rgb = ImageDecoder.readRgb(file);
        int[] px = pixels(rgb);
        for (int i = 0; i < values.length; i++) {
            int v = values[i];
            // Java's getRGB on the gray image itself would give e.g. 127 for 54 (linear gray ->
            // sRGB); PIL keeps 54, and so must we.
            assertEquals((v << 16) | (v << 8) | v, px[i] & 0xFFFFFF, "pixel " + i);
        }
        BufferedImage g = ImageDecoder.readGray(file);
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, g.getType());
        assertTrue(Arrays.equals(values, g.getRaster().getPixels(0, 0, 6, 3, (int[]) null)));
    }

    @Test
    void sixteenBitGrayPngKeepsTheHighByte() throws IOException {
        BufferedImage gray = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
        gray.getRaster().setPixels(0, 0, 4, 1, new int[] {0, 0x01FF, 0x8000, 0xFFFF});
        Path file = writePng(gray, dir.resolve("g16.png"));
        int[] g = ImageDecoder.readGray(file).getRaster().getPixels(0, 0, 4, 1, (int[]) null);
        assertTrue(Arrays.equals(new int[] {0, 1, 0x80, 0xFF}, g), Arrays.toString(g));
        assertEquals(0x808080, pixels(ImageDecoder.readRgb(file))[2] & 0xFFFFFF);
    }

    @Test
    void palettedPngWrittenByImageIoDecodes() throws IOException {
        byte[] red = {(byte) 255, 0, 10, (byte) 200};
        byte[] green = {0, (byte) 255, 20, 100};
        byte[] blue = {0, 0, 30, 50};
        IndexColorModel palette = new IndexColorModel(2, 4, red, green, blue);
        BufferedImage img = new BufferedImage(4, 2, BufferedImage.TYPE_BYTE_BINARY, palette);
        img.getRaster().setPixels(0, 0, 4, 2, new int[] {0, 1, 2, 3, 3, 2, 1, 0});
        Path file = writePng(img, dir.resolve("pal.png"));
        BufferedImage raw = ImageDecoder.read(file);
        assertInstanceOf(IndexColorModel.class, raw.getColorModel(), "stored as a palette PNG");

        int[] px = pixels(ImageDecoder.readRgb(file));
        int[] expected = {0xFF0000, 0x00FF00, 0x0A141E, 0xC86432, 0xC86432, 0x0A141E, 0x00FF00, 0xFF0000};
        for (int i = 0; i < 8; i++) {
            assertEquals(expected[i], px[i] & 0xFFFFFF, "pixel " + i);
        }
    }

    @Test
    void palettedPngFromImageMagickDecodes() throws Exception {
        Path file = resource("quadrants.png");
        assertInstanceOf(IndexColorModel.class, ImageDecoder.read(file).getColorModel());
        BufferedImage rgb = ImageDecoder.readRgb(file);
        for (int y = 0; y < 12; y++) {
            for (int x = 0; x < 16; x++) {
                int block = (y < 6 ? 0 : 2) + (x < 8 ? 0 : 1);
                assertEquals(COLORS[block], rgb.getRGB(x, y) & 0xFFFFFF, "(" + x + ", " + y + ")");
            }
        }
    }

    @Test
    void alphaIsDroppedNotComposited() throws IOException {
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        img.setRGB(0, 0, 0x00FF8040); // fully transparent, color kept (PIL convert("RGB"))
        img.setRGB(1, 0, 0x80102030);
        img.setRGB(2, 0, 0xFFABCDEF);
        BufferedImage rgb = ImageDecoder.readRgb(writePng(img, dir.resolve("a.png")));
        assertEquals(BufferedImage.TYPE_INT_RGB, rgb.getType());
        int[] px = pixels(rgb);
        assertEquals(0xFF8040, px[0] & 0xFFFFFF);
        assertEquals(0x102030, px[1] & 0xFFFFFF);
        assertEquals(0xABCDEF, px[2] & 0xFFFFFF);
    }

    @Test
    void cmykJpegDecodesToPlausibleRgb() throws Exception {
        Path file = resource("cmyk.jpg");
        BufferedImage rgb = ImageDecoder.readRgb(file);
        assertEquals(BufferedImage.TYPE_INT_RGB, rgb.getType());
        assertEquals(16, rgb.getWidth());
        assertEquals(12, rgb.getHeight());
        for (int i = 0; i < 4; i++) {
            int[] p = CENTERS[i];
            assertNear(COLORS[i], rgb.getRGB(p[0], p[1]), 24, "block " + i + " of the CMYK JPEG");
        }
        // Gray from a CMYK file goes through RGB and PIL's luma.
        int lumaOfRed = ImageDecoder.readGray(file).getRaster().getSample(3, 2, 0);
        assertTrue(Math.abs(lumaOfRed - 76) <= 8, "luma of red ~ 76, got " + lumaOfRed);
    }

    @Test
    void progressiveJpegFixtureDecodes() throws Exception {
        BufferedImage rgb = ImageDecoder.readRgb(resource("progressive.jpg"));
        for (int i = 0; i < 4; i++) {
            int[] p = CENTERS[i];
            assertNear(COLORS[i], rgb.getRGB(p[0], p[1]), 12, "block " + i + " of the progressive JPEG");
        }
    }

    @Test
    void progressiveJpegWrittenByImageIoMatchesBaseline() throws IOException {
        BufferedImage img = photoLike(64, 48);
        int[] baseline = pixels(ImageDecoder.readRgb(writeJpeg(img, dir.resolve("b.jpg"), false)));
        int[] progressive = pixels(ImageDecoder.readRgb(writeJpeg(img, dir.resolve("p.jpg"), true)));
        int[] original = pixels(img);
        for (int i = 0; i < original.length; i++) {
            assertNear(original[i], progressive[i], 64, "pixel " + i);
            assertNear(baseline[i], progressive[i], 8, "pixel " + i);
        }
    }

    @Test
    void grayOfColorIsPilLuma() throws IOException {
        BufferedImage img = pattern(16, 16, 3);
        BufferedImage g = ImageDecoder.readGray(writePng(img, dir.resolve("c.png")));
        int[] px = pixels(img);
        for (int i = 0; i < px.length; i++) {
            int r = (px[i] >> 16) & 0xFF;
            int gr = (px[i] >> 8) & 0xFF;
            int b = px[i] & 0xFF;
            // PIL's fixed-point form of R*299/1000 + G*587/1000 + B*114/1000, rounded; Pillow 9.4
            // gave exactly this for 20,000 random colors (and the plain /1000 formula, truncated,
            // differed on about half of them).
            int expected = (r * 19595 + gr * 38470 + b * 7471 + 0x8000) >> 16;
            assertEquals(expected, g.getRaster().getSample(i % 16, i / 16, 0));
            assertTrue(Math.abs(expected - (r * 0.299 + gr * 0.587 + b * 0.114)) <= 0.51);
        }
        // A few values Pillow 9.4 gave for Image.new("RGB", (1, 1), c).convert("L").
        assertEquals(76, ImageDecoder.luma(0xFF0000));
        assertEquals(150, ImageDecoder.luma(0x00FF00));
        assertEquals(29, ImageDecoder.luma(0x0000FF));
        assertEquals(255, ImageDecoder.luma(0xFFFFFF));
        assertEquals(128, ImageDecoder.luma(0x808080));
    }

    @Test
    void grayJpegDecodes() throws IOException {
        BufferedImage gray = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                gray.getRaster().setSample(x, y, 0, 4 * x + 2 * y);
            }
        }
        BufferedImage g = ImageDecoder.readGray(writeJpeg(gray, dir.resolve("g.jpg"), false));
        BufferedImage rgb = ImageDecoder.readRgb(dir.resolve("g.jpg"));
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                int v = g.getRaster().getSample(x, y, 0);
                assertTrue(Math.abs(v - (4 * x + 2 * y)) <= 6, "(" + x + ", " + y + "): " + v);
                assertEquals((v << 16) | (v << 8) | v, rgb.getRGB(x, y) & 0xFFFFFF);
            }
        }
    }

    @Test
    void toRgbOfAWholeIntRgbImageIsThatImage() {
        BufferedImage img = pattern(3, 3, 4);
        assertTrue(img == ImageDecoder.toRgb(img));
    }

    @Test
    void subimagesConvertTheirOwnPixels() {
        BufferedImage img = new BufferedImage(10, 8, BufferedImage.TYPE_3BYTE_BGR);
        BufferedImage source = pattern(10, 8, 6);
        img.getGraphics().drawImage(source, 0, 0, null);
        BufferedImage sub = img.getSubimage(3, 2, 5, 4);
        BufferedImage rgb = ImageDecoder.toRgb(sub);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 5; x++) {
                assertEquals(source.getRGB(x + 3, y + 2) & 0xFFFFFF, rgb.getRGB(x, y) & 0xFFFFFF);
            }
        }
    }

    // ---- fails ----------------------------------------------------------------------------------

    @Test
    void truncatedBaselineJpegIsRejected() throws IOException {
        Path whole = writeJpeg(photoLike(256, 192), dir.resolve("whole.jpg"), false);
        ImageDecoder.readRgb(whole); // the whole file is fine
        byte[] bytes = Files.readAllBytes(whole);
        Path half = Files.write(dir.resolve("half.jpg"), Arrays.copyOf(bytes, bytes.length / 2));
        UndecodableImageException e = assertUndecodable(half);
        assertTrue(e.reason().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedProgressiveJpegIsRejected() throws IOException {
        Path whole = writeJpeg(photoLike(256, 192), dir.resolve("whole.jpg"), true);
        ImageDecoder.readRgb(whole);
        byte[] bytes = Files.readAllBytes(whole);
        Path half = Files.write(dir.resolve("half.jpg"), Arrays.copyOf(bytes, bytes.length / 2));
        assertTrue(assertUndecodable(half).reason().contains("truncated"));
    }

    @Test
    void jpegCutInsideItsHeadersIsRejected() throws IOException {
        Path whole = writeJpeg(photoLike(64, 48), dir.resolve("whole.jpg"), false);
        byte[] bytes = Files.readAllBytes(whole);
        assertUndecodable(Files.write(dir.resolve("head.jpg"), Arrays.copyOf(bytes, 300)));
        assertUndecodable(Files.write(dir.resolve("soi.jpg"), Arrays.copyOf(bytes, 2)));
    }

    @Test
    void jpegMissingOnlyItsEndMarkerIsRejected() throws IOException {
        // Strict by design: every pixel is there, but the file was cut.
        Path whole = writeJpeg(photoLike(64, 48), dir.resolve("whole.jpg"), false);
        byte[] bytes = Files.readAllBytes(whole);
        assertUndecodable(Files.write(dir.resolve("noeoi.jpg"), Arrays.copyOf(bytes, bytes.length - 2)));
    }

    @Test
    void truncatedPngIsRejected() throws IOException {
        Path whole = writePng(pattern(64, 64, 7), dir.resolve("whole.png"));
        byte[] bytes = Files.readAllBytes(whole);
        assertUndecodable(Files.write(dir.resolve("half.png"), Arrays.copyOf(bytes, bytes.length / 2)));
    }

    @Test
    void randomBytesAreRejected() throws IOException {
        byte[] noise = new byte[1000];
        new Random(11).nextBytes(noise);
        noise[0] = 0x42; // not 0xFF 0xD8 / 0x89 'P' / 'G' 'I' / 'B' 'M' by chance
        noise[1] = 0x13;
        UndecodableImageException e = assertUndecodable(Files.write(dir.resolve("noise.jpg"), noise));
        assertTrue(e.reason().contains("not a known image format"), e.getMessage());
    }

    @Test
    void emptyFileIsRejected() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.png"));
        assertEquals("empty file", assertUndecodable(empty).reason());
    }

    @Test
    void corruptWebPIsReportedByItsReader() throws IOException {
        // TwelveMonkeys' WebP reader is installed, so a broken WebP fails in decoding, named.
        byte[] webp = new byte[64];
        System.arraycopy("RIFF".getBytes(), 0, webp, 0, 4);
        System.arraycopy("WEBPVP8 ".getBytes(), 0, webp, 8, 8);
        UndecodableImageException e = assertUndecodable(Files.write(dir.resolve("x.webp"), webp));
        assertTrue(e.getMessage().contains("x.webp") && e.getMessage().toUpperCase().contains("WEBP"), e.getMessage());
    }

    @Test
    void missingFileIsAPlainIoError() {
        Path missing = dir.resolve("nope.jpg");
        IOException e = assertThrows(IOException.class, () -> ImageDecoder.readRgb(missing));
        assertInstanceOf(NoSuchFileException.class, e);
    }

    @Test
    void wideSamplesOutsideByteRangeUseTheColorModel() {
        // A float-sample RGB image goes through getRGB (no raw byte path).
        BufferedImage img = pattern(4, 4, 8);
        java.awt.image.ColorModel cm =
                new java.awt.image.ComponentColorModel(
                        java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_sRGB),
                        false, false, java.awt.Transparency.OPAQUE, DataBuffer.TYPE_FLOAT);
        WritableRaster raster = cm.createCompatibleWritableRaster(4, 4);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                int v = img.getRGB(x, y);
                raster.setSample(x, y, 0, ((v >> 16) & 0xFF) / 255f);
                raster.setSample(x, y, 1, ((v >> 8) & 0xFF) / 255f);
                raster.setSample(x, y, 2, (v & 0xFF) / 255f);
            }
        }
        BufferedImage floats = new BufferedImage(cm, raster, false, null);
        BufferedImage rgb = ImageDecoder.toRgb(floats);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                assertNear(img.getRGB(x, y), rgb.getRGB(x, y), 1, "(" + x + ", " + y + ")");
            }
        }
    }

    /** A PNG whose header claims 30000 x 30000 pixels (its data is a 1x1 image): refused from the header, in no time and no memory. */
    @Test
    void anImageOverThePixelLimitIsRefusedFromItsHeaderBeforeDecoding() throws IOException {
        BufferedImage one = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        ImageIO.write(one, "png", png);
        byte[] b = png.toByteArray();
        // IHDR follows the 8-byte signature: length (4), "IHDR" (4), width (4), height (4), 5 more bytes, CRC (4).
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b);
        buf.putInt(16, 30000).putInt(20, 30000);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b, 12, 17);
        buf.putInt(29, (int) crc.getValue());
        Path f = dir.resolve("huge.png");
        Files.write(f, b);
        long t0 = System.nanoTime();
        UndecodableImageException e = assertThrows(UndecodableImageException.class, () -> ImageDecoder.read(f));
        assertTrue(e.getMessage().contains("30000x30000") && e.getMessage().contains("over the limit of 100.0")
                && e.getMessage().contains(ImageDecoder.MAX_PIXELS_PROPERTY), e.getMessage());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refused without decoding");
        String before = System.getProperty(ImageDecoder.MAX_PIXELS_PROPERTY);
        System.setProperty(ImageDecoder.MAX_PIXELS_PROPERTY, "1");
        try {
            Path small = dir.resolve("two.png");
            ImageIO.write(new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB), "png", small.toFile());
            assertThrows(UndecodableImageException.class, () -> ImageDecoder.read(small));
        } finally {
            if (before == null) System.clearProperty(ImageDecoder.MAX_PIXELS_PROPERTY);
            else System.setProperty(ImageDecoder.MAX_PIXELS_PROPERTY, before);
        }
    }
}
