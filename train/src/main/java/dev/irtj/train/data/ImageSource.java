package dev.irtj.train.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where one sample's pixels come from: an image file, decoded when the loader needs it, or
 * 8-bit grayscale pixels already in memory (the IDX files of MNIST and Fashion-MNIST).
 */
public sealed interface ImageSource permits ImageSource.File, ImageSource.GrayPixels {

    /** A short human-readable name for warnings and errors (the path, or file#index). */
    String describe();

    static ImageSource file(Path path) {
        return new File(path);
    }

    /** An image file; decoded (and converted to the model's channel count) on demand. */
    record File(Path path) implements ImageSource {
        public File {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public String describe() {
            return path.toString();
        }
    }

    /**
     * {@code height × width} unsigned 8-bit gray levels, row-major, starting at {@code offset}
     * of {@code data}. Many samples share one array (a whole IDX file), so the array is never
     * copied and must not be modified. {@code name} is what {@link #describe()} reports,
     * e.g. {@code train-images-idx3-ubyte.gz#17}.
     */
    record GrayPixels(byte[] data, int offset, int height, int width, String name) implements ImageSource {
        public GrayPixels {
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(name, "name");
            if (height <= 0 || width <= 0) {
                throw new IllegalArgumentException("image size must be positive, got " + height + "x" + width);
            }
            if (offset < 0 || (long) offset + (long) height * width > data.length) {
                throw new IllegalArgumentException("pixels [" + offset + ", " + ((long) offset + (long) height * width)
                        + ") are outside an array of " + data.length + " bytes");
            }
        }

        /** Gray level of pixel (y, x) in 0..255. */
        public int pixel(int y, int x) {
            return data[offset + y * width + x] & 0xFF;
        }

        @Override
        public String describe() {
            return name;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof GrayPixels g && g.data == data && g.offset == offset && g.height == height
                    && g.width == width && g.name.equals(name);
        }

        @Override
        public int hashCode() {
            return Objects.hash(System.identityHashCode(data), offset, height, width, name);
        }

        @Override
        public String toString() {
            return "GrayPixels[" + name + ", " + height + "x" + width + "]";
        }
    }
}
