package dev.irtj.tensor;

/**
 * Elementwise functions of one tensor. {@code p0}/{@code p1} are the op's scalar parameters
 * where it has them: POW's exponent, CLAMP's bounds, AFFINE's scale and shift (unused otherwise).
 */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, RSQRT, ABS, RELU,
    /** x·Φ(x), the exact (erf) form used by timm's ViT. */
    GELU,
    /** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    GELU_TANH,
    TANH, SIGMOID,
    /** x^p0 for a scalar exponent. */
    POW,
    /** min(max(x, p0), p1); pass ±infinity for a one-sided clamp. */
    CLAMP,
    /** x·p0 + p1. */
    AFFINE
}
