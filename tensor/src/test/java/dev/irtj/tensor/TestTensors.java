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

    /** A shape of rank in [minRank, maxRank] with dims in [1, maxDim]. */
    static int[] randomShape(Rng r, int minRank, int maxRank, int maxDim) {
        int[] s = new int[minRank + r.nextInt(maxRank - minRank + 1)];
        for (int i = 0; i < s.length; i++) s[i] = 1 + r.nextInt(maxDim);
        return s;
    }

    /** A shape that broadcasts to {@code out}: some leading dims dropped, some dims set to 1. */
    static int[] broadcastableTo(Rng r, int[] out) {
        int drop = r.nextInt(out.length + 1);
        int[] s = Arrays.copyOfRange(out, drop, out.length);
        for (int i = 0; i < s.length; i++) if (r.nextInt(3) == 0) s[i] = 1;
        return s;
    }

    /**
     * Runs {@code op} on F32 copies of the inputs and on the same (F32-rounded) values in F64. The
     * F32 result must be within 1e-5 relative of the F64 one (the project's F32 contract), and,
     * because the reference backend computes in double and rounds once on store, it must in fact
     * be exactly the F64 result rounded to float.
     */
    static void assertF32MatchesF64(String what, java.util.function.Function<Tensor[], Tensor> op, Tensor... f64Inputs) {
        Tensor[] in32 = new Tensor[f64Inputs.length], in64 = new Tensor[f64Inputs.length];
        for (int i = 0; i < f64Inputs.length; i++) {
            Tensor t = f64Inputs[i];
            in32[i] = t == null || !t.dtype().isFloating() ? t : t.to(DType.F32);
            in64[i] = t == null || !t.dtype().isFloating() ? t : in32[i].to(DType.F64);
        }
        Tensor r32 = op.apply(in32), r64 = op.apply(in64);
        if (r32.dtype() != DType.F32) throw new AssertionError(what + ": F32 inputs gave " + r32.dtype());
        // 1e-5 relative, and 1e-30 absolute for results that underflow the float range.
        assertClose(what + " (F32 vs F64)", r64, r32, 1e-5, 1e-30);
        double[] a = r32.toDoubleArray(), b = r64.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToIntBits((float) b[i]) != Float.floatToIntBits((float) a[i])) {
                throw new AssertionError(what + ": element " + i + ": F32 result " + a[i] + " is not the F64 result "
                        + b[i] + " rounded once (" + (float) b[i] + ")");
            }
        }
    }

    /** Exact equality of values (NaN equals NaN). */
    static void assertSameValues(String what, Tensor expected, Tensor actual) {
        assertClose(what, expected, actual, 0, 0);
    }
}
