package dev.irtj.autograd.nn;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.LongLived;
import dev.irtj.tensor.Tensor;

/**
 * A trainable tensor of a {@link Module}: a leaf {@link Var} that requires grad. Optimizers
 * update it in place through {@link #set}; whether weight decay applies is decided by the
 * optimizer from the parameter's name and rank (timm's convention). Its value is
 * {@link LongLived}: a module built, moved or loaded inside a step's {@code MemoryScope} keeps
 * its parameters when the scope closes.
 */
public final class Parameter {
    private final Var var;

    public Parameter(Tensor initial) {
        this.var = Var.param(LongLived.adopt(initial));
    }

    /** The Var to compute with. */
    public Var var() {
        return var;
    }

    public Tensor data() {
        return var.data();
    }

    public Tensor grad() {
        return var.grad();
    }

    public void zeroGrad() {
        var.zeroGrad();
    }

    /** Replaces the value; shape and dtype must match. */
    public void set(Tensor value) {
        var.setData(value);
        LongLived.adopt(value);
    }

    public int[] shape() {
        return var.shape();
    }
}
