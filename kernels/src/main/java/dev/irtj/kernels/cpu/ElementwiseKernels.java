package dev.irtj.kernels.cpu;

import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.ReduceOp;
import dev.irtj.tensor.ScalarMath;
import dev.irtj.tensor.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorized elementwise loops over contiguous F32 arrays, parallel over chunks, and the row
 * reductions other than sums. Arithmetic, NEG, ABS, SQRT, AFFINE and RELU run on
 * {@link FloatVector}s with a scalar tail; GELU and GELU_TANH go to {@link GeluKernels}; the rest
 * (EXP, LOG, TANH, SIGMOID, POW, ...) use the scalar definitions of {@link ScalarMath}, computed in
 * double and rounded once, so they agree with the reference backend bit for bit (a vector TANH or
 * EXP would not, and results must not depend on the backend more than a kernel's tolerance).
 * Reference: {@code dev.irtj.tensor.ReferenceBackend.unary / unaryBackward / binary / reduce};
 * CUDA twin {@code native/src/cuda/elementwise.cu}.
 */
final class ElementwiseKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private ElementwiseKernels() {
    }

    static void unary(UnaryOp op, float[] x, int xOff, float[] y, int yOff, int n, float p0, float p1) {
        switch (op) {
            case GELU -> GeluKernels.gelu(x, xOff, y, yOff, n);
            case GELU_TANH -> GeluKernels.geluTanh(x, xOff, y, yOff, n);
            default -> Parallel.forRange(n, 4, (from, to) -> unaryRange(op, x, xOff, y, yOff, from, to, p0, p1));
        }
    }

    private static void unaryRange(UnaryOp op, float[] x, int xOff, float[] y, int yOff, int from, int to, float p0, float p1) {
        int i = from;
        // Each vector operation is spelled out: C2 intrinsifies lanewise ops only when the
        // operator is a constant at the call site, not when it arrives in a variable.
        switch (op) {
            case NEG -> {
                for (; i <= to - L; i += L) FloatVector.fromArray(S, x, xOff + i).neg().intoArray(y, yOff + i);
            }
            case ABS -> {
                for (; i <= to - L; i += L) FloatVector.fromArray(S, x, xOff + i).abs().intoArray(y, yOff + i);
            }
            case SQRT -> {
                for (; i <= to - L; i += L) FloatVector.fromArray(S, x, xOff + i).sqrt().intoArray(y, yOff + i);
            }
            case AFFINE -> {
                FloatVector scale = FloatVector.broadcast(S, p0), shift = FloatVector.broadcast(S, p1);
                for (; i <= to - L; i += L) FloatVector.fromArray(S, x, xOff + i).fma(scale, shift).intoArray(y, yOff + i);
                for (; i < to; i++) y[yOff + i] = Math.fma(x[xOff + i], p0, p1);
            }
            case RELU -> {
                FloatVector zero = FloatVector.zero(S);
                for (; i <= to - L; i += L) FloatVector.fromArray(S, x, xOff + i).max(zero).intoArray(y, yOff + i);
            }
            default -> {
            }
        }
        for (; i < to; i++) y[yOff + i] = (float) ScalarMath.apply(op, x[xOff + i], p0, p1);
    }

    static void unaryBackward(UnaryOp op, float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int n, float p0, float p1) {
        if (op == UnaryOp.GELU) {
            GeluKernels.geluBackward(x, xOff, dy, dyOff, dx, dxOff, n);
            return;
        }
        if (op == UnaryOp.GELU_TANH) {
            GeluKernels.geluTanhBackward(x, xOff, dy, dyOff, dx, dxOff, n);
            return;
        }
        Parallel.forRange(n, 4, (from, to) -> {
            int i = from;
            if (op == UnaryOp.RELU) {
                FloatVector zero = FloatVector.zero(S);
                for (; i <= to - L; i += L) {
                    FloatVector xv = FloatVector.fromArray(S, x, xOff + i);
                    FloatVector g = FloatVector.fromArray(S, dy, dyOff + i);
                    g.blend(zero, xv.compare(VectorOperators.LE, 0f)).intoArray(dx, dxOff + i);
                }
            } else if (op == UnaryOp.AFFINE || op == UnaryOp.NEG) {
                FloatVector k = FloatVector.broadcast(S, op == UnaryOp.NEG ? -1f : p0);
                for (; i <= to - L; i += L) FloatVector.fromArray(S, dy, dyOff + i).mul(k).intoArray(dx, dxOff + i);
            }
            for (; i < to; i++) dx[dxOff + i] = (float) (dy[dyOff + i] * ScalarMath.derivative(op, x[xOff + i], p0, p1));
        });
    }

    /** y = x op s (or s op x when {@code scalarFirst}). */
    static void binaryScalar(BinaryOp op, float[] x, int xOff, double scalar, float[] y, int yOff, int n, boolean scalarFirst) {
        float s = (float) scalar;
        Parallel.forRange(n, 2, (from, to) -> {
            int i = from;
            if (isArithmetic(op)) {
                FloatVector sv = FloatVector.broadcast(S, s);
                for (; i <= to - L; i += L) {
                    FloatVector xv = FloatVector.fromArray(S, x, xOff + i);
                    (scalarFirst ? arithmetic(op, sv, xv) : arithmetic(op, xv, sv)).intoArray(y, yOff + i);
                }
            }
            for (; i < to; i++) {
                float v = x[xOff + i];
                y[yOff + i] = (float) (scalarFirst ? ScalarMath.apply(op, s, v) : ScalarMath.apply(op, v, s));
            }
        });
    }

    /**
     * y[i] = a[i mod periodA] op b[i mod periodB] for i < n, where each period divides n (a
     * full-size operand has period n; a bias repeats with period = its length).
     */
    static void binaryPeriodic(BinaryOp op, float[] a, int aOff, int periodA, float[] b, int bOff, int periodB, float[] y, int yOff, int n) {
        int block = Math.min(periodA, periodB);
        int blocks = n / block;
        boolean vectorized = isArithmetic(op);
        Parallel.forRange(blocks, block, (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * block;
                int ao = aOff + base % periodA, bo = bOff + base % periodB, yo = yOff + base;
                int j = 0;
                if (vectorized) {
                    for (; j <= block - L; j += L) {
                        arithmetic(op, FloatVector.fromArray(S, a, ao + j), FloatVector.fromArray(S, b, bo + j)).intoArray(y, yo + j);
                    }
                }
                for (; j < block; j++) y[yo + j] = (float) ScalarMath.apply(op, a[ao + j], b[bo + j]);
            }
        });
    }

    private static boolean isArithmetic(BinaryOp op) {
        return op == BinaryOp.ADD || op == BinaryOp.SUB || op == BinaryOp.MUL || op == BinaryOp.DIV;
    }

    /** a op b with each operation called by name, so every call site is intrinsified. */
    private static FloatVector arithmetic(BinaryOp op, FloatVector a, FloatVector b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            default -> throw new IllegalArgumentException(op + " is not vectorized");
        };
    }

    /** out[r] = reduction of row r of a contiguous [rows × len] block. */
    static void reduceRows(ReduceOp op, float[] x, int xOff, float[] out, int rows, int len) {
        if (op == ReduceOp.SUM || op == ReduceOp.MEAN) {
            ReductionKernels.sumAlongRows(x, xOff, out, 0, rows, len);
            if (op == ReduceOp.MEAN) for (int r = 0; r < rows; r++) out[r] /= len;
            return;
        }
        boolean max = op == ReduceOp.MAX;
        Parallel.forRange(rows, len, (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = xOff + r * len;
                float acc = x[base];
                for (int j = 1; j < len; j++) {
                    float v = x[base + j];
                    if (Float.isNaN(v) || (max ? v > acc : v < acc)) acc = v;
                    if (Float.isNaN(acc)) break;
                }
                out[r] = acc;
            }
        });
    }
}
