package dev.irtj.tensor;

import java.util.Arrays;

/**
 * Small helpers shared by the tensor module's unit tests: random tensors from a seed, a
 * non-contiguous copy of a tensor, naive row-major indexing and a tolerance check of the form
 * {@code |a − b| ≤ atol + rtol·|b|} (b the expected value).
 */
final class TestTensors {
    private TestTensors() {
    }

    /** Standard-normal F64 tensor from {@code seed}. */
    static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Rng(seed), DType.F64, shape);
    }

    /** Uniform F64 tensor in [lo, hi) from {@code seed}. */
    static Tensor uniform(long seed, double lo, double hi, int... shape) {
        return Tensor.uniform(new Rng(seed), lo, hi, DType.F64, shape);
    }

    /**
     * The same values as {@code t} in a non-contiguous view with a non-zero offset: every element
     * sits at an odd position of a storage twice as large (stride doubled along the last dim,
     * gaps between rows). For tensors with at most one element the view is trivially contiguous.
     */
    static Tensor strided(Tensor t) {
        int r = t.rank();
        int[] big = Arrays.copyOf(t.shape(), r + 1);
        big[r] = 2;
        Tensor holder = Tensor.full(Double.NaN, t.dtype(), big);
        Tensor v = holder.select(r, 1);
        v.copyFrom(t);
        return v;
    }

    /** The same values as {@code t} laid out transposed in memory (a permuted view), for rank >= 2. */
    static Tensor transposedLayout(Tensor t) {
        int r = t.rank();
        int[] rev = new int[r];
        for (int i = 0; i < r; i++) rev[i] = r - 1 - i;
        return t.permute(rev).contiguous().permute(rev);
    }

    /** Row-major position of {@code idx} in {@code shape}. */
    static int flat(int[] shape, int... idx) {
        int p = 0;
        for (int d = 0; d < shape.length; d++) p = p * shape[d] + idx[d];
        return p;
    }

    /** Coordinates of row-major position {@code flat} in {@code shape}. */
    static int[] unflat(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? 0 : flat / shape[d];
        }
        return idx;
    }

    static void assertShape(int[] expected, Tensor t) {
        if (!Arrays.equals(expected, t.shape())) {
            throw new AssertionError("shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(expected));
        }
    }

    static void assertClose(String what, Tensor expected, Tensor actual, double rtol, double atol) {
        assertShape(expected.shape(), actual);
        assertClose(what, expected.toDoubleArray(), actual.toDoubleArray(), rtol, atol);
    }

    static void assertClose(String what, double[] expected, Tensor actual, double rtol, double atol) {
        assertClose(what, expected, actual.toDoubleArray(), rtol, atol);
    }

    /**
     * Elementwise {@code |a − b| ≤ atol + rtol·|b|}; NaN matches only NaN, an infinity only the
     * same infinity. The message names the first failing element.
     */
    static void assertClose(String what, double[] expected, double[] actual, double rtol, double atol) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": " + actual.length + " values, expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double a = actual[i], b = expected[i];
            boolean ok;
            if (Double.isNaN(a) || Double.isNaN(b)) ok = Double.isNaN(a) && Double.isNaN(b);
            else if (Double.isInfinite(a) || Double.isInfinite(b)) ok = a == b;
            else ok = Math.abs(a - b) <= atol + rtol * Math.abs(b);
            if (!ok) {
                throw new AssertionError(String.format("%s: element %d: expected %.17g, actual %.17g (|a-b| = %.3g, allowed %.3g)",
                        what, i, b, a, Math.abs(a - b), atol + rtol * Math.abs(b)));
            }
        }
    }

    /** Exact equality of values (NaN equals NaN). */
    static void assertSameValues(String what, Tensor expected, Tensor actual) {
        assertClose(what, expected, actual, 0, 0);
    }
}
