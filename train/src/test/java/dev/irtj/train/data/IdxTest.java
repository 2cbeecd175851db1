package dev.irtj.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    private static final int[] LABELS = {5, 0, 4, 1, 9, 2, 1, 3};

    private void layout(boolean gz) throws IOException {
        byte[] images = TestImages.idxImages(LABELS.length, 4, 3);
        byte[] labels = TestImages.idxLabels(LABELS);
        String s = gz ? ".gz" : "";
        Files.write(dir.resolve("train-images-idx3-ubyte" + s), gz ? TestImages.gzip(images) : images);
        Files.write(dir.resolve("train-labels-idx1-ubyte" + s), gz ? TestImages.gzip(labels) : labels);
    }

    private static void assertPixels(Dataset d, int i, int original) {
        ImageSource.GrayPixels g = (ImageSource.GrayPixels) d.source(i);
        assertEquals(4, g.height());
        assertEquals(3, g.width());
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 3; x++) assertEquals((original * 7 + y * 4 + x) % 256, g.pixel(y, x));
        }
        assertTrue(g.describe().endsWith("#" + original), g.describe());
    }

    @Test
    void plainAndGzipReadTheSame() throws IOException {
        for (boolean gz : new boolean[] {false, true}) {
            layout(gz);
            Dataset d = Idx.readMnistLayout(dir, true, null);
            assertEquals(LABELS.length, d.size());
            assertArrayEquals(Arrays.stream(LABELS).asLongStream().toArray(), d.labels());
            for (int i = 0; i < LABELS.length; i++) assertPixels(d, i, i);
            for (Path p : Files.list(dir).toList()) Files.delete(p);
        }
    }

    @Test
    void gzipIsDetectedByContentNotName() throws IOException {
        Path images = Files.write(dir.resolve("imgs.bin"), TestImages.gzip(TestImages.idxImages(LABELS.length, 4, 3)));
        Path labels = Files.write(dir.resolve("labels.gz"), TestImages.idxLabels(LABELS)); // not compressed
        Dataset d = Idx.read(images, labels, null);
        assertEquals(LABELS.length, d.size());
        assertPixels(d, 7, 7);
    }

    @Test
    void classFilterKeepsOriginalLabelsAndPixels() throws IOException {
        layout(true);
        Dataset low = Idx.readMnistLayout(dir, true, l -> l < 5);
        assertArrayEquals(new long[] {0, 4, 1, 2, 1, 3}, low.labels());
        assertPixels(low, 1, 2); // the third image, label 4
        Dataset high = Idx.readMnistLayout(dir, true, l -> l >= 5);
        assertArrayEquals(new long[] {5, 9}, high.labels());
        assertPixels(high, 1, 4);
    }

    @Test
    void wrongMagicIsRejected() throws IOException {
        Path labels = Files.write(dir.resolve("l"), TestImages.idxLabels(LABELS));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Idx.readImages(labels));
        assertTrue(e.getMessage().contains("magic number 2049 is not 2051"), e.getMessage());
        assertTrue(e.getMessage().startsWith(labels.toString()), e.getMessage());
        byte[] bad = TestImages.idxImages(2, 2, 2);
        bad[3] = 0x04;
        Path images = Files.write(dir.resolve("i.gz"), TestImages.gzip(bad));
        e = assertThrows(DatasetFormatException.class, () -> Idx.readImages(images));
        assertTrue(e.getMessage().contains("magic number 2052"), e.getMessage());
        e = assertThrows(DatasetFormatException.class, () -> Idx.readLabels(Files.write(dir.resolve("x"), new byte[3])));
        assertTrue(e.getMessage().contains("too short"), e.getMessage());
    }

    @Test
    void truncatedOrMismatchedFilesAreRejected() throws IOException {
        byte[] images = TestImages.idxImages(3, 4, 3);
        Path truncated = Files.write(dir.resolve("t"), Arrays.copyOf(images, images.length - 1));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Idx.readImages(truncated));
        assertTrue(e.getMessage().contains("need"), e.getMessage());

        Path ok = Files.write(dir.resolve("i"), images);
        Path twoLabels = Files.write(dir.resolve("l"), TestImages.idxLabels(1, 2));
        e = assertThrows(DatasetFormatException.class, () -> Idx.read(ok, twoLabels, null));
        assertTrue(e.getMessage().contains("2 labels") && e.getMessage().contains("3 images"), e.getMessage());

        byte[] gz = TestImages.gzip(images);
        Path brokenGz = Files.write(dir.resolve("g"), Arrays.copyOf(gz, gz.length / 2));
        e = assertThrows(DatasetFormatException.class, () -> Idx.readImages(brokenGz));
        assertTrue(e.getMessage().contains("gzip"), e.getMessage());
    }
}
