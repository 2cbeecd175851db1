package dev.irtj.tensor;

import java.util.Arrays;

/**
 * One GEMM C = α·op(A)·op(B) + β·C0, resolved and checked once by {@link Tensor} before any
 * backend runs: op(A) is [batch..., m, k], op(B) [batch..., k, n], and the output
 * [batch..., m, n], where {@code batch} is the broadcast of both operands' leading dims and C0
 * (may be null) broadcasts to the output. A backend receives this and only executes it.
 */
public record GemmShape(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c0,
                        int m, int n, int k, int[] batchShape, int[] outShape) {

    public GemmShape {
        batchShape = batchShape.clone();
        outShape = outShape.clone();
    }

    /**
     * The plan for op(a)·op(b) (+ c0), or one IllegalArgumentException naming the shapes and
     * what was expected: same device and floating dtype for all operands, rank ≥ 2, inner dims
     * that chain, batch dims and c0 that broadcast.
     */
    public static GemmShape resolve(Tensor a, boolean transA, Tensor b, boolean transB, Tensor c0) {
        for (Tensor t : c0 == null ? new Tensor[] {b} : new Tensor[] {b, c0}) {
            if (!t.device().equals(a.device())) throw new IllegalArgumentException("gemm: operands on " + a.device() + " and " + t.device());
            if (t.dtype() != a.dtype()) {
                throw new IllegalArgumentException("gemm: operands of dtypes " + a.dtype() + " and " + t.dtype() + "; convert one with to(DType)");
            }
        }
        if (!a.dtype().isFloating()) throw new IllegalArgumentException("gemm is not defined for " + a.dtype() + " tensors");
        if (a.rank() < 2 || b.rank() < 2) {
            throw new IllegalArgumentException("gemm needs operands of rank >= 2, got " + Shape.str(a.shape()) + " and " + Shape.str(b.shape()));
        }
        int m = a.shape(transA ? -1 : -2), k = a.shape(transA ? -2 : -1);
        int kb = b.shape(transB ? -1 : -2), n = b.shape(transB ? -2 : -1);
        if (k != kb) {
            throw new IllegalArgumentException("gemm: op(A) " + Shape.str((transA ? a.mT() : a).shape()) + " and op(B) "
                    + Shape.str((transB ? b.mT() : b).shape()) + " do not chain: op(A) has " + k + " columns, op(B) " + kb + " rows");
        }
        int[] batchA = Arrays.copyOf(a.shape(), a.rank() - 2), batchB = Arrays.copyOf(b.shape(), b.rank() - 2);
        int[] batch;
        try {
            batch = Shape.broadcast(batchA, batchB);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("gemm: batch dims " + Shape.str(batchA) + " of " + Shape.str(a.shape()) + " and "
                    + Shape.str(batchB) + " of " + Shape.str(b.shape()) + " do not broadcast");
        }
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = m;
        out[batch.length + 1] = n;
        if (c0 != null && (c0.rank() > out.length || !broadcastsTo(c0.shape(), out))) {
            throw new IllegalArgumentException("gemm: c0 " + Shape.str(c0.shape()) + " does not broadcast to the output " + Shape.str(out));
        }
        return new GemmShape(a, transA, b, transB, c0, m, n, k, batch, out);
    }

    private static boolean broadcastsTo(int[] s, int[] target) {
        int lead = target.length - s.length;
        for (int i = 0; i < s.length; i++) if (s[i] != 1 && s[i] != target[lead + i]) return false;
        return true;
    }

    /** Batch items: the product of the broadcast batch dims (1 for plain matrices). */
    public int batch() {
        return Shape.numel(batchShape);
    }

    @Override
    public int[] batchShape() {
        return batchShape.clone();
    }

    @Override
    public int[] outShape() {
        return outShape.clone();
    }

    /** op(A): A with its last two dims swapped when transposed. */
    public Tensor opA() {
        return transA ? a.mT() : a;
    }

    /** op(B): B with its last two dims swapped when transposed. */
    public Tensor opB() {
        return transB ? b.mT() : b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GemmShape g && g.a == a && g.b == b && g.c0 == c0 && g.transA == transA && g.transB == transB
                && g.m == m && g.n == n && g.k == k && Arrays.equals(g.batchShape, batchShape);
    }

    @Override
    public int hashCode() {
        return ((m * 31 + n) * 31 + k) * 31 + Arrays.hashCode(batchShape);
    }

    @Override
    public String toString() {
        return "GemmShape[" + Shape.str(outShape) + " = " + Shape.str(a.shape()) + (transA ? "ᵀ" : "") + " · " + Shape.str(b.shape()) + (transB ? "ᵀ" : "")
                + ", k=" + k + (c0 == null ? "" : " + c0 " + Shape.str(c0.shape())) + "]";
    }
}
