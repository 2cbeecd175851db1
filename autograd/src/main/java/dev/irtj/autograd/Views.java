package dev.irtj.autograd;

import dev.irtj.tensor.Tensor;

/**
 * View ops: the output shares the input's storage, and the backward routes the gradient to the
 * elements the view reads (inverse permutation, zero-padded narrow, summed expand).
 */
final class Views {
    private Views() {
    }

    static Var reshape(Var x, int[] shape) {
        return reshapeLike(x, x.data().reshape(shape), "reshape");
    }

    /** Any view that keeps the element order (reshape, squeeze, unsqueeze). */
    static Var reshapeLike(Var x, Tensor out, String op) {
        int[] in = x.shape();
        return Var.result(out, op, g -> new Tensor[] {g.reshape(in)}, x);
    }

    static Var transpose(Var x, int d0, int d1) {
        return Var.result(x.data().transpose(d0, d1), "transpose", g -> new Tensor[] {g.transpose(d0, d1)}, x);
    }

    static Var permute(Var x, int[] dims) {
        int rank = x.rank();
        int[] inverse = new int[rank];
        for (int i = 0; i < rank; i++) inverse[Math.floorMod(dims[i], rank)] = i;
        return Var.result(x.data().permute(dims), "permute", g -> new Tensor[] {g.permute(inverse)}, x);
    }

    static Var narrow(Var x, int dim, int start, int length) {
        Tensor xd = x.data();
        return Var.result(xd.narrow(dim, start, length), "narrow", g -> {
            Tensor full = Tensor.zeros(g.device(), g.dtype(), xd.shape());
            full.narrow(dim, start, length).copyFrom(g);
            return new Tensor[] {full};
        }, x);
    }

    static Var expand(Var x, int[] shape) {
        int[] in = x.shape();
        return Var.result(x.data().expand(shape), "expand", g -> new Tensor[] {Grads.sumToShape(g, in)}, x);
    }

    static Var contiguous(Var x) {
        return Var.result(x.data().contiguous(), "contiguous", g -> new Tensor[] {g}, x);
    }
}
