package dev.irtj.tensor;

/**
 * One parameter of a many-parameter AdamW step ({@link Tensor#adamwUpdate(java.util.List, long,
 * double, double, double, double, double)}): the parameter, its gradient and moments (all of one
 * device, dtype and shape), and whether the step's weight decay applies to it (timm exempts
 * biases, norms and the embedding tokens).
 */
public record AdamWParameter(Tensor param, Tensor grad, Tensor m, Tensor v, boolean decays) {
}
