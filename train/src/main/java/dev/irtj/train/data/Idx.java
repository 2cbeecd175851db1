package dev.irtj.train.data;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;
import java.util.zip.GZIPInputStream;

/**
 * The IDX files of MNIST and Fashion-MNIST: {@code *-images-idx3-ubyte} (big-endian magic 2051,
 * then count, rows, cols, then count·rows·cols unsigned bytes) and {@code *-labels-idx1-ubyte}
 * (magic 2049, count, then count unsigned bytes). Either may be gzip-compressed; that is told by
 * the gzip magic bytes {@code 1f 8b}, not by the file name. Pixels stay in memory, shared by all
 * samples ({@link ImageSource.GrayPixels}); labels are the digits / class numbers 0..9, unchanged.
 */
public final class Idx {
    public static final int IMAGES_MAGIC = 2051;
    public static final int LABELS_MAGIC = 2049;

    /** The decoded contents of an images file. */
    public record Images(byte[] pixels, int count, int rows, int cols) {
    }

    private Idx() {
    }

    /**
     * The images of {@code imagesFile} labelled by {@code labelsFile}, keeping those whose label
     * passes {@code keep} ({@code null} keeps all), e.g. {@code l -> l < 5} for the demo's
     * training classes 0–4.
     */
    public static Dataset read(Path imagesFile, Path labelsFile, LongPredicate keep) throws IOException {
        Images images = readImages(imagesFile);
        byte[] labels = readLabels(labelsFile);
        if (labels.length != images.count()) {
            throw new DatasetFormatException(labelsFile, "holds " + labels.length + " labels but " + imagesFile
                    + " holds " + images.count() + " images");
        }
        String base = imagesFile.getFileName().toString();
        int size = images.rows() * images.cols();
        List<Dataset.Sample> samples = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            long label = labels[i] & 0xFF;
            if (keep != null && !keep.test(label)) continue;
            ImageSource src = new ImageSource.GrayPixels(images.pixels(), i * size, images.rows(), images.cols(), base + "#" + i);
            samples.add(new Dataset.Sample(src, label));
        }
        return new Dataset(base, samples);
    }

    /**
     * The training ({@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}) or test
     * ({@code t10k-...}) files of the MNIST layout in {@code dir}, with or without {@code .gz}
     * (the variant {@code train-images.idx3-ubyte} is also found).
     */
    public static Dataset readMnistLayout(Path dir, boolean train, LongPredicate keep) throws IOException {
        String prefix = train ? "train" : "t10k";
        return read(find(dir, prefix + "-images", "idx3-ubyte"), find(dir, prefix + "-labels", "idx1-ubyte"), keep);
    }

    private static Path find(Path dir, String start, String kind) throws IOException {
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString(), null, "IDX data folder not found");
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (Files.isRegularFile(p) && (n.equals(start + "-" + kind) || n.equals(start + "-" + kind + ".gz")
                        || n.equals(start + "." + kind) || n.equals(start + "." + kind + ".gz"))) {
                    found.add(p);
                }
            }
        }
        if (found.isEmpty()) {
            throw new NoSuchFileException(dir.resolve(start + "-" + kind).toString(), null,
                    "IDX file not found (also looked for .gz and " + start + "." + kind + ")");
        }
        found.sort(null);
        return found.get(0);
    }

    public static Images readImages(Path file) throws IOException {
        byte[] b = contents(file, 16, Idx::imagesBytes);
        int magic = header(file, b, 0);
        if (magic != IMAGES_MAGIC) {
            throw new DatasetFormatException(file, "magic number " + magic + " is not " + IMAGES_MAGIC
                    + " (IDX unsigned-byte images)" + (magic == LABELS_MAGIC ? "; this is a labels file" : ""));
        }
        int count = header(file, b, 4), rows = header(file, b, 8), cols = header(file, b, 12);
        long expected = checkedImagesBytes(file, count, rows, cols);
        if (b.length != expected) {
            throw new DatasetFormatException(file, "has " + b.length + " bytes but " + count + " images of " + rows + "x"
                    + cols + " need " + expected);
        }
        byte[] pixels = new byte[b.length - 16];
        System.arraycopy(b, 16, pixels, 0, pixels.length);
        return new Images(pixels, count, rows, cols);
    }

    public static byte[] readLabels(Path file) throws IOException {
        byte[] b = contents(file, 8, Idx::labelsBytes);
        int magic = header(file, b, 0);
        if (magic != LABELS_MAGIC) {
            throw new DatasetFormatException(file, "magic number " + magic + " is not " + LABELS_MAGIC
                    + " (IDX unsigned-byte labels)" + (magic == IMAGES_MAGIC ? "; this is an images file" : ""));
        }
        int count = header(file, b, 4);
        if (count < 0 || b.length != 8L + count) {
            throw new DatasetFormatException(file, "has " + b.length + " bytes but a header of " + count
                    + " labels needs " + (8L + count));
        }
        byte[] labels = new byte[count];
        System.arraycopy(b, 8, labels, 0, count);
        return labels;
    }

    /** The largest IDX file read: its bytes are held in one array. */
    static final long MAX_BYTES = Integer.MAX_VALUE - 16;

    /** How many bytes a file of this header must have, or -1 when the header is not of this kind or has bad dimensions. */
    private interface Expected {
        long bytes(byte[] header);
    }

    private static long imagesBytes(byte[] h) {
        int count = be(h, 4), rows = be(h, 8), cols = be(h, 12);
        return be(h, 0) != IMAGES_MAGIC || count < 0 || rows <= 0 || cols <= 0 ? -1 : 16L + (long) count * rows * cols;
    }

    private static long labelsBytes(byte[] h) {
        int count = be(h, 4);
        return be(h, 0) != LABELS_MAGIC || count < 0 ? -1 : 8L + count;
    }

    private static long checkedImagesBytes(Path file, int count, int rows, int cols) throws DatasetFormatException {
        if (count < 0 || rows <= 0 || cols <= 0) {
            throw new DatasetFormatException(file, "bad dimensions " + count + " x " + rows + " x " + cols);
        }
        long expected = 16L + (long) count * rows * cols;
        if (expected > MAX_BYTES) {
            throw new DatasetFormatException(file, "header says " + count + " images of " + rows + "x" + cols + " = " + (expected - 16)
                    + " bytes, more than one file may hold (" + MAX_BYTES + ")");
        }
        return expected;
    }

    /**
     * The file's bytes, gunzipped when they start with the gzip magic 1f 8b. Decompression stops
     * one byte past what the {@code headerBytes}-byte header says the file holds, so a gzip bomb
     * or a header claiming huge dimensions costs no more memory than the header's claim or the
     * data really there, whichever is smaller.
     */
    static byte[] contents(Path file, int headerBytes, Expected expected) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "IDX file not found");
        long size = Files.size(file);
        if (size > MAX_BYTES) throw new DatasetFormatException(file, "is " + size + " bytes, more than one IDX file may hold (" + MAX_BYTES + ")");
        byte[] raw = Files.readAllBytes(file);
        if (raw.length < 2 || (raw[0] & 0xFF) != 0x1f || (raw[1] & 0xFF) != 0x8b) return raw;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw), 1 << 16)) {
            byte[] head = in.readNBytes(headerBytes);
            long want = head.length < headerBytes ? head.length : expected.bytes(head);
            // A header of another kind, with bad dimensions or too large: the header alone, for the caller to name the problem.
            long limit = want < 0 || want > MAX_BYTES ? head.length : want + 1;
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream((int) Math.min(limit, 1 << 20));
            out.write(head);
            byte[] buf = new byte[1 << 16];
            int n;
            while (out.size() < limit && (n = in.read(buf, 0, (int) Math.min(buf.length, limit - out.size()))) > 0) out.write(buf, 0, n);
            if (want >= 0 && want <= MAX_BYTES && out.size() > want) {
                throw new DatasetFormatException(file, "decompresses to more than the " + want + " bytes its header says");
            }
            return out.toByteArray();
        } catch (DatasetFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new DatasetFormatException(file, "is not a valid gzip stream: " + e.getMessage(), e);
        }
    }

    private static int be(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    private static int header(Path file, byte[] b, int at) throws DatasetFormatException {
        if (b.length < at + 4) throw new DatasetFormatException(file, "is too short for an IDX header (" + b.length + " bytes)");
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }
}
