package dev.irtj.train.data;

import dev.irtj.tensor.Fuzzing;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random mutations of valid IDX files, plain and gzipped (issue 11, item 6): {@link Idx#read}
 * gives a dataset whose images and labels agree, or its documented {@link DatasetFormatException}
 * in one line naming the file; never another exception, a hang, or memory beyond the data there.
 */
class IdxFuzzTest {
    private static final int[] LABELS = {5, 0, 4, 1, 9, 2};

    private static byte[] gzip(byte[] b) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(b);
        }
        return out.toByteArray();
    }

    /** Reads the pair and checks the outcome: a consistent dataset, or the documented error. */
    private static void readOrFailDocumented(Path images, Path labels, long budget) {
        Fuzzing.bounded(Duration.ofSeconds(5), budget, () -> {
            try {
                Dataset d = Idx.read(images, labels, null);
                for (int i = 0; i < d.size(); i++) {
                    ImageSource.GrayPixels g = (ImageSource.GrayPixels) d.source(i);
                    assertTrue(g.width() > 0 && g.height() > 0 && d.labels()[i] >= 0 && d.labels()[i] < 256);
                    g.pixel(g.height() - 1, g.width() - 1); // the last pixel of every image is there
                }
            } catch (DatasetFormatException e) {
                Fuzzing.assertOneLineNaming(e.getMessage(), e.file().toString());
                assertTrue(e.file().equals(images) || e.file().equals(labels), e.getMessage());
            }
        });
    }

    @Property(tries = 300, seed = "20511")
    void mutatedIdxFilesReadOrFailWithTheDocumentedError(@ForAll long seed) throws Exception {
        Random r = new Random(seed);
        byte[] images = TestImages.idxImages(LABELS.length, 4, 3), labels = TestImages.idxLabels(LABELS);
        byte[] mi = r.nextBoolean() ? Fuzzing.mutate(images, r) : images;
        byte[] ml = mi == images || r.nextInt(4) == 0 ? Fuzzing.mutate(labels, r) : labels;
        if (r.nextInt(3) == 0 && mi.length >= 16) { // a header claiming huge or negative dimensions
            int[] dims = {Integer.MAX_VALUE, -1, 0, 1 << 16, 60000};
            ByteBuffer.wrap(mi).putInt(4 + 4 * r.nextInt(3), dims[r.nextInt(dims.length)]);
        }
        boolean gz = r.nextBoolean();
        Path dir = Files.createTempDirectory("idx-fuzz");
        try {
            Path pi = Files.write(dir.resolve("images-idx3-ubyte"), gz ? gzip(mi) : mi);
            Path pl = Files.write(dir.resolve("labels-idx1-ubyte"), gz && r.nextBoolean() ? Fuzzing.mutate(gzip(ml), r) : ml);
            readOrFailDocumented(pi, pl, 64L << 20);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.delete(p);
            }
            Files.delete(dir);
        }
    }

    /** 256 MB of zeros in 256 KB of gzip behind a header of six 4x3 images: refused after reading what the header says. */
    @Test
    void aGzipBombIsRefusedInBoundedMemory(@TempDir Path dir) throws Exception {
        byte[] header = TestImages.idxImages(LABELS.length, 4, 3);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16)) {
            gz.write(header);
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 256; i++) gz.write(zeros);
        }
        Path images = Files.write(dir.resolve("bomb-images-idx3-ubyte.gz"), out.toByteArray());
        Path labels = Files.write(dir.resolve("labels-idx1-ubyte"), TestImages.idxLabels(LABELS));
        Fuzzing.bounded(Duration.ofSeconds(10), 64L << 20, () -> {
            DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Idx.read(images, labels, null));
            Fuzzing.assertOneLineNaming(e.getMessage(), images.toString());
            assertTrue(e.getMessage().contains("decompresses to more than the 88 bytes its header says"), e.getMessage());
        });
    }

    /** A header claiming 60000 images of 28x28 (47 MB) over 88 bytes of data: refused without allocating the claim. */
    @Test
    void aHeaderClaimingHugeDimensionsCostsOnlyTheDataThere(@TempDir Path dir) throws Exception {
        byte[] images = TestImages.idxImages(LABELS.length, 4, 3);
        ByteBuffer.wrap(images).putInt(4, 60000).putInt(8, 28).putInt(12, 28);
        Path pi = Files.write(dir.resolve("claims-idx3-ubyte.gz"), gzip(images));
        Path pl = Files.write(dir.resolve("labels-idx1-ubyte"), TestImages.idxLabels(LABELS));
        Fuzzing.bounded(Duration.ofSeconds(5), 8L << 20, () -> {
            DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Idx.read(pi, pl, null));
            assertTrue(e.getMessage().contains("60000 images of 28x28 need 47040016"), e.getMessage());
        });
        ByteBuffer.wrap(images).putInt(4, Integer.MAX_VALUE);
        Files.write(pi, gzip(images));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> Idx.read(pi, pl, null));
        assertTrue(e.getMessage().contains("more than one file may hold"), e.getMessage());
        assertEquals(pi, e.file());
    }
}
