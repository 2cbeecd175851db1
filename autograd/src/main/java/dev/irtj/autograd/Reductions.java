package dev.irtj.autograd;

import dev.irtj.tensor.Tensor;

/** Reductions and their backward passes: the gradient is broadcast back over the reduced dims. */
final class Reductions {
    private Reductions() {
    }

    static Var sum(Var x, int[] dims, boolean keepdim) {
        Tensor xd = x.data();
        int[] d = xd.normalizeDims(dims);
        return Var.result(xd.sum(d, keepdim), "sum",
                g -> new Tensor[] {(keepdim ? g : Grads.unsqueezeDims(g, d)).expand(xd.shape())}, x);
    }

    static Var mean(Var x, int[] dims, boolean keepdim) {
        Tensor xd = x.data();
        int[] d = xd.normalizeDims(dims);
        int count = 1;
        for (int i : d) count *= xd.shape(i);
        double inv = 1.0 / count;
        return Var.result(xd.mean(d, keepdim), "mean",
                g -> new Tensor[] {(keepdim ? g : Grads.unsqueezeDims(g, d)).mul(inv).expand(xd.shape())}, x);
    }

    /** max/min over dims; the gradient goes to every position equal to the extreme, split evenly. */
    static Var extreme(Var x, int[] dims, boolean keepdim, boolean max) {
        Tensor xd = x.data();
        int[] d = xd.normalizeDims(dims);
        Tensor kept = max ? xd.max(d, true) : xd.min(d, true);
        Tensor out = keepdim ? kept : squeezeDims(kept, d);
        return Var.result(out, max ? "max" : "min", g -> {
            Tensor hits = xd.eq(kept);
            Tensor share = hits.div(hits.sum(d, true));
            return new Tensor[] {share.mul(keepdim ? g : Grads.unsqueezeDims(g, d))};
        }, x);
    }

    private static Tensor squeezeDims(Tensor t, int[] sortedDims) {
        Tensor r = t;
        for (int i = sortedDims.length - 1; i >= 0; i--) r = r.squeeze(sortedDims[i]);
        return r;
    }
}
