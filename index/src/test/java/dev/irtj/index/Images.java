package dev.irtj.index;

import dev.irtj.tensor.Rng;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Small PNG files with random pixels for catalogue tests. */
final class Images {
    private Images() {
    }

    static Path png(Path file, long seed, int width, int height) throws IOException {
        Rng rng = new Rng(seed);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) img.setRGB(x, y, (int) (rng.nextDouble() * 0xFFFFFF));
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
        return file;
    }

    /** root/class{c}/img{i}.png, 16 × 12 pixels, all different. */
    static List<Path> folder(Path root, int classes, int perClass) throws IOException {
        List<Path> out = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < perClass; i++) out.add(png(root.resolve("class" + c).resolve("img" + i + ".png"), 1000L * c + i, 16, 12));
        }
        return out;
    }
}
