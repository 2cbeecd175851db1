package dev.irtj.index.solr;

import dev.irtj.retrieval.ImageDescriber;
import dev.irtj.tensor.Rng;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Describes a file by its bytes: a unit vector drawn from a generator seeded with their hash, so
 * that equal files get equal vectors and a changed file another one, without decoding images.
 */
final class HashingDescriber implements ImageDescriber {
    static final int DIMS = 16;

    @Override
    public int dims() {
        return DIMS;
    }

    @Override
    public String fingerprint() {
        return "hashing-16";
    }

    @Override
    public String describe() {
        return "file-bytes hash vectors (16 dims)";
    }

    @Override
    public String source() {
        return "{}";
    }

    @Override
    public float[] describe(BufferedImage image) {
        throw new UnsupportedOperationException("HashingDescriber describes files, not decoded images");
    }

    @Override
    public float[] describe(Path file) throws IOException {
        return vectorOf(Files.readAllBytes(file));
    }

    static float[] vectorOf(byte[] bytes) {
        Rng rng = new Rng(Arrays.hashCode(bytes));
        float[] v = new float[DIMS];
        double norm = 0;
        for (int i = 0; i < DIMS; i++) {
            v[i] = (float) rng.nextGaussian();
            norm += v[i] * v[i];
        }
        for (int i = 0; i < DIMS; i++) v[i] /= (float) Math.sqrt(norm);
        return v;
    }

    @Override
    public void describeAll(List<Path> files, Consumer<Described> sink) {
        for (Path f : files) {
            try {
                sink.accept(new Described(f, describe(f), 1, 1, null));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
