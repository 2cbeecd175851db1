package dev.irtj.cli;

import dev.irtj.retrieval.RunConfig;

import com.fasterxml.jackson.databind.JsonNode;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.retrieval.DescriptorShards;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The irt command end to end, in process. */
class CliTest {
    record Result(int code, String out, String err) {
    }

    static Result irt(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Irt.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /** A folder of small RGB PNGs, {@code perClass} per class, with distinct colours per class. */
    static Path imageFolder(Path root, int classes, int perClass) throws IOException {
        Rng rng = new Rng(3);
        for (int c = 0; c < classes; c++) {
            Path dir = Files.createDirectories(root.resolve("class" + c));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(20, 18, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 18; y++) {
                    for (int x = 0; x < 20; x++) {
                        int v = (int) (40 * c + 30 * rng.nextDouble());
                        img.setRGB(x, y, (v << 16) | ((255 - v) << 8) | (x * 10));
                    }
                }
                ImageIO.write(img, "png", dir.resolve("img" + i + ".png").toFile());
            }
        }
        return root;
    }

    @Test
    void quickDemoWritesTheReportWithThreeRows(@TempDir Path dir) throws IOException {
        Result r = irt("demo", "--quick", "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = RunConfig.json().readTree(dir.resolve("report.json").toFile());
        for (String row : List.of("irt_o", "irt_l", "irt_r")) {
            for (int k : new int[] {1, 2, 4, 8}) {
                double v = report.get(row).get("recall@" + k).asDouble(-1);
                assertTrue(v > 0.2 && v <= 1, row + " recall@" + k + " = " + v);
            }
        }
        for (String f : List.of("report.md", "report.html", "loss.png", "pretrain.png", "spectrum.png", "nn-distances.png")) {
            assertTrue(Files.size(dir.resolve(f)) > 100, f);
        }
        String html = Files.readString(dir.resolve("report.html"));
        assertEquals(4, html.split("src=\"data:image/png;base64,", -1).length - 1, "spectrum, distances, losses and pretraining loss, embedded");
        List<String> findings = new java.util.ArrayList<>();
        report.get("findings").forEach(n -> findings.add(n.asText()));
        assertTrue(findings.get(0).startsWith("RQ2 (IRT_L beats IRT_O): ") && findings.get(0).contains("Recall@1"), findings.toString());
        assertTrue(findings.stream().anyMatch(f -> f.startsWith("RQ3, spectrum: ") && f.contains("effective rank")), findings.toString());
        assertTrue(findings.stream().anyMatch(f -> f.startsWith("RQ3, Recall: ")), findings.toString());
        for (String f : findings) assertTrue(r.out().contains(f), "printed: " + f);
        assertTrue(report.get("spread").get("irt_r").get("mean_nn_distance").asDouble() > 0, report.toString());
    }

    @Test
    void quickDemoAblationsWriteTheBetaLambdaAndPoolingTables(@TempDir Path dir) throws IOException {
        Result r = irt("demo", "--quick", "--ablations", "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = RunConfig.json().readTree(dir.resolve("report.json").toFile());
        assertEquals(6, report.get("ablation_beta_lambda").size(), report.toString());
        List<String> poolings = new java.util.ArrayList<>();
        report.get("ablation_pooling").fieldNames().forEachRemaining(poolings::add);
        assertEquals(List.of("CLS", "AVG", "MAX", "GEM"), poolings);
        assertEquals(report.get("irt_r").get("recall@1").asDouble(), report.get("ablation_pooling").get("CLS").get("recall@1").asDouble(), 0.0,
                "the CLS row is IRT_R itself");
        assertTrue(Files.readString(dir.resolve("report.md")).contains("Ablations: β × λ"), "the tables are in the report");
        Result again = irt("demo", "--quick", "--out", dir.toString());
        assertEquals(0, again.code(), again.err());
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("ablation-")), "a rerun replaces the previous demo's runs");
        }
    }

    @Test
    void trainThenEvalACustomModelOnAnImageFolder(@TempDir Path dir) throws IOException {
        Path data = imageFolder(dir.resolve("data"), 4, 4);
        Path run = dir.resolve("run");
        Result t = irt("train", "--data", data.toString(), "--format", "folder", "--img-size", "16", "--patch", "8", "--dim", "16",
                "--depth", "1", "--heads", "2", "--iters", "6", "--batch", "4", "--lr", "1e-3", "--out", run.toString(),
                "--checkpoint-every", "3", "--log-every", "2");
        assertEquals(0, t.code(), t.err());
        List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(3, metrics.stream().filter(l -> l.contains("\"loss\"")).count(), "a line per 2 steps: " + metrics);
        JsonNode evaluation = RunConfig.json().readTree(metrics.get(metrics.size() - 1));
        assertEquals(6, evaluation.get("step").asInt(), "the evaluation at the end is recorded with its step: " + metrics);
        assertTrue(evaluation.get("eval").get("recall@1").asDouble() >= 0, metrics.toString());
        JsonNode best = RunConfig.json().readTree(run.resolve("best.json").toFile());
        assertTrue(Files.exists(run.resolve(best.get("file").asText())), best.toString());
        assertTrue(Files.exists(run.resolve("model.safetensors")));
        Result e = irt("eval", "--checkpoint", run.toString(), "--data", data.toString(), "--format", "folder", "--recall", "1,3", "--pca", "8");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("recall@1") && e.out().contains("recall@3"), e.out());
        JsonNode figures = RunConfig.json().readTree(run.resolve("eval.json").toFile());
        assertTrue(figures.get("recall@3").asDouble() >= figures.get("recall@1").asDouble());

        Result again = irt("train", "--data", data.toString(), "--format", "folder", "--img-size", "16", "--patch", "8", "--dim", "16",
                "--depth", "1", "--heads", "2", "--iters", "6", "--batch", "4", "--out", run.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--resume"), again.err());
    }

    @Test
    void wrongFlagsSayWhatWasExpected(@TempDir Path dir) {
        Result r = irt("train", "--data", dir.toString(), "--format", "pictures", "--out", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--format") && r.err().contains("folder"), r.err());
        Result m = irt("train", "--data", dir.toString(), "--format", "folder", "--dim", "16", "--out", dir.resolve("r").toString());
        assertEquals(2, m.code());
        assertTrue(m.err().contains("--model PRESET or all of --img-size"), m.err());
        Result p = irt("embed", "--weights", "x", "--images", dir.toString(), "--out", "o", "--pool", "median");
        assertEquals(2, p.code());
        assertTrue(p.err().toLowerCase().contains("cls") && p.err().toLowerCase().contains("gem"), p.err());
    }

    @Test
    void embedWritesDescriptorsAndPathsAndSkipsCorruptImages(@TempDir Path dir) throws IOException {
        Path images = imageFolder(dir.resolve("images"), 2, 2);
        Files.write(images.resolve("class0/broken.jpg"), new byte[] {1, 2, 3, 4, 5});
        ViTConfig tiny = ViTConfig.deitTiny();
        Path weights = dir.resolve("deit_tiny.safetensors");
        TimmCheckpoint.save(new VisionTransformer(tiny, new Rng(1), DType.F32), weights);
        Path out = dir.resolve("desc");
        Result r = irt("embed", "--model", "deit_tiny_patch16_224", "--weights", weights.toString(), "--images", images.toString(),
                "--out", out.toString(), "--batch", "3", "--img-size", "64");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("broken.jpg"), r.err());
        DescriptorShards.Contents c = DescriptorShards.read(out);
        assertArrayEquals(new int[] {4, 192}, c.descriptors().shape());
        assertEquals(1, c.failed().size());
        assertEquals(images.resolve("class0/img0.png").toString(), c.paths().get(0));
        float[] d = c.descriptors().toFloatArray();
        double norm = 0;
        for (int i = 0; i < 192; i++) norm += d[i] * d[i];
        assertEquals(1.0, norm, 1e-4, "descriptors are L2-normalized");
    }
}
