package dev.irtj.vit.image;

import dev.irtj.tensor.Fuzzing;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random mutations of the headers of valid PNG, JPEG, GIF, BMP and WebP files (issue 11, item 6),
 * read through {@link ImageDecoder#read} under a pixel limit of 1 megapixel: a decoded image
 * within the limit, or the documented {@link UndecodableImageException} of one line naming the
 * file; never another exception, a hang, or memory beyond what the limit allows.
 */
class ImageHeaderFuzzTest {
    private static final long LIMIT = 1_000_000;
    private static final String[] FORMATS = {"png", "jpg", "gif", "bmp", "webp-lossless", "webp-lossy"};
    private static byte[][] valid;
    private static Path dir;
    private static String limitBefore;

    @BeforeContainer
    static void validFiles() throws IOException {
        BufferedImage img = ImageDecoderTest.pattern(12, 10, 5);
        valid = new byte[FORMATS.length][];
        for (int i = 0; i < 4; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertTrue(ImageIO.write(img, i == 1 ? "jpeg" : FORMATS[i], out), FORMATS[i]);
            valid[i] = out.toByteArray();
        }
        for (int i = 4; i < 6; i++) {
            try (InputStream in = ImageHeaderFuzzTest.class.getResourceAsStream("/images/small-" + FORMATS[i].substring(5) + ".webp")) {
                valid[i] = in.readAllBytes();
            }
        }
        dir = Files.createTempDirectory("image-fuzz");
        limitBefore = System.getProperty(ImageDecoder.MAX_PIXELS_PROPERTY);
        System.setProperty(ImageDecoder.MAX_PIXELS_PROPERTY, Long.toString(LIMIT));
        for (int i = 0; i < FORMATS.length; i++) { // the unmutated files decode: mutations start from valid input
            BufferedImage read = ImageDecoder.read(Files.write(dir.resolve("valid-" + FORMATS[i]), valid[i]));
            assertEquals(12, read.getWidth(), FORMATS[i]);
        }
    }

    @AfterContainer
    static void restore() throws IOException {
        if (limitBefore == null) System.clearProperty(ImageDecoder.MAX_PIXELS_PROPERTY);
        else System.setProperty(ImageDecoder.MAX_PIXELS_PROPERTY, limitBefore);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** A mutation aimed at the header: its first 64 bytes, or a 16/32-bit field there set to a huge or zero size. */
    static byte[] mutateHeader(byte[] in, Random r) {
        int head = Math.min(in.length, 64);
        byte[] b;
        if (r.nextInt(3) == 0) {
            b = in.clone();
            int at = r.nextInt(Math.max(1, head - 3));
            int[] sizes = {0xFFFF, 0x7FFF, 0x3FFF, 0, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 30000, 65535 * 2};
            ByteBuffer buf = ByteBuffer.wrap(b).order(r.nextBoolean() ? java.nio.ByteOrder.BIG_ENDIAN : java.nio.ByteOrder.LITTLE_ENDIAN);
            if (r.nextBoolean()) buf.putShort(at, (short) sizes[r.nextInt(sizes.length)]);
            else buf.putInt(at, sizes[r.nextInt(sizes.length)]);
        } else {
            byte[] h = Fuzzing.mutate(java.util.Arrays.copyOf(in, head), r);
            b = Fuzzing.splice(in, 0, head, h);
        }
        // A PNG whose IHDR changed gets its CRC recomputed half the time, so the mutation reaches the decoder.
        if (b.length >= 33 && (b[0] & 0xFF) == 0x89 && b[12] == 'I' && b[13] == 'H' && r.nextBoolean()) {
            CRC32 crc = new CRC32();
            crc.update(b, 12, 17);
            ByteBuffer.wrap(b).putInt(29, (int) crc.getValue());
        }
        return b;
    }

    @Property(tries = 600, seed = "20310")
    void mutatedHeadersDecodeWithinTheLimitOrFailInOneLine(@ForAll @IntRange(min = 0, max = 5) int format, @ForAll long seed)
            throws IOException {
        byte[] b = mutateHeader(valid[format], new Random(seed));
        Path f = Files.write(dir.resolve("m." + FORMATS[format].replaceAll("-.*", "")), b);
        // 64 bytes a pixel of the limit: the readers' rasters and work arrays (TwelveMonkeys' WebP
        // reader took 87 MB for one mutated 12x2414 file); a header past the limit must cost none of it.
        Fuzzing.bounded(Duration.ofSeconds(5), (64L << 20) + 64 * LIMIT, () -> {
            try {
                BufferedImage img = ImageDecoder.read(f);
                assertTrue((long) img.getWidth() * img.getHeight() <= LIMIT, img.getWidth() + "x" + img.getHeight());
                BufferedImage rgb = ImageDecoder.toRgb(img);
                assertEquals(img.getWidth(), rgb.getWidth());
            } catch (UndecodableImageException e) {
                Fuzzing.assertOneLineNaming(e.getMessage(), f.toString());
                assertEquals(f, e.path());
            }
        });
    }
}
