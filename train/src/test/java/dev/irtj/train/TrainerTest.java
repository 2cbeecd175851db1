package dev.irtj.train;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
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

    static Trainer.Config config(int iterations, double momentum) {
        return new Trainer.Config(Trainer.Objective.CONTRASTIVE, iterations, 1e-3, 5e-4, 2, true, 0.5, 0.7, 12, 1, momentum,
                dev.irtj.vit.Pooling.CLS, 7, 2, 0, 3, 1.0, 0);
    }

    static Trainer trainer(Path dir, Trainer.Config c, Trainer.BatchSource source) {
        return new Trainer(new VisionTransformer(TINY, new Rng(5), DType.F32), c, source, null, null, dir,
                () -> new VisionTransformer(TINY, new Rng(6), DType.F32));
    }

    static float[] weights(Trainer t) {
        List<Tensor> ts = List.copyOf(t.model().stateDict().values());
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

    private void resumeMatches(Path straightDir, Path crashDir, double momentum) throws IOException {
        Trainer straight = trainer(straightDir, config(8, momentum), new SyntheticSource(-1, false));
        straight.run();

        Trainer crashing = trainer(crashDir, config(8, momentum), new SyntheticSource(7, false));
        assertThrows(IllegalStateException.class, crashing::run);   // dies during step 8, after the checkpoint at 6
        Trainer resumed = trainer(crashDir, config(8, momentum), new SyntheticSource(-1, false));
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
        Trainer t = trainer(dir, config(8, 0), new SyntheticSource(4, true));
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
        trainer(dir, config(4, 0), new SyntheticSource(-1, false)).run();
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertEquals(2, lines.size());
        Map<?, ?> first = Checkpoint.json().readValue(lines.get(0), Map.class);
        for (String key : List.of("step", "loss", "contrastive", "koleo", "lr", "images_per_s")) assertTrue(first.containsKey(key), key + " in " + first);
    }

    @Test
    void crossEntropyObjectiveLearns(@TempDir Path dir) throws IOException {
        Trainer.Config c = new Trainer.Config(Trainer.Objective.CROSS_ENTROPY, 30, 3e-3, 0.0, 0, false, 0.5, 0, 0, 0, 0,
                dev.irtj.vit.Pooling.CLS, 1, 1, 0, 0, 0.0, 4);
        trainer(dir, c, new SyntheticSource(-1, false)).run();
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        double first = Checkpoint.json().readTree(lines.get(0)).get("cross_entropy").asDouble();
        double last = Checkpoint.json().readTree(lines.get(lines.size() - 1)).get("cross_entropy").asDouble();
        assertTrue(last < first * 0.7, "cross-entropy should fall on separable data: " + first + " -> " + last);
    }
}
