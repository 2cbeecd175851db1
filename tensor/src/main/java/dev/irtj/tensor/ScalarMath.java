package dev.irtj.tensor;

/** The scalar definition of every elementwise op and its derivative, shared by backends' reference paths. */
public final class ScalarMath {
    private ScalarMath() {
    }

    public static double apply(UnaryOp op, double x, double p0, double p1) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1.0 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0.0);
            case GELU -> SpecialFunctions.gelu(x);
            case GELU_TANH -> SpecialFunctions.geluTanh(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case POW -> Math.pow(x, p0);
            case CLAMP -> Double.isNaN(x) ? x : Math.min(Math.max(x, p0), p1);
            case AFFINE -> x * p0 + p1;
        };
    }

    /** f'(x) for the op f with the same parameters. */
    public static double derivative(UnaryOp op, double x, double p0, double p1) {
        return switch (op) {
            case NEG -> -1.0;
            case EXP -> Math.exp(x);
            case LOG -> 1.0 / x;
            case SQRT -> 0.5 / Math.sqrt(x);
            case RSQRT -> -0.5 / (x * Math.sqrt(x));
            case ABS -> x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
            case RELU -> x > 0 ? 1.0 : 0.0;
            case GELU -> SpecialFunctions.geluGrad(x);
            case GELU_TANH -> SpecialFunctions.geluTanhGrad(x);
            case TANH -> {
                double t = Math.tanh(x);
                yield 1 - t * t;
            }
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-x));
                yield s * (1 - s);
            }
            case POW -> p0 == 0 ? 0.0 : p0 * Math.pow(x, p0 - 1);
            case CLAMP -> x >= p0 && x <= p1 ? 1.0 : 0.0;
            case AFFINE -> p0;
        };
    }

    public static double apply(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAXIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
            case MINIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
        };
    }
}
