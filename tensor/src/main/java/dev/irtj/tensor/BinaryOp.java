package dev.irtj.tensor;

/**
 * Elementwise functions of two tensors, with NumPy broadcasting. Comparisons produce 1 or 0 in
 * the inputs' dtype.
 */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM,
    EQ, NE, LT, LE, GT, GE;

    public boolean isComparison() {
        return ordinal() >= EQ.ordinal();
    }
}
