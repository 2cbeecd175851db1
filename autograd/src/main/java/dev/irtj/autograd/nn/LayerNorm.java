package dev.irtj.autograd.nn;

import dev.irtj.autograd.ResidualNorm;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Tensor;

/** Layer norm over the last dim with a learned scale (init 1) and shift (init 0). */
public final class LayerNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final double eps;

    public LayerNorm(int dim, double eps, DType dtype) {
        this.eps = eps;
        weight = addParameter("weight", Tensor.ones(dtype, dim));
        bias = addParameter("bias", Tensor.zeros(dtype, dim));
    }

    public Var forward(Var x) {
        return x.layerNorm(weight.var(), bias.var(), eps);
    }

    /** x + r and this norm of the sum, in one pass (a pre-norm block's residual add and its next norm). */
    public ResidualNorm forwardResidual(Var x, Var r) {
        return x.addLayerNorm(r, weight.var(), bias.var(), eps);
    }
}
