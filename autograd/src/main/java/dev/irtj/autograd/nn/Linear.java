package dev.irtj.autograd.nn;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;

/**
 * y = x·Wᵀ + b with weight [out, in] and bias [out], initialized as timm's ViT does: weight from
 * a normal with std 0.02 truncated to [−2, 2], bias zero.
 */
public final class Linear extends Module {
    private final Parameter weight;
    private final Parameter bias;

    public Linear(int in, int out, boolean withBias, Rng rng, DType dtype) {
        weight = addParameter("weight", Tensor.truncatedNormal(rng, 0, 0.02, -2, 2, dtype, out, in));
        bias = withBias ? addParameter("bias", Tensor.zeros(dtype, out)) : null;
    }

    public Var forward(Var x) {
        return x.linear(weight.var(), bias == null ? null : bias.var());
    }

    /**
     * gelu(x·Wᵀ + b) with the exact (erf) GELU: the fused {@link Var#linearGelu} when the layer
     * has a bias, else the product followed by GELU.
     */
    public Var forwardGelu(Var x) {
        return bias == null ? x.linear(weight.var(), null).gelu() : x.linearGelu(weight.var(), bias.var());
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }
}
