package dev.irtj.train;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.objective.ContrastiveObjective;
import dev.irtj.train.objective.CrossEntropyObjective;
import dev.irtj.train.objective.KoLeoObjective;
import dev.irtj.train.objective.Objective;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    static final ViTConfig TINY = new ViTConfig(8, 4, 1, 16, 2, 2, 2, true, 0.1, 1e-6);

    /** Deterministic synthetic batches: 4 classes, 2 per class, images from (seed, batch number). */
    static final class SyntheticSource implements Trainer.BatchSource {
        long batches;
        final long failAt;
        final boolean nanAt;

        SyntheticSource(long failAt, boolean nanAt) {
            this.failAt = failAt;
            this.nanAt = nanAt;
        }

        @Override
        public Trainer.Batch next() {
            long n = batches++;
            if (n == failAt && !nanAt) throw new IllegalStateException("simulated crash before batch " + n);
            Rng rng = Rng.stream(99, n);
            long[] labels = {0, 0, 1, 1, 2, 2, 3, 3};
            float[] px = new float[8 * 64];
            for (int i = 0; i < 8; i++) {
                for (int j = 0; j < 64; j++) px[i * 64 + j] = (float) (0.5 * labels[i] - 0.7 + 0.3 * rng.nextGaussian());
            }
            if (n == failAt) px[5] = Float.NaN;
            return new Trainer.Batch(Tensor.of(px, 8, 1, 8, 8), labels);
        }

        @Override
        public long[] state() {
            return new long[] {batches};
        }

        @Override
        public void restore(long[] state) {
            batches = state[0];
        }
    }

    static Trainer.Config config(int iterations) {
        return Trainer.Config.builder().iterations(iterations).lr(1e-3).weightDecay(5e-4).warmup(2).cosine(true).seed(7)
                .logEvery(2).checkpointEvery(3).clipNorm(1.0).build();
    }

    /** IRT_R with a 12-entry memory from iteration 1 (each trainer needs its own: an objective holds the memory). */
    static Objective irt(double momentum) {
        return Objective.sum(new ContrastiveObjective(0.5, 12, 1, momentum), new KoLeoObjective(0.7));
    }

    static Trainer trainer(Path dir, Objective objective, Trainer.Config c, Trainer.BatchSource source) {
        return new Trainer(new VisionTransformer(TINY, new Rng(5), DType.F32), objective, c, source, null, null, dir);
    }

    static float[] weights(Trainer t) {
        return weights(t.model());
    }

    private void resumeMatches(Path straightDir, Path crashDir, double momentum) throws IOException {
        Trainer straight = trainer(straightDir, irt(momentum), config(8), new SyntheticSource(-1, false));
        straight.run();

        Trainer crashing = trainer(crashDir, irt(momentum), config(8), new SyntheticSource(7, false));
        assertThrows(IllegalStateException.class, crashing::run);   // dies during step 8, after the checkpoint at 6
        Trainer resumed = trainer(crashDir, irt(momentum), config(8), new SyntheticSource(-1, false));
        assertEquals(6, resumed.resumeIfPossible());
        resumed.run();

        assertArrayEquals(weights(straight), weights(resumed), "resumed weights must be bit-identical");
        List<String> a = Files.readAllLines(straightDir.resolve("metrics.jsonl")), b = Files.readAllLines(crashDir.resolve("metrics.jsonl"));
        assertEquals(a.size(), b.size(), "metrics after resume: one line per logging step, none duplicated");
    }

    @Test
    void resumedRunIsBitIdentical(@TempDir Path dir) throws IOException {
        resumeMatches(dir.resolve("a"), dir.resolve("b"), 0.0);
    }

    @Test
    void resumedRunWithMomentumEncoderIsBitIdentical(@TempDir Path dir) throws IOException {
        resumeMatches(dir.resolve("a"), dir.resolve("b"), 0.9);
    }

    @Test
    void nonFiniteLossStopsAndKeepsTheLastCheckpoint(@TempDir Path dir) throws IOException {
        Trainer t = trainer(dir, irt(0), config(8), new SyntheticSource(4, true));
        NonFiniteLossException e = assertThrows(NonFiniteLossException.class, t::run);
        assertTrue(e.getMessage().contains("step 5") && e.getMessage().contains("checkpoint.json"), e.getMessage());
        Checkpoint.Loaded last = Checkpoint.load(dir);
        assertEquals(3, last.step());
        for (Tensor w : last.tensors().values()) {
            if (w.dtype() != DType.F32) continue;
            for (float v : w.toFloatArray()) assertTrue(Float.isFinite(v), "the kept checkpoint holds finite values");
        }
    }

    @Test
    void metricsHaveOneJsonLinePerLoggingStep(@TempDir Path dir) throws IOException {
        trainer(dir, irt(0), config(4), new SyntheticSource(-1, false)).run();
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertEquals(2, lines.size());
        Map<?, ?> first = Checkpoint.json().readValue(lines.get(0), Map.class);
        for (String key : List.of("step", "loss", "contrastive", "koleo", "lr", "images_per_s")) assertTrue(first.containsKey(key), key + " in " + first);
    }

    @Test
    void crossEntropyObjectiveLearns(@TempDir Path dir) throws IOException {
        Trainer.Config c = Trainer.Config.builder().iterations(30).lr(3e-3).weightDecay(0).seed(1).logEvery(1).checkpointEvery(0).build();
        trainer(dir, new CrossEntropyObjective(4, 1), c, new SyntheticSource(-1, false)).run();
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        double first = Checkpoint.json().readTree(lines.get(0)).get("cross_entropy").asDouble();
        double last = Checkpoint.json().readTree(lines.get(lines.size() - 1)).get("cross_entropy").asDouble();
        assertTrue(last < first * 0.7, "cross-entropy should fall on separable data: " + first + " -> " + last);
    }

    static Trainer.Config constantLr(int iterations) {
        return Trainer.Config.builder().iterations(iterations).lr(1e-3).warmup(3).seed(7).logEvery(2).checkpointEvery(4).clipNorm(1.0).build();
    }

    @Test
    void extendingAFinishedRunEqualsAnUninterruptedLongerOne(@TempDir Path dir) throws IOException {
        Trainer straight = trainer(dir.resolve("straight"), irt(0.9), constantLr(20), new SyntheticSource(-1, false));
        straight.run();
        trainer(dir.resolve("extended"), irt(0.9), constantLr(10), new SyntheticSource(-1, false)).run();
        Trainer extended = trainer(dir.resolve("extended"), irt(0.9), constantLr(20), new SyntheticSource(-1, false));
        assertEquals(10, extended.resumeIfPossible());
        extended.run();
        assertEquals(20, extended.step());
        assertArrayEquals(weights(straight), weights(extended), "warm-up then constant LR: the extension is bit-identical");

        Trainer shorter = trainer(dir.resolve("extended"), irt(0.9), constantLr(15), new SyntheticSource(-1, false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, shorter::resumeIfPossible);
        assertTrue(e.getMessage().contains("step 20") && e.getMessage().contains("15 iterations"), e.getMessage());
    }

    @Test
    void extendingACosineRunReAimsTheDecayAtTheNewEnd(@TempDir Path dir) throws IOException {
        trainer(dir, irt(0), config(6), new SyntheticSource(-1, false)).run();
        Trainer extended = trainer(dir, irt(0), config(12), new SyntheticSource(-1, false));
        extended.resumeIfPossible();
        extended.run();
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        Map<Long, Double> lr = new java.util.HashMap<>();
        for (String line : lines) {
            com.fasterxml.jackson.databind.JsonNode n = Checkpoint.json().readTree(line);
            lr.put(n.get("step").asLong(), n.get("lr").asDouble());
        }
        // The line at step s holds the LR of iteration s − 1.
        assertEquals(config(6).schedule().at(5), lr.get(6L), 0.0, "before the extension: the 6-iteration cosine");
        assertEquals(config(12).schedule().at(7), lr.get(8L), 0.0, "after it: the 12-iteration cosine, from the resume step on");
        assertTrue(lr.get(8L) > lr.get(6L), "the LR goes back up when the horizon moves: " + lr);
    }

    /** Figures by step; records the weights the evaluator saw. */
    static final class ScriptedEvaluator implements Trainer.Evaluator {
        final Map<Integer, Double> recallAt;
        final Map<Integer, float[]> seen = new java.util.HashMap<>();
        int calls;

        ScriptedEvaluator(Map<Integer, Double> recallAt) {
            this.recallAt = recallAt;
        }

        @Override
        public Map<String, Double> evaluate(VisionTransformer model) {
            int at = 2 * ++calls;
            float[] w = weights(model);
            seen.put(at, w);
            Map<String, Double> f = new java.util.LinkedHashMap<>();
            f.put("recall@1", recallAt.get(at));
            f.put("recall@2", 1.0);
            f.put("left_out", 0.0);
            return f;
        }
    }

    static float[] weights(VisionTransformer m) {
        List<Tensor> ts = List.copyOf(m.stateDict().values());
        int n = 0;
        for (Tensor x : ts) n += x.numel();
        float[] out = new float[n];
        int at = 0;
        for (Tensor x : ts) {
            float[] v = x.toFloatArray();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    @Test
    void periodicEvaluationsAreInTheMetricsAndTheBestModelIsKept(@TempDir Path dir) throws IOException {
        ScriptedEvaluator evaluator = new ScriptedEvaluator(Map.of(2, 0.3, 4, 0.5, 6, 0.5, 8, 0.4));
        Trainer.Config c = config(8).toBuilder().evalEvery(2).build();
        Trainer t = new Trainer(new VisionTransformer(TINY, new Rng(5), DType.F32), irt(0), c, new SyntheticSource(-1, false), evaluator, null, dir);
        t.run();
        List<Long> evalSteps = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
            com.fasterxml.jackson.databind.JsonNode n = Checkpoint.json().readTree(line);
            if (!n.has("eval")) continue;
            evalSteps.add(n.get("step").asLong());
            assertEquals(evaluator.recallAt.get(n.get("step").asInt()), n.get("eval").get("recall@1").asDouble(), 0.0, line);
        }
        assertEquals(List.of(2L, 4L, 6L, 8L), evalSteps, "one record per evaluation, with its step");

        com.fasterxml.jackson.databind.JsonNode best = Checkpoint.json().readTree(dir.resolve(BestCheckpoint.INDEX).toFile());
        assertEquals(4, best.get("step").asLong(), "the first Recall@K decides; a tie keeps the earlier step: " + best);
        assertEquals("recall@1", best.get("metric").asText());
        assertEquals(0.5, best.get("value").asDouble(), 0.0);
        try (var files = Files.list(dir)) {
            assertEquals(List.of("best-00000004.safetensors"), files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("best-")).toList(),
                    "superseded best weights are removed");
        }
        VisionTransformer loaded = dev.irtj.vit.TimmCheckpoint.load(dir.resolve(best.get("file").asText()), TINY, DType.F32);
        assertArrayEquals(evaluator.seen.get(4), weights(loaded), "the kept weights are those evaluated at step 4");
    }

    @Test
    void aResumedRunKeepsTheSameBest(@TempDir Path dir) throws IOException {
        Map<Integer, Double> script = Map.of(2, 0.6, 4, 0.5, 6, 0.55, 8, 0.7);
        Trainer.Config c = config(8).toBuilder().evalEvery(2).build();
        new Trainer(new VisionTransformer(TINY, new Rng(5), DType.F32), irt(0), c.toBuilder().iterations(4).build(), new SyntheticSource(-1, false),
                new ScriptedEvaluator(script), null, dir).run();
        assertEquals(2, Checkpoint.json().readTree(dir.resolve(BestCheckpoint.INDEX).toFile()).get("step").asLong());
        ScriptedEvaluator later = new ScriptedEvaluator(script);
        later.calls = 2;   // its next call is the evaluation at step 6
        Trainer resumed = new Trainer(new VisionTransformer(TINY, new Rng(5), DType.F32), irt(0), c, new SyntheticSource(-1, false), later, null, dir);
        resumed.resumeIfPossible();
        resumed.run();
        com.fasterxml.jackson.databind.JsonNode best = Checkpoint.json().readTree(dir.resolve(BestCheckpoint.INDEX).toFile());
        assertEquals(8, best.get("step").asLong(), "0.55 at step 6 does not beat the restored 0.6; 0.7 at step 8 does: " + best);
    }
}
