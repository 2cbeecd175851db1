package dev.irtj.tensor;

/**
 * erf, erfc and the GELU family in double precision, accurate to a few ulp (Java has no erf).
 *
 * <p>erf uses the series erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)), whose terms
 * are all positive, so it keeps full relative precision; erfc of large arguments uses the
 * Laplace continued fraction (evaluated with the modified Lentz method) so that Φ(x) for very
 * negative x does not lose digits to cancellation.
 */
public final class SpecialFunctions {
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
    private static final double INV_SQRT_PI = 0.5641895835477563;
    private static final double INV_SQRT2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;
    private static final double SQRT_2_OVER_PI = 0.7978845608028654;

    private SpecialFunctions() {
    }

    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax >= 2.5) return Math.copySign(1.0 - erfcLarge(ax), x);
        double x2 = ax * ax;
        double term = ax, sum = ax;
        for (int n = 1; n < 200; n++) {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return Math.copySign(TWO_OVER_SQRT_PI * Math.exp(-x2) * sum, x);
    }

    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x >= 2.5) return erfcLarge(x);
        if (x <= -2.5) return 2.0 - erfcLarge(-x);
        return 1.0 - erf(x);
    }

    /** erfc(x) for x ≥ 2.5: e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))). */
    private static double erfcLarge(double x) {
        if (x > 27) return 0.0;
        double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int k = 1; k < 500; k++) {
            double a = k * 0.5;
            d = x + a * d;
            d = d == 0 ? tiny : d;
            c = x + a / c;
            c = c == 0 ? tiny : c;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return INV_SQRT_PI * Math.exp(-x * x) / f;
    }

    /** Standard normal CDF Φ(x), accurate in both tails. */
    public static double normalCdf(double x) {
        return 0.5 * erfc(-x * INV_SQRT2);
    }

    public static double normalPdf(double x) {
        return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    }

    /** x·Φ(x). */
    public static double gelu(double x) {
        return x * normalCdf(x);
    }

    /** d/dx x·Φ(x) = Φ(x) + x·φ(x). */
    public static double geluGrad(double x) {
        return normalCdf(x) + x * normalPdf(x);
    }

    public static double geluTanh(double x) {
        double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
        return 0.5 * x * (1 + Math.tanh(u));
    }

    public static double geluTanhGrad(double x) {
        double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
        double t = Math.tanh(u);
        double du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
    }
}
