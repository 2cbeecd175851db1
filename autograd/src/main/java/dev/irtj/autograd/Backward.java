package dev.irtj.autograd;

import dev.irtj.tensor.Tensor;

/** Gradients of an op's inputs given the gradient of its output (entries may be null). */
@FunctionalInterface
public interface Backward {
    Tensor[] apply(Tensor gradOutput);
}
