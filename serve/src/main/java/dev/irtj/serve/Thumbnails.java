package dev.irtj.serve;

import dev.irtj.index.IndexedImage;
import dev.irtj.vit.image.ImageDecoder;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Thumbnails of indexed images (PNG, at most {@link #MAX_SIDE} pixels on the long side, never
 * enlarged), kept in an LRU cache bounded by their encoded size. The cache key includes the file's
 * stamp (path, size, modification time), so an image that {@code irt index} re-embedded after a
 * change gets a fresh thumbnail.
 */
final class Thumbnails {
    static final int MAX_SIDE = 256;

    private final long maxBytes;
    private final Map<Key, byte[]> cache = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    Thumbnails(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    private record Key(String id, IndexedImage.Stamp stamp) {
    }

    /** The PNG thumbnail of the image in {@code file}, from the cache when it is there. */
    byte[] get(IndexedImage image, Path file) throws IOException {
        Key key = new Key(image.id(), image.stamp());
        synchronized (this) {
            byte[] hit = cache.get(key);
            if (hit != null) return hit;
        }
        // Made outside the lock: two requests for the same new thumbnail may both make it, which
        // costs a decode but never blocks other thumbnails behind a slow one.
        byte[] png = make(file);
        synchronized (this) {
            if (png.length <= maxBytes && !cache.containsKey(key)) {
                cache.put(key, png);
                bytes += png.length;
                Iterator<byte[]> eldest = cache.values().iterator();
                while (bytes > maxBytes && eldest.hasNext()) {
                    bytes -= eldest.next().length;
                    eldest.remove();
                }
            }
        }
        return png;
    }

    synchronized int cachedCount() {
        return cache.size();
    }

    synchronized long cachedBytes() {
        return bytes;
    }

    /**
     * Decodes with source subsampling, so that a large photo is read at about twice the thumbnail
     * size rather than at full resolution, then scales down smoothly.
     */
    static byte[] make(Path file) throws IOException {
        BufferedImage decoded;
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new IOException(file + ": cannot be opened");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new IOException(file + ": not an image in a known format");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                int step = Math.max(1, Math.max(w, h) / (2 * MAX_SIDE));
                ImageReadParam param = reader.getDefaultReadParam();
                param.setSourceSubsampling(step, step, 0, 0);
                decoded = reader.read(0, param);
            } finally {
                reader.dispose();
            }
        }
        BufferedImage rgb = ImageDecoder.toRgb(decoded);
        BufferedImage small = scale(rgb, MAX_SIDE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(small, "png", out)) throw new IOException("no PNG writer installed");
        return out.toByteArray();
    }

    /** Scales down to at most {@code side} on the long side, halving at most per step (less aliasing than one bilinear jump). */
    static BufferedImage scale(BufferedImage src, int side) {
        int w = src.getWidth();
        int h = src.getHeight();
        if (Math.max(w, h) <= side) return src;
        double f = (double) side / Math.max(w, h);
        int tw = Math.max(1, (int) Math.round(w * f));
        int th = Math.max(1, (int) Math.round(h * f));
        BufferedImage cur = src;
        while (cur.getWidth() > tw || cur.getHeight() > th) {
            int nw = Math.max(tw, cur.getWidth() / 2);
            int nh = Math.max(th, cur.getHeight() / 2);
            BufferedImage next = new BufferedImage(nw, nh, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = next.createGraphics();
            try {
                g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
                g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
                g.drawImage(cur, 0, 0, nw, nh, null);
            } finally {
                g.dispose();
            }
            cur = next;
        }
        return cur;
    }
}
