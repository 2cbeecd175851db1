package dev.irtj.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.irtj.index.IndexedImage;
import dev.irtj.index.LuceneIndex;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** irt index / irt search argument checks, and irt search on an index written through the Java API. */
class IndexSearchCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static final LuceneIndex.Identity FAKE = new LuceneIndex.Identity("fp-test", "test vectors", "{}", 8);

    static float[] unit(Rng rng) {
        float[] v = new float[8];
        double sq = 0;
        for (int i = 0; i < 8; i++) {
            v[i] = (float) rng.nextGaussian();
            sq += v[i] * v[i];
        }
        for (int i = 0; i < 8; i++) v[i] /= (float) Math.sqrt(sq);
        return v;
    }

    /** An index of 20 images class{i%2}/img{i}.png with random vectors; returns the vectors. */
    static List<float[]> build(Path dir, boolean exact) throws IOException {
        Rng rng = new Rng(5);
        List<float[]> vectors = new ArrayList<>();
        List<IndexedImage> images = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            float[] v = unit(rng);
            vectors.add(v);
            String id = "class" + (i % 2) + "/img" + i + ".png";
            images.add(new IndexedImage(id, "/photos/" + id, v, (long) (i % 2), 1000 + i, 1_700_000_000_000L, 16, 12,
                    Map.of("class", "class" + (i % 2))));
        }
        try (LuceneIndex index = LuceneIndex.open(dir, FAKE, LuceneIndex.Options.defaults().withExact(exact))) {
            index.upsert(images);
            index.commit();
        }
        return vectors;
    }

    @Test
    void searchByVectorAndByIdPrintsATableOrJson(@TempDir Path dir) throws IOException {
        Path idx = dir.resolve("index");
        List<float[]> v = build(idx, false);
        // Scaled: --vector files are L2-normalized first.
        float[] q = v.get(3).clone();
        for (int i = 0; i < q.length; i++) q[i] *= 3;
        Path json = Files.writeString(dir.resolve("q.json"), Arrays.toString(q));
        CliTest.Result table = CliTest.irt("search", "--index", idx.toString(), "--vector", json.toString(), "-k", "3");
        assertEquals(0, table.code(), table.err());
        List<String> lines = table.out().lines().toList();
        assertEquals(4, lines.size(), table.out());
        assertTrue(lines.get(0).contains("rank") && lines.get(0).contains("score") && lines.get(0).contains("label"), lines.get(0));
        assertTrue(lines.get(1).contains("1.000000") && lines.get(1).endsWith("/photos/class1/img3.png"), lines.get(1));

        CliTest.Result byId = CliTest.irt("search", "--index", idx.toString(), "--id", "class0/img4.png", "-k", "5", "--json");
        assertEquals(0, byId.code(), byId.err());
        JsonNode r = JSON.readTree(byId.out());
        assertEquals(5, r.get("hits").size());
        assertEquals(20, r.get("images").asInt());
        JsonNode top = r.get("hits").get(0);
        assertEquals("class0/img4.png", top.get("id").asText());
        assertEquals(0, top.get("label").asInt());
        assertEquals(1.0, top.get("score").asDouble(), 1e-5);
        assertEquals("class0", top.get("metadata").get("class").asText());
        for (int i = 1; i < 5; i++) assertTrue(r.get("hits").get(i).get("score").asDouble() <= r.get("hits").get(i - 1).get("score").asDouble());

        // A stored file path works as --id too; a text vector file; a safetensors one.
        CliTest.Result byPath = CliTest.irt("search", "--index", idx.toString(), "--id", "/photos/class1/img7.png", "-k", "1", "--json");
        assertEquals("class1/img7.png", JSON.readTree(byPath.out()).get("hits").get(0).get("id").asText(), byPath.err());
        StringBuilder text = new StringBuilder();
        for (float x : v.get(8)) text.append(x).append(' ');
        Path txt = Files.writeString(dir.resolve("q.txt"), text.toString());
        CliTest.Result byText = CliTest.irt("search", "--index", idx.toString(), "--vector", txt.toString(), "-k", "1", "--ef", "5", "--json");
        assertEquals("class0/img8.png", JSON.readTree(byText.out()).get("hits").get(0).get("id").asText(), byText.err());
        Path st = dir.resolve("q.safetensors");
        SafeTensors.write(st, Map.of("descriptor", Tensor.of(v.get(11), 1, 8)), Map.of());
        CliTest.Result bySt = CliTest.irt("search", "--index", idx.toString(), "--vector", st.toString(), "-k", "1", "--json");
        assertEquals("class1/img11.png", JSON.readTree(bySt.out()).get("hits").get(0).get("id").asText(), bySt.err());
    }

    @Test
    void searchRefusesBadQueriesInOneLine(@TempDir Path dir) throws IOException {
        Path idx = dir.resolve("index");
        build(idx, true);
        Path shortVec = Files.writeString(dir.resolve("short.json"), "[1, 2, 3]");
        Path zero = Files.writeString(dir.resolve("zero.txt"), "0 0 0 0 0 0 0 0");
        Path junk = Files.writeString(dir.resolve("junk.json"), "[1, \"a\"]");
        Object[][] cases = {
                {new String[] {"search", "--index", dir.resolve("nothing").toString(), "--id", "x"}, "no index there"},
                {new String[] {"search", "--index", idx.toString(), "--id", "class9/none.png"}, "--id class9/none.png: no such image"},
                {new String[] {"search", "--index", idx.toString(), "--vector", shortVec.toString()}, "3 values, but the index holds 8-dim"},
                {new String[] {"search", "--index", idx.toString(), "--vector", zero.toString()}, "zero vector"},
                {new String[] {"search", "--index", idx.toString(), "--vector", junk.toString()}, "expected a JSON array"},
                {new String[] {"search", "--index", idx.toString(), "--vector", dir.resolve("missing.json").toString()}, "no such file"},
                {new String[] {"search", "--index", idx.toString(), "--id", "class0/img0.png", "-k", "0"}, "-k must be at least 1"},
                {new String[] {"search", "--index", idx.toString(), "--id", "class0/img0.png", "--ef", "50"}, "searches exactly"},
                {new String[] {"search", "--index", idx.toString(), "--image", dir.resolve("q.png").toString()}, "--image"},
                {new String[] {"search", "--index", idx.toString(), "--id", "a", "--vector", shortVec.toString()}, "mutually exclusive"},
                {new String[] {"search", "--id", "a"}, "--index DIR is required"},
        };
        for (Object[] c : cases) {
            CliTest.Result r = CliTest.irt((String[]) c[0]);
            assertEquals(2, r.code(), String.join(" ", (String[]) c[0]) + " -> " + r.err());
            String first = r.err().lines().findFirst().orElse("");
            assertTrue(first.contains((String) c[1]), String.join(" ", (String[]) c[0]) + " -> " + r.err());
        }
        // --image on an index whose describer cannot be reopened says so.
        Path png = CliTest.imageFolder(dir.resolve("img"), 1, 1).resolve("class0/img0.png");
        CliTest.Result r = CliTest.irt("search", "--index", idx.toString(), "--image", png.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("records no model source"), r.err());
    }

    @Test
    void indexRefusesBadInputBeforeAnyWork(@TempDir Path dir) throws IOException {
        Path images = CliTest.imageFolder(dir.resolve("photos"), 2, 2);
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        Path badMeta = Files.writeString(dir.resolve("meta.csv"), "file,title\na,b\n");
        Path list = Files.writeString(dir.resolve("list.txt"), "photos/class0/img0.png\nphotos/missing.png\n");
        Path idx = dir.resolve("index").toAbsolutePath();
        Object[][] cases = {
                {new String[] {"index", "--images", images.toString()}, "--index DIR is required"},
                {new String[] {"index", "--index", idx.toString()}, "exactly one of --images"},
                {new String[] {"index", "--index", idx.toString(), "--images", images.toString(), "--list", list.toString()}, "exactly one of --images"},
                {new String[] {"index", "--index", idx.toString(), "--images", dir.resolve("nope").toString()}, "--images"},
                {new String[] {"index", "--index", idx.toString(), "--list", list.toString()}, "list.txt:2"},
                {new String[] {"index", "--index", idx.toString(), "--images", images.toString(), "--metadata", badMeta.toString()}, "meta.csv:1"},
                {new String[] {"index", "--index", idx.toString(), "--images", images.toString(), "--metadata", dir.resolve("none.csv").toString()}, "--metadata"},
                {new String[] {"index", "--index", idx.toString(), "--images", images.toString(), "--hnsw-m", "1"}, "--hnsw-m must be in 2..512"},
                {new String[] {"index", "--index", idx.toString(), "--images", images.toString(), "--beam-width", "0"}, "--beam-width must be in 1..3200"},
                {new String[] {"index", "--index", idx.toString(), "--images", images.toString(), "--quantize", "int4"}, "--quantize must be none or int8"},
                {new String[] {"index", "--index", idx.toString(), "--images", images.toString(), "--commit-every", "0"}, "--commit-every must be at least 1"},
                {new String[] {"index", "--index", file.resolve("sub").toString(), "--images", images.toString()}, "is a file, not a folder"},
                {new String[] {"index", "--index", idx.toString(), "--images", images.toString()}, "a new index needs a model"},
                {new String[] {"index", "--index", idx.toString(), "--images", dir.resolve("empty-dir").toString()}, "--images"},
        };
        Files.createDirectories(dir.resolve("empty-dir"));
        for (Object[] c : cases) {
            CliTest.Result r = CliTest.irt((String[]) c[0]);
            assertEquals(2, r.code(), String.join(" ", (String[]) c[0]) + " -> " + r.err());
            String first = r.err().lines().findFirst().orElse("");
            assertTrue(first.contains((String) c[1]), String.join(" ", (String[]) c[0]) + " -> " + r.err());
        }
        assertFalse(Files.exists(idx), "nothing is created by a refused run");
    }
}
