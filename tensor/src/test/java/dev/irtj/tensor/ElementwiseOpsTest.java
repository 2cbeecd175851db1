package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.function.BiFunction;

import static dev.irtj.tensor.TestTensors.assertClose;
import static dev.irtj.tensor.TestTensors.assertF32MatchesF64;
import static dev.irtj.tensor.TestTensors.assertSameValues;
import static dev.irtj.tensor.TestTensors.assertShape;
import static dev.irtj.tensor.TestTensors.strided;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Elementwise ops of the reference backend: broadcasting, comparisons, where/maskedFill, clamp,
 * pow, NaN handling, the unary family and its backward. Every elementwise result is one double
 * computation rounded once, so F64 comparisons against the same scalar formula are exact.
 */
class ElementwiseOpsTest {

    private static final BinaryOp[] ARITH = {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MAXIMUM, BinaryOp.MINIMUM};

    private static Tensor apply(BinaryOp op, Tensor a, Tensor b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case MAXIMUM -> a.maximum(b);
            case MINIMUM -> a.minimum(b);
            case EQ -> a.eq(b);
            case NE -> a.ne(b);
            case LT -> a.lt(b);
            case LE -> a.le(b);
            case GT -> a.gt(b);
            case GE -> a.ge(b);
        };
    }

    /** op on explicitly expanded, contiguous copies, element by element with the scalar definition. */
    private static double[] onExpandedCopies(BinaryOp op, Tensor a, Tensor b, int[] out) {
        double[] x = a.expand(out).contiguous().toDoubleArray(), y = b.expand(out).contiguous().toDoubleArray();
        double[] r = new double[x.length];
        for (int i = 0; i < r.length; i++) r[i] = ScalarMath.apply(op, x[i], y[i]);
        return r;
    }

    /**
     * Broadcasting binary ops equal the op on explicitly expanded copies, for random broadcastable
     * shapes, in both operand orders; strided inputs give the same result; F32 is F64 rounded.
     * Inputs are rounded to a quarter so comparisons see ties.
     */
    @Property(tries = 60)
    void broadcastingBinaryOpsMatchExpandedCopies(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] out = TestTensors.randomShape(r, 1, 4, 4);
        int[] sa = TestTensors.broadcastableTo(r, out), sb = TestTensors.broadcastableTo(r, out);
        int[] full = Shape.broadcast(sa, sb);
        Tensor a = TestTensors.randn(seed, sa).mul(4).add(0.5).clamp(-8, 8);
        Tensor b = TestTensors.randn(seed + 1, sb).mul(4).clamp(-8, 8);
        a = roundToQuarter(a);
        b = roundToQuarter(b);
        for (BinaryOp op : BinaryOp.values()) {
            String what = op + " " + Arrays.toString(sa) + " with " + Arrays.toString(sb);
            Tensor got = apply(op, a, b);
            assertShape(full, got);
            assertClose(what, onExpandedCopies(op, a, b, full), got, 0, 0);
            assertClose(what + " swapped", onExpandedCopies(op, b, a, full), apply(op, b, a), 0, 0);
            assertSameValues(what + " strided", got, apply(op, strided(a), strided(b)));
            final Tensor fa = a, fb = b;
            assertF32MatchesF64(what, in -> apply(op, in[0], in[1]), fa, fb);
        }
    }

    private static Tensor roundToQuarter(Tensor t) {
        double[] v = t.toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.round(v[i] * 4) / 4.0;
        return Tensor.of(v, t.shape());
    }

    @Test
    void divisionF32IsF64Rounded() {
        Tensor a = TestTensors.randn(1, 5, 3), b = TestTensors.uniform(2, 0.5, 2, 3);
        assertF32MatchesF64("div", in -> in[0].div(in[1]), a, b);
    }

    @Test
    void incompatibleShapesFailNamingBoth() {
        Tensor a = Tensor.zeros(DType.F64, 2, 3), b = Tensor.zeros(DType.F64, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.where(Tensor.zeros(DType.F64, 5), a, a));
    }

    @Test
    void comparisonsGiveOnesAndZerosInTheInputDtype() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, Float.NaN}, 4);
        Tensor b = Tensor.of(new float[] {2, 2, 2, Float.NaN}, 4);
        assertEquals(DType.F32, a.lt(b).dtype());
        assertArrayEquals(new float[] {1, 0, 0, 0}, a.lt(b).toFloatArray());
        assertArrayEquals(new float[] {1, 1, 0, 0}, a.le(b).toFloatArray());
        assertArrayEquals(new float[] {0, 0, 1, 0}, a.gt(b).toFloatArray());
        assertArrayEquals(new float[] {0, 1, 1, 0}, a.ge(b).toFloatArray());
        assertArrayEquals(new float[] {0, 1, 0, 0}, a.eq(b).toFloatArray());
        assertArrayEquals(new float[] {1, 0, 1, 1}, a.ne(b).toFloatArray());
        // Broadcast against a one-element tensor.
        assertArrayEquals(new float[] {0, 0, 1, 0}, a.gt(Tensor.of(new float[] {2}, 1)).toFloatArray());
    }

    @Test
    void maximumAndMinimumPropagateNaN() {
        Tensor a = Tensor.of(new double[] {1, Double.NaN, 3, Double.NaN, -0.5}, 5);
        Tensor b = Tensor.of(new double[] {2, 0, Double.NaN, Double.NaN, -1}, 5);
        double nan = Double.NaN;
        assertArrayEquals(new double[] {2, nan, nan, nan, -0.5}, a.maximum(b).toDoubleArray());
        assertArrayEquals(new double[] {1, nan, nan, nan, -1}, a.minimum(b).toDoubleArray());
        assertArrayEquals(new double[] {2, nan, nan, nan, -0.5}, b.maximum(a).toDoubleArray());
    }

    @Test
    void whereBroadcastsAllThree() {
        Tensor cond = Tensor.of(new double[] {1, 0, 0.5}, 3, 1); // any non-zero counts as true
        Tensor a = Tensor.of(new double[] {10, 20}, 1, 2);
        Tensor b = Tensor.scalar(-1, DType.F64);
        Tensor w = Tensor.where(cond, a, b);
        assertShape(new int[] {3, 2}, w);
        assertArrayEquals(new double[] {10, 20, -1, -1, 10, 20}, w.toDoubleArray());
        // An I64 condition works too, and strided operands give the same result.
        Tensor ci = Tensor.ofLongs(new long[] {0, 1, 1}, 3, 1);
        assertArrayEquals(new double[] {-1, -1, 10, 20, 10, 20}, Tensor.where(ci, a, b).toDoubleArray());
        assertSameValues("strided where", w, Tensor.where(strided(cond), strided(a), b));
        // NaN is non-zero: a NaN condition selects a.
        Tensor cn = Tensor.of(new double[] {Double.NaN}, 1);
        assertArrayEquals(new double[] {10, 20}, Tensor.where(cn, a.squeeze(0), b).toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> Tensor.where(cond, a, Tensor.scalar(1, DType.F32)));
    }

    @Test
    void maskedFill() {
        Tensor x = Tensor.arange(6, DType.F32).reshape(2, 3);
        Tensor mask = Tensor.of(new float[] {1, 0, 1}, 3);
        Tensor m = x.maskedFill(mask, Float.NEGATIVE_INFINITY);
        assertEquals(DType.F32, m.dtype());
        assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, 1, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, 4, Float.NEGATIVE_INFINITY},
                m.toFloatArray());
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, x.toFloatArray(), "maskedFill does not modify its input");
        Tensor mt = Tensor.of(new double[] {0, 1, 1, 0, 0, 1}, 3, 2).mT();
        assertArrayEquals(new float[] {0, 7, 2, 7, 4, 7}, x.maskedFill(mt, 7).toFloatArray());
        assertF32MatchesF64("maskedFill", in -> in[0].maskedFill(in[1], 0.1), TestTensors.randn(3, 4, 5), Tensor.of(new double[] {1, 0, 0, 1, 1}, 5));
    }

    @Test
    void clamp() {
        Tensor x = Tensor.of(new double[] {-3, -1, 0, 1, 3, Double.NaN, Double.NEGATIVE_INFINITY}, 7);
        assertArrayEquals(new double[] {-1, -1, 0, 1, 1, Double.NaN, -1}, x.clamp(-1, 1).toDoubleArray());
        assertArrayEquals(new double[] {0, 0, 0, 1, 3, Double.NaN, 0}, x.clamp(0, Double.POSITIVE_INFINITY).toDoubleArray());
        assertArrayEquals(new double[] {-3, -1, 0, 0.5, 0.5, Double.NaN, Double.NEGATIVE_INFINITY},
                x.clamp(Double.NEGATIVE_INFINITY, 0.5).toDoubleArray());
        assertArrayEquals(new double[] {2, 2, 2, 2, 2, Double.NaN, 2}, x.clamp(2, 2).toDoubleArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.clamp(1, -1));
        assertTrue(e.getMessage().contains("1.0") && e.getMessage().contains("-1.0"), e.getMessage());
    }

    @Test
    void pow() {
        Tensor x = Tensor.of(new double[] {-2, -1, 0, 0.5, 2, 4}, 6);
        assertArrayEquals(new double[] {4, 1, 0, 0.25, 4, 16}, x.pow(2).toDoubleArray());
        assertArrayEquals(new double[] {-8, -1, 0, 0.125, 8, 64}, x.pow(3).toDoubleArray());
        assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1}, x.pow(0).toDoubleArray());
        double[] half = x.pow(0.5).toDoubleArray();
        assertTrue(Double.isNaN(half[0]) && Double.isNaN(half[1]));
        assertArrayEquals(new double[] {0, Math.sqrt(0.5), Math.sqrt(2), 2}, Arrays.copyOfRange(half, 2, 6));
        assertArrayEquals(new double[] {-0.5, -1, Double.POSITIVE_INFINITY, 2, 0.5, 0.25}, x.pow(-1).toDoubleArray());
        // GeM pooling's form: clamp then pow then mean then pow(1/p).
        Tensor g = Tensor.of(new double[] {1e-9, 2}, 2).clamp(1e-6, Double.POSITIVE_INFINITY).pow(3).mean().pow(1 / 3.0);
        assertEquals(Math.cbrt((1e-18 + 8) / 2), g.item(), 1e-15);
    }

    @Test
    void scalarArithmetic() {
        Tensor x = Tensor.of(new double[] {1, -2, 3}, 3);
        assertArrayEquals(new double[] {3.5, 0.5, 5.5}, x.add(2.5).toDoubleArray());
        assertArrayEquals(new double[] {-1, -4, 1}, x.sub(2).toDoubleArray());
        assertArrayEquals(new double[] {-3, 6, -9}, x.mul(-3).toDoubleArray());
        assertArrayEquals(new double[] {0.25, -0.5, 0.75}, x.div(4).toDoubleArray());
        assertArrayEquals(new double[] {-1, 2, -3}, x.neg().toDoubleArray());
        // div(c) is a multiplication by 1/c: within one rounding of the true quotient.
        double[] third = Tensor.of(new double[] {1, 2, 10}, 3).div(3).toDoubleArray();
        assertClose("x/3", new double[] {1 / 3.0, 2 / 3.0, 10 / 3.0}, third, 2.3e-16, 0);
    }

    /** Every unary op through the tensor API applies the scalar definition to each element, for any layout. */
    @Test
    void unaryOpsApplyScalarDefinition() {
        Tensor pos = TestTensors.uniform(4, 0.1, 4, 3, 4);
        Tensor any = TestTensors.randn(5, 3, 4).mul(2);
        record Case(String name, UnaryOp op, boolean positive, java.util.function.UnaryOperator<Tensor> f) { }
        Case[] cases = {
                new Case("neg", UnaryOp.NEG, false, Tensor::neg),
                new Case("exp", UnaryOp.EXP, false, Tensor::exp),
                new Case("log", UnaryOp.LOG, true, Tensor::log),
                new Case("sqrt", UnaryOp.SQRT, true, Tensor::sqrt),
                new Case("rsqrt", UnaryOp.RSQRT, true, Tensor::rsqrt),
                new Case("abs", UnaryOp.ABS, false, Tensor::abs),
                new Case("relu", UnaryOp.RELU, false, Tensor::relu),
                new Case("gelu", UnaryOp.GELU, false, Tensor::gelu),
                new Case("geluTanh", UnaryOp.GELU_TANH, false, Tensor::geluTanh),
                new Case("tanh", UnaryOp.TANH, false, Tensor::tanh),
                new Case("sigmoid", UnaryOp.SIGMOID, false, Tensor::sigmoid),
        };
        for (Case c : cases) {
            Tensor x = c.positive() ? pos : any;
            double[] in = x.toDoubleArray(), want = new double[in.length];
            for (int i = 0; i < in.length; i++) want[i] = ScalarMath.apply(c.op(), in[i], 0, 0);
            Tensor got = c.f().apply(x);
            assertShape(x.shape(), got);
            assertClose(c.name(), want, got, 0, 0);
            // A transposed view gives the transposed result.
            assertSameValues(c.name() + " of transposed view", got.mT(), c.f().apply(x.mT()));
            assertSameValues(c.name() + " of strided view", got, c.f().apply(strided(x)));
            assertF32MatchesF64(c.name(), in2 -> c.f().apply(in2[0]), x);
        }
        assertF32MatchesF64("pow", in -> in[0].pow(1.7), pos);
        assertF32MatchesF64("clamp", in -> in[0].clamp(-0.3, 0.8), any);
        assertF32MatchesF64("affine", in -> in[0].backend().unary(UnaryOp.AFFINE, in[0], 1.3, 0.7), any);
    }

    @Test
    void unaryOpsKeepZeroDimAndEmptyShapes() {
        assertEquals(Math.exp(2), Tensor.scalar(2, DType.F64).exp().item());
        assertShape(new int[] {}, Tensor.scalar(2, DType.F64).exp());
        assertShape(new int[] {0, 3}, Tensor.zeros(DType.F32, 0, 3).exp());
        assertShape(new int[] {0, 3}, Tensor.zeros(DType.F32, 0, 3).add(Tensor.zeros(DType.F32, 1, 3)));
    }

    /** unaryBackward(op, x, dy) = dy · f'(x), with dy broadcast to x's shape and any layout. */
    @Test
    void unaryBackwardIsUpstreamTimesDerivative() {
        Backend be = Backends.forDevice(Device.CPU);
        Tensor x = TestTensors.uniform(6, 0.2, 3, 2, 3, 4);
        Tensor dy = TestTensors.randn(7, 3, 4);
        double[] xs = x.toDoubleArray(), gs = dy.expand(x.shape()).contiguous().toDoubleArray();
        for (UnaryOp op : UnaryOp.values()) {
            double p0 = op == UnaryOp.POW ? 2.5 : op == UnaryOp.CLAMP ? 0.5 : op == UnaryOp.AFFINE ? -2 : 0;
            double p1 = op == UnaryOp.CLAMP ? 2 : op == UnaryOp.AFFINE ? 1 : 0;
            double[] want = new double[xs.length];
            for (int i = 0; i < xs.length; i++) want[i] = gs[i] * ScalarMath.derivative(op, xs[i], p0, p1);
            Tensor got = be.unaryBackward(op, x, dy, p0, p1);
            assertShape(x.shape(), got);
            assertClose(op + " backward", want, got, 0, 0);
            assertSameValues(op + " backward strided", got, be.unaryBackward(op, strided(x), strided(dy), p0, p1));
        }
    }

    @Property(tries = 30)
    void arithmeticIdentities(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = TestTensors.randomShape(r, 1, 3, 5);
        Tensor a = TestTensors.randn(seed, shape), b = TestTensors.uniform(seed + 1, 0.5, 2, shape);
        // Exact identities of IEEE arithmetic.
        assertSameValues("a + b = b + a", a.add(b), b.add(a));
        assertSameValues("a * b = b * a", a.mul(b), b.mul(a));
        assertSameValues("a - a = 0", Tensor.zeros(DType.F64, shape), a.sub(a));
        assertSameValues("-a = 0 - a", a.neg(), Tensor.zeros(DType.F64, shape).sub(a));
        assertSameValues("max(a,b) + min(a,b) = a + b", a.add(b), a.maximum(b).add(a.minimum(b)));
        assertSameValues("relu(a) = max(a, 0)", a.relu(), a.maximum(Tensor.scalar(0, DType.F64)));
        assertSameValues("|a| = max(a, -a)", a.abs(), a.maximum(a.neg()));
        // Rounded identities: |exp(log b) − b| ≤ a few ulp.
        assertClose("exp(log b) = b", b, b.log().exp(), 1e-15, 0);
        assertClose("sqrt(b)^2 = b", b, b.sqrt().mul(b.sqrt()), 1e-15, 0);
        assertClose("rsqrt = 1/sqrt", Tensor.ones(DType.F64, shape).div(b.sqrt()), b.rsqrt(), 1e-15, 0);
        assertClose("sigmoid(a) = 1/(1+exp(-a))", Tensor.ones(DType.F64, shape).div(a.neg().exp().add(1)), a.sigmoid(), 1e-15, 0);
        BiFunction<Tensor, Tensor, Tensor> dot = (p, q) -> p.mul(q).sum();
        assertClose("(a·b)·1", dot.apply(a, b), dot.apply(b, a), 1e-14, 1e-14);
    }

    @Test
    void arithmeticOnI64IsRejected() {
        Tensor l = Tensor.ofLongs(new long[] {1, 2}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> l.add(l));
        assertTrue(e.getMessage().contains("I64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> l.mul(2));
        assertThrows(IllegalArgumentException.class, () -> l.sum());
    }
}
