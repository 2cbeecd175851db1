package dev.irtj.tensor;

import java.util.Arrays;

/**
 * One reduction of x over {@code dims}, resolved and checked once by {@link Tensor} before any
 * backend runs. The split every backend executes: {@code perm} moves the kept dims first (in
 * order) and the reduced dims last, so the moved tensor is {@code rows} rows of {@code len}
 * values and each output element reduces one row.
 *
 * @param dims     the reduced dims: sorted, distinct, non-negative (empty reduces nothing)
 * @param perm     kept dims in order, then the reduced dims in order
 * @param keptRank how many dims are kept (the first {@code keptRank} entries of perm)
 * @param len      values reduced into each output element: the product of the reduced extents
 * @param rows     output elements: the product of the kept extents
 * @param outShape the result's shape: reduced dims as 1 when {@code keepdim}, else dropped
 */
public record ReductionPlan(ReduceOp op, Tensor x, int[] dims, boolean keepdim,
                            int[] perm, int keptRank, int len, int rows, int[] outShape) {

    public ReductionPlan {
        dims = dims.clone();
        perm = perm.clone();
        outShape = outShape.clone();
    }

    /**
     * The plan for {@code op} over {@code dims} (negative counted from the end), or one
     * IllegalArgumentException: a floating dtype, dims in range and not repeated, and no MAX/MIN
     * over an empty dimension.
     */
    public static ReductionPlan resolve(ReduceOp op, Tensor x, int[] dims, boolean keepdim) {
        if (!x.dtype().isFloating()) throw new IllegalArgumentException(op + " is not defined for " + x.dtype() + " tensors");
        return split(op.name(), op, x, x.normalizeDims(dims), keepdim);
    }

    /**
     * The plan for the position of the max (MAX) or min (MIN) along one dim; the dtype is left
     * to the backend (the reference ranks any dtype).
     */
    public static ReductionPlan along(ReduceOp op, Tensor x, int dim, boolean keepdim) {
        if (op != ReduceOp.MAX && op != ReduceOp.MIN) throw new IllegalArgumentException("arg-reduction of " + op + "; expected MAX or MIN");
        return split("arg" + op, op, x, new int[] {Shape.dim(dim, x.rank())}, keepdim);
    }

    private static ReductionPlan split(String what, ReduceOp op, Tensor x, int[] dims, boolean keepdim) {
        int rank = x.rank();
        int[] shape = x.shape();
        boolean[] reduced = new boolean[rank];
        for (int d : dims) reduced[d] = true;
        int[] perm = new int[rank];
        int k = 0;
        for (int d = 0; d < rank; d++) if (!reduced[d]) perm[k++] = d;
        int keptRank = k;
        for (int d = 0; d < rank; d++) if (reduced[d]) perm[k++] = d;
        int len = 1;
        for (int d : dims) len *= shape[d];
        if (len == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN)) {
            throw new IllegalArgumentException(what + " over an empty dimension of " + Shape.str(shape));
        }
        int[] outShape;
        if (keepdim) {
            outShape = shape.clone();
            for (int d : dims) outShape[d] = 1;
        } else {
            outShape = new int[keptRank];
            for (int i = 0; i < keptRank; i++) outShape[i] = shape[perm[i]];
        }
        return new ReductionPlan(op, x, dims, keepdim, perm, keptRank, len, Shape.numel(outShape), outShape);
    }

    /**
     * Whether this is a SUM or MEAN over the leading dims of a contiguous x: then x is a
     * [len × rows] block and the result its column sums, with no permuted copy.
     */
    public boolean sumsDownColumns() {
        if (dims.length == 0 || !x.isContiguous() || (op != ReduceOp.SUM && op != ReduceOp.MEAN)) return false;
        for (int i = 0; i < dims.length; i++) if (dims[i] != i) return false;
        return true;
    }

    /** The one reduced dim of an arg-reduction. */
    public int dim() {
        if (dims.length != 1) throw new IllegalStateException("an arg-reduction plan has one dim, this has " + Arrays.toString(dims));
        return dims[0];
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    @Override
    public int[] perm() {
        return perm.clone();
    }

    @Override
    public int[] outShape() {
        return outShape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReductionPlan p && p.op == op && p.x == x && p.keepdim == keepdim && Arrays.equals(p.dims, dims)
                && Arrays.equals(p.perm, perm) && p.keptRank == keptRank && p.len == len && p.rows == rows && Arrays.equals(p.outShape, outShape);
    }

    @Override
    public int hashCode() {
        return (op.hashCode() * 31 + Arrays.hashCode(dims)) * 31 + Arrays.hashCode(outShape);
    }

    @Override
    public String toString() {
        return "ReductionPlan[" + op + " of " + Shape.str(x.shape()) + " over " + Arrays.toString(dims) + (keepdim ? " keepdim" : "")
                + ": " + rows + " rows of " + len + ", perm " + Arrays.toString(perm) + " → " + Shape.str(outShape) + "]";
    }
}
