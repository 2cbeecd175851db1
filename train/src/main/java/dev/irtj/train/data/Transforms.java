package dev.irtj.train.data;

import dev.irtj.tensor.Rng;
import dev.irtj.vit.image.ImageDecoder;
import dev.irtj.vit.image.Preprocess;
import dev.irtj.vit.image.Preprocess.Planes;
import dev.irtj.vit.image.Resample;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Objects;

/**
 * The training and evaluation transforms for a model of input size {@code S = crop}:
 *
 * <ul>
 *   <li><b>train</b>: resize the shorter side to {@code resize} → random {@code S×S} crop →
 *       random horizontal flip (probability 1/2, when enabled) → normalize;</li>
 *   <li><b>eval</b>: resize the shorter side to {@code resize} → center {@code S×S} crop →
 *       normalize (exactly {@link Preprocess#eval}).</li>
 * </ul>
 *
 * <p>{@link #forModel} takes {@code resize = floor(S / 0.875)}, timm's {@code crop_pct}
 * rule (224 → 256). The resize is skipped when the image already has the target size, so a
 * 28×28 MNIST digit with {@code resize = crop = 28} goes through untouched ({@link #withResize}).
 * Resizing is {@link Resample}'s antialiased bicubic on 0..255 floats, clamped to [0, 255];
 * resize and crop are done in one pass ({@link Resample#resizeWindow}), which gives the same
 * numbers as resizing then cropping.
 *
 * <p>Channels: 3 gives RGB (a gray image is replicated), 1 gives gray (a color image becomes
 * PIL's luma), as {@link Preprocess#toPlanarFloat} does. Default mean/std: ImageNet's for 3
 * channels, 0.5/0.5 for 1.
 *
 * <p>Randomness comes only from the {@link Rng} passed to {@link #train}, drawn in a fixed order:
 * {@code top = nextInt(H - S + 1)}, {@code left = nextInt(W - S + 1)}, then {@code nextBoolean()}
 * for the flip (drawn even when flipping is disabled, so that the crops do not depend on it).
 * Immutable and thread-safe.
 */
public final class Transforms {
    /** timm's default {@code crop_pct}. */
    public static final double CROP_PCT = 0.875;

    private final int resize;
    private final int crop;
    private final int channels;
    private final boolean hflip;
    private final float[] mean;
    private final float[] std;

    /**
     * @param resize shorter side after resizing; must be at least {@code crop}
     * @param crop the model input size S
     * @param channels 1 or 3
     * @param hflip whether training flips horizontally at random
     * @param mean per-channel mean ({@code channels} values, on the 0..1 scale)
     * @param std per-channel standard deviation
     */
    public Transforms(int resize, int crop, int channels, boolean hflip, float[] mean, float[] std) {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        if (crop <= 0) throw new IllegalArgumentException("crop size must be positive, got " + crop);
        if (resize < crop) {
            throw new IllegalArgumentException("resize (" + resize + ") must be at least the crop size (" + crop + ")");
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("mean and std need " + channels + " values each, got " + mean.length
                    + " and " + std.length);
        }
        for (float s : std) if (!(s > 0)) throw new IllegalArgumentException("std must be positive, got " + s);
        this.resize = resize;
        this.crop = crop;
        this.channels = channels;
        this.hflip = hflip;
        this.mean = mean.clone();
        this.std = std.clone();
    }

    /** timm's resize for a crop of {@code size}: {@code floor(size / 0.875)} (224 → 256, 384 → 438). */
    public static int resizeFor(int size) {
        return (int) Math.floor(size / CROP_PCT);
    }

    /** The paper's transforms for model input size {@code size}: resize {@link #resizeFor}, flip on, default mean/std. */
    public static Transforms forModel(int size, int channels) {
        return new Transforms(resizeFor(size), size, channels, true, defaultMean(channels), defaultStd(channels));
    }

    public static float[] defaultMean(int channels) {
        return channels == 1 ? Preprocess.grayMean() : Preprocess.imagenetMean();
    }

    public static float[] defaultStd(int channels) {
        return channels == 1 ? Preprocess.grayStd() : Preprocess.imagenetStd();
    }

    /** The same with another resize (e.g. {@code crop} itself, so that same-size images are not resampled). */
    public Transforms withResize(int newResize) {
        return new Transforms(newResize, crop, channels, hflip, mean, std);
    }

    public Transforms withFlip(boolean flip) {
        return new Transforms(resize, crop, channels, flip, mean, std);
    }

    public Transforms withNormalization(float[] newMean, float[] newStd) {
        return new Transforms(resize, crop, channels, hflip, newMean, newStd);
    }

    public int resize() {
        return resize;
    }

    /** The model input size S. */
    public int crop() {
        return crop;
    }

    public int channels() {
        return channels;
    }

