package dev.irtj.train.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/** Small generated fixtures: images written with ImageIO, IDX files, corrupt files. */
final class TestImages {
    private TestImages() {
    }

    /** An RGB image with pseudo-random smooth content determined by {@code seed}. */
    static BufferedImage rgb(int width, int height, long seed) {
        Random r = new Random(seed);
        int r0 = r.nextInt(256), g0 = r.nextInt(256), b0 = r.nextInt(256);
        int dx = r.nextInt(9) - 4, dy = r.nextInt(9) - 4;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rr = Math.floorMod(r0 + dx * x + 3 * y, 256);
                int gg = Math.floorMod(g0 + dy * y + x, 256);
                int bb = Math.floorMod(b0 + r.nextInt(16), 256);
                img.setRGB(x, y, (rr << 16) | (gg << 8) | bb);
            }
        }
        return img;
    }

    /** A gray image whose pixel (y, x) is {@code f(y, x)}. */
    static BufferedImage gray(int width, int height, java.util.function.IntBinaryOperator f) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) img.getRaster().setSample(x, y, 0, f.applyAsInt(y, x));
        }
        return img;
    }

    static Path write(BufferedImage img, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        String name = file.getFileName().toString();
        String format = name.endsWith(".png") ? "png" : "jpg";
        if (!ImageIO.write(img, format, file.toFile())) throw new IOException("no writer for " + format);
        return file;
    }

    static Path writeRgb(Path file, int width, int height, long seed) throws IOException {
        return write(rgb(width, height, seed), file);
    }

    static Path writeGarbage(Path file, long seed) throws IOException {
        byte[] b = new byte[500];
        new Random(seed).nextBytes(b);
        Files.createDirectories(file.getParent());
        return Files.write(file, b);
    }

    static Path writeText(Path file, String... lines) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        return Files.writeString(file, String.join("\n", lines) + "\n");
    }

    /** IDX images (magic 2051) of {@code count} images, pixel value {@code (i*7 + y*rows + x) % 256}. */
    static byte[] idxImages(int count, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(16 + count * rows * cols);
        b.putInt(2051).putInt(count).putInt(rows).putInt(cols);
        for (int i = 0; i < count; i++) {
            for (int y = 0; y < rows; y++) {
                for (int x = 0; x < cols; x++) b.put((byte) ((i * 7 + y * rows + x) % 256));
            }
        }
        return b.array();
    }

    static byte[] idxLabels(int... labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(2049).putInt(labels.length);
        for (int l : labels) b.put((byte) l);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(bo)) {
            o.write(data);
        }
        return bo.toByteArray();
    }
}
