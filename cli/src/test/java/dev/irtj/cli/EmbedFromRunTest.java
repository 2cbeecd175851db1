package dev.irtj.cli;

import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.DescriptorShards;
import dev.irtj.retrieval.ModelSource;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.ImageFolder;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.irtj.cli.CliTest.irt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code irt embed} and {@code irt eval} on a run just trained: the one descriptor pipeline from the command line. */
class EmbedFromRunTest {
    @TempDir
    static Path dir;
    static Path data;
    static Path run;

    /** A custom-shape model trained on a folder of 20x18 images (a run folder that embed used to refuse with 150 problems). */
    @BeforeAll
    static void trainATinyGrayRun() throws IOException {
        data = CliTest.imageFolder(dir.resolve("data"), 3, 4);
        run = dir.resolve("run");
        CliTest.Result t = irt("train", "--data", data.toString(), "--format", "folder", "--img-size", "16",
                "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2", "--iters", "4", "--batch", "6", "--lr", "1e-3",
                "--out", run.toString(), "--checkpoint-every", "4", "--log-every", "2");
        assertEquals(0, t.code(), t.err());
    }

    @Test
    void embedTakesTheModelSizeAndPoolingFromTheRunAndMatchesTheEvalPipeline() throws IOException {
        Path out = dir.resolve("emb-all");
        CliTest.Result r = irt("embed", "--checkpoint", run.toString(), "--images", data.toString(), "--out", out.toString(), "--batch", "5");
        assertEquals(0, r.code(), r.err());
        DescriptorShards.Contents c = DescriptorShards.read(out);
        assertArrayEquals(new int[] {12, 16}, c.descriptors().shape());
        assertArrayEquals(new int[] {20, 18}, c.sizes().get(0), "width and height of the decoded file");
        // The same numbers as the pipeline irt eval and the trainer use, on the same images in dataset order.
        try (DescriptorPipeline p = DescriptorPipeline.open(new ModelSource.Run(run), DescriptorPipeline.Options.defaults().withBatch(7))) {
            assertEquals(16, p.transform().crop(), "the run's 16-px model is embedded at 16 px");
            Dataset d = ImageFolder.read(data);
            Tensor expected = p.describe(d).vectors();
            float[] e = expected.toFloatArray(), a = c.descriptors().toFloatArray();
            for (int i = 0; i < a.length; i++) assertEquals(e[i], a[i], 1e-6, "element " + i);
            assertEquals(p.fingerprint(), c.fingerprint());
        }
    }

    @Test
    void embedTakesOneFileAListAndResumesIntoTheSameFolder() throws IOException {
        Path out = dir.resolve("emb-resume");
        Path one = data.resolve("class1/img2.png");
        CliTest.Result r1 = irt("embed", "--checkpoint", run.toString(), "--images", one.toString(), "--out", out.toString());
        assertEquals(0, r1.code(), r1.err());
        assertEquals(List.of(one.toString()), DescriptorShards.read(out).paths());
        Path list = dir.resolve("list.txt");
        Files.writeString(list, "# two more\ndata/class0/img0.png\n\ndata/class1/img2.png\n");
        CliTest.Result r2 = irt("embed", "--checkpoint", run.toString(), "--list", list.toString(), "--images", data.toString(),
                "--out", out.toString(), "--shard-size", "5");
        assertEquals(0, r2.code(), r2.err());
        assertTrue(r2.err().contains("1 of 12 images already embedded"), r2.err());
        DescriptorShards.Contents c = DescriptorShards.read(out);
        assertEquals(12, c.paths().size(), "every file once: " + c.paths());
        assertEquals(12, new java.util.HashSet<>(c.paths()).size());
        assertTrue(Files.list(out).filter(f -> f.getFileName().toString().startsWith("shard-")).count() >= 3, "shards of at most 5");
        CliTest.Result r3 = irt("embed", "--checkpoint", run.toString(), "--images", data.toString(), "--out", out.toString());
        assertEquals(0, r3.code(), r3.err());
        assertTrue(r3.err().contains("12 of 12 images already embedded") && r3.err().contains("embedded 0 images"), r3.err());
    }

    @Test
    void anotherModelIntoTheSameFolderAndAnUnwritableOutAreRefusedBeforeWork() throws IOException {
        Path out = dir.resolve("emb-other");
        assertEquals(0, irt("embed", "--checkpoint", run.toString(), "--images", data.toString(), "--out", out.toString()).code());
        Path weights = dir.resolve("other.safetensors");
        TimmCheckpoint.save(new VisionTransformer(ViTConfig.of(16, 8, 3, 16, 1, 2, 4), new Rng(9), DType.F32), weights);
        CliTest.Result other = irt("embed", "--weights", weights.toString(), "--img-size", "16", "--patch", "8", "--dim", "16",
                "--depth", "1", "--heads", "2", "--images", data.toString(), "--out", out.toString());
        assertEquals(1, other.code(), other.err());
        assertTrue(other.err().contains("another model") && other.err().contains("choose another --out"), other.err());
        assertEquals(1, other.err().strip().lines().count(), other.err());

        Path file = Files.writeString(dir.resolve("a-file"), "x");
        CliTest.Result onFile = irt("embed", "--checkpoint", run.toString(), "--images", data.toString(), "--out", file.toString());
        assertEquals(2, onFile.code());
        assertTrue(onFile.err().contains("--out " + file + " is a file"), onFile.err());
        CliTest.Result missing = irt("embed", "--checkpoint", dir.resolve("nope").toString(), "--images", data.toString(), "--out", out.toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no such run folder"), missing.err());
        CliTest.Result badCrop = irt("embed", "--checkpoint", run.toString(), "--crop-pct", "1.5", "--images", data.toString(), "--out", out.toString());
        assertEquals(2, badCrop.code());
        assertTrue(badCrop.err().contains("--crop-pct must be in (0, 1]"), badCrop.err());
    }

    @Test
    void evalPcaIsSavedInTheRunAndUsedByEmbedUnlessNoPca() throws IOException {
        Path run2 = dir.resolve("run-pca");
        copy(run, run2);
        CliTest.Result e = irt("eval", "--checkpoint", run2.toString(), "--data", data.toString(), "--format", "folder", "--recall", "1", "--pca", "4");
        assertEquals(0, e.code(), e.err());
        assertTrue(Files.isRegularFile(run2.resolve(ModelSource.PCA_FILE)), e.err());
        Path withPca = dir.resolve("emb-pca"), without = dir.resolve("emb-nopca");
        assertEquals(0, irt("embed", "--checkpoint", run2.toString(), "--images", data.toString(), "--out", withPca.toString()).code());
        assertEquals(0, irt("embed", "--checkpoint", run2.toString(), "--no-pca", "--images", data.toString(), "--out", without.toString()).code());
        DescriptorShards.Contents a = DescriptorShards.read(withPca), b = DescriptorShards.read(without);
        assertEquals(4, a.descriptors().shape(1));
        assertEquals(16, b.descriptors().shape(1));
        assertNotEquals(a.fingerprint(), b.fingerprint());
        // eval without --pca now uses the saved PCA and says so
        CliTest.Result again = irt("eval", "--checkpoint", run2.toString(), "--data", data.toString(), "--format", "folder", "--recall", "1");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("using the PCA saved in"), again.err());
        assertFalse(again.err().contains("Exception"), again.err());
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) if (Files.isRegularFile(f)) Files.copy(f, to.resolve(f.getFileName()));
        }
    }
}
