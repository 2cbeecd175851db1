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

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }
}
