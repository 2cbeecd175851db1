package dev.irtj.autograd;

/**
 * What {@link Var#addLayerNorm} returns: the residual stream after the add ({@code sum} = x + r)
 * and the layer norm of it ({@code normed}), both differentiable.
 */
public record ResidualNorm(Var sum, Var normed) {
}
