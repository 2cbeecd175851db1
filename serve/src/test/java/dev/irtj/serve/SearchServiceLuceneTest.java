package dev.irtj.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.LuceneIndex;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service on the embedded Lucene index, opened read-only as {@code irt serve} opens it, while
 * a writer (as {@code irt index} in another process) adds and commits images to the same folder.
 */
// A hung connection fails the test instead of stalling the build.
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SearchServiceLuceneTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path root;

    @Test
    void searchesSeeTheCommitsOfAnotherWriter() throws Exception {
        FakeDescriber describer = new FakeDescriber();
        Path folder = root.resolve("index");
        HttpClient http = HttpClient.newHttpClient();
        try (LuceneIndex writer = LuceneIndex.open(folder, LuceneIndex.Identity.of(describer), LuceneIndex.Options.defaults())) {
            List<IndexedImage> first = TestImages.create(root.resolve("cat"), 0, 10, describer);
            writer.upsert(first);
            writer.commit();
            try (LuceneIndex reader = LuceneIndex.openReadOnly(folder);
                 SearchService service = new SearchService(reader, describer, ServeOptions.defaults().withPort(0)).start()) {
                String base = "http://127.0.0.1:" + service.port();
                // By upload: the image is its own best match; its thumbnail comes from its indexed path.
                IndexedImage q = first.get(3);
                String boundary = "b" + System.nanoTime();
                byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"q.png\"\r\n\r\n").getBytes();
                byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes();
                byte[] file = Files.readAllBytes(Path.of(q.path()));
                byte[] body = new byte[head.length + file.length + tail.length];
                System.arraycopy(head, 0, body, 0, head.length);
                System.arraycopy(file, 0, body, head.length, file.length);
                System.arraycopy(tail, 0, body, head.length + file.length, tail.length);
                HttpResponse<String> up = http.send(HttpRequest.newBuilder(URI.create(base + "/search?k=3"))
                        .header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, up.statusCode(), up.body());
                JsonNode top = JSON.readTree(up.body()).get("hits").get(0);
                assertEquals(q.id(), top.get("id").asText());
                assertEquals(1.0, top.get("score").asDouble(), 1e-4);
                assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base + top.get("thumbnail").asText())).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode());

                AtomicBoolean writing = new AtomicBoolean(true);
                ExecutorService pool = Executors.newFixedThreadPool(3);
                try {
                    Future<?> adds = pool.submit(() -> {
                        try {
                            for (int batch = 0; batch < 10; batch++) {
                                writer.upsert(TestImages.create(root.resolve("cat"), 10 + batch * 3, 3, describer));
                                writer.commit();
                            }
                        } finally {
                            writing.set(false);
                        }
                        return null;
                    });
                    Future<Integer> searches = pool.submit(() -> {
                        int n = 0;
                        int seen = 0;
                        boolean last = false;
                        while (!last) {
                            last = !writing.get();
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/search?k=100"))
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("id", first.get(n % 10).id())))).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            assertEquals(200, r.statusCode(), r.body());
                            int hits = JSON.readTree(r.body()).get("hits").size();
                            assertTrue(hits >= seen, hits + " hits after " + seen);
                            seen = hits;
                            n++;
                        }
                        return seen;
                    });
                    adds.get(120, TimeUnit.SECONDS);
                    assertEquals(40, searches.get(120, TimeUnit.SECONDS), "the last search sees every commit");
                } finally {
                    pool.shutdownNow();
                }
                JsonNode stats = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/stats")).build(), HttpResponse.BodyHandlers.ofString()).body());
                assertEquals(40, stats.get("count").asLong());
                assertEquals(describer.fingerprint(), stats.get("fingerprint").asText());
                JsonNode newest = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/search"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"class1/img0037.png\",\"k\":1}")).build(), HttpResponse.BodyHandlers.ofString()).body());
                assertEquals("class1/img0037.png", newest.get("hits").get(0).get("id").asText());
            }
        }
    }
}
