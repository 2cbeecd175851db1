package dev.irtj.tensor;

/**
 * The k largest entries of every row (the last dim) of a floating tensor, as {@link Tensor#topk}
 * resolved it: {@code rows} rows of {@code n} entries, outputs of {@code outShape} (x's shape
 * with the last dim k). The order every backend must produce, best first: larger value first;
 * equal values (−0 and +0 included) by lower index; NaN after every number, NaNs by index. This
 * is the order of exact k-NN over a similarity row (dev.irtj.eval.Knn), so the result is one
 * stable sort of the row cut to k.
 */
public record TopKPlan(Tensor x, int k, int rows, int n, int[] outShape) {

    public TopKPlan {
        outShape = outShape.clone();
    }

    @Override
    public int[] outShape() {
        return outShape.clone();
    }

    /** The plan, or one IllegalArgumentException: a floating tensor of rank ≥ 1 and 0 ≤ k ≤ its last dim. */
    public static TopKPlan resolve(Tensor x, int k) {
        if (!x.dtype().isFloating()) throw new IllegalArgumentException("topk is not defined for " + x.dtype() + " tensors");
        if (x.rank() == 0) throw new IllegalArgumentException("topk needs a tensor of rank >= 1 (rows along the last dim), got a scalar");
        int n = x.shape(-1);
        if (k < 0 || k > n) throw new IllegalArgumentException("topk: k = " + k + " for rows of " + n + " in " + Shape.str(x.shape()));
        int[] out = x.shape();
        out[out.length - 1] = k;
        int rows = 1;
        for (int d = 0; d < x.rank() - 1; d++) rows *= x.shape(d);
        return new TopKPlan(x, k, rows, n, out);
    }

    /** Whether entry (va, ia) comes before (vb, ib) in the order above. */
    public static boolean before(double va, int ia, double vb, int ib) {
        boolean nanA = Double.isNaN(va), nanB = Double.isNaN(vb);
        if (nanA || nanB) return nanA == nanB ? ia < ib : nanB;
        return va > vb || (va == vb && ia < ib);
    }
}
