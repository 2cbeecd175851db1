package dev.irtj.vit.image;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorConvertOp;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.SinglePixelPackedSampleModel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes image files into 8-bit pixels the way PIL does for timm/torchvision, so that a model
 * sees on the JVM the pixel values it saw in training.
 *
 * <p>Decoding uses {@code javax.imageio} with the TwelveMonkeys JPEG plugin, which reads CMYK and
 * YCCK JPEGs (converted to RGB, through the embedded ICC profile when there is one), progressive
 * JPEGs and JPEGs the JDK reader rejects; PNG, GIF, BMP, TIFF and WBMP use the JDK readers. The
 * format is found from the content, not the file name. Only the first frame of a multi-frame file
 * is read.
 *
 * <p>Conversion rules (PIL's {@code convert("RGB")} and {@code convert("L")}):
 *
 * <ul>
 *   <li>Alpha is <b>dropped</b>: the stored color of a transparent pixel is kept, as PIL's
 *       {@code convert("RGB")} does (it is not composited on black or white).
 *   <li>RGB and gray samples are taken as stored: an embedded ICC profile of an RGB or gray image
 *       is ignored, as PIL ignores it. (Java's own {@code getRGB} would instead push gray images
 *       through a linear-gray to sRGB conversion and change every value.) Samples wider than 8
 *       bits keep their high byte (PIL does this for 16-bit RGB; for 16-bit gray PIL clips to
 *       255 instead, which whitens such images, so that quirk is not followed); narrower ones are
 *       scaled to 0..255 (a 4-bit 15 becomes 255).
 *   <li>Palette images are looked up in their palette; other color spaces (CMYK from readers
 *       other than TwelveMonkeys, YCC, Lab, ...) are converted to sRGB with {@link
 *       ColorConvertOp}.
 *   <li>Gray from color uses ITU-R 601-2 luma, {@code R*299/1000 + G*587/1000 + B*114/1000},
 *       in PIL's 16-bit fixed-point form with rounding, {@code L = (R*19595 + G*38470 + B*7471 +
 *       0x8000) >> 16} (bit-for-bit Pillow 9.4's {@code convert("L")}).
 * </ul>
 *
 * <p>All methods are static and thread-safe; each read uses its own reader.
 *
 * <p>Failures: a file that is empty, truncated, corrupt or in a format no installed reader knows
 * raises {@link UndecodableImageException} naming the file and the reason. A JPEG whose data
 * stops early is one of them: {@code javax.imageio} decodes such a file "successfully", filling
 * what is missing with gray and only emitting a warning; here any warning that reports missing
 * data (premature end of data, missing EOI marker, truncated file) makes the read fail. This is
 * strict on purpose: a file that lost only its two-byte EOI marker is rejected too, although all
 * its pixels are there.
 */
public final class ImageDecoder {
    private ImageDecoder() {}

    /** System property with the largest image, in pixels, that is decoded (default {@link #DEFAULT_MAX_PIXELS}). */
    public static final String MAX_PIXELS_PROPERTY = "irtj.maxPixels";

    /** 100 megapixels: larger than any camera's photo, small enough to decode in a default heap. */
    public static final long DEFAULT_MAX_PIXELS = 100_000_000L;

    /** The pixel limit in force (checked from the file's header before decoding). */
    public static long maxPixels() {
        String v = System.getProperty(MAX_PIXELS_PROPERTY);
        if (v == null || v.isBlank()) return DEFAULT_MAX_PIXELS;
        try {
            long n = Long.parseLong(v.strip());
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + MAX_PIXELS_PROPERTY + "=" + v + ": expected a positive number of pixels");
    }

    /** Warnings (from the JDK or TwelveMonkeys JPEG readers) that mean image data is missing. */
    private static final Pattern TRUNCATION =
            Pattern.compile(
                    "premature end|truncat|missing eoi|end of (the )?(file|stream|data)|\\beof\\b",
                    Pattern.CASE_INSENSITIVE);

    static {
        // ImageIO finds TwelveMonkeys through META-INF/services with the context class loader of the
        // thread that first touched ImageIO; where that loader cannot see the jar (some launchers,
        // plugin systems) register the provider directly. Its onRegistration orders it before the
        // JDK's JPEG reader.
        IIORegistry registry = IIORegistry.getDefaultInstance();
        if (registry.getServiceProviderByClass(JPEGImageReaderSpi.class) == null) {
            registry.registerServiceProvider(new JPEGImageReaderSpi());
        }
    }

    /**
     * Reads the file and returns the image exactly as the reader decoded it (any type, any color
     * model). Most callers want {@link #readRgb} or {@link #readGray}.
     *
     * @throws UndecodableImageException if the file is not a decodable image
     * @throws IOException if the file cannot be read at all (missing, not permitted)
     */
    public static BufferedImage read(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        if (bytes.length == 0) {
            throw new UndecodableImageException(path, "empty file");
        }
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new UndecodableImageException(path, unknownFormat(bytes));
            }
            ImageReader reader = readers.next();
            List<String> truncation = new ArrayList<>();
            reader.addIIOReadWarningListener(
                    (source, warning) -> {
                        if (warning != null && TRUNCATION.matcher(warning).find()) {
                            truncation.add(warning);
                        }
                    });
            String format = formatName(reader);
            try {
                reader.setInput(in, false, false); // metadata: Adobe APP14, ICC
                // The header's size, before any pixel is decoded: a small file can claim a huge
                // image (a 875 KB PNG of 30000x30000 would need 3.6 GB as ints).
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                long limit = maxPixels();
                if (pixels > limit) {
                    throw new UndecodableImageException(path, String.format(java.util.Locale.ROOT,
                            "%dx%d = %.1f megapixels, over the limit of %.1f (raise it with -D%s=N)",
                            reader.getWidth(0), reader.getHeight(0), pixels / 1e6, limit / 1e6, MAX_PIXELS_PROPERTY));
                }
                BufferedImage image = reader.read(0);
                if (!truncation.isEmpty()) {
                    throw new UndecodableImageException(
                            path, "truncated " + format + " data (" + truncation.get(0) + ")");
                }
                if (image == null || image.getWidth() <= 0 || image.getHeight() <= 0) {
                    throw new UndecodableImageException(path, format + " reader returned no image");
                }
                return image;
            } catch (UndecodableImageException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                // The bytes are in memory, so an IOException here is a decoding failure (IIOException,
                // EOFException inside a segment), never a file-system one. Readers also throw unchecked
                // exceptions (index out of bounds, illegal argument, ...) on corrupt data.
                String what = truncation.isEmpty() ? "corrupt " + format : "truncated " + format;
                throw new UndecodableImageException(path, what + " data (" + describe(e) + ")", e);
            } finally {
                reader.dispose();
            }
        }
    }

    /**
     * Reads the file as 8-bit RGB: a {@link BufferedImage#TYPE_INT_RGB} image, converted with the
     * rules in the class comment (gray replicated to three channels, alpha dropped).
     */
    public static BufferedImage readRgb(Path path) throws IOException {
        return toRgb(read(path));
    }

    /**
     * Reads the file as 8-bit gray: a {@link BufferedImage#TYPE_BYTE_GRAY} image, gray files as
     * stored and color files through PIL's luma (class comment). Read its values with {@code
     * getRaster().getSample(x, y, 0)}: Java's {@code getRGB} on a gray image applies a gamma
     * conversion and returns other numbers.
     */
    public static BufferedImage readGray(Path path) throws IOException {
        return toGray(read(path));
    }

    /**
     * Converts any image to {@link BufferedImage#TYPE_INT_RGB} by the rules in the class comment.
     * An image that already is {@code TYPE_INT_RGB} and owns its whole pixel array (row after
     * row, no padding: not a subimage) is returned as it is, not copied; callers may rely on its
     * {@code DataBufferInt} holding exactly {@code width * height} pixels.
     */
    public static BufferedImage toRgb(BufferedImage src) {
        if (isPlainIntRgb(src)) {
            return src;
        }
        int w = src.getWidth();
        int h = src.getHeight();
        BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] out = ((DataBufferInt) dst.getRaster().getDataBuffer()).getData();
        ColorModel cm = src.getColorModel();
        int csType = cm.getColorSpace().getType();
        Raster raster = src.getRaster();
        if (cm instanceof IndexColorModel) {
            for (int y = 0; y < h; y++) {
                src.getRGB(0, y, w, 1, out, y * w, w); // an exact palette lookup
            }
            for (int i = 0; i < out.length; i++) {
                out[i] &= 0xFFFFFF;
            }
        } else if (isRawReadable(cm, raster) && csType == ColorSpace.TYPE_GRAY) {
            int[] gray = new int[w];
            for (int y = 0; y < h; y++) {
                readBand8(raster, 0, y, gray);
                for (int x = 0, o = y * w; x < w; x++, o++) {
                    int v = gray[x];
                    out[o] = (v << 16) | (v << 8) | v;
                }
            }
        } else if (isRawReadable(cm, raster) && csType == ColorSpace.TYPE_RGB) {
            int[] r = new int[w];
            int[] g = new int[w];
            int[] b = new int[w];
            for (int y = 0; y < h; y++) {
                readBand8(raster, 0, y, r);
                readBand8(raster, 1, y, g);
                readBand8(raster, 2, y, b);
                for (int x = 0, o = y * w; x < w; x++, o++) {
                    out[o] = (r[x] << 16) | (g[x] << 8) | b[x];
                }
            }
        } else if (csType == ColorSpace.TYPE_RGB) {
            // Premultiplied alpha, float or double samples: the color model knows.
            for (int y = 0; y < h; y++) {
                src.getRGB(0, y, w, 1, out, y * w, w);
            }
            for (int i = 0; i < out.length; i++) {
                out[i] &= 0xFFFFFF;
            }
        } else {
            // CMYK, YCC, Lab, ...: a color-managed conversion into sRGB (alpha, if any, is dropped).
            new ColorConvertOp(null).filter(src, dst);
        }
        return dst;
    }

    /**
     * Converts any image to {@link BufferedImage#TYPE_BYTE_GRAY}: gray images keep their stored
     * values (high byte of wider samples), everything else goes through {@link #toRgb} and PIL's
     * luma. Alpha is dropped.
     */
    public static BufferedImage toGray(BufferedImage src) {
        int w = src.getWidth();
        int h = src.getHeight();
        BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        byte[] out = ((DataBufferByte) dst.getRaster().getDataBuffer()).getData();
        ColorModel cm = src.getColorModel();
        Raster raster = src.getRaster();
        if (!(cm instanceof IndexColorModel)
                && isRawReadable(cm, raster)
                && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                readBand8(raster, 0, y, row);
                for (int x = 0, o = y * w; x < w; x++, o++) {
                    out[o] = (byte) row[x];
                }
            }
            return dst;
        }
        int[] rgb = ((DataBufferInt) toRgb(src).getRaster().getDataBuffer()).getData();
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) luma(rgb[i]);
        }
        return dst;
    }

    private static boolean isPlainIntRgb(BufferedImage img) {
        if (img.getType() != BufferedImage.TYPE_INT_RGB) {
            return false;
        }
        Raster r = img.getRaster();
        DataBuffer db = r.getDataBuffer();
        return r.getSampleModel() instanceof SinglePixelPackedSampleModel sm
                && sm.getScanlineStride() == img.getWidth()
                && r.getSampleModelTranslateX() == 0
                && r.getSampleModelTranslateY() == 0
                && db.getNumBanks() == 1
                && db.getOffset() == 0
                && db.getSize() == img.getWidth() * img.getHeight();
    }

    /** PIL's {@code convert("L")} of one packed {@code 0xRRGGBB} pixel. */
    public static int luma(int rgb) {
        int r = (rgb >> 16) & 0xFF;
        int g = (rgb >> 8) & 0xFF;
        int b = rgb & 0xFF;
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }

    // ---- raw sample access ----------------------------------------------------------------------

    /**
     * Whether the color samples can be read straight from the raster: integer samples of at most
     * 16 bits, non-premultiplied, in the first bands of a component or packed color model.
     */
    private static boolean isRawReadable(ColorModel cm, Raster raster) {
        if (!(cm instanceof ComponentColorModel || cm instanceof DirectColorModel)) {
            return false;
        }
        if (cm.isAlphaPremultiplied()) {
            return false;
        }
        int type = raster.getDataBuffer().getDataType();
        if (type != DataBuffer.TYPE_BYTE
                && type != DataBuffer.TYPE_USHORT
                && type != DataBuffer.TYPE_SHORT
                && type != DataBuffer.TYPE_INT) {
            return false;
        }
        int n = cm.getNumColorComponents();
        if (raster.getNumBands() < n) {
            return false;
        }
        for (int b = 0; b < n; b++) {
            int bits = raster.getSampleModel().getSampleSize(b);
            if (bits < 1 || bits > 16) {
                return false;
            }
        }
        return true;
    }

    /** Reads one row of one band, scaled to 0..255 (high byte of wide samples). */
    private static void readBand8(Raster raster, int band, int y, int[] row) {
        int w = raster.getWidth();
        if (readByteBandFast(raster, band, y, row)) {
            return;
        }
        raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, band, row);
        int bits = raster.getSampleModel().getSampleSize(band);
        if (bits > 8) {
            int shift = bits - 8;
            int mask = (1 << bits) - 1;
            for (int x = 0; x < w; x++) {
                row[x] = (row[x] & mask) >>> shift;
            }
        } else if (bits < 8) {
            int max = (1 << bits) - 1;
            for (int x = 0; x < w; x++) {
                row[x] = ((row[x] & max) * 255 + max / 2) / max;
            }
        }
    }

    /** The common case (8-bit interleaved bytes: JPEG, 8-bit PNG) without per-sample calls. */
    private static boolean readByteBandFast(Raster raster, int band, int y, int[] row) {
        if (!(raster.getDataBuffer() instanceof DataBufferByte)
                || !(raster.getSampleModel() instanceof ComponentSampleModel)) {
            return false;
        }
        ComponentSampleModel sm = (ComponentSampleModel) raster.getSampleModel();
        if (sm.getSampleSize(band) != 8) {
            return false;
        }
        DataBufferByte db = (DataBufferByte) raster.getDataBuffer();
        int bank = sm.getBankIndices()[band];
        byte[] data = db.getData(bank);
        int pixelStride = sm.getPixelStride();
        int sx = raster.getMinX() - raster.getSampleModelTranslateX();
        int sy = raster.getMinY() + y - raster.getSampleModelTranslateY();
        int i = db.getOffsets()[bank] + sm.getOffset(sx, sy, band);
        int w = raster.getWidth();
        for (int x = 0; x < w; x++, i += pixelStride) {
            row[x] = data[i] & 0xFF;
        }
        return true;
    }

    // ---- messages -------------------------------------------------------------------------------

    private static String formatName(ImageReader reader) {
        try {
            String name = reader.getFormatName();
            return name == null ? "image" : name.toUpperCase(Locale.ROOT);
        } catch (IOException e) {
            return "image";
        }
    }

    /** The exception chain in one line: IIOException messages as they are, others with a type. */
    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        String previous = null;
        int depth = 0;
        for (Throwable t = e; t != null && depth < 4; t = t.getCause(), depth++) {
            String msg = t.getMessage();
            String part =
                    t instanceof IIOException && msg != null && !msg.isBlank()
                            ? msg
                            : t.getClass().getSimpleName() + (msg == null || msg.isBlank() ? "" : ": " + msg);
            if (previous != null && previous.contains(msg == null ? part : msg)) {
                continue; // a wrapper that repeats its cause's message, or the reverse
            }
            sb.append(sb.length() == 0 ? "" : "; caused by ").append(part);
            previous = part;
        }
        return sb.toString();
    }

    /** Why no reader took the bytes: a known format without a reader, or the first bytes. */
    private static String unknownFormat(byte[] b) {
        if (b.length >= 12 && ascii(b, 0, 4).equals("RIFF") && ascii(b, 8, 4).equals("WEBP")) {
            return "WebP, for which no image reader is installed";
        }
        if (b.length >= 12 && ascii(b, 4, 4).equals("ftyp")) {
            String brand = ascii(b, 8, 4);
            if (brand.startsWith("avi")) {
                return "AVIF, for which no image reader is installed";
            }
            if (brand.startsWith("hei") || brand.startsWith("mif") || brand.startsWith("hev")) {
                return "HEIF/HEIC, for which no image reader is installed";
            }
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) {
            hex.append(String.format(Locale.ROOT, "%02x", b[i] & 0xFF));
        }
        return "not a known image format (no image reader recognizes it; " + b.length + " bytes starting " + hex + ")";
    }

    private static String ascii(byte[] b, int from, int len) {
        return new String(b, from, len, StandardCharsets.ISO_8859_1);
    }
}
