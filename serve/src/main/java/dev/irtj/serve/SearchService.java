package dev.irtj.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.irtj.index.IndexInfo;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.VectorIndex;
import dev.irtj.retrieval.ImageDescriber;
import dev.irtj.vit.image.ImageDecoder;
import dev.irtj.vit.image.UndecodableImageException;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * The HTTP search service behind {@code irt serve}: a {@link VectorIndex} searched with the
 * descriptors of an {@link ImageDescriber}, on Javalin (Jetty 12).
 *
 * <ul>
 *   <li>{@code POST /search}: a multipart image (field {@code image}), or JSON {@code {"vector":[...]}}
 *       or {@code {"id":"..."}}; {@code k} as a query parameter, form field or JSON field.
 *   <li>{@code GET /images/{id}}, {@code GET /images/{id}/thumbnail}: the indexed file and a small
 *       PNG of it. The id is looked up in the index and only the path recorded there is read.
 *   <li>{@code GET /health}, {@code GET /stats}, and the web page at {@code GET /}.
 * </ul>
 *
 * <p>Every search asks the index afresh, so images that another process adds to the index (the
 * embedded index refreshes its reader near-real-time) appear in results without a restart.
 * Refused requests get their status and {@code {"error": "one line"}}.
 */
public final class SearchService implements AutoCloseable {
    /** Room for the multipart framing and small form fields around an image of the byte limit. */
    static final long MULTIPART_SLACK = 64 * 1024;
    static final int DEFAULT_K = 10;
    /** How long {@link #stop()} waits for searches in flight. */
    static final long STOP_TIMEOUT_MS = 30_000;
    private static final int LATENCY_WINDOW = 1024;
    private static final List<String> WEB_FILES = List.of("index.html", "app.js", "style.css");

    private final VectorIndex index;
    private final ImageDescriber describer;
    private final ServeOptions options;
    private final ObjectMapper json = new ObjectMapper();
    private final Semaphore describeSlots;
    private final LatencyStats latency = new LatencyStats(LATENCY_WINDOW);
    private final Thumbnails thumbnails;
    private final Map<String, byte[]> web = new LinkedHashMap<>();
    private Javalin app;
    private Path uploadDir;

    /**
     * Checks that the describer makes the index's descriptors (same fingerprint and length);
     * nothing listens until {@link #start()}.
     *
     * @throws IllegalArgumentException naming both describers when they differ
     */
    public SearchService(VectorIndex index, ImageDescriber describer, ServeOptions options) throws IOException {
        this.index = index;
        this.describer = describer;
        this.options = options;
        this.describeSlots = new Semaphore(options.describeConcurrency(), true);
        this.thumbnails = new Thumbnails(options.thumbnailCacheBytes());
        // Uploads are decoded by the project's decoder, which has its own pixel bound: a larger
        // --max-pixels would let through images that then fail to decode, as 400 instead of 413.
        if (options.maxPixels() > ImageDecoder.maxPixels()) {
            throw new IllegalArgumentException("--max-pixels " + options.maxPixels() + " is over the image decoder's limit of " + ImageDecoder.maxPixels()
                    + " pixels; raise that too with -D" + ImageDecoder.MAX_PIXELS_PROPERTY + "=" + options.maxPixels());
        }
        IndexInfo info = index.info();
        boolean recorded = info.fingerprint() != null && !info.fingerprint().isBlank();
        if (recorded && !info.fingerprint().equals(describer.fingerprint())) {
            throw new IllegalArgumentException("the index holds descriptors of " + info.describer() + " (fingerprint " + info.fingerprint()
                    + "), not of " + describer.describe() + " (fingerprint " + describer.fingerprint() + "); serve it with the model it was built with");
        }
        if (info.count() > 0 && info.dims() != describer.dims()) {
            throw new IllegalArgumentException("the index holds " + info.dims() + "-dimensional descriptors, the describer makes " + describer.dims());
        }
        for (String name : WEB_FILES) {
            try (InputStream in = SearchService.class.getResourceAsStream("/web/" + name)) {
                if (in == null) throw new IllegalStateException("web page file /web/" + name + " is missing from the class path");
                web.put(name, in.readAllBytes());
            }
        }
    }

