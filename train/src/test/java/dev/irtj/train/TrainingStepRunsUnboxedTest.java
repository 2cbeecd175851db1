package dev.irtj.train;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.AllocatedBytes;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.loss.ContrastiveLoss;
import dev.irtj.train.loss.KoLeoLoss;
import dev.irtj.train.optim.AdamW;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A whole training step of a small ViT (forward, contrastive + KoLeo loss, backward, gradient
 * clipping, AdamW) on the Vector API backend runs its kernels compiled, not boxed: the
 * kernel-by-kernel check ({@code KernelsRunUnboxedTest} in kernels) extended to the mix of
 * kernels, shapes and call sites of a real step (the fused attention forward and backward, through
 * the model's self-attention, and the fused Linear + GELU of every MLP, forward and backward,
 * included), where one vector shape too many or one helper C2
 * declines to inline makes every Vector API call allocate. Boxed, such a step allocates gigabytes
 * (about 3 GB per step was seen when it happened); compiled, what remains is the step's own
 * bookkeeping (autograd nodes, pooled-buffer misses, per-call scratch), which this test bounds at
 * {@value #MAX_BYTES_PER_STEP} bytes per step after warm-up.
 */
class TrainingStepRunsUnboxedTest {
    private static final long MAX_BYTES_PER_STEP = 64L << 20;
    private static final int MAX_STEPS = 60;

    @Test
    void aSmallViTTrainingStepReachesAnAllocationLightSteadyState() {
        assumeTrue(Backends.forKind(Device.Kind.CPU).name().equals("cpu"), "measures the Vector API backend only");
        ViTConfig config = new ViTConfig(32, 4, 3, 192, 2, 3, 4, true, 0.1, 1e-6);
        VisionTransformer model = new VisionTransformer(config, new Rng(3), DType.F32);
        AdamW optimizer = new AdamW(model.namedParameters(), 1e-4, 0.9, 0.999, 1e-8, 0.05);
        ContrastiveLoss contrastive = new ContrastiveLoss(0.5);
        KoLeoLoss koleo = new KoLeoLoss();
        Tensor images = Tensor.randn(new Rng(4), DType.F32, 16, 3, 32, 32);
        long[] labels = new long[16];
        for (int i = 0; i < labels.length; i++) labels[i] = i / 2;
        long best = Long.MAX_VALUE;
        int steps = 0;
        for (; steps < MAX_STEPS && best > MAX_BYTES_PER_STEP; steps++) {
            AllocatedBytes allocated = AllocatedBytes.start();
            model.train(true);
            model.reseedStochasticDepth(1, steps);
            try (MemoryScope ignored = MemoryScope.open()) {
                Var embeddings = model.descriptor(Var.constant(images), Pooling.CLS);
                Var loss = contrastive.apply(embeddings, labels).add(koleo.apply(embeddings).mul(0.7));
                assertTrue(Double.isFinite(loss.data().item()), "the loss stays finite");
                model.zeroGrad();
                loss.backward();
                optimizer.clipGradNorm(1.0);
                optimizer.step();
            }
            long total = allocated.sinceStart();
            best = Math.min(best, total);
            if (Boolean.getBoolean("irtj.test.verbose")) System.out.printf("step %d: %,d bytes%n", steps, total);
        }
        System.out.printf("small-ViT training step: %,d bytes allocated at best over %d steps%n", best, steps);
        assertTrue(best <= MAX_BYTES_PER_STEP, String.format(
                "a small-ViT training step still allocates %,d bytes after %d steps (limit %,d): some kernel runs boxed",
                best, steps, MAX_BYTES_PER_STEP));
    }
}
