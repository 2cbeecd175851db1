package dev.irtj.index.solr;

import dev.irtj.eval.Knn;
import dev.irtj.eval.Neighbors;
import dev.irtj.index.Catalogue;
import dev.irtj.index.IndexInfo;
import dev.irtj.index.IndexMismatchException;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.LuceneIndex;
import dev.irtj.index.VectorIndex;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.common.cloud.DocCollection;
import org.apache.solr.common.cloud.Replica;
import org.apache.solr.common.cloud.Slice;
import org.apache.solr.embedded.JettySolrRunner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SolrIndex on a real SolrCloud of two nodes (solr-test-framework's MiniSolrCloudCluster, with
 * its embedded ZooKeeper), started once for the class. The test that stops a node runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SolrIndexTest {
    static final int DIMS = 64;
    static final int N = 3000;
    static final int QUERIES = 100;
    static final int K = 10;
    /**
     * Mean recall@10 against exact search that the HNSW search must reach: the target.
     * With a per-shard beam of 100 on 1500 vectors per shard it is typically above 0.99.
     */
    static final double MIN_RECALL = 0.98;

    static final FixedDescriber DESCRIBER = new FixedDescriber("test-64-a", DIMS);

    static MiniSolrCloudCluster cluster;
    static String zkHost;
    static String solrUrls;

    @BeforeAll
    static void startCluster(@TempDir Path dir) throws Exception {
        cluster = new MiniSolrCloudCluster.Builder(2, dir).configure();
        zkHost = cluster.getZkServer().getZkAddress();
        solrUrls = cluster.getJettySolrRunners().stream().map(j -> j.getBaseUrl().toString()).collect(Collectors.joining(","));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) cluster.shutdown();
    }

    static float[][] unitVectors(long seed, int n) {
        Rng rng = new Rng(seed);
        float[][] v = new float[n][DIMS];
        for (float[] row : v) {
            double norm = 0;
            for (int j = 0; j < DIMS; j++) {
                row[j] = (float) rng.nextGaussian();
                norm += row[j] * row[j];
            }
            float inv = (float) (1 / Math.sqrt(norm));
            for (int j = 0; j < DIMS; j++) row[j] *= inv;
        }
        return v;
    }

    static Tensor tensor(float[][] rows) {
        float[] flat = new float[rows.length * DIMS];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, flat, i * DIMS, DIMS);
        return Tensor.of(flat, rows.length, DIMS);
    }

    static String id(int i) {
        return "class" + (i % 7) + "/img " + i + ".png";
    }

    static IndexedImage image(int i, float[] vector) {
        Long label = i % 5 == 0 ? null : (long) (i % 7);
        return new IndexedImage(id(i), "/data/catalogue/" + id(i), vector, label, 1000L + i, 1_700_000_000_000L + i,
                32 + i % 3, 28 + i % 4, i % 2 == 0 ? Map.of("caption", "image \"" + i + "\"", "split", "test") : Map.of());
    }

    /** Mean overlap of each query's top-k ids with the exact top-k. */
    static double recall(VectorIndex index, float[][] queries, float[][] database, List<String> ids) throws IOException {
        Neighbors exact = Knn.search(tensor(queries), tensor(database), K, false);
        double sum = 0;
        for (int q = 0; q < queries.length; q++) {
            Set<String> truth = new HashSet<>();
            for (int j : exact.indices()[q]) truth.add(ids.get(j));
            List<VectorIndex.Hit> hits = index.search(queries[q], K);
            assertEquals(K, hits.size(), "hits of query " + q);
            int found = 0;
            for (VectorIndex.Hit h : hits) if (truth.contains(h.image().id())) found++;
            sum += found / (double) K;
        }
        return sum / queries.length;
    }

    static void assertOneLine(String message, String... parts) {
        assertFalse(message.contains("\n"), "one line: " + message);
        for (String part : parts) assertTrue(message.contains(part), "'" + part + "' in: " + message);
    }

    @Test
    @Order(1)
    void refusesAnotherDescriberAndAnotherLayout() throws Exception {
        try (SolrIndex index = SolrIndex.open(zkHost, "refusals", SolrIndex.Options.of(DESCRIBER).creatingIfMissing(1, 1).withHnsw(8, 50))) {
            assertEquals(new IndexInfo("test-64-a", DESCRIBER.describe(), DIMS, 0), index.info());
            assertEquals("{}", index.describerSource());
        }
        // The collection's schema has the describer's length and the HNSW settings asked for.
        Map<String, Object> type = new org.apache.solr.client.solrj.request.schema.SchemaRequest.FieldType("descriptor")
                .process(cluster.getSolrClient(), "refusals").getFieldType().getAttributes();
        assertEquals("solr.DenseVectorField", String.valueOf(type.get("class")));
        assertEquals("64", String.valueOf(type.get("vectorDimension")));
        assertEquals("dot_product", String.valueOf(type.get("similarityFunction")));
        assertEquals("hnsw", String.valueOf(type.get("knnAlgorithm")));
        assertEquals("8", String.valueOf(type.get("hnswMaxConnections")));
        assertEquals("50", String.valueOf(type.get("hnswBeamWidth")));
        IOException otherModel = assertThrows(IndexMismatchException.class,
                () -> SolrIndex.open(zkHost, "refusals", SolrIndex.Options.of(new FixedDescriber("test-64-b", DIMS))));
        assertOneLine(otherModel.getMessage(), "refusals", "test-64-a", "test-64-b", "another describer");
        IOException otherDims = assertThrows(IndexMismatchException.class,
                () -> SolrIndex.open(solrUrls, "refusals", SolrIndex.Options.of(new FixedDescriber("test-64-a", 32))));
        assertOneLine(otherDims.getMessage(), "64 dims", "32 dims");
        IOException otherLayout = assertThrows(IOException.class,
                () -> SolrIndex.open(zkHost, "refusals", SolrIndex.Options.of(DESCRIBER).creatingIfMissing(3, 1)));
        assertOneLine(otherLayout.getMessage(), "refusals", "shards 1, not 3");
        IOException otherHnsw = assertThrows(IOException.class,
                () -> SolrIndex.open(zkHost, "refusals", SolrIndex.Options.of(DESCRIBER).withHnsw(32, 100)));
        assertOneLine(otherHnsw.getMessage(), "HNSW M 8, not 32");
        for (IOException e : List.of(otherModel, otherDims, otherLayout)) System.out.println("SolrIndexTest: refused: " + e.getMessage());

        try (SolrIndex index = SolrIndex.open(zkHost, "refusals", SolrIndex.Options.existing())) {
            IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
                    () -> index.upsert(List.of(new IndexedImage(SolrIndex.INFO_ID, "x.png", new float[DIMS], null, 1, 1, 1, 1, null))));
            assertOneLine(reserved.getMessage(), SolrIndex.INFO_ID, "reserved");
            IllegalArgumentException shortVector = assertThrows(IllegalArgumentException.class,
                    () -> index.upsert(List.of(new IndexedImage("a.png", "a.png", new float[DIMS - 1], null, 1, 1, 1, 1, null))));
            assertOneLine(shortVector.getMessage(), "a.png", "63-dim", "64-dim");
            float[] twice = unitVectors(3, 1)[0];
            for (int j = 0; j < DIMS; j++) twice[j] *= 2;
            IllegalArgumentException notUnit = assertThrows(IllegalArgumentException.class,
                    () -> index.upsert(List.of(new IndexedImage("b.png", "b.png", twice, null, 1, 1, 1, 1, null))));
            assertOneLine(notUnit.getMessage(), "b.png", "L2-normalized");
            assertThrows(IllegalArgumentException.class, () -> index.search(new float[DIMS + 1], 3));
            // Deleting the reserved id is deleting an unknown image: ignored, the info document stays.
            index.delete(List.of(SolrIndex.INFO_ID));
            index.commit();
        }
        try (SolrIndex index = SolrIndex.open(zkHost, "refusals", SolrIndex.Options.of(DESCRIBER))) {
            assertEquals(0, index.info().count());
        }
    }

    @Test
    @Order(2)
    void startupFailuresSayWhatAndWhere() throws Exception {
        IOException missing = assertThrows(IOException.class, () -> SolrIndex.open(zkHost, "absent", SolrIndex.Options.of(DESCRIBER)));
        assertOneLine(missing.getMessage(), "'absent'", zkHost, "--shards N --replicas N", "creates it");

        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String deadZk = "127.0.0.1:" + port;
        IOException noZk = assertThrows(IOException.class, () -> SolrIndex.open(deadZk, "images",
                SolrIndex.Options.of(DESCRIBER).withConnectTimeout(Duration.ofSeconds(2))));
        assertOneLine(noZk.getMessage(), "ZooKeeper " + deadZk);
        String deadSolr = "http://127.0.0.1:" + port + "/solr";
        IOException noSolr = assertThrows(IOException.class, () -> SolrIndex.open(deadSolr, "images",
                SolrIndex.Options.of(DESCRIBER).withConnectTimeout(Duration.ofSeconds(2))));
        assertOneLine(noSolr.getMessage(), deadSolr, "none of them answered");
        for (IOException e : List.of(missing, noZk, noSolr)) System.out.println("SolrIndexTest: startup failure: " + e.getMessage());
    }

    /**
     * The cli jar gets this module's runtime class path, next to Jetty 12 for irt serve. Here
     * SolrIndex runs in a class loader holding that class path (maven-dependency-plugin's
     * build-classpath, runtime scope) and Jetty 12's server, http, io and util jars alone, under
     * the platform loader: no Jetty 10 class (SolrJ's HTTP/2 client) can be loaded there, and it
     * creates a 2-shard collection, writes, commits and searches, through ZooKeeper and through
     * Solr URLs.
     */
    @Test
    @Order(3)
    void runsOnTheRuntimeClassPathWithServesJettyOnly() throws Exception {
        List<java.net.URL> urls = new ArrayList<>();
        urls.add(Path.of(System.getProperty("irtj.solr.classes")).toUri().toURL());
        String classPath = java.nio.file.Files.readString(Path.of(System.getProperty("irtj.solr.runtimeClasspath"))).trim();
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            assertFalse(entry.contains("jetty"), "Jetty on the runtime class path: " + entry);
            urls.add(Path.of(entry).toUri().toURL());
        }
        try (var jars = java.nio.file.Files.list(Path.of(System.getProperty("irtj.solr.serveJetty")))) {
            for (Path jar : jars.toList()) urls.add(jar.toUri().toURL());
        }
        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(urls.toArray(new java.net.URL[0]), ClassLoader.getPlatformClassLoader())) {
            for (String jetty : new String[] {"org.eclipse.jetty.client.HttpClient", "org.eclipse.jetty.http2.client.HTTP2Client"}) {
                assertThrows(ClassNotFoundException.class, () -> Class.forName(jetty, false, loader), jetty);
            }
            Object jettyVersion = Class.forName("org.eclipse.jetty.util.Jetty", true, loader).getField("VERSION").get(null);
            assertTrue(String.valueOf(jettyVersion).startsWith("12."), "Jetty in the loader: " + jettyVersion);
            Class<?> indexClass = Class.forName("dev.irtj.index.solr.SolrIndex", true, loader);
            Class<?> optionsClass = Class.forName("dev.irtj.index.solr.SolrIndex$Options", true, loader);
            Class<?> imageClass = Class.forName("dev.irtj.index.IndexedImage", true, loader);
            Class<?> vectorIndex = Class.forName("dev.irtj.index.VectorIndex", true, loader);
            Object options = optionsClass.getConstructors()[0].newInstance("test-4", "four dims", "{}", 4, true, 2, 1, 0, 0, 10, Duration.ofSeconds(15));
            java.lang.reflect.Method open = indexClass.getMethod("open", String.class, String.class, optionsClass);

            Object index = open.invoke(null, zkHost, "isolated", options);
            try {
                List<Object> images = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    float[] v = new float[4];
                    v[i % 4] = 1;
                    images.add(imageClass.getConstructors()[0].newInstance("i" + i, "i" + i + ".png", v, null, 1L, 2L, 3, 4, Map.of()));
                }
                vectorIndex.getMethod("upsert", java.util.Collection.class).invoke(index, images);
                vectorIndex.getMethod("commit").invoke(index);
            } finally {
                vectorIndex.getMethod("close").invoke(index);
            }
            for (String address : new String[] {zkHost, solrUrls}) {
                Object reopened = open.invoke(null, address, "isolated", optionsClass.getMethod("existing").invoke(null));
                try {
                    List<?> hits = (List<?>) vectorIndex.getMethod("search", float[].class, int.class).invoke(reopened, new float[] {0, 0, 1, 0}, 5);
                    assertEquals(5, hits.size(), "hits through " + address);
                    Map<?, ?> stamps = (Map<?, ?>) vectorIndex.getMethod("stamps").invoke(reopened);
                    assertEquals(20, stamps.size(), "stamps through " + address);
                } finally {
                    vectorIndex.getMethod("close").invoke(reopened);
                }
            }
        }
    }

    /**
     * The catalogue that {@code irt index} runs, on a SolrCloud collection: a first run indexes a
     * folder of class folders, a second after files were removed, changed and added describes
     * only the new and changed ones, removes the gone ones, and leaves the rest alone.
     */
    @Test
    @Order(4)
    void catalogueUpdatesACollectionIncrementally(@TempDir Path images) throws Exception {
        Rng rng = new Rng(11);
        List<Path> files = new ArrayList<>();
        for (String cls : new String[] {"bags", "coats", "shoes"}) {
            java.nio.file.Files.createDirectories(images.resolve(cls));
            for (int i = 0; i < 10; i++) {
                byte[] bytes = new byte[100 + i];
                for (int j = 0; j < bytes.length; j++) bytes[j] = (byte) rng.nextInt(256);
                files.add(java.nio.file.Files.write(images.resolve(cls).resolve(i + ".png"), bytes));
            }
        }
        HashingDescriber describer = new HashingDescriber();
        SolrIndex.Options options = SolrIndex.Options.of(describer).creatingIfMissing(2, 1);
        try (SolrIndex index = SolrIndex.open(zkHost, "catalogue", options)) {
            Catalogue.Report first = new Catalogue(index, describer, new Catalogue.Options(7, false, null))
                    .update(Catalogue.Selection.of(List.of(images)), new Catalogue.Listener() {
                    });
            assertEquals(30, first.described());
            assertEquals(30, index.info().count());
            assertEquals(Optional.of(1L), index.get("coats/3.png").map(IndexedImage::label));
            assertEquals("coats", index.get("coats/3.png").orElseThrow().metadata().get("class"));
        }
        java.nio.file.Files.delete(files.get(0));
        java.nio.file.Files.delete(files.get(1));
        java.nio.file.Files.write(files.get(12), new byte[] {1, 2, 3});
        java.nio.file.Files.write(images.resolve("shoes").resolve("new.png"), new byte[] {4, 5, 6, 7});
        try (SolrIndex index = SolrIndex.open(zkHost, "catalogue", options)) {
            Catalogue.Report second = new Catalogue(index, describer, Catalogue.Options.defaults())
                    .update(Catalogue.Selection.of(List.of(images)), new Catalogue.Listener() {
                    });
            assertEquals(new Catalogue.Plan(images.toAbsolutePath().normalize(), 29, 2, 1, 1, 0, 2, 27), second.plan());
            assertEquals(29, index.info().count());
            assertEquals(Optional.empty(), index.get("bags/0.png"));
            assertArrayEquals(HashingDescriber.vectorOf(new byte[] {1, 2, 3}), index.get("coats/2.png").orElseThrow().vector());
            assertEquals(Optional.of(2L), index.get("shoes/new.png").map(IndexedImage::label));
        }
    }

    @Test
    @Order(5)
    void shardedCollectionMatchesExactSearchAndSurvivesALostNode(@TempDir Path lucene) throws Exception {
        float[][] vectors = unitVectors(7, N);
        float[][] queries = unitVectors(8, QUERIES);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < N; i++) ids.add(id(i));

        SolrIndex.Options create = SolrIndex.Options.of(DESCRIBER).creatingIfMissing(2, 2).withHnsw(16, 100);
        try (SolrIndex index = SolrIndex.open(zkHost, "images", create)) {
            List<IndexedImage> images = new ArrayList<>();
            for (int i = 0; i < N; i++) images.add(image(i, vectors[i]));
            index.upsert(images);
            assertEquals(0, index.info().count(), "nothing visible before commit");
            index.commit();
            assertEquals(new IndexInfo("test-64-a", DESCRIBER.describe(), DIMS, N), index.info());

            double recall = recall(index, queries, vectors, ids);
            assertTrue(recall >= MIN_RECALL, "recall@10 " + recall + " < " + MIN_RECALL);
            System.out.printf("SolrIndexTest: recall@10 on 2 shards x 2 replicas: %.4f%n", recall);
            sameTopTenAsLuceneIndex(index, images, queries, lucene);

            // Scores are dot products, best first, ties by id.
            List<VectorIndex.Hit> hits = index.search(queries[0], K);
            for (int r = 0; r < hits.size(); r++) {
                VectorIndex.Hit h = hits.get(r);
                int i = Integer.parseInt(h.image().id().replaceAll(".* (\\d+)\\.png", "$1"));
                assertEquals(dot(queries[0], vectors[i]), h.score(), 1e-5, "score of rank " + r);
                assertNull(h.image().vector(), "search results carry no vector");
                if (r > 0) assertTrue(hits.get(r - 1).score() >= h.score(), "order at rank " + r);
            }

            // get: every stored field and the vector, bit for bit.
            for (int i : new int[] {0, 1, 2, 1234}) {
                IndexedImage expected = image(i, vectors[i]);
                IndexedImage got = index.get(id(i)).orElseThrow();
                assertArrayEquals(expected.vector(), got.vector(), "vector of " + id(i));
                assertEquals(withoutVector(expected), withoutVector(got));
            }
            assertEquals(Optional.empty(), index.get("no/such.png"));
            assertEquals(Optional.empty(), index.get(SolrIndex.INFO_ID));

            // upsert replaces; delete removes; stamps pages through everything.
            float[] moved = queries[1].clone();
            index.upsert(List.of(new IndexedImage(id(5), "/elsewhere/5.png", moved, 3L, 77, 88, 10, 20, Map.of("k", "v"))));
            List<String> gone = new ArrayList<>();
            for (int i = 100; i < 110; i++) gone.add(id(i));
            index.delete(gone);
            index.commit();
            assertEquals(N - gone.size(), index.info().count());
            VectorIndex.Hit top = index.search(queries[1], 1).get(0);
            assertEquals(id(5), top.image().id());
            assertEquals(1f, top.score(), 1e-5);
            assertEquals("/elsewhere/5.png", top.image().path());
            assertEquals(Map.of("k", "v"), top.image().metadata());
            for (String id : gone) assertEquals(Optional.empty(), index.get(id), id);

            Map<String, IndexedImage.Stamp> expectedStamps = new HashMap<>();
            for (int i = 0; i < N; i++) if (i < 100 || i >= 110) expectedStamps.put(id(i), image(i, null).stamp());
            expectedStamps.put(id(5), new IndexedImage.Stamp("/elsewhere/5.png", 77, 88));
            assertEquals(expectedStamps, index.stamps(700), "stamps in pages of 700");
            assertEquals(expectedStamps, index.stamps());
        }

        // The same collection through Solr URLs instead of ZooKeeper, describer taken from it.
        try (SolrIndex index = SolrIndex.open(solrUrls, "images", SolrIndex.Options.existing())) {
            assertEquals(new IndexInfo("test-64-a", DESCRIBER.describe(), DIMS, N - 10), index.info());
            assertEquals(id(5), index.search(queries[1], 1).get(0).image().id());
        }

        // Two shards × two replicas on two nodes: each node holds one replica of every shard, so
        // losing either node leaves every shard a live replica, and searches keep answering.
        DocCollection state = cluster.getZkStateReader().getClusterState().getCollection("images");
        for (Slice slice : state.getSlices()) {
            Set<String> nodes = slice.getReplicas().stream().map(Replica::getNodeName).collect(Collectors.toSet());
            assertEquals(2, nodes.size(), "replicas of " + slice.getName() + " on distinct nodes: " + slice.getReplicas());
        }
        try (SolrIndex index = SolrIndex.open(zkHost, "images", SolrIndex.Options.of(DESCRIBER))) {
            String lost = cluster.getJettySolrRunner(0).getNodeName();
            JettySolrRunner stopped = cluster.stopJettySolrRunner(0);
            cluster.waitForJettyToStop(stopped);
            cluster.getZkStateReader().waitForLiveNodes(30, TimeUnit.SECONDS,
                    (oldNodes, newNodes) -> newNodes != null && !newNodes.contains(lost));
            // Without the other node's replicas the top-10 must still match exact search on what
            // the collection now holds (the surviving replicas have the same documents, in HNSW
            // graphs of their own).
            List<float[]> now = new ArrayList<>();
            List<String> idsNow = new ArrayList<>();
            for (int i = 0; i < N; i++) {
                if (i >= 100 && i < 110) continue;
                now.add(i == 5 ? queries[1] : vectors[i]);
                idsNow.add(id(i));
            }
            double recall = recall(index, queries, now.toArray(new float[0][]), idsNow);
            assertTrue(recall >= MIN_RECALL, "recall@10 with a node down " + recall + " < " + MIN_RECALL);
            assertEquals(N - 10, index.info().count(), "every shard still answers the count");
            System.out.printf("SolrIndexTest: recall@10 with node %s down: %.4f%n", lost, recall);
        }
        // Opening by Solr URLs also works with the first URL's node gone: the others answer.
        try (SolrIndex index = SolrIndex.open(solrUrls, "images", SolrIndex.Options.existing())) {
            assertEquals(N - 10, index.info().count());
            assertEquals(id(5), index.search(queries[1], 1).get(0).image().id());
        }
    }

    /**
     * The embedded index on the same descriptors, with the same HNSW settings and efSearch,
     * answers the same top-10: both are approximate, so the test asks what it asks of each
     * against exact search, a mean overlap of the id sets of at least {@link #MIN_RECALL}, and
     * equal scores (both report the dot product) for the ids they share.
     */
    static void sameTopTenAsLuceneIndex(SolrIndex solr, List<IndexedImage> images, float[][] queries, Path dir) throws IOException {
        try (LuceneIndex lucene = LuceneIndex.open(dir, LuceneIndex.Identity.of(DESCRIBER), LuceneIndex.Options.defaults())) {
            lucene.upsert(images);
            lucene.commit();
            double overlap = 0;
            int identical = 0;
            for (float[] q : queries) {
                List<VectorIndex.Hit> a = solr.search(q, K);
                List<VectorIndex.Hit> b = lucene.search(q, K);
                Map<String, Float> scores = new HashMap<>();
                for (VectorIndex.Hit h : b) scores.put(h.image().id(), h.score());
                int shared = 0;
                for (VectorIndex.Hit h : a) {
                    Float other = scores.get(h.image().id());
                    if (other == null) continue;
                    shared++;
                    assertEquals(other, h.score(), 1e-5, "score of " + h.image().id());
                }
                overlap += shared / (double) K;
                if (a.stream().map(h -> h.image().id()).toList().equals(b.stream().map(h -> h.image().id()).toList())) identical++;
            }
            overlap /= queries.length;
            assertTrue(overlap >= MIN_RECALL, "top-10 overlap with LuceneIndex " + overlap + " < " + MIN_RECALL);
            System.out.printf("SolrIndexTest: top-10 overlap with LuceneIndex %.4f, identical ordered lists %d of %d%n",
                    overlap, identical, queries.length);
        }
    }

    static float dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return (float) s;
    }

    static IndexedImage withoutVector(IndexedImage i) {
        return new IndexedImage(i.id(), i.path(), null, i.label(), i.bytes(), i.modified(), i.width(), i.height(), i.metadata());
    }
}