    /** Starts listening; returns this. */
    public synchronized SearchService start() throws IOException {
        if (app != null) throw new IllegalStateException("already started on port " + port());
        uploadDir = Files.createTempDirectory("irt-serve-uploads-");
        long bodyLimit = options.maxUploadBytes() + MULTIPART_SLACK;
        Javalin created = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.jetty.host = options.host();
            cfg.jetty.port = options.port();
            cfg.http.maxRequestSize = bodyLimit;
            cfg.jetty.multipartConfig.maxFileSize(options.maxUploadBytes(), SizeUnit.BYTES);
            cfg.jetty.multipartConfig.maxTotalRequestSize(bodyLimit, SizeUnit.BYTES);
            // Uploads up to 1 MiB stay in memory; larger ones spill to Jetty's temporary files.
            cfg.jetty.multipartConfig.maxInMemoryFileSize((int) Math.min(options.maxUploadBytes(), 1 << 20), SizeUnit.BYTES);
            cfg.jetty.multipartConfig.cacheDirectory(uploadDir.toString());
            // Jetty stops gracefully (Javalin's StatisticsHandler counts requests in flight) only
            // with a stop timeout; without one a search under way is cut off mid-answer.
            cfg.jetty.modifyServer(server -> server.setStopTimeout(STOP_TIMEOUT_MS));

            cfg.routes.before(ctx -> ctx.header("X-Content-Type-Options", "nosniff"));
            cfg.routes.get("/", ctx -> webFile(ctx, "index.html"));
            cfg.routes.get("/app.js", ctx -> webFile(ctx, "app.js"));
            cfg.routes.get("/style.css", ctx -> webFile(ctx, "style.css"));
            cfg.routes.get("/health", this::health);
            cfg.routes.get("/stats", this::stats);
            cfg.routes.post("/search", this::search);
            // Ids are relative paths, so they contain '/': <id> matches across segments. The
            // thumbnail route is declared first so that ".../thumbnail" is not taken as an id.
            cfg.routes.get("/images/<id>/thumbnail", this::thumbnail);
            cfg.routes.get("/images/<id>", this::original);

            cfg.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e.status, e.getMessage()));
            cfg.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
            // After a 413 part of the body may be unread: the connection cannot carry another
            // request, and saying so keeps clients from sending the next one into a closed socket.
            cfg.routes.after(ctx -> {
                if (ctx.statusCode() == 413) ctx.header("Connection", "close");
            });
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                // The client gets one line; the whole trace goes to the log, so nothing is lost.
                System.err.println("irt serve: " + ctx.method() + " " + ctx.path() + " failed:");
                e.printStackTrace(System.err);
                error(ctx, 500, "internal error: " + ImageHeader.oneLine(e));
            });
        });
        try {
            created.start();
        } catch (RuntimeException e) {
            deleteUploadDir();
            throw new IOException("cannot listen on " + options.host() + ":" + options.port() + ": " + ImageHeader.oneLine(rootCause(e)), e);
        }
        app = created;
        return this;
    }

    /** The port listened on (the chosen one when the options said 0). */
    public synchronized int port() {
        if (app == null) throw new IllegalStateException("not started");
        return app.port();
    }

    /** The address to open in a browser, e.g. {@code http://127.0.0.1:8080/}. */
    public String url() {
        String host = options.host();
        if (host.contains(":")) host = "[" + host + "]";
        return "http://" + host + ":" + port() + "/";
    }

    /**
     * Stops listening; searches in flight finish first (up to {@link #STOP_TIMEOUT_MS}). The
     * index and describer stay open: they belong to the caller.
     */
    public synchronized void stop() {
        if (app == null) return;
        app.stop();
        app = null;
        deleteUploadDir();
    }

    @Override
    public void close() {
        stop();
    }

    // ---- endpoints ----

    private void webFile(Context ctx, String name) {
        String type = name.endsWith(".html") ? "text/html; charset=utf-8"
                : name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
        ctx.contentType(type).result(web.get(name));
    }

    private void health(Context ctx) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        try {
            IndexInfo info = index.info();
            body.put("status", "ok");
            body.put("count", info.count());
            send(ctx, 200, body);
        } catch (IOException | RuntimeException e) {
            body.put("status", "unavailable");
            body.put("error", "the index does not answer: " + ImageHeader.oneLine(e));
            send(ctx, 503, body);
        }
    }

    private void stats(Context ctx) throws IOException {
        IndexInfo info = index.info();
        LatencyStats.Snapshot s = latency.snapshot();
        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("mean", s.meanMs());
        lat.put("p50", s.p50Ms());
        lat.put("p95", s.p95Ms());
        lat.put("window", s.window());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("count", info.count());
        body.put("dims", info.dims());
        body.put("fingerprint", info.fingerprint());
        body.put("describer", describer.describe());
        body.put("queries", s.served());
        body.put("latency_ms", lat);
        body.put("thumbnails_cached", thumbnails.cachedCount());
        body.put("max_k", options.maxK());
        body.put("max_upload_bytes", options.maxUploadBytes());
        body.put("max_pixels", options.maxPixels());
        send(ctx, 200, body);
    }

    private void search(Context ctx) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        long declared = ctx.req().getContentLengthLong();
        if (declared > options.maxUploadBytes() + MULTIPART_SLACK) {
            drainBefore413(ctx, declared);
            throw ApiException.tooLarge("the request has " + declared + " bytes, over the limit of " + options.maxUploadBytes() + " (--max-upload-bytes)");
        }
        String queryK = ctx.queryParam("k");
        float[] query;
        String bodyK;
        if (ctx.isMultipartFormData()) {
            bodyK = formField(ctx, "k");
            query = describeUpload(ctx);
        } else if (isJson(ctx)) {
            JsonNode body = parseJson(ctx.bodyAsBytes());
            bodyK = body.has("k") ? kText(body.get("k")) : null;
            query = jsonQuery(body);
        } else {
            throw ApiException.badRequest("POST /search takes multipart/form-data with an 'image' file, or JSON {\"vector\":[...]} or {\"id\":\"...\"}; got Content-Type "
                    + (ctx.contentType() == null ? "none" : "'" + ctx.contentType() + "'"));
        }
        if (queryK != null && bodyK != null && !queryK.equals(bodyK)) {
            throw ApiException.badRequest("k given twice with different values (" + queryK + " in the URL, " + bodyK + " in the body); give it once");
        }
        int k = parseK(bodyK != null ? bodyK : queryK);
        List<VectorIndex.Hit> hits = index.search(query, k);
        List<Map<String, Object>> out = new ArrayList<>(hits.size());
        for (VectorIndex.Hit h : hits) out.add(hitJson(h));
        double tookMs = (System.nanoTime() - t0) / 1e6;
        latency.record(tookMs);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("hits", out);
        body.put("k", k);
        body.put("took_ms", Math.round(tookMs * 1000) / 1000.0);
        send(ctx, 200, body);
    }

    private void original(Context ctx) throws IOException {
        IndexedImage image = indexed(ctx.pathParam("id"));
        Path file = fileOf(image);
        ctx.header("Cache-Control", "no-cache");
        ctx.contentType(mimeType(file));
        ctx.result(Files.newInputStream(file));
    }

    private void thumbnail(Context ctx) throws IOException {
        IndexedImage image = indexed(ctx.pathParam("id"));
        Path file = fileOf(image);
        byte[] png;
        try {
            png = thumbnails.get(image, file);
        } catch (IOException e) {
            throw new ApiException(422, "image '" + image.id() + "' (" + file + ") cannot be decoded for a thumbnail: " + ImageHeader.oneLine(e));
        }
        ctx.header("Cache-Control", "no-cache");
        ctx.contentType("image/png").result(png);
    }

    // ---- queries ----

    private float[] describeUpload(Context ctx) throws IOException, InterruptedException {
        UploadedFile file;
        try {
            file = ctx.uploadedFile("image");
        } catch (Exception e) { // Jetty's ServletException arrives undeclared through Kotlin
            throw uploadFailure(ctx, e);
        }
        if (file == null) throw ApiException.badRequest("the multipart form has no file field named 'image'");
        if (file.size() > options.maxUploadBytes()) {
            throw ApiException.tooLarge("the uploaded image has " + file.size() + " bytes, over the limit of " + options.maxUploadBytes() + " (--max-upload-bytes)");
        }
        byte[] bytes;
        try (InputStream in = file.content()) {
            bytes = in.readAllBytes();
        }
        ImageHeader header = ImageHeader.read(bytes);
        if (header.pixels() > options.maxPixels()) {
            throw ApiException.tooLarge("the uploaded image is " + header.width() + "×" + header.height() + " = " + header.pixels()
                    + " pixels, over the limit of " + options.maxPixels() + " (--max-pixels)");
        }
        if (!describeSlots.tryAcquire(options.describeWait().toMillis(), TimeUnit.MILLISECONDS)) {
            throw new ApiException(503, "busy: every describe slot (" + options.describeConcurrency() + ") stayed taken for "
                    + options.describeWait().toMillis() + " ms; try again");
        }
        // The describer reads a file, as when the index was built: the query goes through the
        // very decode and transform its catalogue went through.
        Path tmp = Files.createTempFile(uploadDir, "query-", "." + header.format());
        try {
            Files.write(tmp, bytes);
            float[] v = describer.describe(tmp);
            if (v == null || v.length != describer.dims()) {
                throw new IllegalStateException("the describer returned " + (v == null ? "no vector" : v.length + " values") + " instead of " + describer.dims());
            }
            return v;
        } catch (UndecodableImageException e) {
            throw ApiException.badRequest("the uploaded " + header.format() + " image cannot be decoded: " + e.reason());
        } finally {
            describeSlots.release();
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Reads and drops the body of a request about to be refused as too large, up to a bound. A
     * client that is still sending when the server answers and closes often never reads the
     * answer (its write fails first); one that sent {@code Expect: 100-continue} has not sent the
     * body yet and reads the 413 at once, so nothing is read for it.
     */
    private void drainBefore413(Context ctx, long declared) {
        if ("100-continue".equalsIgnoreCase(ctx.header("Expect"))) return;
        long bound = 4 * (options.maxUploadBytes() + MULTIPART_SLACK);
        if (declared > bound) return; // not worth reading: the connection is closed after the answer
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] buf = new byte[64 * 1024];
            long read = 0;
            int n;
            while (read < bound && (n = in.read(buf)) >= 0) read += n;
        } catch (IOException | RuntimeException e) {
            // The refusal is sent either way; a body that cannot be read is one less to drain.
        }
    }

    /** Jetty refuses an oversized part while parsing; anything else the parser throws is a malformed form. */
    private ApiException uploadFailure(Context ctx, Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("max file size") || m.contains("max request size") || m.contains("too large") || m.contains("exceeded")) {
                drainBefore413(ctx, ctx.req().getContentLengthLong());
                return ApiException.tooLarge("the upload is over the limit of " + options.maxUploadBytes() + " bytes (--max-upload-bytes)");
            }
        }
        return ApiException.badRequest("the multipart form cannot be read: " + ImageHeader.oneLine(rootCause(e)));
    }

    private String formField(Context ctx, String name) {
        try {
            return ctx.formParam(name);
        } catch (Exception e) {
            throw uploadFailure(ctx, e);
        }
    }

    private static boolean isJson(Context ctx) {
        String type = ctx.contentType();
        return type != null && type.toLowerCase(Locale.ROOT).startsWith("application/json");
    }

    private JsonNode parseJson(byte[] bytes) {
        JsonNode body;
        try {
            body = json.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("the JSON body cannot be parsed (" + ImageHeader.oneLine(new Exception(e.getOriginalMessage()))
                    + "); expected {\"vector\":[...]} or {\"id\":\"...\"}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the JSON body must be an object, {\"vector\":[...]} or {\"id\":\"...\"}");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("vector") && !name.equals("id") && !name.equals("k")) {
                throw ApiException.badRequest("unknown JSON field '" + name + "'; expected 'vector' or 'id', and optionally 'k'");
            }
        }
        return body;
    }

    private float[] jsonQuery(JsonNode body) throws IOException {
        boolean byVector = body.has("vector");
        boolean byId = body.has("id");
        if (byVector == byId) {
            throw ApiException.badRequest(byVector ? "give either 'vector' or 'id', not both" : "the JSON body needs 'vector' (an array of numbers) or 'id' (an indexed image's id)");
        }
        if (byId) {
            JsonNode id = body.get("id");
            if (!id.isTextual() || id.asText().isEmpty()) throw ApiException.badRequest("'id' must be a non-empty string, got " + id);
            IndexedImage image = indexed(id.asText());
            if (image.vector() == null) throw new IllegalStateException("the index returned image '" + image.id() + "' without its vector");
            return image.vector();
        }
        JsonNode vector = body.get("vector");
        if (!vector.isArray()) throw ApiException.badRequest("'vector' must be an array of " + describer.dims() + " numbers, got " + vector.getNodeType().name().toLowerCase(Locale.ROOT));
        if (vector.size() != describer.dims()) {
            throw ApiException.badRequest("'vector' has " + vector.size() + " values; this index holds " + describer.dims() + "-dimensional descriptors");
        }
        float[] v = new float[vector.size()];
        double norm = 0;
        for (int i = 0; i < v.length; i++) {
            JsonNode x = vector.get(i);
            if (!x.isNumber()) throw ApiException.badRequest("'vector' value " + i + " is not a number: " + x);
            v[i] = (float) x.asDouble();
            if (!Float.isFinite(v[i])) throw ApiException.badRequest("'vector' value " + i + " is not a finite float: " + x);
            norm += (double) v[i] * v[i];
        }
        if (norm == 0) throw ApiException.badRequest("'vector' is all zeros; it needs a direction to be compared by cosine similarity");
        // Scores are cosine similarities only between unit vectors; a vector from elsewhere may
        // not be normalized yet, and its direction is what it means.
        float inv = (float) (1 / Math.sqrt(norm));
        for (int i = 0; i < v.length; i++) v[i] *= inv;
        return v;
    }

    private static String kText(JsonNode k) {
        if (!k.isIntegralNumber()) throw ApiException.badRequest("'k' must be an integer, got " + k);
        return k.asText();
    }

    private int parseK(String raw) {
        if (raw == null) return Math.min(DEFAULT_K, options.maxK());
        int k;
        try {
            k = Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("k must be an integer from 1 to " + options.maxK() + ", got '" + raw + "'");
        }
        if (k < 1 || k > options.maxK()) throw ApiException.badRequest("k must be from 1 to " + options.maxK() + " (--max-k), got " + k);
        return k;
    }

    // ---- images ----

    private IndexedImage indexed(String id) throws IOException {
        Optional<IndexedImage> image = index.get(id);
        return image.orElseThrow(() -> ApiException.notFound("no indexed image has id '" + id + "'"));
    }

    /** Only the path the index recorded for an id is ever read; the request names no file. */
    private Path fileOf(IndexedImage image) {
        Path p = Path.of(image.path());
        if (!p.isAbsolute()) p = options.imageRoot().resolve(p);
        if (!Files.isRegularFile(p)) throw ApiException.notFound("the file of image '" + image.id() + "' is gone: " + p);
        return p;
    }

    /** The MIME type from the content (what a reader recognises), as the decoder finds formats. */
    static String mimeType(Path file) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in != null) {
                Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
                if (readers.hasNext()) {
                    ImageReader reader = readers.next();
                    try {
                        String[] types = reader.getOriginatingProvider().getMIMETypes();
                        if (types != null && types.length > 0) return types[0];
                    } finally {
                        reader.dispose();
                    }
                }
            }
        }
        return "application/octet-stream";
    }

    private Map<String, Object> hitJson(VectorIndex.Hit h) {
        IndexedImage im = h.image();
        String url = "/images/" + encodeId(im.id());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", im.id());
        m.put("path", im.path());
        m.put("score", h.score());
        m.put("label", im.label());
        m.put("width", im.width());
        m.put("height", im.height());
        m.put("metadata", im.metadata());
        m.put("thumbnail", url + "/thumbnail");
        m.put("image", url);
        return m;
    }

    /**
     * The id as URL path segments: each segment percent-encoded (spaces as %20, '+' as %2B), '/'
     * kept, so {@code <id>} routes see the id again after decoding.
     */
    static String encodeId(String id) {
        List<String> segments = new ArrayList<>();
        for (String seg : id.split("/", -1)) {
            // "." and ".." would be collapsed by the browser before the request leaves it.
            segments.add(seg.equals(".") || seg.equals("..") ? seg.replace(".", "%2E")
                    : URLEncoder.encode(seg, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return String.join("/", segments);
    }

    // ---- plumbing ----

    private void send(Context ctx, int status, Object body) throws JsonProcessingException {
        ctx.status(status).contentType("application/json").result(json.writeValueAsBytes(body));
    }

    private void error(Context ctx, int status, String message) {
        try {
            send(ctx, status, Map.of("error", message == null ? "error " + status : message));
        } catch (JsonProcessingException e) {
            ctx.status(status).contentType("text/plain; charset=utf-8").result(String.valueOf(message));
        }
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t;
    }

    private void deleteUploadDir() {
        if (uploadDir == null) return;
        try (Stream<Path> files = Files.list(uploadDir)) {
            for (Path f : (Iterable<Path>) files::iterator) Files.deleteIfExists(f);
            Files.deleteIfExists(uploadDir);
        } catch (IOException e) {
            System.err.println("irt serve: could not remove the upload folder " + uploadDir + ": " + ImageHeader.oneLine(e));
        }
        uploadDir = null;
    }
}
