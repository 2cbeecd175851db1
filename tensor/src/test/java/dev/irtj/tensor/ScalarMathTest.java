package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scalar definitions every backend shares: values, special cases and derivatives. */
class ScalarMathTest {

    private static double f(UnaryOp op, double x, double p0, double p1) {
        return ScalarMath.apply(op, x, p0, p1);
    }

    @Test
    void unaryValues() {
        assertEquals(-2, f(UnaryOp.NEG, 2, 0, 0));
        assertEquals(Math.exp(1.5), f(UnaryOp.EXP, 1.5, 0, 0));
        assertEquals(Math.log(3), f(UnaryOp.LOG, 3, 0, 0));
        assertEquals(3, f(UnaryOp.SQRT, 9, 0, 0));
        assertEquals(0.5, f(UnaryOp.RSQRT, 4, 0, 0));
        assertEquals(2, f(UnaryOp.ABS, -2, 0, 0));
        assertEquals(0, f(UnaryOp.RELU, -2, 0, 0));
        assertEquals(2, f(UnaryOp.RELU, 2, 0, 0));
        assertTrue(Double.isNaN(f(UnaryOp.RELU, Double.NaN, 0, 0)), "relu propagates NaN");
        assertEquals(Math.tanh(0.3), f(UnaryOp.TANH, 0.3, 0, 0));
        assertEquals(0.5, f(UnaryOp.SIGMOID, 0, 0, 0));
        assertEquals(1 / (1 + Math.exp(-2)), f(UnaryOp.SIGMOID, 2, 0, 0));
        assertEquals(0, f(UnaryOp.SIGMOID, -1000, 0, 0));
        assertEquals(1, f(UnaryOp.SIGMOID, 1000, 0, 0));
        assertEquals(8, f(UnaryOp.POW, 2, 3, 0));
        assertEquals(Math.sqrt(2), f(UnaryOp.POW, 2, 0.5, 0));
        assertTrue(Double.isNaN(f(UnaryOp.POW, -2, 0.5, 0)));
        assertEquals(1, f(UnaryOp.POW, 0, 0, 0));
        assertEquals(-1, f(UnaryOp.CLAMP, -5, -1, 1));
        assertEquals(1, f(UnaryOp.CLAMP, 5, -1, 1));
        assertEquals(0.5, f(UnaryOp.CLAMP, 0.5, -1, 1));
        assertEquals(7, f(UnaryOp.CLAMP, 7, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
        assertTrue(Double.isNaN(f(UnaryOp.CLAMP, Double.NaN, -1, 1)), "clamp propagates NaN");
        assertEquals(7, f(UnaryOp.AFFINE, 2, 3, 1));
        assertEquals(SpecialFunctions.gelu(0.7), f(UnaryOp.GELU, 0.7, 0, 0));
        assertEquals(SpecialFunctions.geluTanh(0.7), f(UnaryOp.GELU_TANH, 0.7, 0, 0));
    }

    @Test
    void binaryValues() {
        assertEquals(5, ScalarMath.apply(BinaryOp.ADD, 2, 3));
        assertEquals(-1, ScalarMath.apply(BinaryOp.SUB, 2, 3));
        assertEquals(6, ScalarMath.apply(BinaryOp.MUL, 2, 3));
        assertEquals(2.0 / 3, ScalarMath.apply(BinaryOp.DIV, 2, 3));
        assertEquals(3, ScalarMath.apply(BinaryOp.MAXIMUM, 2, 3));
        assertEquals(2, ScalarMath.apply(BinaryOp.MINIMUM, 2, 3));
        for (BinaryOp op : new BinaryOp[] {BinaryOp.MAXIMUM, BinaryOp.MINIMUM}) {
            assertTrue(Double.isNaN(ScalarMath.apply(op, Double.NaN, 1)), op + " propagates NaN (first)");
            assertTrue(Double.isNaN(ScalarMath.apply(op, 1, Double.NaN)), op + " propagates NaN (second)");
        }
        assertEquals(1, ScalarMath.apply(BinaryOp.EQ, 2, 2));
        assertEquals(0, ScalarMath.apply(BinaryOp.NE, 2, 2));
        assertEquals(1, ScalarMath.apply(BinaryOp.LT, 1, 2));
        assertEquals(1, ScalarMath.apply(BinaryOp.LE, 2, 2));
        assertEquals(0, ScalarMath.apply(BinaryOp.GT, 2, 2));
        assertEquals(1, ScalarMath.apply(BinaryOp.GE, 2, 2));
        // IEEE comparisons: NaN is unequal to everything, ordered comparisons with NaN are false.
        assertEquals(0, ScalarMath.apply(BinaryOp.EQ, Double.NaN, Double.NaN));
        assertEquals(1, ScalarMath.apply(BinaryOp.NE, Double.NaN, Double.NaN));
        assertEquals(0, ScalarMath.apply(BinaryOp.LT, Double.NaN, 1));
        assertEquals(0, ScalarMath.apply(BinaryOp.GE, Double.NaN, 1));
        assertTrue(BinaryOp.EQ.isComparison() && BinaryOp.GE.isComparison());
        assertTrue(!BinaryOp.ADD.isComparison() && !BinaryOp.MINIMUM.isComparison());
    }

    @Test
    void derivativesAtKinks() {
        // The subgradient conventions PyTorch uses.
        assertEquals(0, ScalarMath.derivative(UnaryOp.RELU, 0, 0, 0));
        assertEquals(0, ScalarMath.derivative(UnaryOp.ABS, 0, 0, 0));
        assertEquals(1, ScalarMath.derivative(UnaryOp.CLAMP, -1, -1, 1), "clamp passes the gradient at its bounds");
        assertEquals(1, ScalarMath.derivative(UnaryOp.CLAMP, 1, -1, 1));
        assertEquals(0, ScalarMath.derivative(UnaryOp.CLAMP, 1.5, -1, 1));
        assertEquals(0, ScalarMath.derivative(UnaryOp.POW, 3, 0, 0));
        assertEquals(3, ScalarMath.derivative(UnaryOp.AFFINE, 100, 3, 7));
    }

    /**
     * f'(x) against central differences for every op at smooth points. h = 1e-6·max(1, |x|):
     * truncation h²·|f'''| and rounding eps·|f|/h are both ≲ 1e-8 relative for these ranges;
     * 1e-6 relative plus 1e-7 absolute leaves margin and still catches any wrong formula.
     */
    @Property(tries = 100)
    void derivativesMatchFiniteDifferences(@ForAll @DoubleRange(min = 0.2, max = 3) double x, @ForAll boolean negate) {
        for (UnaryOp op : UnaryOp.values()) {
            double p0 = 0, p1 = 0, at = negate ? -x : x;
            switch (op) {
                case LOG, SQRT, RSQRT -> at = x; // positive domain only
                case POW -> { at = x; p0 = negate ? -1.5 : 2.5; }
                case CLAMP -> { p0 = -1.0; p1 = 1.0; if (Math.abs(Math.abs(at) - 1) < 1e-3) continue; }
                case AFFINE -> { p0 = -1.75; p1 = 0.5; }
                default -> { }
            }
            double h = 1e-6 * Math.max(1, Math.abs(at));
            double fd = (f(op, at + h, p0, p1) - f(op, at - h, p0, p1)) / (2 * h);
            double d = ScalarMath.derivative(op, at, p0, p1);
            assertTrue(Math.abs(d - fd) <= 1e-7 + 1e-6 * Math.abs(fd),
                    op + "'(" + at + "): analytic " + d + ", finite difference " + fd);
        }
    }
}
