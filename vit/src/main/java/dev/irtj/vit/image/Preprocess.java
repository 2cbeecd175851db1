package dev.irtj.vit.image;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;

/**
 * The evaluation transform of timm/torchvision, {@code Resize(size) -> CenterCrop(crop) ->
 * ToTensor() -> Normalize(mean, std)}, from a {@link BufferedImage} to a {@code float[]} in CHW
 * layout ({@code [channel][row][column]}, row-major), ready to be one item of an {@code [N, C, H,
 * W]} batch.
 *
 * <p>Steps, each also public:
 *
 * <ol>
 *   <li>{@link #toPlanarFloat}: 8-bit pixels to float planes of 0..255 values, with {@link
 *       ImageDecoder}'s conversion rules: a gray image gives three equal planes when three
 *       channels are wanted (PIL's {@code convert("RGB")}), a color image gives PIL's luma when
 *       one is wanted ({@code convert("L")}); alpha is dropped.
 *   <li>{@link #resizeShorterSide}: the shorter side becomes {@code size} and the longer side
 *       {@code trunc(size * long / short)}, torchvision's rule for {@code Resize(int)}, with
 *       {@link Resample}'s antialiased bicubic (PIL's BICUBIC, which timm's eval transform
 *       uses for DeiT; torchvision's own default would be bilinear). Results are clamped to
 *       [0, 255].
 *   <li>{@link #centerCrop}: torchvision's offsets, {@code top = round((h - crop) / 2)} with
 *       Python's round-half-to-even; an image smaller than the crop is padded with 0 (black), as
 *       torchvision does.
 *   <li>{@link #normalize}: {@code (v / 255 - mean) / std}, computed in float in that order, as
 *       {@code ToTensor} and {@code Normalize} do.
 * </ol>
 *
 * <p>Difference from torchvision on PIL images: PIL resizes 8-bit images in 8-bit, with
 * fixed-point weights, rounding to an integer after each of its two passes; here the resize runs
 * in float on the 0..255 values (PIL's float-image resize gives the same numbers to about 1e-6).
 * The two differ by up to about one gray level (1/255 before normalization, about 0.017 after
 * dividing by std), not the 0.5 of a single rounding, because PIL rounds twice: on a noisy 53x37
 * image resized to 45x32 the largest difference was 0.93 gray levels. Without a resize (the
 * image already has the target size) the result is bit-for-bit torchvision's.
 *
 * <p>Defaults: three channels use ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, 0.224,
 * 0.225); one channel uses mean 0.5 and std 0.5 (values in [-1, 1]). The overloads that take
 * mean and std accept any others (timm's model configs name theirs).
 */
public final class Preprocess {
    private Preprocess() {}

    /** ImageNet's per-channel mean, RGB order. A fresh copy each call. */
    public static float[] imagenetMean() {
        return new float[] {0.485f, 0.456f, 0.406f};
    }

    /** ImageNet's per-channel standard deviation, RGB order. A fresh copy each call. */
    public static float[] imagenetStd() {
        return new float[] {0.229f, 0.224f, 0.225f};
    }

    /** The one-channel default mean, 0.5. */
    public static float[] grayMean() {
        return new float[] {0.5f};
    }

    /** The one-channel default standard deviation, 0.5. */
    public static float[] grayStd() {
        return new float[] {0.5f};
    }

    /**
     * Float planes: {@code data} is {@code [channels][height][width]}, row-major. The array is
     * shared, not copied; methods that say so work in place on it.
     */
    public record Planes(float[] data, int channels, int height, int width) {
        public Planes {
            if (channels <= 0 || height <= 0 || width <= 0) {
                throw new IllegalArgumentException(
                        "planes must be non-empty: " + channels + "x" + height + "x" + width);
            }
            if ((long) channels * height * width != data.length) {
                throw new IllegalArgumentException(
                        data.length + " values cannot be " + channels + "x" + height + "x" + width);
            }
        }

        /** The value at channel {@code c}, row {@code y}, column {@code x}. */
        public float get(int c, int y, int x) {
            return data[(c * height + y) * width + x];
        }
    }

    /**
     * The eval transform with the default mean and std: {@code rgb} true gives 3 channels with
     * ImageNet's, false gives 1 channel (luma) with mean 0.5, std 0.5.
     *
     * @param resizeShorter the shorter side after resizing (e.g. 256, or 224 / 0.875 rounded down)
     * @param crop the side of the square center crop (e.g. 224)
     * @return {@code channels * crop * crop} floats, CHW
     */
    public static float[] eval(BufferedImage img, int resizeShorter, int crop, boolean rgb) {
        return rgb
                ? eval(img, resizeShorter, crop, imagenetMean(), imagenetStd())
                : eval(img, resizeShorter, crop, grayMean(), grayStd());
    }

    /**
     * The eval transform with the given per-channel mean and std; the number of channels (1 or 3)
     * is their length.
     */
    public static float[] eval(
            BufferedImage img, int resizeShorter, int crop, float[] mean, float[] std) {
        if (mean.length != std.length) {
            throw new IllegalArgumentException(
                    "mean has " + mean.length + " values, std " + std.length);
        }
        if (resizeShorter <= 0 || crop <= 0) {
            throw new IllegalArgumentException(
                    "resize and crop must be positive: " + resizeShorter + ", " + crop);
        }
        Planes p = toPlanarFloat(img, mean.length);
        int[] size = resizedSize(p.height(), p.width(), resizeShorter);
        Planes cropped;
        if (crop <= size[0] && crop <= size[1]) {
            // Resize and crop in one go: only the kept pixels are computed.
            int top = cropOffset(size[0], crop);
            int left = cropOffset(size[1], crop);
            float[] data = Resample.resizeWindow(
                    p.data(), p.channels(), p.height(), p.width(), size[0], size[1], top, left, crop, crop);
            if (size[0] != p.height() || size[1] != p.width()) {
                clamp255(data);
            }
            cropped = new Planes(data, p.channels(), crop, crop);
        } else {
            cropped = centerCrop(resizeShorterSide(p, resizeShorter), crop, crop);
        }
        return normalize(cropped, mean, std);
    }

