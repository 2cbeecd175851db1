package dev.irtj.autograd;

import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;

/** Small helpers shared by backward functions. */
final class Grads {
    private Grads() {
    }

    /** Sums a broadcast gradient back to {@code shape} (the adjoint of broadcasting). */
    static Tensor sumToShape(Tensor g, int[] shape) {
        if (java.util.Arrays.equals(g.shape(), shape)) return g;
        int[] dims = Shape.broadcastDims(shape, g.shape());
        Tensor s = dims.length == 0 ? g : g.sum(dims, true);
        return s.reshape(shape);
    }

    /** Re-inserts reduced dims (as size 1) into a gradient computed without keepdim. */
    static Tensor unsqueezeDims(Tensor g, int[] sortedDims) {
        Tensor t = g;
        for (int d : sortedDims) t = t.unsqueeze(d);
        return t;
    }
}
