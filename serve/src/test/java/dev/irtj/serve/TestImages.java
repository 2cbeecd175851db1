package dev.irtj.serve;

import dev.irtj.index.IndexedImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/** Test images on disk: blocks of seeded random colors, in class folders, as IndexedImages. */
final class TestImages {
    private TestImages() {
    }

    /** Writes an image of seeded random 8 × 8 color blocks. */
    static Path write(Path file, long seed, int width, int height) throws IOException {
        BufferedImage im = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        SplittableRandom rng = new SplittableRandom(seed);
        int[] block = new int[64];
        for (int i = 0; i < block.length; i++) block[i] = rng.nextInt(1 << 24);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) im.setRGB(x, y, block[(y * 8 / height) * 8 + (x * 8 / width)]);
        }
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(im, "png", file.toFile())) throw new IOException("no PNG writer");
        return file;
    }

    /** The entry an index would hold for {@code file} under {@code root}. */
    static IndexedImage entry(Path root, Path file, FakeDescriber describer, Long label) throws IOException {
        BufferedImage im = ImageIO.read(file.toFile());
        String id = root.relativize(file).toString().replace('\\', '/');
        return new IndexedImage(id, file.toAbsolutePath().toString(), describer.describe(file), label, Files.size(file),
                Files.getLastModifiedTime(file).toMillis(), im.getWidth(), im.getHeight(), Map.of("seed", file.getFileName().toString()));
    }

    /** {@code n} images in folders class0..class2 (label = the class number), 40 × 30 px. */
    static List<IndexedImage> create(Path root, int from, int n, FakeDescriber describer) throws IOException {
        List<IndexedImage> out = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            long label = i % 3;
            Path file = write(root.resolve("class" + label).resolve(String.format("img%04d.png", i)), 1000 + i, 40, 30);
            out.add(entry(root, file, describer, label));
        }
        return out;
    }
}
