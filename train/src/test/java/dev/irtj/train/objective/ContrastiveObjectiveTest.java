package dev.irtj.train.objective;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.loss.ContrastiveLoss;
import dev.irtj.train.loss.CrossBatchMemory;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The objective passes its reduction to the loss and enqueues at the chosen point. */
class ContrastiveObjectiveTest {
    static final ViTConfig TINY = new ViTConfig(8, 4, 1, 16, 2, 2, 2, true, 0.0, 1e-6);

    static Step step(VisionTransformer model, long iteration) {
        Tensor images = Tensor.randn(Rng.stream(4, iteration), DType.F32, 6, 1, 8, 8);
        return new Step(model, Pooling.CLS, Var.constant(images), new long[] {0, 0, 1, 1, 2, 2}, iteration);
    }

    @ParameterizedTest
    @EnumSource(ContrastiveLoss.Reduction.class)
    void enqueueBeforeLetsTheFirstLossMeetItsOwnBatchAndAfterDoesNot(ContrastiveLoss.Reduction reduction) {
        VisionTransformer model = new VisionTransformer(TINY, new Rng(1), DType.F32);
        ContrastiveLoss loss = new ContrastiveLoss(0.5, reduction);
        for (CrossBatchMemory.Enqueue order : CrossBatchMemory.Enqueue.values()) {
            ContrastiveObjective o = new ContrastiveObjective(0.5, reduction, 20, 0, 0, order);
            o.attach(model);
            Step s = step(model, 0);
            double got = o.loss(s).total().data().item();
            Var z = s.descriptors();
            double expected = (order == CrossBatchMemory.Enqueue.BEFORE
                    ? loss.apply(z, s.labels(), z.data(), s.labels())
                    : loss.apply(z, s.labels())).data().item();
            assertEquals(expected, got, 0.0, reduction + " " + order);
            assertEquals(order == CrossBatchMemory.Enqueue.BEFORE ? 6 : 0, o.memory().size(), "filled before the loss: " + order);
            o.afterStep(s);
            assertEquals(6, o.memory().size(), "one batch in the memory after the step: " + order);
            assertEquals(reduction.name().toLowerCase(), o.settings().get("reduction"));
            assertEquals(order.name().toLowerCase(), o.settings().get("enqueue"));
        }
    }
}
