package dev.irtj.vit;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.AllocatedBytes;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The embedding path (an eval-mode forward under no-grad) of a ViT with DeiT-S's layer shapes
 * (224 px, patch 16: 197 tokens; width 384, 6 heads of 64, MLP 1536) runs its kernels compiled,
 * not boxed, on the Vector API backend: the forward-only counterpart of the train module's
 * {@code TrainingStepRunsUnboxedTest}, at the shapes where it went wrong. There, C2 compiled the
 * fused attention's online softmax and the Linear + GELU epilogue with the exponential's array
 * pass inlined, reached its node budget, and left the Vector API calls of the remaining helpers
 * (the row sum, the small-argument erf) as calls on boxed vectors: 270-750 MB allocated per
 * DeiT-S batch-8 forward for as long as the process ran, against about 1 MB once compiled. Two
 * blocks and two images keep the test short (there: 4.4 MB per forward boxed, 60 kB compiled);
 * the limit is {@value #MAX_BYTES_PER_FORWARD} bytes per forward after warm-up. Whether C2
 * reached its budget depended on compile timing, so before the fix this test failed in some
 * runs, not all.
 */
class ForwardRunsUnboxedTest {
    private static final long MAX_BYTES_PER_FORWARD = 1L << 20;
    private static final int MAX_FORWARDS = 80;

    @Test
    void aDeitSShapedForwardReachesAnAllocationLightSteadyState() {
        assumeTrue(Backends.forKind(Device.Kind.CPU).name().equals("cpu"), "measures the Vector API backend only");
        ViTConfig config = new ViTConfig(224, 16, 3, 384, 2, 6, 4, true, 0.0, 1e-6);
        VisionTransformer model = new VisionTransformer(config, new Rng(5), DType.F32);
        model.train(false);
        Tensor images = Tensor.randn(new Rng(6), DType.F32, 2, 3, 224, 224);
        long best = Long.MAX_VALUE;
        int forwards = 0;
        for (; forwards < MAX_FORWARDS && best > MAX_BYTES_PER_FORWARD; forwards++) {
            AllocatedBytes allocated = AllocatedBytes.start();
            try (NoGrad ignored = NoGrad.enter(); MemoryScope scope = MemoryScope.open()) {
                double s = model.descriptor(Var.constant(images), Pooling.CLS).data().sum().item();
                assertTrue(Double.isFinite(s), "the descriptors stay finite");
            }
            long total = allocated.sinceStart();
            best = Math.min(best, total);
            if (Boolean.getBoolean("irtj.test.verbose")) System.out.printf("forward %d: %,d bytes%n", forwards, total);
        }
        System.out.printf("DeiT-S-shaped forward: %,d bytes allocated at best over %d forwards%n", best, forwards);
        assertTrue(best <= MAX_BYTES_PER_FORWARD, String.format(
                "a DeiT-S-shaped forward still allocates %,d bytes after %d forwards (limit %,d): some kernel runs boxed",
                best, forwards, MAX_BYTES_PER_FORWARD));
    }
}
