package dev.irtj.train;

import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.objective.ContrastiveObjective;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The EMA copy follows the model parameter by parameter, paired by name, and is built as the model is. */
class MomentumEncoderTest {
    static final ViTConfig TINY = new ViTConfig(8, 4, 1, 16, 2, 2, 2, true, 0.0, 1e-6);

    @Test
    void eachParameterOfTheCopyFollowsTheModelsOfTheSameName() {
        VisionTransformer model = new VisionTransformer(TINY, true, new Rng(1), DType.F32);
        MomentumEncoder encoder = new MomentumEncoder(new VisionTransformer(TINY, true, new Rng(2), DType.F32), model, 0.9);
        Map<String, Parameter> ema = encoder.model().namedParameters();
        model.namedParameters().forEach((n, p) -> assertArrayEquals(p.data().toFloatArray(), ema.get(n).data().toFloatArray(), n));
        // A step moves the model; each EMA weight becomes 0.9·old + 0.1·new of its own name.
        Map<String, float[]> before = new java.util.HashMap<>();
        ema.forEach((n, p) -> before.put(n, p.data().toFloatArray()));
        VisionTransformer moved = new VisionTransformer(TINY, true, new Rng(3), DType.F32);
        model.loadStateDict(moved.stateDict());
        try (MemoryScope step = MemoryScope.open()) {
            encoder.update(model);
        }
        for (Map.Entry<String, Parameter> e : ema.entrySet()) {
            float[] old = before.get(e.getKey()), now = model.namedParameters().get(e.getKey()).data().toFloatArray();
            float[] expected = Tensor.of(old, old.length).mul(0.9).add(Tensor.of(now, now.length).mul(1 - 0.9)).toFloatArray();
            assertArrayEquals(expected, e.getValue().data().toFloatArray(), e.getKey());
        }
    }

    @Test
    void modelsWithOtherParametersAreRefusedNamingTheFirst() {
        VisionTransformer plain = new VisionTransformer(TINY, false, new Rng(1), DType.F32);
        VisionTransformer distilled = new VisionTransformer(TINY, true, new Rng(1), DType.F32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MomentumEncoder(new VisionTransformer(TINY, false, new Rng(2), DType.F32), distilled, 0.9));
        assertEquals("momentum encoder: the model has parameter 'dist_token' that its EMA copy lacks; the copy must be built with"
                + " the model's config and distilled setting", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new MomentumEncoder(new VisionTransformer(TINY, true, new Rng(2), DType.F32), plain, 0.9));
        assertTrue(e.getMessage().contains("the EMA copy has parameter 'dist_token' that the model lacks"), e.getMessage());
        MomentumEncoder encoder = new MomentumEncoder(new VisionTransformer(TINY, false, new Rng(2), DType.F32), plain, 0.9);
        e = assertThrows(IllegalArgumentException.class, () -> encoder.update(distilled));
        assertTrue(e.getMessage().contains("'dist_token'"), e.getMessage());
    }

    @Test
    void theObjectivesCopyOfADistilledModelIsDistilled() {
        for (boolean distilled : new boolean[] {false, true}) {
            VisionTransformer model = new VisionTransformer(TINY, distilled, new Rng(1), DType.F32);
            ContrastiveObjective objective = new ContrastiveObjective(0.5, 8, 0, 0.9);
            objective.attach(model);
            Map<String, Tensor> state = objective.state();
            assertEquals(distilled, state.containsKey("ema.dist_token"), "distilled " + distilled + ": " + state.keySet());
            model.stateDict().forEach((n, t) -> assertTrue(state.containsKey("ema." + n), "ema." + n));
        }
    }
}
