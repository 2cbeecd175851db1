package dev.irtj.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.irtj.eval.Knn;
import dev.irtj.eval.Neighbors;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.LuceneIndex;
import dev.irtj.index.VectorIndex;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.Idx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** irt train, then irt index and irt search on the same image folder, in process. */
class IndexSearchEndToEndTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Path train(Path data, Path run, String seed) {
        CliTest.Result t = CliTest.irt("train", "--data", data.toString(), "--format", "folder", "--img-size", "16", "--patch", "8", "--dim", "16",
                "--depth", "1", "--heads", "2", "--iters", "4", "--batch", "4", "--lr", "1e-3", "--seed", seed, "--out", run.toString(),
                "--checkpoint-every", "4", "--log-every", "2");
        assertEquals(0, t.code(), t.err());
        return run;
    }

    @Test
    void indexThenSearchATrainedRunsCatalogue(@TempDir Path dir) throws IOException {
        Path data = CliTest.imageFolder(dir.resolve("data"), 3, 5);
        Files.writeString(data.resolve("class2/broken.png"), "not an image");
        Path run = train(data, dir.resolve("run"), "1");
        Path idx = dir.resolve("index");

        CliTest.Result first = CliTest.irt("index", "--index", idx.toString(), "--checkpoint", run.toString(), "--images", data.toString(),
                "--commit-every", "4");
        assertEquals(0, first.code(), first.err());
        assertTrue(first.err().contains("16 new"), first.err());
        assertTrue(first.err().contains("warning: skipping " + data.toAbsolutePath().resolve("class2/broken.png")), first.err());
        assertTrue(first.err().contains("indexed 15 images"), first.err());

        // Every indexed image finds itself first, and HNSW's top-10 is exact k-NN's on the stored descriptors.
        List<String> ids;
        List<float[]> vectors = new ArrayList<>();
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            ids = new ArrayList<>(new TreeSet<>(index.stamps().keySet()));
            assertEquals(15, ids.size());
            for (String id : ids) vectors.add(index.get(id).orElseThrow().vector());
            float[] all = new float[ids.size() * vectors.get(0).length];
            for (int i = 0; i < ids.size(); i++) System.arraycopy(vectors.get(i), 0, all, i * vectors.get(0).length, vectors.get(0).length);
            Tensor db = Tensor.of(all, ids.size(), vectors.get(0).length);
            Neighbors exact = Knn.search(db, db, 10, false);
            int agree = 0;
            for (int i = 0; i < ids.size(); i++) {
                List<VectorIndex.Hit> hits = index.search(vectors.get(i), 10);
                IndexedImage top = hits.get(0).image();
                assertTrue(top.id().equals(ids.get(i)) || hits.get(0).score() >= 1 - 1e-6f, ids.get(i) + " -> " + top.id());
                Set<String> truth = new HashSet<>();
                for (int j : exact.indices()[i]) truth.add(ids.get(j));
                for (VectorIndex.Hit h : hits) if (truth.contains(h.image().id())) agree++;
            }
            assertTrue(agree >= 9 * ids.size(), "top-10 agreement " + agree + " of " + 10 * ids.size());
            assertEquals(2L, index.get("class2/img3.png").orElseThrow().label());
        }

        // irt search needs no model options: it reopens the describer the index recorded.
        Path query = data.resolve("class1/img2.png");
        CliTest.Result s = CliTest.irt("search", "--index", idx.toString(), "--image", query.toString(), "-k", "10", "--json");
        assertEquals(0, s.code(), s.err());
        JsonNode hits = JSON.readTree(s.out()).get("hits");
        assertEquals(10, hits.size());
        assertEquals("class1/img2.png", hits.get(0).get("id").asText());
        assertEquals(1.0, hits.get(0).get("score").asDouble(), 1e-4);
        assertEquals(1, hits.get(0).get("label").asInt());
        float[] stored = vectors.get(ids.indexOf("class1/img2.png"));
        CliTest.Result table = CliTest.irt("search", "--index", idx.toString(), "--image", query.toString(), "--checkpoint", run.toString(), "-k", "3");
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().lines().skip(1).findFirst().orElse("").endsWith(query.toAbsolutePath().toString()), table.out());
        assertEquals(4, table.out().lines().count());
        assertEquals(stored.length, vectors.get(0).length);

        // A rerun finds nothing to do; the broken file is tried again and reported again.
        CliTest.Result again = CliTest.irt("index", "--index", idx.toString(), "--images", data.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("1 new, 0 changed, 0 removed, 0 to relabel, 15 unchanged"), again.err());
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            assertArrayEquals(stored, index.get("class1/img2.png").orElseThrow().vector());
        }

        // Another model's descriptors are refused before any image is described.
        Path other = train(data, dir.resolve("other"), "2");
        CliTest.Result refused = CliTest.irt("index", "--index", idx.toString(), "--checkpoint", other.toString(), "--images", data.toString());
        assertEquals(2, refused.code(), refused.err());
        assertTrue(refused.err().lines().findFirst().orElse("").contains("holds descriptors of"), refused.err());
        assertTrue(!refused.err().contains("warning: skipping"), "nothing was described: " + refused.err());
    }

    @Test
    void exactAndInt8IndexesAreBuiltAndRecorded(@TempDir Path dir) throws IOException {
        Path data = CliTest.imageFolder(dir.resolve("data"), 2, 4);
        Path run = train(data, dir.resolve("run"), "3");
        Path exact = dir.resolve("exact"), int8 = dir.resolve("int8");
        Path meta = Files.writeString(dir.resolve("meta.csv"), "path,title,label\nclass1/img3.png,\"a, b\",9\n");
        CliTest.Result built = CliTest.irt("index", "--index", exact.toString(), "--checkpoint", run.toString(), "--images", data.toString(),
                "--exact", "--metadata", meta.toString());
        assertEquals(0, built.code(), built.err());
        assertEquals(0, CliTest.irt("index", "--index", int8.toString(), "--checkpoint", run.toString(), "--images", data.toString(),
                "--quantize", "int8", "--hnsw-m", "8", "--beam-width", "40").code());
        LuceneIndex.Options e = LuceneIndex.recordedOptions(exact).orElseThrow(), q = LuceneIndex.recordedOptions(int8).orElseThrow();
        assertTrue(e.exact());
        assertEquals(LuceneIndex.Quantization.INT8, q.quantization());
        assertEquals(8, q.hnswM());
        assertEquals(40, q.beamWidth());
        // A later run without the flags keeps them.
        assertEquals(0, CliTest.irt("index", "--index", int8.toString(), "--images", data.toString()).code());
        assertEquals(q, LuceneIndex.recordedOptions(int8).orElseThrow());
        for (Path idx : List.of(exact, int8)) {
            CliTest.Result r = CliTest.irt("search", "--index", idx.toString(), "--id", "class1/img3.png", "-k", "2", "--json");
            assertEquals(0, r.code(), r.err());
            assertEquals("class1/img3.png", JSON.readTree(r.out()).get("hits").get(0).get("id").asText());
        }
        JsonNode top = JSON.readTree(CliTest.irt("search", "--index", exact.toString(), "--id", "class1/img3.png", "-k", "1", "--json").out())
                .get("hits").get(0);
        assertEquals("a, b", top.get("metadata").get("title").asText());
        assertEquals(9, top.get("label").asInt());

        // A list file of three images: the others are removed from the index.
        Path list = Files.writeString(dir.resolve("list.txt"), "data/class0/img0.png\ndata/class0/img1.png\ndata/class1/img0.png\n");
        CliTest.Result listed = CliTest.irt("index", "--index", int8.toString(), "--list", list.toString());
        assertEquals(0, listed.code(), listed.err());
        assertTrue(listed.err().contains("3 images under " + data.toAbsolutePath() + ": 0 new, 0 changed, 5 removed"), listed.err());
        try (LuceneIndex index = LuceneIndex.openReadOnly(int8)) {
            assertEquals(3, index.info().count());
        }
    }

    /**
     * Issue 10's check on real images: bundled Fashion-MNIST test images written out as gray PNG
     * files, indexed with a 1-channel run; every image's top-1 is itself or a byte-identical
     * copy, and the index's top-10 agrees with exact k-NN on the same descriptors (>= 9 of 10
     * on average).
     */
    @Test
    void fashionMnistPngsFindThemselves(@TempDir Path dir) throws IOException {
        Path fm = Path.of(System.getProperty("irtj.home", ".")).resolve("data/fashion-mnist");
        Idx.Images images = Idx.readImages(fm.resolve("t10k-images-idx3-ubyte.gz"));
        byte[] labels = Idx.readLabels(fm.resolve("t10k-labels-idx1-ubyte.gz"));
        Path folder = dir.resolve("fmnist");
        int n = 300, px = images.rows() * images.cols();
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(images.cols(), images.rows(), BufferedImage.TYPE_BYTE_GRAY);
            for (int p = 0; p < px; p++) img.getRaster().setSample(p % images.cols(), p / images.cols(), 0, images.pixels()[i * px + p] & 0xFF);
            Path f = folder.resolve("c" + labels[i]).resolve(String.format("%04d.png", i));
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
        }
        Path run = dir.resolve("run");
        CliTest.Result t = CliTest.irt("train", "--data", fm.toString(), "--format", "mnist", "--img-size", "28", "--patch", "7", "--dim", "16",
                "--depth", "1", "--heads", "2", "--iters", "4", "--batch", "8", "--lr", "1e-3", "--out", run.toString(),
                "--checkpoint-every", "4", "--log-every", "2");
        assertEquals(0, t.code(), t.err());
        Path idx = dir.resolve("index");
        CliTest.Result r = CliTest.irt("index", "--index", idx.toString(), "--checkpoint", run.toString(), "--images", folder.toString());
        assertEquals(0, r.code(), r.err());
        try (LuceneIndex index = LuceneIndex.openReadOnly(idx)) {
            List<String> ids = new ArrayList<>(new TreeSet<>(index.stamps().keySet()));
            assertEquals(n, ids.size());
            int d = index.info().dims();
            float[] all = new float[n * d];
            for (int i = 0; i < n; i++) System.arraycopy(index.get(ids.get(i)).orElseThrow().vector(), 0, all, i * d, d);
            Tensor db = Tensor.of(all, n, d);
            Neighbors exact = Knn.search(db, db, 10, false);
            int agree = 0;
            for (int i = 0; i < n; i++) {
                float[] q = Arrays.copyOfRange(all, i * d, (i + 1) * d);
                List<VectorIndex.Hit> hits = index.search(q, 10);
                String top = hits.get(0).image().id();
                assertTrue(top.equals(ids.get(i)) || Arrays.equals(Files.readAllBytes(folder.resolve(top)), Files.readAllBytes(folder.resolve(ids.get(i)))),
                        ids.get(i) + " -> " + top);
                Set<String> truth = new HashSet<>();
                for (int j : exact.indices()[i]) truth.add(ids.get(j));
                for (VectorIndex.Hit h : hits) if (truth.contains(h.image().id())) agree++;
            }
            assertTrue(agree >= 9 * n, "top-10 agreement " + agree + " of " + 10 * n);
        }
    }
}
