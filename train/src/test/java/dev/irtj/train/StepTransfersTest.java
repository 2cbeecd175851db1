package dev.irtj.train;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.EmulatedDevice;
import dev.irtj.tensor.Rng;
import dev.irtj.train.loss.ContrastiveLoss;
import dev.irtj.train.loss.CrossBatchMemory;
import dev.irtj.train.objective.ContrastiveObjective;
import dev.irtj.train.objective.KoLeoObjective;
import dev.irtj.train.objective.Objective;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a training step moves between host and device, counted on an emulated GPU
 * ({@link EmulatedDevice}): with the cross-batch memory on the device, a step uploads only its
 * batch and a few per-batch vectors and scalars, the same whatever the memory's size (the ring
 * is never uploaded), and downloads exactly once: the loss, its terms and the gradient norm.
 */
class StepTransfersTest {
    private static final int STEPS = 5;

    /** Per step: uploads' element counts, downloads, downloaded elements. */
    private record StepLog(List<List<Integer>> uploads, List<Long> downloads, List<Long> downloadedElements, int memoryFill) {
    }

    private static StepLog run(Path dir, int capacity, ContrastiveLoss.Reduction reduction, CrossBatchMemory.Enqueue enqueue) {
        EmulatedDevice gpu = new EmulatedDevice();
        return gpu.around(() -> {
            VisionTransformer model = new VisionTransformer(TrainerTest.TINY, new Rng(5), DType.F32);
            model.to(EmulatedDevice.DEVICE);
            ContrastiveObjective contrastive = new ContrastiveObjective(0.5, reduction, capacity, 0, 0.0, enqueue);
            Objective objective = Objective.sum(contrastive, new KoLeoObjective(0.7));
            List<List<Integer>> uploads = new ArrayList<>();
            List<Long> downloads = new ArrayList<>(), downloaded = new ArrayList<>();
            int[] mark = new int[1];
            EmulatedDevice.Transfers[] before = new EmulatedDevice.Transfers[1];
            Trainer.Listener listener = (step, total, metrics) -> {
                List<Integer> sizes = gpu.uploadSizes();
                uploads.add(sizes.subList(mark[0], sizes.size()));
                mark[0] = sizes.size();
                EmulatedDevice.Transfers now = gpu.transfers(), delta = now.minus(before[0]);
                downloads.add(delta.downloads());
                downloaded.add(delta.downloadedElements());
                before[0] = now;
            };
            Trainer.Config config = Trainer.Config.builder().iterations(STEPS).lr(1e-3).weightDecay(5e-4).warmup(1).seed(7)
                    .logEvery(1).checkpointEvery(0).clipNorm(1.0).build();
            Trainer trainer = new Trainer(model, objective, config, new TrainerTest.SyntheticSource(-1, false), null, listener, dir);
            assertEquals(EmulatedDevice.DEVICE, contrastive.memory().contents(DType.F32).device(), "the ring lives on the model's device");
            mark[0] = gpu.uploadSizes().size();
            before[0] = gpu.transfers();
            try {
                trainer.run();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return new StepLog(uploads, downloads, downloaded, contrastive.memory().size());
        });
    }

    @Test
    void aStepDownloadsOnceAndNeverUploadsTheMemory(@TempDir Path dir) {
        for (ContrastiveLoss.Reduction reduction : ContrastiveLoss.Reduction.values()) {
            for (CrossBatchMemory.Enqueue enqueue : CrossBatchMemory.Enqueue.values()) {
                String what = reduction + ", enqueue " + enqueue;
                StepLog small = run(dir.resolve(what + "-small"), 16, reduction, enqueue);
                StepLog large = run(dir.resolve(what + "-large"), 4096, reduction, enqueue);
                assertEquals(STEPS, large.uploads().size(), what + ": one listener call per step");
                assertTrue(large.memoryFill() == Math.min(4096, 8 * STEPS) && small.memoryFill() == 16, what + ": the memories filled");
                for (int s = 0; s < STEPS; s++) {
                    // loss, contrastive, koleo, grad_norm: one transfer of 4 scalars.
                    assertEquals(1L, large.downloads().get(s), what + ": downloads in step " + (s + 1));
                    assertEquals(4L, large.downloadedElements().get(s), what + ": elements downloaded in step " + (s + 1));
                    assertEquals(small.uploads().get(s), large.uploads().get(s),
                            what + ": step " + (s + 1) + " uploads the same whatever the memory's size");
                    int batchPixels = 8 * 64;
                    for (int size : large.uploads().get(s)) {
                        assertTrue(size <= batchPixels, what + ": an upload of " + size + " elements in step " + (s + 1) + " (the ring is 4096 x 16)");
                    }
                    assertEquals(1, large.uploads().get(s).stream().filter(n -> n == batchPixels).count(), what + ": the batch is uploaded once");
                }
            }
        }
    }

    /** The figures a step reports on the emulated GPU are finite and the memory term is used. */
    @Test
    void theStepsOnTheEmulatedDeviceReportTheirTerms(@TempDir Path dir) throws Exception {
        EmulatedDevice gpu = new EmulatedDevice();
        List<Map<String, Double>> lines = new ArrayList<>();
        gpu.around(() -> {
            VisionTransformer model = new VisionTransformer(TrainerTest.TINY, new Rng(5), DType.F32);
            model.to(EmulatedDevice.DEVICE);
            Trainer t = new Trainer(model, Objective.sum(new ContrastiveObjective(0.5, 12, 1, 0.0), new KoLeoObjective(0.7)),
                    TrainerTest.config(3), new TrainerTest.SyntheticSource(-1, false), null, (s, n, m) -> lines.add(Map.copyOf(m)), dir);
            try {
                t.run();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return null;
        });
        assertTrue(!lines.isEmpty() && lines.stream().allMatch(m -> Double.isFinite(m.get("loss")) && m.containsKey("contrastive")), lines.toString());
    }
}
