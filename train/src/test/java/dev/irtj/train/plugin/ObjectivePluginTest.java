package dev.irtj.train.plugin;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.Checkpoint;
import dev.irtj.train.Trainer;
import dev.irtj.train.objective.Objective;
import dev.irtj.train.objective.Step;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A loss the Trainer has never heard of, defined here in the test sources and in another
 * package (so only the public plug-in API is used): it trains, logs its term, checkpoints and
 * restores its own state, and the Trainer holds no loss of its own.
 */
class ObjectivePluginTest {
    static final ViTConfig TINY = new ViTConfig(8, 4, 1, 16, 2, 2, 2, true, 0.1, 1e-6);

    /**
     * Pulls each descriptor towards the mean of its class in the batch: Σ_i ‖z_i − mean_{c(i)}‖² / B.
     * Counts the steps it has seen in a checkpointed tensor.
     */
    static final class PullToClassMean implements Objective {
        long seen;

        @Override
        public String name() {
            return "pull";
        }

        @Override
        public Map<String, Object> settings() {
            return Map.of();
        }

        @Override
        public Loss loss(Step step) {
            long[] labels = step.labels();
            int b = labels.length;
            double[] avg = new double[b * b];
            for (int i = 0; i < b; i++) {
                int n = 0;
                for (long l : labels) if (l == labels[i]) n++;
                for (int j = 0; j < b; j++) if (labels[j] == labels[i]) avg[i * b + j] = 1.0 / n;
            }
            Var z = step.descriptors();
            Var means = Var.constant(Tensor.of(z.dtype(), avg, b, b)).matmul(z);
            Var d = z.sub(means);
            Var pull = d.mul(d).sum().div(b);
            return new Loss(pull, Map.of("pull", pull));
        }

        @Override
        public void afterStep(Step step) {
            seen++;
        }

        @Override
        public Map<String, Tensor> state() {
            return Map.of("pull.seen", Tensor.ofLongs(new long[] {seen}, 1));
        }

        @Override
        public void loadState(Map<String, Tensor> checkpoint, String file) {
            seen = checkpoint.get("pull.seen").toLongArray()[0];
        }
    }

    /** 4 classes, 2 images each, pixels from (batch number); state = batches delivered. */
    static final class Batches implements Trainer.BatchSource {
        long next;

        @Override
        public Trainer.Batch next() {
            Rng rng = Rng.stream(3, next++);
            long[] labels = {0, 0, 1, 1, 2, 2, 3, 3};
            float[] px = new float[8 * 64];
            for (int i = 0; i < 8; i++) for (int j = 0; j < 64; j++) px[i * 64 + j] = (float) (0.4 * labels[i] - 0.6 + 0.3 * rng.nextGaussian());
            return new Trainer.Batch(Tensor.of(px, 8, 1, 8, 8), labels);
        }

        @Override
        public long[] state() {
            return new long[] {next};
        }

        @Override
        public void restore(long[] state) {
            next = state[0];
        }
    }

    static Trainer trainer(Path dir, Objective objective, int iterations) {
        Trainer.Config c = Trainer.Config.builder().iterations(iterations).lr(3e-3).weightDecay(0).logEvery(1).checkpointEvery(5).build();
        return new Trainer(new VisionTransformer(TINY, new Rng(5), DType.F32), objective, c, new Batches(), null, null, dir);
    }

    @Test
    void aTestObjectiveTrainsLogsItsTermAndResumesWithItsState(@TempDir Path dir) throws IOException {
        PullToClassMean pull = new PullToClassMean();
        trainer(dir.resolve("straight"), pull, 30).run();
        assertEquals(30, pull.seen);
        List<String> lines = Files.readAllLines(dir.resolve("straight/metrics.jsonl"));
        assertEquals(30, lines.size());
        double first = Checkpoint.json().readTree(lines.get(0)).get("pull").asDouble();
        double last = Checkpoint.json().readTree(lines.get(29)).get("pull").asDouble();
        assertEquals(first, Checkpoint.json().readTree(lines.get(0)).get("loss").asDouble(), 0.0, "its total is the loss");
        assertTrue(last < 0.5 * first, "the objective's loss falls as the trainer minimizes it: " + first + " -> " + last);

        // Interrupted at 12 (checkpoint at 10), resumed: its state and the weights come back exactly.
        Trainer part = trainer(dir.resolve("resumed"), new PullToClassMean(), 12);
        part.run();
        PullToClassMean again = new PullToClassMean();
        Trainer resumed = trainer(dir.resolve("resumed"), again, 30);
        assertEquals(12, resumed.resumeIfPossible());
        assertEquals(12, again.seen, "the objective's own checkpointed state is restored");
        resumed.run();
        assertArrayEquals(weights(trainer(dir.resolve("straight"), new PullToClassMean(), 30)), weights(resumed));
    }

    /** Loads the last checkpoint of a finished run into a fresh trainer and returns its weights. */
    private static float[] weights(Trainer t) throws IOException {
        if (t.step() == 0) t.resumeIfPossible();
        Map<String, Tensor> state = new LinkedHashMap<>(t.model().stateDict());
        int n = 0;
        for (Tensor x : state.values()) n += x.numel();
        float[] out = new float[n];
        int at = 0;
        for (Tensor x : state.values()) {
            float[] v = x.toFloatArray();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    @Test
    void theTrainerHoldsNoLossOfItsOwn() {
        for (Field f : Trainer.class.getDeclaredFields()) {
            String type = f.getType().getName();
            assertFalse(type.startsWith("dev.irtj.train.loss.") || type.startsWith("dev.irtj.train.objective.") && !type.endsWith(".Objective"),
                    "Trainer." + f.getName() + " is a " + type + ": the trainer must know losses only through Objective");
        }
    }
}
