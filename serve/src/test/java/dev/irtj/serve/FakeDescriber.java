package dev.irtj.serve;

import dev.irtj.retrieval.ImageDescriber;
import dev.irtj.vit.image.ImageDecoder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A describer without a model: the mean color of each cell of a 4 × 4 grid (48 values, plus a
 * small constant so that a black image still has a direction), L2-normalized. A deterministic
 * function of the pixels, so an image's own descriptor is its nearest neighbour; it decodes with
 * the project's {@link ImageDecoder}, so corrupt files fail as they do in the real pipeline.
 */
final class FakeDescriber implements ImageDescriber {
    static final int GRID = 4;
    static final int DIMS = GRID * GRID * 3;

    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    /** Milliseconds each describe takes, to make overlapping calls observable. */
    volatile long delayMillis;

    @Override
    public int dims() {
        return DIMS;
    }

    @Override
    public String fingerprint() {
        return "fake-grid4-rgb";
    }

    @Override
    public String describe() {
        return "fake describer (4x4 mean colors, 48-d)";
    }

    @Override
    public String source() {
        return "{}";
    }

    @Override
    public float[] describe(BufferedImage image) {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        try {
            calls.incrementAndGet();
            if (delayMillis > 0) Thread.sleep(delayMillis);
            return vector(ImageDecoder.toRgb(image));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    @Override
    public float[] describe(Path file) throws IOException {
        return describe(ImageDecoder.readRgb(file));
    }

    @Override
    public void describeAll(List<Path> files, Consumer<Described> sink) throws IOException {
        for (Path f : files) {
            try {
                BufferedImage im = ImageDecoder.readRgb(f);
                sink.accept(new Described(f, describe(im), im.getWidth(), im.getHeight(), null));
            } catch (IOException e) {
                sink.accept(new Described(f, null, 0, 0, e.getMessage()));
            }
        }
    }

    static float[] vector(BufferedImage rgb) {
        int w = rgb.getWidth();
        int h = rgb.getHeight();
        double[] sums = new double[DIMS];
        int[] counts = new int[GRID * GRID];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int cell = (y * GRID / h) * GRID + (x * GRID / w);
                int p = rgb.getRGB(x, y);
                sums[cell * 3] += (p >> 16) & 0xff;
                sums[cell * 3 + 1] += (p >> 8) & 0xff;
                sums[cell * 3 + 2] += p & 0xff;
                counts[cell]++;
            }
        }
        float[] v = new float[DIMS];
        double norm = 0;
        for (int i = 0; i < DIMS; i++) {
            int c = counts[i / 3];
            v[i] = (float) ((c == 0 ? 0 : sums[i] / c / 255.0) + 0.01);
            norm += (double) v[i] * v[i];
        }
        float inv = (float) (1 / Math.sqrt(norm));
        for (int i = 0; i < DIMS; i++) v[i] *= inv;
        return v;
    }
}
