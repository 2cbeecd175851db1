package dev.irtj.vit.image;

/**
 * Separable "antialiased bicubic" resampling of float planes, with the semantics of PIL's {@code
 * Image.resize(size, BICUBIC)} and of PyTorch's {@code F.interpolate(mode="bicubic",
 * antialias=True, align_corners=False)} (which timm's {@code resample_abs_pos_embed} uses).
 *
 * <p>Along each axis, for an input of {@code n} samples and an output of {@code m}:
 *
 * <ul>
 *   <li>{@code scale = n / m}; the kernel is stretched by {@code s = max(scale, 1)}, so it
 *       averages (antialiases) when shrinking and is plain bicubic when enlarging;
 *   <li>output sample {@code o} is centered at {@code c = (o + 0.5) * scale} in input coordinates
 *       (pixel centers align, align_corners = false);
 *   <li>it reads inputs {@code i} in {@code [trunc(c - 2s + 0.5), trunc(c + 2s + 0.5))} clipped to
 *       {@code [0, n)}, each with weight {@code K((i + 0.5 - c) / s)}, where {@code K} is Keys'
 *       cubic convolution kernel with {@code a = -0.5} (support 2);
 *   <li>taps outside the input are dropped and the remaining weights renormalized to sum 1 (no
 *       edge clamping or reflection).
 * </ul>
 *
 * <p>Rows are resampled first, then columns (PIL's order); an axis whose size does not change is
 * copied, not filtered, so a same-size resize is exact. Values are not clamped: overshoot at
 * sharp edges is kept (callers working on 0..255 pixels clamp, as {@link Preprocess} does).
 * Weights are computed in double and applied in float.
 *
 * <p>Note that PyTorch's bicubic <em>without</em> antialias uses {@code a = -0.75} and clamps
 * out-of-range taps to the border instead; it is a different function and not provided here.
 *
 * <p>Two layouts are supported: planar {@code [channels][height][width]} ({@link #resize}) and
 * interleaved {@code [height][width][channels]} ({@link #resizeHwc}). For many channels and
 * small grids, such as ViT position embeddings ({@code [1 + H*W, D]} in timm, i.e. HWC after the
 * class token), {@code resizeHwc} avoids the transposes and runs its inner loops over contiguous
 * channels.
 */
public final class Resample {
    private Resample() {}

    /** Half-width of the cubic kernel before stretching. */
    private static final double SUPPORT = 2.0;

    /** Keys' cubic convolution kernel with a = -0.5 (Catmull-Rom). */
    public static double cubic(double x) {
        x = Math.abs(x);
        if (x < 1.0) {
            return (1.5 * x - 2.5) * x * x + 1.0; // (a + 2) x^3 - (a + 3) x^2 + 1
        }
        if (x < 2.0) {
            return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0; // a (x^3 - 5 x^2 + 8 x - 4)
        }
        return 0.0;
    }

    /**
     * The filter taps of a one-axis resize: output {@code o} is {@code sum_k weight(o, k) *
     * in[first(o) + k]} for {@code k < count(o)}. Immutable; safe to share between threads.
     */
    public static final class Weights {
        private final int inSize;
        private final int outSize;
        private final int[] first;
        private final int[] count;
        private final int stride;
        private final float[] w;

        private Weights(int inSize, int outSize) {
            if (inSize <= 0 || outSize <= 0) {
                throw new IllegalArgumentException(
                        "sizes must be positive: in " + inSize + ", out " + outSize);
            }
            this.inSize = inSize;
            this.outSize = outSize;
            double scale = (double) inSize / outSize;
            double stretch = Math.max(scale, 1.0);
            double support = SUPPORT * stretch;
            this.stride = (int) Math.ceil(support) * 2 + 1; // the most taps an output can have
            this.first = new int[outSize];
            this.count = new int[outSize];
            this.w = new float[outSize * stride];
            double[] tmp = new double[stride];
            for (int o = 0; o < outSize; o++) {
                double center = (o + 0.5) * scale;
                int lo = Math.max(0, (int) (center - support + 0.5));
                int hi = Math.min(inSize, (int) (center + support + 0.5));
                int n = Math.max(0, hi - lo);
                double sum = 0.0;
                for (int k = 0; k < n; k++) {
                    tmp[k] = cubic((lo + k + 0.5 - center) / stretch);
                    sum += tmp[k];
                }
                first[o] = lo;
                count[o] = n;
                for (int k = 0; k < n; k++) {
                    w[o * stride + k] = (float) (sum != 0.0 ? tmp[k] / sum : tmp[k]);
                }
            }
        }

