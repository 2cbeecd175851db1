package dev.irtj.train.optim;

import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.AdamWParameter;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.LongLived;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with PyTorch's rule (decoupled weight decay, bias correction), one fused backend call
 * for all parameters. Following timm, parameters of rank ≤ 1 (biases, norms) and the position /
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

    /** Updates every parameter that has a gradient, all in one fused call (one pass on the CPU backend). */
    public void step() {
        step++;
        List<AdamWParameter> update = new ArrayList<>(slots.size());
        for (Slot s : slots) {
            Tensor g = s.param.grad();
            if (g == null) continue;
            Tensor p = s.param.data();
            if (s.m == null) {
                s.m = LongLived.adopt(Tensor.zeros(p.device(), p.dtype(), p.shape()));
                s.v = LongLived.adopt(Tensor.zeros(p.device(), p.dtype(), p.shape()));
            }
            update.add(new AdamWParameter(p, g.contiguous(), s.m, s.v, s.decay));
        }
        Tensor.adamwUpdate(update, step, lr, beta1, beta2, eps, weightDecay);
    }

    /**
     * Scales all gradients so their global L2 norm is at most {@code maxNorm} (by
     * maxNorm / (norm + 1e-6), as PyTorch); returns the norm before, as a 0-dimensional F64
     * tensor on the gradients' device, which lives until the enclosing {@link MemoryScope}
     * closes.
     *
     * <p>On the CPU the norm is read as each parameter's sum of squares is computed (the value is
     * already on the host). On a GPU that read would wait for the device once per parameter, so
     * there the whole computation stays on the device: the per-parameter sums are added in F64
     * in the same order, and the decision and the scale factor are tensors too, applied to every
     * gradient (a factor of exactly 1 when no clipping is needed). Nothing here waits for the
     * device; a caller that logs the norm reads it once, at the end of the step.
     */
    public Tensor clipGradNorm(double maxNorm) {
        Device device = null;
        for (Slot s : slots) {
            if (s.param.grad() != null) {
                device = s.param.grad().device();
                break;
            }
        }
        if (device == null) return Tensor.scalar(0, DType.F64);
        return device.kind() == Device.Kind.CPU ? clipOnHost(maxNorm) : clipOnDevice(maxNorm, device);
    }

    private Tensor clipOnHost(double maxNorm) {
        double sq = 0;
        for (Slot s : slots) {
            Tensor g = s.param.grad();
            if (g != null) sq += g.mul(g).sum().item();
        }
        double norm = Math.sqrt(sq);
        if (norm > maxNorm && norm > 0) {
            double scale = maxNorm / (norm + 1e-6);
            for (Slot s : slots) {
                Tensor g = s.param.grad();
                if (g == null) continue;
                // In place: the gradient stays the parameter's; the scaled copy is freed at once.
                try (MemoryScope ignored = MemoryScope.open()) {
                    g.copyFrom(g.mul(scale));
                }
            }
        }
        return Tensor.scalar(norm, DType.F64);
    }

    /** The device path; package-private so that its arithmetic is tested on the CPU as well. */
    Tensor clipOnDevice(double maxNorm, Device device) {
        Tensor sq = null;
        for (Slot s : slots) {
            Tensor g = s.param.grad();
            if (g == null) continue;
            Tensor part = g.mul(g).sum().to(DType.F64);
            sq = sq == null ? part : sq.add(part);
        }
        Tensor norm = sq.sqrt();
        Tensor zero = Tensor.zeros(device, DType.F64);
        Tensor limit = zero.add(maxNorm);
        Tensor clip = norm.gt(limit).mul(norm.gt(zero));
        Tensor factor = Tensor.where(clip, limit.div(norm.add(1e-6)), zero.add(1));
        for (Slot s : slots) {
            Tensor g = s.param.grad();
            if (g == null) continue;
            try (MemoryScope ignored = MemoryScope.open()) {
                g.copyFrom(g.mul(factor.to(g.dtype())));
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
            s.m = LongLived.adopt(m.to(s.param.data().dtype()).to(s.param.data().device()).copy());
            s.v = LongLived.adopt(v.to(s.param.data().dtype()).to(s.param.data().device()).copy());
        }
        this.step = stepCount;
    }
}
