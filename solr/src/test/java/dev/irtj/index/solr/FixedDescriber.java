package dev.irtj.index.solr;

import dev.irtj.retrieval.ImageDescriber;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * A describer identity for tests whose vectors are made by the test itself: only the fingerprint,
 * description and length matter to an index.
 */
record FixedDescriber(String fingerprint, int dims) implements ImageDescriber {
    @Override
    public String describe() {
        return "test vectors " + fingerprint + " (" + dims + " dims)";
    }

    @Override
    public String source() {
        return "{}";
    }

    @Override
    public float[] describe(BufferedImage image) {
        throw new UnsupportedOperationException("FixedDescriber describes no images: the test gives the vectors");
    }

    @Override
    public float[] describe(Path file) {
        throw new UnsupportedOperationException("FixedDescriber describes no images: the test gives the vectors");
    }

    @Override
    public void describeAll(List<Path> files, Consumer<Described> sink) {
        throw new UnsupportedOperationException("FixedDescriber describes no images: the test gives the vectors");
    }
}