        public int inSize() {
            return inSize;
        }

        public int outSize() {
            return outSize;
        }

        /** The first input index that output {@code o} reads. */
        public int first(int o) {
            return first[o];
        }

        /** How many consecutive inputs output {@code o} reads. */
        public int count(int o) {
            return count[o];
        }

        /** The weight of input {@code first(o) + k} in output {@code o}. */
        public float weight(int o, int k) {
            if (k < 0 || k >= count[o]) {
                throw new IndexOutOfBoundsException("tap " + k + " of " + count[o]);
            }
            return w[o * stride + k];
        }

        /** One past the last input index that any output in {@code [from, to)} reads. */
        int end(int from, int to) {
            int e = 0;
            for (int o = from; o < to; o++) {
                e = Math.max(e, first[o] + count[o]);
            }
            return e;
        }

        /** The first input index that any output in {@code [from, to)} reads. */
        int start(int from, int to) {
            int s = Integer.MAX_VALUE;
            for (int o = from; o < to; o++) {
                s = Math.min(s, first[o]);
            }
            return s;
        }
    }

    /** The taps for resizing an axis of {@code inSize} samples to {@code outSize}. */
    public static Weights weights(int inSize, int outSize) {
        return new Weights(inSize, outSize);
    }

    /** Resizes a 1-D signal to {@code dstLen} samples. */
    public static float[] resize1d(float[] src, int dstLen) {
        if (src.length == dstLen) {
            return src.clone();
        }
        Weights wx = weights(src.length, dstLen);
        float[] out = new float[dstLen];
        for (int o = 0; o < dstLen; o++) {
            out[o] = dot(src, wx.first[o], wx.w, o * wx.stride, wx.count[o]);
        }
        return out;
    }

    /**
     * Resizes planar data {@code src[c][y][x]} ({@code channels x srcH x srcW}, row-major) to
     * {@code channels x dstH x dstW}. Returns a new array; {@code src} is not modified.
     */
    public static float[] resize(
            float[] src, int channels, int srcH, int srcW, int dstH, int dstW) {
        return resizeWindow(src, channels, srcH, srcW, dstH, dstW, 0, 0, dstH, dstW);
    }

    /**
     * Resizes planar data to {@code dstH x dstW} and returns only the window of {@code outH x
     * outW} output pixels whose top-left corner is {@code (top, left)}: the same numbers as {@code
     * resize} followed by a crop, computed without the discarded pixels (a resize to 256 then a
     * center crop of 224 does about 30% less work).
     */
    public static float[] resizeWindow(float[] src, int channels, int srcH, int srcW, int dstH, int dstW,
                                       int top, int left, int outH, int outW) {
        checkArgs(src, channels, srcH, srcW, dstH, dstW, top, left, outH, outW);
        float[] out = new float[channels * outH * outW];
        boolean sameW = srcW == dstW;
        boolean sameH = srcH == dstH;
        Weights wx = sameW ? null : weights(srcW, dstW);
        Weights wy = sameH ? null : weights(srcH, dstH);
        // Input rows that the window's output rows read.
        int r0 = sameH ? top : wy.start(top, top + outH);
        int r1 = sameH ? top + outH : wy.end(top, top + outH);
        int rows = r1 - r0;
        float[] tmp = new float[rows * outW];
        int srcPlane = srcH * srcW;
        int outPlane = outH * outW;
        for (int c = 0; c < channels; c++) {
            int base = c * srcPlane;
            // Pass 1: resample each needed input row along x into tmp.
            for (int r = 0; r < rows; r++) {
                int in = base + (r0 + r) * srcW;
                int t = r * outW;
                if (sameW) {
                    System.arraycopy(src, in + left, tmp, t, outW);
                } else {
                    for (int x = 0; x < outW; x++) {
                        int o = left + x;
                        tmp[t + x] = dot(src, in + wx.first[o], wx.w, o * wx.stride, wx.count[o]);
                    }
                }
            }
            // Pass 2: each output row is a weighted sum of tmp rows.
            int ob = c * outPlane;
            for (int y = 0; y < outH; y++) {
                int row = ob + y * outW;
                if (sameH) {
                    System.arraycopy(tmp, y * outW, out, row, outW);
                    continue;
                }
                int o = top + y;
                int n = wy.count[o];
                int wb = o * wy.stride;
                int t0 = (wy.first[o] - r0) * outW;
                for (int k = 0; k < n; k++) {
                    axpy(wy.w[wb + k], tmp, t0 + k * outW, out, row, outW);
                }
            }
        }
        return out;
    }