    public boolean hflip() {
        return hflip;
    }

    public float[] mean() {
        return mean.clone();
    }

    public float[] std() {
        return std.clone();
    }

    /** Floats per transformed sample, {@code channels · S · S}. */
    public int sampleLength() {
        return channels * crop * crop;
    }

    // ---- decoding -------------------------------------------------------------------------------

    /**
     * The pixels of {@code source} as 0..255 float planes with this transform's channel count.
     *
     * @throws IOException if a file cannot be read or decoded ({@code UndecodableImageException})
     */
    public Planes load(ImageSource source) throws IOException {
        if (source instanceof ImageSource.File f) {
            BufferedImage img = ImageDecoder.read(f.path());
            return Preprocess.toPlanarFloat(img, channels);
        }
        ImageSource.GrayPixels g = (ImageSource.GrayPixels) source;
        int n = g.height() * g.width();
        float[] out = new float[channels * n];
        byte[] d = g.data();
        for (int i = 0; i < n; i++) out[i] = d[g.offset() + i] & 0xFF;
        for (int c = 1; c < channels; c++) System.arraycopy(out, 0, out, c * n, n);
        return new Planes(out, channels, g.height(), g.width());
    }

    // ---- transforms -----------------------------------------------------------------------------

    /** The training transform of {@code img}: {@code channels·S·S} floats, CHW. */
    public float[] train(BufferedImage img, Rng rng) {
        return train(Preprocess.toPlanarFloat(img, channels), rng);
    }

    public float[] train(Planes p, Rng rng) {
        float[] out = new float[sampleLength()];
        train(p, rng, out, 0);
        return out;
    }

    /** The training transform of {@code p} written to {@code dst[offset, offset + sampleLength())}. */
    public void train(Planes p, Rng rng, float[] dst, int offset) {
        checkPlanes(p);
        Objects.requireNonNull(rng, "rng");
        int[] hw = Preprocess.resizedSize(p.height(), p.width(), resize);
        int top = rng.nextInt(hw[0] - crop + 1);
        int left = rng.nextInt(hw[1] - crop + 1);
        boolean flip = rng.nextBoolean() && hflip;
        float[] window = window(p, hw, top, left);
        if (flip) flipRows(window);
        normalizeInto(window, dst, offset);
    }

    /** The evaluation transform of {@code img}: {@code channels·S·S} floats, CHW. */
    public float[] eval(BufferedImage img) {
        return eval(Preprocess.toPlanarFloat(img, channels));
    }

    public float[] eval(Planes p) {
        float[] out = new float[sampleLength()];
        eval(p, out, 0);
        return out;
    }

    /** The evaluation transform of {@code p} written to {@code dst[offset, offset + sampleLength())}. */
    public void eval(Planes p, float[] dst, int offset) {
        checkPlanes(p);
        int[] hw = Preprocess.resizedSize(p.height(), p.width(), resize);
        float[] window = window(p, hw, Preprocess.cropOffset(hw[0], crop), Preprocess.cropOffset(hw[1], crop));
        normalizeInto(window, dst, offset);
    }

    private void checkPlanes(Planes p) {
        if (p.channels() != channels) {
            throw new IllegalArgumentException("planes have " + p.channels() + " channels, the transform wants " + channels);
        }
    }

    /** The S×S window at (top, left) of the image resized to hw: a fresh array of 0..255 values. */
    private float[] window(Planes p, int[] hw, int top, int left) {
        if (hw[0] == p.height() && hw[1] == p.width()) {
            int h = p.height(), w = p.width();
            float[] src = p.data();
            float[] out = new float[sampleLength()];
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < crop; y++) {
                    System.arraycopy(src, (c * h + top + y) * w + left, out, (c * crop + y) * crop, crop);
                }
            }
            return out;
        }
        float[] out = Resample.resizeWindow(p.data(), channels, p.height(), p.width(), hw[0], hw[1], top, left, crop, crop);
        for (int i = 0; i < out.length; i++) {
            float v = out[i];
            out[i] = v < 0f ? 0f : (v > 255f ? 255f : v);
        }
        return out;
    }

    private void flipRows(float[] d) {
        for (int row = 0; row < channels * crop; row++) {
            for (int i = row * crop, j = i + crop - 1; i < j; i++, j--) {
                float t = d[i];
                d[i] = d[j];
                d[j] = t;
            }
        }
    }

    private void normalizeInto(float[] window, float[] dst, int offset) {
        Preprocess.normalize(new Planes(window, channels, crop, crop), mean, std);
        System.arraycopy(window, 0, dst, offset, window.length);
    }

    @Override
    public String toString() {
        return "Transforms[resize " + resize + ", crop " + crop + ", " + channels + " channel(s), hflip " + hflip + "]";
    }
}
