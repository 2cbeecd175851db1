package dev.irtj.serve;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How a {@link SearchService} listens and what it accepts.
 *
 * @param host address to bind; 127.0.0.1 by default so that a catalogue is not exposed to the
 *     network unless asked
 * @param port TCP port; 0 takes any free one ({@link SearchService#port()} says which)
 * @param maxUploadBytes largest accepted request body (an uploaded image or a JSON query)
 * @param maxPixels largest accepted width × height of an uploaded image, checked from its header
 *     before any pixel is decoded (a small file can declare a huge image)
 * @param maxK largest number of results one search may ask for
 * @param describeConcurrency how many uploads may be described at once: each is a ViT forward,
 *     which already uses every core of the CPU backend (or the one GPU stream), so more at once
 *     only adds memory and latency
 * @param describeWait how long an upload waits for a free describe slot before it gets 503
 * @param imageRoot folder against which relative image paths in the index are resolved
 * @param thumbnailCacheBytes bound of the in-memory thumbnail cache (encoded bytes)
 */
public record ServeOptions(String host, int port, long maxUploadBytes, long maxPixels, int maxK, int describeConcurrency,
                           Duration describeWait, Path imageRoot, long thumbnailCacheBytes) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final long DEFAULT_MAX_UPLOAD_BYTES = 20L << 20;
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;
    public static final int DEFAULT_MAX_K = 100;

    public ServeOptions {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("--host must name an address, e.g. 127.0.0.1 or 0.0.0.0");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be 0 (any free port) to 65535, got " + port);
        if (maxUploadBytes < 1) throw new IllegalArgumentException("--max-upload-bytes must be at least 1, got " + maxUploadBytes);
        if (maxPixels < 1) throw new IllegalArgumentException("--max-pixels must be at least 1, got " + maxPixels);
        if (maxK < 1) throw new IllegalArgumentException("--max-k must be at least 1, got " + maxK);
        if (describeConcurrency < 1) throw new IllegalArgumentException("--describe-concurrency must be at least 1, got " + describeConcurrency);
        if (describeWait == null || describeWait.isNegative()) throw new IllegalArgumentException("describe wait must be zero or positive, got " + describeWait);
        if (imageRoot == null) throw new IllegalArgumentException("image root must be given (a folder)");
        if (thumbnailCacheBytes < 0) throw new IllegalArgumentException("thumbnail cache bound must be zero or positive, got " + thumbnailCacheBytes);
    }

    /** 127.0.0.1:8080, 20 MiB uploads, 40 megapixels, k ≤ 100, one describe at a time, 64 MiB of thumbnails. */
    public static ServeOptions defaults() {
        return new ServeOptions(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_K, 1,
                Duration.ofSeconds(60), Path.of("").toAbsolutePath(), 64L << 20);
    }

    public ServeOptions withHost(String h) {
        return new ServeOptions(h, port, maxUploadBytes, maxPixels, maxK, describeConcurrency, describeWait, imageRoot, thumbnailCacheBytes);
    }

    public ServeOptions withPort(int p) {
        return new ServeOptions(host, p, maxUploadBytes, maxPixels, maxK, describeConcurrency, describeWait, imageRoot, thumbnailCacheBytes);
    }

    public ServeOptions withMaxUploadBytes(long b) {
        return new ServeOptions(host, port, b, maxPixels, maxK, describeConcurrency, describeWait, imageRoot, thumbnailCacheBytes);
    }

    public ServeOptions withMaxPixels(long p) {
        return new ServeOptions(host, port, maxUploadBytes, p, maxK, describeConcurrency, describeWait, imageRoot, thumbnailCacheBytes);
    }

    public ServeOptions withMaxK(int k) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, k, describeConcurrency, describeWait, imageRoot, thumbnailCacheBytes);
    }

    public ServeOptions withDescribeConcurrency(int n) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxK, n, describeWait, imageRoot, thumbnailCacheBytes);
    }

    public ServeOptions withDescribeWait(Duration d) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxK, describeConcurrency, d, imageRoot, thumbnailCacheBytes);
    }

    public ServeOptions withImageRoot(Path root) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxK, describeConcurrency, describeWait, root, thumbnailCacheBytes);
    }

    public ServeOptions withThumbnailCacheBytes(long b) {
        return new ServeOptions(host, port, maxUploadBytes, maxPixels, maxK, describeConcurrency, describeWait, imageRoot, b);
    }
}
