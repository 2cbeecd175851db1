package dev.irtj.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.irtj.retrieval.RunConfig;
import dev.irtj.tensor.Rng;
import dev.irtj.train.data.SfM120k;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.irtj.cli.CliTest.irt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code irt train --format sfm120k} on a mini retrieval-SfM-120k layout: the .pkl written by
 * Python's pickle.dump (scripts/make-sfm-fixture.py: 30 images in 5 clusters, 30 query-positive
 * pairs) and images generated here under ims/ as cirtorch's cid2filename places them, without an
 * extension. Epochs of 3 batches (--queries 6, --tuples 2), so 7 iterations mine 3 epochs.
 */
class SfmTrainCommandTest {
    private static final String[] MODEL = {"--img-size", "16", "--patch", "8", "--dim", "16", "--depth", "1", "--heads", "2"};

    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void miniLayout() throws IOException {
        data = Files.createDirectories(dir.resolve("sfm"));
        try (InputStream in = SfmTrainCommandTest.class.getResourceAsStream("/sfm-mini/" + SfM120k.PICKLE)) {
            Files.copy(in, data.resolve(SfM120k.PICKLE));
        }
        SfM120k sfm = SfM120k.read(data, SfM120k.Split.TRAIN);
        Rng rng = new Rng(3);
        for (int i = 0; i < sfm.images().size(); i++) {
            long cluster = sfm.images().label(i);
            BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 20; y++) {
                for (int x = 0; x < 20; x++) {
                    int band = (int) (((x + y * cluster) / 5 + cluster) % 4) * 60;
                    img.setRGB(x, y, (int) (cluster * 50 % 256) << 16 | band << 8 | rng.nextInt(80));
                }
            }
            Path file = ((dev.irtj.train.data.ImageSource.File) sfm.images().source(i)).path();
            Files.createDirectories(file.getParent());
            ImageIO.write(img, "png", file.toFile());
        }
    }

    /** The mini run's flags; {@code more} adds flags or replaces the value of one given here ("--resume" stands alone). */
    private static String[] train(Path out, String... more) {
        java.util.Map<String, String> flags = new java.util.LinkedHashMap<>();
        String[] base = {"--format", "sfm120k", "--data", data.toString(), "--out", out.toString(), "--tuples", "2", "--negatives", "2",
                "--queries", "6", "--neg-pool", "20", "--lr", "1e-3", "--lambda", "0.5", "--workers", "1", "--log-every", "1", "--device", "cpu"};
        for (int i = 0; i < base.length; i += 2) flags.put(base[i], base[i + 1]);
        for (int i = 0; i < MODEL.length; i += 2) flags.put(MODEL[i], MODEL[i + 1]);
        List<String> a = new ArrayList<>(List.of("train"));
        for (int i = 0; i < more.length; i++) {
            if (more[i].equals("--resume")) a.add("--resume");
            else flags.put(more[i], more[++i]);
        }
        flags.forEach((k, v) -> {
            a.add(k);
            a.add(v);
        });
        return a.toArray(String[]::new);
    }

    @Test
    void trainsAndAStoppedRunResumedIsBitIdenticalToAnUninterruptedOne() throws IOException {
        Path straight = dir.resolve("straight"), stopped = dir.resolve("stopped");
        CliTest.Result a = irt(train(straight, "--iters", "7", "--checkpoint-every", "2"));
        assertEquals(0, a.code(), a.err());
        assertTrue(a.err().contains("done: 7 iterations (3 epochs of mined tuples)"), a.err());
        List<String> metrics = Files.readAllLines(straight.resolve("metrics.jsonl"));
        assertEquals(7, metrics.size(), metrics.toString());
        for (String line : metrics) {
            JsonNode m = RunConfig.json().readTree(line);
            assertTrue(m.get("contrastive").asDouble() >= 0 && m.has("koleo"), line);
        }
        JsonNode settings = RunConfig.json().readTree(straight.resolve(RunConfig.FILE).toFile()).get("settings");
        String s = settings.toString();
        assertTrue(s.contains("\"tuple_contrastive+koleo\"") && s.contains("\"beta\":0.85") && s.contains("\"negatives\":2") && s.contains("\"neg_pool\":20")
                && s.contains("\"queries\":6") && s.contains("\"tuples\":2") && s.contains("\"batch\":8"), s);

        // Stopped mid-epoch (step 4: epoch 2, batch 1 of 3), then resumed to 7.
        CliTest.Result b = irt(train(stopped, "--iters", "4", "--checkpoint-every", "2"));
        assertEquals(0, b.code(), b.err());
        CliTest.Result c = irt(train(stopped, "--iters", "7", "--checkpoint-every", "2", "--resume"));
        assertEquals(0, c.code(), c.err());
        assertTrue(c.err().contains("resuming " + stopped + " at step 4"), c.err());
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")), Files.readAllBytes(stopped.resolve("model.safetensors")),
                "model tensors after a stop and --resume equal those of the uninterrupted run");
        assertEquals(metrics.stream().map(SfmTrainCommandTest::withoutSpeed).toList(),
                Files.readAllLines(stopped.resolve("metrics.jsonl")).stream().map(SfmTrainCommandTest::withoutSpeed).toList());

        // Another tuple shape is a different run.
        CliTest.Result d = irt(train(stopped, "--iters", "8", "--negatives", "3", "--resume"));
        assertEquals(2, d.code(), d.err());
        assertTrue(d.err().contains("negatives"), d.err());
    }

    private static String withoutSpeed(String metricsLine) {
        return metricsLine.replaceAll(",\"images_per_s\":[^,}]*", "");
    }

    @Test
    void flagsThatDoNotFitAreRefusedInOneLineBeforeAnyWork() {
        Path out = dir.resolve("refused");
        for (String[] bad : new String[][] {{"--batch", "8"}, {"--memory", "10"}, {"--m", "4"}, {"--eval-every", "2"}}) {
            CliTest.Result r = irt(train(out, bad));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(bad[0] + " does not apply to --format sfm120k"), r.err());
        }
        CliTest.Result zero = irt(train(out, "--tuples", "0"));
        assertTrue(zero.code() == 2 && zero.err().contains("--tuples must be at least 1, got 0"), zero.err());
        CliTest.Result few = irt(train(out, "--queries", "1"));
        assertTrue(few.code() == 2 && few.err().contains("--queries 1 does not fill one batch of --tuples 2"), few.err());
        CliTest.Result many = irt(train(out, "--queries", "31"));
        assertTrue(many.code() == 2 && many.err().contains("31 queries per epoch but sfm120k-train has 30 query-positive pairs"), many.err());
        CliTest.Result clusters = irt(train(out, "--negatives", "5"));
        assertTrue(clusters.code() == 2 && clusters.err().contains("5 negatives from other clusters than the query's, but sfm120k-train has 5 clusters"),
                clusters.err());
        CliTest.Result folder = irt("train", "--format", "folder", "--data", data.toString(), "--out", out.toString(), "--neg-pool", "20");
        assertTrue(folder.code() == 2 && folder.err().contains("--neg-pool applies to --format sfm120k"), folder.err());
        assertFalse(Files.exists(out), "nothing written for a refused command");
    }
}
