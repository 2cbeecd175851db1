package dev.irtj.cli.solr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.solr.SolrIndex;
import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.common.cloud.DocCollection;
import org.apache.solr.common.cloud.Slice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code irt index / search / serve --solr} against a real SolrCloud of two nodes
 * (MiniSolrCloudCluster with its embedded ZooKeeper, in this JVM), each command run as its own
 * process from the shaded cli jar, as users run it. One tiny run and one image folder for the
 * class; the embedded index built from the same images is the reference.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SolrCliTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String COLLECTION = "cli_images";

    @TempDir
    static Path dir;
    static MiniSolrCloudCluster cluster;
    static String zkHost;
    static String solrUrls;
    static Path data;
    static Path run;
    static Path lucene;

    record Result(int code, String out, String err) {
        String firstErrLine() {
            return err.lines().findFirst().orElse("");
        }
    }

    @BeforeAll
    static void startClusterAndTrain() throws Exception {
        cluster = new MiniSolrCloudCluster.Builder(2, dir.resolve("solr")).configure();
        zkHost = cluster.getZkServer().getZkAddress();
        solrUrls = cluster.getJettySolrRunners().stream().map(j -> j.getBaseUrl().toString()).collect(Collectors.joining(","));
        data = imageFolder(dir.resolve("data"), 3, 4);
        run = dir.resolve("run");
        Result t = irt("train", "--data", data.toString(), "--format", "folder", "--img-size", "16", "--patch", "8", "--dim", "16",
                "--depth", "1", "--heads", "2", "--iters", "4", "--batch", "6", "--lr", "1e-3", "--seed", "1", "--out", run.toString(),
                "--checkpoint-every", "4", "--log-every", "2");
        assertEquals(0, t.code(), t.err());
        lucene = dir.resolve("lucene");
        Result i = irt("index", "--index", lucene.toString(), "--checkpoint", run.toString(), "--images", data.toString());
        assertEquals(0, i.code(), i.err());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) cluster.shutdown();
    }

    @Test
    @Order(1)
    void indexCreatesTheCollectionAndSearchFindsWhatTheEmbeddedIndexFinds() throws Exception {
        Result first = irt("index", "--solr", zkHost, "--collection", COLLECTION, "--shards", "2", "--replicas", "1",
                "--checkpoint", run.toString(), "--images", data.toString(), "--commit-every", "5");
        assertEquals(0, first.code(), first.err());
        assertTrue(first.err().contains("SolrCloud collection " + COLLECTION + " at " + zkHost + ": 12 images under "
                + data.toAbsolutePath() + ": 12 new, 0 changed, 0 removed"), first.err());
        assertTrue(first.err().contains("indexed 12 images in SolrCloud collection " + COLLECTION), first.err());
        DocCollection state = cluster.getSolrClient().getClusterStateProvider().getCollection(COLLECTION);
        assertEquals(2, state.getActiveSlices().size());
        for (Slice s : state.getActiveSlices()) assertEquals(1, s.getReplicas().size(), s.getName());

        // The same ids, paths, labels and vectors as the embedded index of the same images.
        try (SolrIndex solr = SolrIndex.open(zkHost, COLLECTION, SolrIndex.Options.existing())) {
            Map<String, IndexedImage.Stamp> stamps = solr.stamps();
            assertEquals(12, stamps.size());
            assertEquals(data.toAbsolutePath().resolve("class2/img3.png").toString(), stamps.get("class2/img3.png").path());
            assertEquals(2L, solr.get("class2/img3.png").orElseThrow().label());
        }

        // Search by image, with the Solr URLs this time; no model options: the recorded describer.
        for (String query : List.of("class1/img2.png", "class0/img0.png", "class2/img3.png")) {
            Path image = data.resolve(query);
            Result s = irt("search", "--solr", solrUrls, "--collection", COLLECTION, "--image", image.toString(), "-k", "6", "--json");
            assertEquals(0, s.code(), s.err());
            JsonNode got = JSON.readTree(s.out());
            assertEquals(COLLECTION, got.get("collection").asText());
            assertEquals(12, got.get("images").asLong());
            JsonNode hits = got.get("hits");
            assertEquals(6, hits.size());
            assertEquals(query, hits.get(0).get("id").asText());
            assertEquals(1.0, hits.get(0).get("score").asDouble(), 1e-4);
            Result l = irt("search", "--index", lucene.toString(), "--image", image.toString(), "-k", "6", "--json");
            assertEquals(0, l.code(), l.err());
            JsonNode ref = JSON.readTree(l.out()).get("hits");
            assertEquals(ids(ref), ids(hits), "top-6 of " + query + ": Solr " + s.out() + " Lucene " + l.out());
            for (int r = 0; r < 6; r++) {
                assertEquals(ref.get(r).get("score").asDouble(), hits.get(r).get("score").asDouble(), 1e-4);
                assertEquals(ref.get(r).get("path").asText(), hits.get(r).get("path").asText());
            }
        }
        Result byId = irt("search", "--solr", zkHost, "--collection", COLLECTION, "--id", "class0/img1.png", "-k", "1", "--ef", "20");
        assertEquals(0, byId.code(), byId.err());
        assertTrue(byId.out().lines().skip(1).findFirst().orElse("").endsWith(data.toAbsolutePath().resolve("class0/img1.png").toString()), byId.out());
    }

    @Test
    @Order(2)
    void aRerunAddsNothingAndKeepsTheLayout() throws Exception {
        // No model options: the describer the collection recorded is reopened.
        Result again = irt("index", "--solr", zkHost, "--collection", COLLECTION, "--images", data.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("12 images under " + data.toAbsolutePath() + ": 0 new, 0 changed, 0 removed, 0 to relabel, 12 unchanged"),
                again.err());
        assertTrue(again.err().contains("indexed 12 images"), again.err());
        try (SolrIndex solr = SolrIndex.open(zkHost, COLLECTION, SolrIndex.Options.existing())) {
            assertEquals(12, solr.info().count());
        }
        // Its layout is fixed at creation: another --shards is refused in one line, naming it, before the model is loaded.
        Result shards = irt("index", "--solr", zkHost, "--collection", COLLECTION, "--shards", "3", "--images", data.toString());
        assertEquals(1, shards.code(), shards.err());
        assertTrue(shards.firstErrLine().contains("exists with another layout: shards 2, not 3"), shards.err());
        assertEquals(1, shards.err().lines().count(), shards.err());
    }

    @Test
    @Order(3)
    void flagsWithoutASolrMeaningAreRefusedInOneLine() throws Exception {
        String[][] cases = {
                {"index", "--solr", zkHost, "--collection", COLLECTION, "--images", "DATA", "--quantize", "int8"},
                {"index", "--solr", zkHost, "--collection", COLLECTION, "--images", "DATA", "--exact"},
                {"index", "--solr", zkHost, "--collection", COLLECTION, "--images", "DATA", "--ef", "50"},
                {"index", "--index", "LUCENE", "--images", "DATA", "--shards", "2"},
                {"search", "--solr", zkHost, "--id", "class0/img0.png"},
                {"search", "--collection", COLLECTION, "--id", "class0/img0.png"},
                {"search", "--index", "LUCENE", "--solr", zkHost, "--collection", COLLECTION, "--id", "class0/img0.png"},
                {"search", "--solr", zkHost, "--collection", "missing", "--id", "class0/img0.png"},
                {"serve", "--solr", zkHost, "--collection", COLLECTION, "--shards", "2"},
        };
        String[] expected = {
                "irt index: --quantize has no SolrCloud counterpart",
                "irt index: --exact has no SolrCloud counterpart",
                "irt index: --ef is recorded only by an embedded --index; with --solr give it to irt search",
                "irt index: --shards applies to a SolrCloud collection (--solr ZK_HOSTS_OR_URL --collection NAME), not to --index DIR",
                "irt search: --solr " + zkHost + " needs --collection NAME",
                "irt search: --collection " + COLLECTION + " needs --solr ZK_HOSTS_OR_URL",
                "irt search: give either --index DIR or --solr ZK_HOSTS_OR_URL --collection NAME, not both",
                "irt search: --solr " + zkHost + " --collection missing: no such collection",
                "irt serve: Unknown options: '--shards', '2'",
        };
        for (int c = 0; c < cases.length; c++) {
            String[] args = cases[c].clone();
            for (int a = 0; a < args.length; a++) {
                if (args[a].equals("DATA")) args[a] = data.toString();
                if (args[a].equals("LUCENE")) args[a] = lucene.toString();
            }
            Result r = irt(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.firstErrLine().startsWith(expected[c]), String.join(" ", args) + ": " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
        try (SolrIndex solr = SolrIndex.open(zkHost, COLLECTION, SolrIndex.Options.existing())) {
            assertEquals(12, solr.info().count(), "the refused runs wrote nothing");
        }
    }

    @Test
    @Order(4)
    void serveAnswersASearchAndAThumbnailFromTheCollection() throws Exception {
        Path out = dir.resolve("serve.out"), err = dir.resolve("serve.err");
        // The process's working directory is not the image folder: stored paths are absolute.
        Process p = process(List.of("serve", "--solr", zkHost, "--collection", COLLECTION, "--port", "0"), out, err);
        try {
            Pattern listening = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+/)");
            String url = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (url == null && p.isAlive() && System.nanoTime() < deadline) {
                Matcher m = listening.matcher(Files.readString(out));
                if (m.find()) url = m.group(1);
                else Thread.sleep(50);
            }
            assertNotNull(url, "no URL printed; out: " + Files.readString(out) + " err: " + Files.readString(err));
            assertTrue(Files.readString(out).startsWith("irt serve: 12 images, ViT 16px"), Files.readString(out));

            HttpClient http = HttpClient.newHttpClient();
            String boundary = "b" + System.nanoTime();
            byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"q.png\"\r\n\r\n").getBytes(StandardCharsets.UTF_8);
            byte[] file = Files.readAllBytes(data.resolve("class1/img2.png"));
            byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
            byte[] body = new byte[head.length + file.length + tail.length];
            System.arraycopy(head, 0, body, 0, head.length);
            System.arraycopy(file, 0, body, head.length, file.length);
            System.arraycopy(tail, 0, body, head.length + file.length, tail.length);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "search?k=4"))
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode hits = JSON.readTree(r.body()).get("hits");
            assertEquals(4, hits.size());
            assertEquals("class1/img2.png", hits.get(0).get("id").asText());
            assertEquals(1.0, hits.get(0).get("score").asDouble(), 1e-4);
            assertEquals(1, hits.get(0).get("label").asInt());
            // The image itself comes from the stored path, as with an embedded index.
            HttpResponse<byte[]> thumb = http.send(HttpRequest.newBuilder(URI.create(url.replaceAll("/$", "") + hits.get(0).get("thumbnail").asText())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, thumb.statusCode());
            assertNotNull(ImageIO.read(new java.io.ByteArrayInputStream(thumb.body())), "a decodable thumbnail");
        } finally {
            p.destroy(); // SIGTERM: the shutdown hook stops the service, then closes the index
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "irt serve stopped");
        }
        assertTrue(Files.readString(err).contains("irt serve: stopped"), Files.readString(err));
    }

    static List<String> ids(JsonNode hits) {
        List<String> ids = new ArrayList<>();
        for (JsonNode h : hits) ids.add(h.get("id").asText());
        return ids;
    }

    /** {@code classes} class folders of {@code perClass} small PNGs, each class its own colours. */
    static Path imageFolder(Path root, int classes, int perClass) throws IOException {
        Random rng = new Random(3);
        for (int c = 0; c < classes; c++) {
            Path d = Files.createDirectories(root.resolve("class" + c));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(20, 18, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 18; y++) {
                    for (int x = 0; x < 20; x++) {
                        int v = (int) (40 * c + 30 * rng.nextDouble());
                        img.setRGB(x, y, (v << 16) | ((255 - v) << 8) | (x * 10));
                    }
                }
                ImageIO.write(img, "png", d.resolve("img" + i + ".png").toFile());
            }
        }
        return root;
    }

    /** One irt command in its own JVM, from the cli jar. */
    static Result irt(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "irt", ".out"), err = Files.createTempFile(dir, "irt", ".err");
        Process p = process(List.of(args), out, err);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("irt " + String.join(" ", args) + " did not finish in 120 s; err: " + Files.readString(err));
        }
        // The JVM's own notice of the Vector API, which every irt run prints first, is not the command's.
        String errText = Files.readString(err).lines().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                .map(l -> l + "\n").collect(Collectors.joining());
        return new Result(p.exitValue(), Files.readString(out), errText);
    }

    static Process process(List<String> args, Path out, Path err) throws IOException {
        Path jar = Path.of(System.getProperty("irtj.cli.jar", "../cli/target/irt.jar"));
        if (!Files.isRegularFile(jar)) throw new IllegalStateException(jar + " missing: package module cli first (mvn -pl solr-cli-it -am verify)");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
                "-jar", jar.toAbsolutePath().toString()));
        command.addAll(args);
        return new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    }
}
