package dev.irtj.index;

import dev.irtj.retrieval.ImageDescriber;
import dev.irtj.vit.image.ImageDecoder;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A deterministic stand-in for the model: the mean luma of a 4 × 4 grid of cells plus a constant
 * component, L2-normalized (17 dims). Counts the files it describes; can sleep per file so that
 * a test can kill a process mid-run.
 */
final class FakeDescriber implements ImageDescriber {
    static final int DIMS = 17;
    final AtomicInteger described = new AtomicInteger();
    private final String fingerprint;
    private final long sleepMillis;

    FakeDescriber() {
        this("fake-grid-v1", 0);
    }

    FakeDescriber(String fingerprint, long sleepMillis) {
        this.fingerprint = fingerprint;
        this.sleepMillis = sleepMillis;
    }

    @Override
    public int dims() {
        return DIMS;
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public String describe() {
        return "fake 4x4 luma grid (" + fingerprint + ")";
    }

    @Override
    public String source() {
        return "{}";
    }

    @Override
    public float[] describe(BufferedImage image) {
        float[] v = new float[DIMS];
        int w = image.getWidth(), h = image.getHeight();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y);
                v[(y * 4 / h) * 4 + x * 4 / w] += ImageDecoder.luma(rgb) / 255f;
            }
        }
        v[16] = 0.1f * w * h / 16;
        double sq = 0;
        for (float f : v) sq += (double) f * f;
        float inv = (float) (1 / Math.sqrt(sq));
        for (int i = 0; i < DIMS; i++) v[i] *= inv;
        return v;
    }

    @Override
    public float[] describe(Path file) throws IOException {
        return describe(ImageDecoder.readRgb(file));
    }

    @Override
    public void describeAll(List<Path> files, Consumer<Described> sink) throws IOException {
        for (Path f : files) {
            if (sleepMillis > 0) {
                try {
                    Thread.sleep(sleepMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
            described.incrementAndGet();
            BufferedImage img;
            try {
                img = ImageDecoder.readRgb(f);
            } catch (IOException e) {
                sink.accept(new Described(f, null, 0, 0, e.getMessage()));
                continue;
            }
            sink.accept(new Described(f, describe(img), img.getWidth(), img.getHeight(), null));
        }
    }
}