    /**
     * The pixels as float planes of 0..255 values, with {@code channels} = 3 (RGB) or 1 (gray);
     * conversions as in {@link ImageDecoder}.
     */
    public static Planes toPlanarFloat(BufferedImage img, int channels) {
        int w = img.getWidth();
        int h = img.getHeight();
        int n = w * h;
        if (channels == 3) {
            int[] rgb = ((DataBufferInt) ImageDecoder.toRgb(img).getRaster().getDataBuffer()).getData();
            float[] out = new float[3 * n];
            for (int i = 0; i < n; i++) {
                int v = rgb[i];
                out[i] = (v >> 16) & 0xFF;
                out[n + i] = (v >> 8) & 0xFF;
                out[2 * n + i] = v & 0xFF;
            }
            return new Planes(out, 3, h, w);
        }
        if (channels == 1) {
            byte[] gray = ((DataBufferByte) ImageDecoder.toGray(img).getRaster().getDataBuffer()).getData();
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                out[i] = gray[i] & 0xFF;
            }
            return new Planes(out, 1, h, w);
        }
        throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
    }

    /**
     * torchvision's {@code Resize(size)} output size for an int size: {@code {height, width}} with
     * the shorter side {@code size} and the longer {@code trunc(size * long / short)} (a square
     * stays square).
     */
    public static int[] resizedSize(int height, int width, int size) {
        if (height <= 0 || width <= 0 || size <= 0) {
            throw new IllegalArgumentException(
                    "sizes must be positive: " + height + "x" + width + " to " + size);
        }
        int shorter = Math.min(height, width);
        int longer = Math.max(height, width);
        // Python: int(size * long / short), a true division of the exact integer product.
        int newLong = (int) ((double) ((long) size * longer) / shorter);
        return height <= width ? new int[] {size, newLong} : new int[] {newLong, size};
    }

    /**
     * Resizes so that the shorter side is {@code size} ({@link #resizedSize}), with antialiased
     * bicubic, clamping the results to [0, 255]. Returns {@code p} itself when the size does not
     * change.
     */
    public static Planes resizeShorterSide(Planes p, int size) {
        int[] hw = resizedSize(p.height(), p.width(), size);
        if (hw[0] == p.height() && hw[1] == p.width()) {
            return p;
        }
        float[] data = Resample.resize(p.data(), p.channels(), p.height(), p.width(), hw[0], hw[1]);
        clamp255(data);
        return new Planes(data, p.channels(), hw[0], hw[1]);
    }

    /**
     * torchvision's center-crop offset along one axis: {@code round((size - crop) / 2)} with
     * Python's round-half-to-even when the crop fits; when it does not, minus the padding added
     * before that edge, {@code -((crop - size) / 2)} (so the image sits at that offset in the
     * crop).
     */
    public static int cropOffset(int size, int crop) {
        if (crop <= size) {
            return (int) Math.rint((size - crop) / 2.0);
        }
        return -((crop - size) / 2);
    }

    /**
     * torchvision's {@code CenterCrop((cropH, cropW))}: the window at {@link #cropOffset}; parts
     * outside the image (when the crop is larger) are 0. Returns {@code p} itself when the size
     * does not change.
     */
    public static Planes centerCrop(Planes p, int cropH, int cropW) {
        if (cropH <= 0 || cropW <= 0) {
            throw new IllegalArgumentException("crop must be positive: " + cropH + "x" + cropW);
        }
        int h = p.height();
        int w = p.width();
        if (cropH == h && cropW == w) {
            return p;
        }
        int top = cropOffset(h, cropH);
        int left = cropOffset(w, cropW);
        float[] out = new float[p.channels() * cropH * cropW];
        // Output columns [x0, x1) and rows [y0, y1) come from the image; the rest stays 0.
        int x0 = Math.max(0, -left);
        int x1 = Math.min(cropW, w - left);
        int y0 = Math.max(0, -top);
        int y1 = Math.min(cropH, h - top);
        float[] src = p.data();
        for (int c = 0; c < p.channels(); c++) {
            for (int y = y0; y < y1; y++) {
                int from = (c * h + top + y) * w + left + x0;
                int to = (c * cropH + y) * cropW + x0;
                System.arraycopy(src, from, out, to, x1 - x0);
            }
        }
        return new Planes(out, p.channels(), cropH, cropW);
    }

    /**
     * {@code (v / 255 - mean[c]) / std[c]} in float, in place on {@code p.data()}, which is
     * returned.
     */
    public static float[] normalize(Planes p, float[] mean, float[] std) {
        if (mean.length != p.channels() || std.length != p.channels()) {
            throw new IllegalArgumentException(
                    "mean and std need " + p.channels() + " values each, got " + mean.length + " and " + std.length);
        }
        float[] d = p.data();
        int plane = p.height() * p.width();
        for (int c = 0; c < p.channels(); c++) {
            float m = mean[c];
            float s = std[c];
            for (int i = c * plane, e = i + plane; i < e; i++) {
                d[i] = (d[i] / 255f - m) / s;
            }
        }
        return d;
    }

    private static void clamp255(float[] d) {
        for (int i = 0; i < d.length; i++) {
            float v = d[i];
            d[i] = v < 0f ? 0f : (v > 255f ? 255f : v);
        }
    }
}
