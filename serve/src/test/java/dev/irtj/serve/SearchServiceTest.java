package dev.irtj.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.irtj.index.IndexedImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The JSON API of {@link SearchService} over real HTTP, on an in-memory index and a fake describer. */
// A hung connection fails the test instead of stalling the build.
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SearchServiceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path root;

    private final FakeDescriber describer = new FakeDescriber();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private InMemoryIndex index;
    private List<IndexedImage> images;
    private SearchService service;

    @BeforeEach
    void fill() throws IOException {
        index = new InMemoryIndex(describer.fingerprint(), describer.describe(), FakeDescriber.DIMS);
        images = new ArrayList<>(TestImages.create(root.resolve("cat"), 0, 12, describer));
        Path odd = TestImages.write(root.resolve("cat").resolve("with space").resolve("a+b é.png"), 77, 600, 400);
        images.add(TestImages.entry(root.resolve("cat"), odd, describer, null));
        index.upsert(images);
        index.commit();
    }

    @AfterEach
    void stop() {
        if (service != null) service.stop();
    }

    private SearchService start(ServeOptions options) throws IOException {
        service = new SearchService(index, describer, options.withPort(0)).start();
        return service;
    }

    private SearchService start() throws IOException {
        return start(ServeOptions.defaults());
    }

    private URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + service.port() + pathAndQuery);
    }

    private HttpResponse<byte[]> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private HttpResponse<byte[]> postJson(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A multipart/form-data POST with one file part (and optional extra text fields). */
    private HttpResponse<byte[]> upload(String path, String field, String filename, byte[] content, Map<String, String> fields)
            throws IOException, InterruptedException {
        String boundary = "----irtjtest" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"\r\n\r\n" + f.getValue() + "\r\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(content);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private HttpResponse<byte[]> upload(byte[] content) throws IOException, InterruptedException {
        return upload("/search", "image", "q.png", content, Map.of());
    }

    private static JsonNode json(HttpResponse<byte[]> r) throws IOException {
        return JSON.readTree(r.body());
    }

    /** The status, and for refusals a JSON {"error"} of one line. */
    private static String refusal(HttpResponse<byte[]> r, int status) throws IOException {
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(status, r.statusCode(), body);
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), body);
        String error = JSON.readTree(body).get("error").asText();
        assertFalse(error.isBlank(), body);
        assertFalse(error.contains("\n"), "one line: " + error);
        return error;
    }

    private IndexedImage image(int i) {
        return images.get(i);
    }

    private byte[] fileBytes(IndexedImage im) throws IOException {
        return Files.readAllBytes(Path.of(im.path()));
    }

    private static byte[] png(BufferedImage im) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(im, "png", out));
        return out.toByteArray();
    }

    @Test
    void uploadFindsTheSameImageFirstWithEveryField() throws Exception {
        start();
        IndexedImage q = image(4);
        HttpResponse<byte[]> r = upload(fileBytes(q));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        JsonNode body = json(r);
        assertEquals(10, body.get("k").asInt());
        assertTrue(body.get("took_ms").asDouble() >= 0);
        JsonNode hits = body.get("hits");
        assertEquals(10, hits.size());
        JsonNode top = hits.get(0);
        assertEquals(q.id(), top.get("id").asText());
        assertEquals(q.path(), top.get("path").asText());
        assertEquals(1.0, top.get("score").asDouble(), 1e-5);
        assertEquals(q.label().longValue(), top.get("label").asLong());
        assertEquals(40, top.get("width").asInt());
        assertEquals(30, top.get("height").asInt());
        assertEquals(q.metadata().get("seed"), top.get("metadata").get("seed").asText());
        assertEquals("/images/" + q.id(), top.get("image").asText());
        assertEquals("/images/" + q.id() + "/thumbnail", top.get("thumbnail").asText());
        for (int i = 1; i < hits.size(); i++) {
            assertTrue(hits.get(i).get("score").asDouble() <= hits.get(i - 1).get("score").asDouble(), "best first");
        }
        assertEquals(1, describer.calls.get() - images.size(), "one describe for the upload");
    }

    @Test
    void kFromTheQueryStringOrTheFormIsBoundedAndGivenOnce() throws Exception {
        start(ServeOptions.defaults().withMaxK(5));
        byte[] q = fileBytes(image(1));
        assertEquals(3, json(upload("/search?k=3", "image", "q.png", q, Map.of())).get("hits").size());
        assertEquals(2, json(upload("/search", "image", "q.png", q, Map.of("k", "2"))).get("hits").size());
        assertEquals(5, json(upload(q)).get("k").asInt(), "default 10, within max-k 5");
        assertTrue(refusal(upload("/search?k=6", "image", "q.png", q, Map.of()), 400).contains("from 1 to 5"));
        assertTrue(refusal(upload("/search?k=0", "image", "q.png", q, Map.of()), 400).contains("k must be"));
        assertTrue(refusal(upload("/search?k=ten", "image", "q.png", q, Map.of()), 400).contains("'ten'"));
        assertTrue(refusal(upload("/search?k=3", "image", "q.png", q, Map.of("k", "4")), 400).contains("twice"));
    }

    @Test
    void vectorSearchNormalizesAndChecksTheVector() throws Exception {
        start();
        IndexedImage q = image(7);
        float[] v = q.vector().clone();
        for (int i = 0; i < v.length; i++) v[i] *= 3;
        JsonNode body = json(postJson("/search", JSON.writeValueAsString(Map.of("vector", v, "k", 3))));
        assertEquals(3, body.get("hits").size());
        assertEquals(q.id(), body.get("hits").get(0).get("id").asText());
        assertEquals(1.0, body.get("hits").get(0).get("score").asDouble(), 1e-5, "scored as the unit vector");

        assertTrue(refusal(postJson("/search", "{\"vector\":[1,2,3]}"), 400).contains("has 3 values; this index holds 48-dimensional"));
        assertTrue(refusal(postJson("/search", JSON.writeValueAsString(Map.of("vector", new float[48]))), 400).contains("all zeros"));
        assertTrue(refusal(postJson("/search", "{\"vector\":\"x\"}"), 400).contains("must be an array"));
        String withText = "{\"vector\":[" + "0.1,".repeat(47) + "\"a\"]}";
        assertTrue(refusal(postJson("/search", withText), 400).contains("value 47 is not a number"));
        assertTrue(refusal(postJson("/search", "{\"vector\":[1,2"), 400).contains("cannot be parsed"));
        assertTrue(refusal(postJson("/search", "[1,2]"), 400).contains("must be an object"));
        assertTrue(refusal(postJson("/search", "{}"), 400).contains("needs 'vector'"));
        assertTrue(refusal(postJson("/search", "{\"id\":\"x\",\"vector\":[]}"), 400).contains("not both"));
        assertTrue(refusal(postJson("/search", "{\"vectors\":[]}"), 400).contains("unknown JSON field 'vectors'"));
        assertTrue(refusal(postJson("/search", "{\"id\":\"" + q.id() + "\",\"k\":2.5}"), 400).contains("'k' must be an integer"));
    }

    @Test
    void idSearchFindsThatImageFirstAndUnknownIdsAre404() throws Exception {
        start();
        IndexedImage q = image(12);
        JsonNode body = json(postJson("/search?k=4", JSON.writeValueAsString(Map.of("id", q.id()))));
        assertEquals(4, body.get("hits").size());
        assertEquals(q.id(), body.get("hits").get(0).get("id").asText());
        assertTrue(body.get("hits").get(0).get("label").isNull());
        assertEquals("/images/with%20space/a%2Bb%20%C3%A9.png/thumbnail", body.get("hits").get(0).get("thumbnail").asText());
        assertTrue(refusal(postJson("/search", "{\"id\":\"class9/none.png\"}"), 404).contains("'class9/none.png'"));
        assertTrue(refusal(postJson("/search", "{\"id\":7}"), 400).contains("non-empty string"));
    }

    @Test
    void nonImagesAndBrokenImagesAre400() throws Exception {
        start();
        int before = describer.calls.get();
        assertTrue(refusal(upload("hello, not an image".getBytes(StandardCharsets.UTF_8)), 400).contains("not an image"));
        assertTrue(refusal(upload(new byte[0]), 400).contains("empty"));
        byte[] png = fileBytes(image(0));
        byte[] truncated = Arrays.copyOf(png, png.length / 2);
        String reason = refusal(upload(truncated), 400);
        assertTrue(reason.contains("cannot be decoded") || reason.contains("header cannot be read"), reason);
        assertTrue(refusal(upload("/search", "picture", "q.png", png, Map.of()), 400).contains("no file field named 'image'"));
        HttpResponse<byte[]> text = http.send(HttpRequest.newBuilder(uri("/search")).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertTrue(refusal(text, 400).contains("multipart/form-data"));
        assertEquals(before, describer.calls.get(), "nothing that is not a whole image reaches the describer");
    }

    @Test
    void uploadsOverTheByteLimitAre413() throws Exception {
        start(ServeOptions.defaults().withMaxUploadBytes(4000));
        byte[] big = png(noise(200, 200)); // ~120 KB: over the limit plus the multipart slack
        assertTrue(big.length > 4000 + SearchService.MULTIPART_SLACK);
        for (int i = 0; i < 5; i++) assertTrue(refusal(upload(big), 413).contains("--max-upload-bytes"), "the 413 reaches a client still sending");
        // A client that waits for 100 Continue is answered before it sends the body. (By hand:
        // JDK 17's HttpClient never completes when the answer to Expect is not 100.)
        try (Socket socket = new Socket("127.0.0.1", service.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                    + "Content-Length: 1048576\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            StringBuilder head = new StringBuilder();
            java.io.InputStream in = socket.getInputStream();
            while (head.indexOf("\r\n\r\n") < 0) {
                int c = in.read();
                if (c < 0) break;
                head.append((char) c);
            }
            assertTrue(head.toString().startsWith("HTTP/1.1 413 "), head.toString());
            assertTrue(head.toString().toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n"), "the connection is not reused: " + head);
        }
        byte[] mid = png(noise(40, 40)); // ~5 KB: within the slack, so the part's own size decides
        assertTrue(mid.length > 4000 && mid.length < SearchService.MULTIPART_SLACK, "size " + mid.length);
        assertTrue(refusal(upload(mid), 413).contains("--max-upload-bytes"));
        assertEquals(200, upload(fileBytes(image(0))).statusCode(), "a small upload still passes");

        String bigJson = JSON.writeValueAsString(Map.of("vector", new float[20_000]));
        assertTrue(refusal(postJson("/search", bigJson), 413).contains("--max-upload-bytes"));
        // Without a Content-Length (chunked), the body is cut off while it is read.
        HttpRequest chunked = HttpRequest.newBuilder(uri("/search")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bigJson.getBytes(StandardCharsets.UTF_8)))).build();
        assertEquals(413, http.send(chunked, HttpResponse.BodyHandlers.ofByteArray()).statusCode());
    }

    @Test
    void imagesOverThePixelLimitAre413BeforeDecoding() throws Exception {
        start(ServeOptions.defaults().withMaxPixels(1_000_000));
        byte[] huge = png(new BufferedImage(3000, 2000, BufferedImage.TYPE_BYTE_GRAY)); // one color: a few KB
        assertTrue(huge.length < 100_000);
        int before = describer.calls.get();
        String error = refusal(upload(huge), 413);
        assertTrue(error.contains("3000×2000 = 6000000 pixels") && error.contains("--max-pixels"), error);
        assertEquals(before, describer.calls.get());
        assertEquals(200, upload(png(new BufferedImage(1000, 1000, BufferedImage.TYPE_BYTE_GRAY))).statusCode(), "at the limit passes");
    }

    @Test
    void imagesAndThumbnailsComeFromTheIndexedPaths() throws Exception {
        start(ServeOptions.defaults().withThumbnailCacheBytes(1 << 20));
        IndexedImage odd = image(12);
        String url = "/images/with%20space/a%2Bb%20%C3%A9.png";
        HttpResponse<byte[]> original = get(url);
        assertEquals(200, original.statusCode());
        assertEquals("image/png", original.headers().firstValue("Content-Type").orElse(""));
        assertArrayEquals(fileBytes(odd), original.body());

        HttpResponse<byte[]> thumb = get(url + "/thumbnail");
        assertEquals(200, thumb.statusCode());
        assertEquals("image/png", thumb.headers().firstValue("Content-Type").orElse(""));
        BufferedImage t = ImageIO.read(new ByteArrayInputStream(thumb.body()));
        assertEquals(256, t.getWidth());
        assertEquals(171, t.getHeight());
        BufferedImage small = ImageIO.read(new ByteArrayInputStream(get("/images/" + image(0).id() + "/thumbnail").body()));
        assertEquals(40, small.getWidth(), "never enlarged");
        assertEquals(30, small.getHeight());
        assertArrayEquals(thumb.body(), get(url + "/thumbnail").body());
        JsonNode stats = json(get("/stats"));
        assertEquals(2, stats.get("thumbnails_cached").asInt(), "cached");

        assertTrue(refusal(get("/images/class0/none.png"), 404).contains("no indexed image"));
        assertTrue(refusal(get("/images/nothing/thumbnail"), 404).contains("'nothing'"));
        // The id is a key, never a path: these name files that exist, and are not served.
        Files.writeString(root.resolve("secret.txt"), "secret");
        for (String attempt : List.of("/images/..%2F..%2Fsecret.txt", "/images/%2E%2E/secret.txt", "/images/" + root.resolve("secret.txt"),
                "/images/" + image(0).path())) {
            HttpResponse<byte[]> r = get(attempt);
            assertTrue(r.statusCode() == 404 || r.statusCode() == 400, attempt + " -> " + r.statusCode());
            assertFalse(new String(r.body(), StandardCharsets.UTF_8).contains("secret") && r.statusCode() == 200, attempt);
        }
    }

    @Test
    void relativePathsResolveAgainstTheImageRoot() throws Exception {
        IndexedImage abs = image(1);
        Path rel = root.relativize(Path.of(abs.path()));
        index.upsert(List.of(new IndexedImage("relative/one.png", rel.toString(), abs.vector(), 0L, abs.bytes(), abs.modified(), 40, 30, Map.of())));
        index.commit();
        start(ServeOptions.defaults().withImageRoot(root));
        HttpResponse<byte[]> r = get("/images/relative/one.png");
        assertEquals(200, r.statusCode());
        assertArrayEquals(fileBytes(abs), r.body());
        service.stop();
        start(ServeOptions.defaults().withImageRoot(root.resolve("elsewhere")));
        assertTrue(refusal(get("/images/relative/one.png"), 404).contains(root.resolve("elsewhere").resolve(rel).toString()));
    }

    @Test
    void aFileGoneSinceIndexingIs404() throws Exception {
        start();
        Files.delete(Path.of(image(3).path()));
        assertTrue(refusal(get("/images/" + image(3).id()), 404).contains("is gone"));
        assertTrue(refusal(get("/images/" + image(3).id() + "/thumbnail"), 404).contains("is gone"));
    }

    @Test
    void healthAndStats() throws Exception {
        start();
        HttpResponse<byte[]> health = get("/health");
        assertEquals(200, health.statusCode());
        assertEquals("ok", json(health).get("status").asText());
        assertEquals(13, json(health).get("count").asLong());

        for (int i = 0; i < 3; i++) postJson("/search", JSON.writeValueAsString(Map.of("id", image(i).id())));
        upload(fileBytes(image(5)));
        refusal(postJson("/search", "{}"), 400);
        JsonNode stats = json(get("/stats"));
        assertEquals(13, stats.get("count").asLong());
        assertEquals(48, stats.get("dims").asInt());
        assertEquals("fake-grid4-rgb", stats.get("fingerprint").asText());
        assertEquals(describer.describe(), stats.get("describer").asText());
        assertEquals(4, stats.get("queries").asLong(), "searches answered; refusals not counted");
        JsonNode lat = stats.get("latency_ms");
        assertEquals(4, lat.get("window").asInt());
        assertTrue(lat.get("p50").asDouble() > 0 && lat.get("p50").asDouble() <= lat.get("p95").asDouble());
        assertTrue(lat.get("mean").asDouble() > 0);

        index.close();
        HttpResponse<byte[]> down = get("/health");
        assertEquals(503, down.statusCode());
        assertTrue(json(down).get("error").asText().contains("index is closed"));
    }

    @Test
    void unknownEndpointsAnswer404AndThePageIsServed() throws Exception {
        start();
        refusal(get("/nothing"), 404);
        HttpResponse<byte[]> page = get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(new String(page.body(), StandardCharsets.UTF_8).contains("id=\"file\""));
        assertTrue(get("/app.js").headers().firstValue("Content-Type").orElse("").startsWith("text/javascript"));
        assertEquals(200, get("/style.css").statusCode());
    }

    @Test
    void searchesKeepWorkingWhileTheIndexGrows() throws Exception {
        start();
        AtomicBoolean writing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try {
            Future<Integer> writer = pool.submit(() -> {
                int added = 0;
                try {
                    for (int batch = 0; batch < 25; batch++) {
                        index.upsert(TestImages.create(root.resolve("cat"), 100 + batch * 4, 4, describer));
                        index.commit();
                        added += 4;
                        Thread.sleep(5);
                    }
                } finally {
                    writing.set(false);
                }
                return added;
            });
            List<Future<long[]>> readers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                Callable<long[]> reader = () -> {
                    long searches = 0;
                    int lastSeen = 0;
                    boolean last = false;
                    // Until the writer is done, then once more: that search sees the grown index.
                    while (!last) {
                        last = !writing.get();
                        HttpResponse<byte[]> r = seed % 2 == 0
                                ? postJson("/search?k=100", JSON.writeValueAsString(Map.of("id", image((int) (searches % 12)).id())))
                                : postJson("/search?k=100", JSON.writeValueAsString(Map.of("vector", image(seed).vector())));
                        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
                        int n = json(r).get("hits").size();
                        assertTrue(n >= lastSeen, "an index that only grows never shows fewer hits: " + n + " after " + lastSeen);
                        lastSeen = n;
                        searches++;
                    }
                    return new long[] {searches, lastSeen};
                };
                readers.add(pool.submit(reader));
            }
            assertEquals(100, writer.get(60, TimeUnit.SECONDS));
            long total = 0;
            for (Future<long[]> f : readers) {
                long[] r = f.get(60, TimeUnit.SECONDS);
                total += r[0];
                assertEquals(100, r[1], "the last searches see the grown index (113 images, k = 100)");
            }
            JsonNode stats = json(get("/stats"));
            assertEquals(113, stats.get("count").asLong());
            assertEquals(total, stats.get("queries").asLong());
            JsonNode newest = json(postJson("/search", JSON.writeValueAsString(Map.of("id", "class1/img0199.png", "k", 1))));
            assertEquals("class1/img0199.png", newest.get("hits").get(0).get("id").asText(), "an image added during the searches is found");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void describeCallsAreBoundedAndAQueueTooLongGets503() throws Exception {
        describer.delayMillis = 150;
        start(ServeOptions.defaults().withDescribeConcurrency(1).withDescribeWait(Duration.ofSeconds(30)));
        int before = describer.calls.get();
        byte[] q = fileBytes(image(2));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> codes = new ArrayList<>();
            for (int i = 0; i < 4; i++) codes.add(pool.submit(() -> upload(q).statusCode()));
            for (Future<Integer> c : codes) assertEquals(200, c.get(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(4, describer.calls.get() - before);
        assertEquals(1, describer.maxInFlight.get(), "one describe at a time");
        service.stop();

        describer.delayMillis = 3000;
        start(ServeOptions.defaults().withDescribeConcurrency(1).withDescribeWait(Duration.ofMillis(200)));
        pool = Executors.newFixedThreadPool(2);
        try {
            Future<HttpResponse<byte[]>> first = pool.submit(() -> upload(q));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (describer.inFlight.get() == 0 && System.nanoTime() < deadline) Thread.sleep(5); // the first holds the only slot
            assertEquals(1, describer.inFlight.get());
            HttpResponse<byte[]> second = upload(q);
            assertTrue(refusal(second, 503).contains("busy"));
            assertEquals(200, first.get(60, TimeUnit.SECONDS).statusCode());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void stopLetsASearchInFlightFinish() throws Exception {
        describer.delayMillis = 1500;
        start();
        byte[] q = fileBytes(image(2));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<HttpResponse<byte[]>> inFlight = pool.submit(() -> upload(q));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (describer.inFlight.get() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
            service.stop();
            HttpResponse<byte[]> r = inFlight.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
            assertEquals(image(2).id(), json(r).get("hits").get(0).get("id").asText());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aPortInUseIsNamed() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            SearchService s = new SearchService(index, describer, ServeOptions.defaults().withPort(taken.getLocalPort()));
            IOException e = assertThrows(IOException.class, s::start);
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void anIndexOfAnotherDescriberIsRefused() {
        InMemoryIndex other = new InMemoryIndex("vit-abc", "deit_small cls 384-d", 384);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SearchService(other, describer, ServeOptions.defaults()));
        assertTrue(e.getMessage().contains("vit-abc") && e.getMessage().contains("fake-grid4-rgb"), e.getMessage());
    }

    @Test
    void aPixelLimitOverTheDecodersIsRefused() {
        long over = dev.irtj.vit.image.ImageDecoder.maxPixels() + 1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SearchService(index, describer, ServeOptions.defaults().withMaxPixels(over)));
        assertTrue(e.getMessage().startsWith("--max-pixels " + over + " is over the image decoder's limit"), e.getMessage());
    }

    @Test
    void portZeroTakesAFreePortAndStopReleasesIt() throws Exception {
        start();
        int port = service.port();
        assertNotEquals(0, port);
        assertEquals("http://127.0.0.1:" + port + "/", service.url());
        service.stop();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build();
        assertThrows(IOException.class, () -> http.send(health, HttpResponse.BodyHandlers.discarding()));
        // The same port can be taken again at once: the listener is closed, not leaked.
        service = new SearchService(index, describer, ServeOptions.defaults().withPort(port)).start();
        assertEquals(200, get("/health").statusCode());
    }

    @Test
    void badOptionsSayWhatIsExpected() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ServeOptions.defaults().withPort(70000)).getMessage().contains("--port"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ServeOptions.defaults().withMaxPixels(0)).getMessage().contains("--max-pixels"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ServeOptions.defaults().withMaxUploadBytes(0)).getMessage().contains("--max-upload-bytes"));
    }

    private static BufferedImage noise(int w, int h) {
        BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        java.util.SplittableRandom rng = new java.util.SplittableRandom(5);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) im.setRGB(x, y, rng.nextInt(1 << 24));
        return im;
    }
}
