package dev.irtj.train;

import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;
import dev.irtj.vit.VisionTransformer;

import java.util.Map;

/**
 * An exponential moving average of the model, θ_ema ← m·θ_ema + (1 − m)·θ, whose descriptors
 * fill the cross-batch memory (the paper's setting for In-Shop, m = 0.999). Each parameter of
 * the copy follows the model's parameter of the same name; the copy's weights are long-lived
 * module parameters, updated in place.
 */
public final class MomentumEncoder {
    private final VisionTransformer ema;
    private final double momentum;

    public MomentumEncoder(VisionTransformer ema, VisionTransformer model, double momentum) {
        if (momentum <= 0 || momentum >= 1) throw new IllegalArgumentException("momentum must be in (0, 1), got " + momentum);
        checkSameNames(ema.namedParameters(), model.namedParameters());
        this.ema = ema;
        this.momentum = momentum;
        ema.to(model.device());
        ema.loadStateDict(model.stateDict());
        ema.eval();
    }

    public VisionTransformer model() {
        return ema;
    }

    public void update(VisionTransformer model) {
        Map<String, Parameter> source = model.namedParameters();
        checkSameNames(ema.namedParameters(), source);
        for (Map.Entry<String, Parameter> e : ema.namedParameters().entrySet()) {
            Tensor t = e.getValue().data(), p = source.get(e.getKey()).data();
            // In place; the step's temporaries of this parameter are freed before the next one's.
            try (MemoryScope ignored = MemoryScope.open()) {
                t.copyFrom(t.mul(momentum).add(p.mul(1 - momentum)));
            }
        }
    }

    /** One line naming the first parameter that only one of the two models has. */
    private static void checkSameNames(Map<String, Parameter> ema, Map<String, Parameter> model) {
        for (String name : model.keySet()) {
            if (!ema.containsKey(name)) {
                throw new IllegalArgumentException("momentum encoder: the model has parameter '" + name
                        + "' that its EMA copy lacks; the copy must be built with the model's config and distilled setting");
            }
        }
        for (String name : ema.keySet()) {
            if (!model.containsKey(name)) {
                throw new IllegalArgumentException("momentum encoder: the EMA copy has parameter '" + name
                        + "' that the model lacks; the copy must be built with the model's config and distilled setting");
            }
        }
    }
}
