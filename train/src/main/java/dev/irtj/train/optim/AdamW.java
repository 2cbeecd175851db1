package dev.irtj.train.optim;

import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with PyTorch's rule (decoupled weight decay, bias correction), one fused backend call
 * per parameter. Following timm, parameters of rank ≤ 1 (biases, norms) and the position /
 * class / distillation tokens get no weight decay.
 */
public final class AdamW {
    private final List<Slot> slots = new ArrayList<>();
    private final double beta1, beta2, eps, weightDecay;
    private double lr;
    private long step;

    private static final class Slot {
        final String name;
        final Parameter param;
        final boolean decay;
        Tensor m, v;

        Slot(String name, Parameter param, boolean decay) {
            this.name = name;
            this.param = param;
            this.decay = decay;
        }
    }

    public AdamW(Map<String, Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        if (lr < 0 || eps <= 0 || beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 || weightDecay < 0) {
            throw new IllegalArgumentException("invalid AdamW settings: lr " + lr + ", betas (" + beta1 + ", " + beta2 + "), eps " + eps + ", wd " + weightDecay);
        }
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        params.forEach((name, p) -> slots.add(new Slot(name, p, decays(name, p))));
    }

    /** timm's rule: no decay for 1-D tensors and the embedding tokens. */
    public static boolean decays(String name, Parameter p) {
        String leaf = name.substring(name.lastIndexOf('.') + 1);
        return p.shape().length > 1 && !leaf.equals("pos_embed") && !leaf.equals("cls_token") && !leaf.equals("dist_token");
    }

    public void setLr(double lr) {
        this.lr = lr;
    }

    public double lr() {
        return lr;
    }

    public long stepCount() {
        return step;
    }

    /** Updates every parameter that has a gradient. */
    public void step() {
        step++;
        try (MemoryScope ignored = MemoryScope.unscoped()) {
            for (Slot s : slots) {
                Tensor g = s.param.grad();
                if (g == null) continue;
                Tensor p = s.param.data();
                if (s.m == null) {
                    s.m = Tensor.zeros(p.device(), p.dtype(), p.shape());
                    s.v = Tensor.zeros(p.device(), p.dtype(), p.shape());
                }
                Backend.AdamWStep args = new Backend.AdamWStep(step, lr, beta1, beta2, eps, s.decay ? weightDecay : 0.0);
                p.backend().adamw(p, g.contiguous(), s.m, s.v, args);
            }
        }
    }

    /** Scales all gradients so their global L2 norm is at most {@code maxNorm}; returns the norm before. */
    public double clipGradNorm(double maxNorm) {
        double sq = 0;
        for (Slot s : slots) {
            Tensor g = s.param.grad();
            if (g != null) sq += g.mul(g).sum().item();
        }
        double norm = Math.sqrt(sq);
        if (norm > maxNorm && norm > 0) {
            double scale = maxNorm / (norm + 1e-6);
            try (MemoryScope ignored = MemoryScope.unscoped()) {
                for (Slot s : slots) {
                    Tensor g = s.param.grad();
                    if (g != null) g.copyFrom(g.mul(scale));
                }
            }
        }
        return norm;
    }

    /** Moments by name ("NAME.m", "NAME.v") for checkpoints, and the step. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Slot s : slots) {
            if (s.m == null) continue;
            out.put(s.name + ".m", s.m);
            out.put(s.name + ".v", s.v);
        }
        return out;
    }

    /** Restores {@link #state()} and the step count. */
    public void loadState(Map<String, Tensor> state, long stepCount) {
        for (Slot s : slots) {
            Tensor m = state.get(s.name + ".m"), v = state.get(s.name + ".v");
            if (m == null && v == null) continue;
            if (m == null || v == null || !java.util.Arrays.equals(m.shape(), s.param.shape())) {
                throw new IllegalArgumentException("optimizer state for " + s.name + " is missing a moment or has the wrong shape");
            }
            try (MemoryScope ignored = MemoryScope.unscoped()) {
                s.m = m.to(s.param.data().dtype()).to(s.param.data().device()).copy();
                s.v = v.to(s.param.data().dtype()).to(s.param.data().device()).copy();
            }
        }
        this.step = stepCount;
    }
}
