package dev.irtj.serve;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * What an uploaded file's header says: its format and size, read without decoding any pixel, so
 * that a small file declaring a huge image (a decompression bomb) is refused before it costs
 * memory. The format is found from the content, as the decoder of the pipeline finds it.
 */
record ImageHeader(String format, int width, int height) {

    long pixels() {
        return (long) width * height;
    }

    /**
     * Reads the header of {@code bytes}.
     *
     * @throws ApiException 400 when the bytes are not an image of a format an installed reader
     *     knows, or its header cannot be read
     */
    static ImageHeader read(byte[] bytes) {
        if (bytes.length == 0) throw ApiException.badRequest("the uploaded file is empty; expected an image (JPEG, PNG, GIF, BMP, TIFF or WebP)");
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw ApiException.badRequest("the uploaded file is not an image in a known format; expected JPEG, PNG, GIF, BMP, TIFF or WebP");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                String format = reader.getFormatName().toLowerCase(Locale.ROOT);
                return new ImageHeader(format, reader.getWidth(0), reader.getHeight(0));
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ApiException api) throw api;
            throw ApiException.badRequest("the uploaded image's header cannot be read (" + oneLine(e) + "); expected an intact JPEG, PNG, GIF, BMP, TIFF or WebP file");
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) m = e.getClass().getSimpleName();
        return m.replaceAll("\\s+", " ").trim();
    }
}
