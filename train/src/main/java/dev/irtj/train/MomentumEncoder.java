package dev.irtj.train;

import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;
import dev.irtj.vit.VisionTransformer;

import java.util.Iterator;
import java.util.Map;

/**
 * An exponential moving average of the model, θ_ema ← m·θ_ema + (1 − m)·θ, whose descriptors
 * fill the cross-batch memory (the paper's setting for In-Shop, m = 0.999).
 */
public final class MomentumEncoder {
    private final VisionTransformer ema;
    private final double momentum;

    public MomentumEncoder(VisionTransformer ema, VisionTransformer model, double momentum) {
        if (momentum <= 0 || momentum >= 1) throw new IllegalArgumentException("momentum must be in (0, 1), got " + momentum);
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
        Map<String, Parameter> target = ema.namedParameters(), source = model.namedParameters();
        Iterator<Parameter> src = source.values().iterator();
        try (MemoryScope ignored = MemoryScope.unscoped()) {
            for (Parameter t : target.values()) {
                Tensor p = src.next().data();
                t.data().copyFrom(t.data().mul(momentum).add(p.mul(1 - momentum)));
            }
        }
    }
}