    /**
     * Resizes interleaved data {@code src[y][x][c]} ({@code srcH x srcW x channels}, row-major) to
     * {@code dstH x dstW x channels}. Same numbers as {@link #resize} on the transposed layout; the
     * inner loops run over the contiguous channels, which suits many channels on a small grid.
     */
    public static float[] resizeHwc(
            float[] src, int srcH, int srcW, int channels, int dstH, int dstW) {
        checkArgs(src, channels, srcH, srcW, dstH, dstW, 0, 0, dstH, dstW);
        if (srcH == dstH && srcW == dstW) {
            return src.clone();
        }
        // Pass 1: along x, every input row.
        float[] tmp;
        if (srcW == dstW) {
            tmp = src;
        } else {
            Weights wx = weights(srcW, dstW);
            tmp = new float[srcH * dstW * channels];
            for (int y = 0; y < srcH; y++) {
                for (int x = 0; x < dstW; x++) {
                    int dst = (y * dstW + x) * channels;
                    int n = wx.count[x];
                    int wb = x * wx.stride;
                    for (int k = 0; k < n; k++) {
                        int in = (y * srcW + wx.first[x] + k) * channels;
                        axpy(wx.w[wb + k], src, in, tmp, dst, channels);
                    }
                }
            }
        }
        if (srcH == dstH) {
            return tmp;
        }
        // Pass 2: along y; an output row (dstW * channels floats) sums whole tmp rows.
        Weights wy = weights(srcH, dstH);
        int rowLen = dstW * channels;
        float[] out = new float[dstH * rowLen];
        for (int y = 0; y < dstH; y++) {
            int n = wy.count[y];
            int wb = y * wy.stride;
            for (int k = 0; k < n; k++) {
                axpy(wy.w[wb + k], tmp, (wy.first[y] + k) * rowLen, out, y * rowLen, rowLen);
            }
        }
        return out;
    }

    private static float dot(float[] a, int ai, float[] w, int wi, int n) {
        float s = 0f;
        for (int k = 0; k < n; k++) {
            s += a[ai + k] * w[wi + k];
        }
        return s;
    }

    /** {@code y[yi..yi+n) += alpha * x[xi..xi+n)}. */
    private static void axpy(float alpha, float[] x, int xi, float[] y, int yi, int n) {
        for (int j = 0; j < n; j++) {
            y[yi + j] += alpha * x[xi + j];
        }
    }

    private static void checkArgs(float[] src, int channels, int srcH, int srcW, int dstH, int dstW,
                                  int top, int left, int outH, int outW) {
        if (channels <= 0 || srcH <= 0 || srcW <= 0 || dstH <= 0 || dstW <= 0) {
            throw new IllegalArgumentException(String.format(
                    "sizes must be positive: channels %d, source %dx%d, target %dx%d",
                    channels, srcH, srcW, dstH, dstW));
        }
        if ((long) channels * srcH * srcW != src.length) {
            throw new IllegalArgumentException(String.format(
                    "source has %d values, expected %d x %d x %d", src.length, channels, srcH, srcW));
        }
        if (outH <= 0 || outW <= 0 || top < 0 || left < 0 || top + outH > dstH || left + outW > dstW) {
            throw new IllegalArgumentException(String.format(
                    "window %dx%d at (%d, %d) is not inside the %dx%d output", outH, outW, top, left, dstH, dstW));
        }
        if ((long) channels * outH * outW > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(String.format(
                    "output too large: %d x %d x %d", channels, outH, outW));
        }
    }
}
