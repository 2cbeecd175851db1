package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * erf/erfc, Φ and GELU against values computed with mpmath at 40 digits (rounded to the nearest
 * double). Tolerances are relative, per range, and say what the implementation achieves there.
 */
class SpecialFunctionsTest {

    /** |a − b| ≤ atol + rtol·|b|. */
    private static void close(double expected, double actual, double rtol, double atol, String what) {
        assertTrue(Math.abs(actual - expected) <= atol + rtol * Math.abs(expected),
                () -> String.format("%s: expected %.17g, got %.17g (rel err %.3g)", what, expected, actual,
                        Math.abs(actual - expected) / Math.abs(expected)));
    }

    // {x, erf(x), erfc(x)} from mpmath.
    private static final double[][] ERF = {
            {0.1, 0.1124629160182849, 0.8875370839817152},
            {0.5, 0.5204998778130465, 0.4795001221869535},
            {1.0, 0.8427007929497149, 0.15729920705028513},
            {1.5, 0.9661051464753108, 0.033894853524689274},
            {2.0, 0.9953222650189527, 0.004677734981047266},
            {2.4, 0.999311486103355, 0.0006885138966450786},
            {2.49, 0.9995707121322661, 0.0004292878677339134},
            {2.5, 0.999593047982555, 0.0004069520174449589},
            {2.51, 0.9996142945182758, 0.00038570548172427936},
            {3.0, 0.9999779095030014, 2.209049699858544e-05},
            {4.0, 0.9999999845827421, 1.541725790028002e-08},
            {5.0, 0.9999999999984626, 1.537459794428035e-12},
            {6.0, 1.0, 2.1519736712498913e-17},
            {10.0, 1.0, 2.088487583762545e-45},
            {20.0, 1.0, 5.395865611607901e-176},
            {26.0, 1.0, 5.663192408856143e-296},
    };

    @Test
    void erfMatchesHighPrecisionValues() {
        for (double[] row : ERF) {
            // erf: the positive-term series (|x| < 2.5) and 1 − erfc (beyond) both keep ~1 ulp.
            close(row[1], SpecialFunctions.erf(row[0]), 4e-16, 0, "erf(" + row[0] + ")");
            close(-row[1], SpecialFunctions.erf(-row[0]), 4e-16, 0, "erf(" + -row[0] + ")");
        }
        close(1.1283791670955126e-10, SpecialFunctions.erf(1e-10), 4e-16, 0, "erf(1e-10)");
        close(1.1283791670955126e-300, SpecialFunctions.erf(1e-300), 4e-16, 0, "erf(1e-300)");
        assertEquals(0.0, SpecialFunctions.erf(0.0));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(SpecialFunctions.erf(-0.0)), "erf(-0) = -0");
        assertEquals(1.0, SpecialFunctions.erf(Double.POSITIVE_INFINITY));
        assertEquals(-1.0, SpecialFunctions.erf(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(SpecialFunctions.erf(Double.NaN)));
    }

    @Test
    void erfcMatchesHighPrecisionValues() {
        for (double[] row : ERF) {
            double x = row[0];
            // Below 2.5 erfc is 1 − erf and loses about eps/erfc(x) relatively (measured ≤ 1.6e-12
            // just below 2.5); from 2.5 on the continued fraction keeps ~1e-15, limited at large x
            // only by the rounding of x² inside exp(−x²) (≈ x²·eps ≈ 6e-14 at x = 25).
            double rtol = x < 2.5 ? 3e-12 : 1e-13;
            close(row[2], SpecialFunctions.erfc(x), rtol, 0, "erfc(" + x + ")");
            // erfc(−x) = 2 − erfc(x) ∈ [1, 2]: no cancellation, so double precision throughout.
            close(2 - row[2], SpecialFunctions.erfc(-x), 4e-16, 0, "erfc(" + -x + ")");
        }
        // The values named in the issue.
        close(2.209049699858544e-05, SpecialFunctions.erfc(3), 1e-14, 0, "erfc(3)");
        close(1.5374597944280349e-12, SpecialFunctions.erfc(5), 1e-14, 0, "erfc(5)");
        close(2.088487583762545e-45, SpecialFunctions.erfc(10), 1e-14, 0, "erfc(10)");
        assertEquals(1.0, SpecialFunctions.erfc(0));
        assertEquals(0.0, SpecialFunctions.erfc(30));
        assertEquals(0.0, SpecialFunctions.erfc(Double.POSITIVE_INFINITY));
        assertEquals(2.0, SpecialFunctions.erfc(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(SpecialFunctions.erfc(Double.NaN)));
    }

    @Property(tries = 200)
    void erfIsOddAndErfcIsItsComplement(@ForAll @DoubleRange(min = -8, max = 8) double x) {
        assertEquals(-SpecialFunctions.erf(x), SpecialFunctions.erf(-x), 0.0, "erf is exactly odd");
        // erf + erfc = 1 up to the rounding of the two terms.
        assertEquals(1.0, SpecialFunctions.erf(x) + SpecialFunctions.erfc(x), 4e-16);
        double e = SpecialFunctions.erf(x);
        assertTrue(e >= -1 && e <= 1);
    }

    @Test
    void erfIsMonotone() {
        double prev = -1;
        for (double x = -6; x <= 6; x += 0.001) {
            double e = SpecialFunctions.erf(x);
            assertTrue(e >= prev, "erf decreases at " + x);
            prev = e;
        }
        // Around the switch from series to continued fraction, no jump beyond a few ulp.
        double below = SpecialFunctions.erfc(Math.nextDown(2.5)), at = SpecialFunctions.erfc(2.5);
        close(at, below, 3e-12, 0, "erfc continuity at 2.5");
    }

    @Test
    void normalCdfInTheTails() {
        // {x, Φ(x)} from mpmath.ncdf.
        double[][] cdf = {
                {-3, 0.0013498980316300946},
                {-5, 2.866515718791939e-07},
                {-10, 7.619853024160525e-24},
                {-20, 2.7536241186062337e-89},
                {-30, 4.906713927148187e-198},
                {-37, 5.725571222524577e-300},
                {3, 0.9986501019683699},
                {8, 0.9999999999999993},
        };
        for (double[] row : cdf) {
            // x/√2 < 2.5 (x > −3.54) goes through 1 − erf: relative 3e-12 (see erfc). Deeper in
            // the tail the continued fraction is accurate, but Φ's condition number there is about
            // x², so the rounding of x/√2 alone costs x²·eps (1.5e-13 at x = −37).
            double rtol = row[0] > -3.54 ? 3e-12 : 1e-14 + 2.3e-16 * row[0] * row[0];
            close(row[1], SpecialFunctions.normalCdf(row[0]), rtol, 0, "Φ(" + row[0] + ")");
        }
        assertEquals(0.5, SpecialFunctions.normalCdf(0));
        assertEquals(0.0, SpecialFunctions.normalCdf(-40));
        assertEquals(1.0, SpecialFunctions.normalCdf(40));
        for (double x = 0; x < 8; x += 0.25) {
            assertEquals(1.0, SpecialFunctions.normalCdf(x) + SpecialFunctions.normalCdf(-x), 4e-16, "Φ(x) + Φ(−x) at " + x);
        }
        close(0.3989422804014327, SpecialFunctions.normalPdf(0), 2e-16, 0, "φ(0)");
        close(0.24197072451914337, SpecialFunctions.normalPdf(1), 2e-16, 0, "φ(1)");
    }

    // ---- GELU -----------------------------------------------------------------------------------

    @Test
    void geluMatchesHighPrecisionValues() {
        // {x, gelu(x), gelu'(x), geluTanh(x), geluTanh'(x)} from mpmath.
        double[][] g = {
                {-3, -0.0040496940948902835, -0.011945647204183927, -0.003637392081773019, -0.011584166630969726},
                {-1, -0.15865525393145705, -0.0833154705876863, -0.1588080093917233, -0.08296408384578255},
                {-0.5, -0.15426876936299344, 0.13250487534383715, -0.15428599017485609, 0.1326300964653577},
                {0.5, 0.34573123063700656, 0.8674951246561629, 0.34571400982514394, 0.8673699035346423},
                {1, 0.8413447460685429, 1.0833154705876864, 0.8411919906082767, 1.0829640838457826},
                {2, 1.9544997361036416, 1.085231801078197, 1.954597694087775, 1.0860992566236183},
        };
        for (double[] r : g) {
            // Φ carries at most 3e-12 relative error (see normalCdf), the rest is a few roundings.
            close(r[1], SpecialFunctions.gelu(r[0]), 3e-12, 1e-17, "gelu(" + r[0] + ")");
            close(r[2], SpecialFunctions.geluGrad(r[0]), 3e-12, 1e-17, "gelu'(" + r[0] + ")");
            // The tanh form cancels in 1 + tanh(u) for negative x (1.8e-14 measured at x = −3).
            close(r[3], SpecialFunctions.geluTanh(r[0]), 1e-13, 1e-17, "geluTanh(" + r[0] + ")");
            close(r[4], SpecialFunctions.geluTanhGrad(r[0]), 1e-13, 1e-17, "geluTanh'(" + r[0] + ")");
        }
        assertEquals(0.0, SpecialFunctions.gelu(0));
        assertEquals(0.5, SpecialFunctions.geluGrad(0));
        assertEquals(0.5, SpecialFunctions.geluTanhGrad(0));
        // Far tails: gelu(x) → x for large x, → 0⁻ for very negative x, without NaN.
        assertEquals(50.0, SpecialFunctions.gelu(50));
        assertEquals(0.0, SpecialFunctions.gelu(-50), 1e-300);
        assertEquals(1.0, SpecialFunctions.geluGrad(50));
        assertEquals(0.0, SpecialFunctions.geluGrad(-50), 1e-300);
        assertTrue(Double.isFinite(SpecialFunctions.geluTanh(-50)));
    }

    /**
     * Analytic derivatives against central differences: with h = 1e-5 the truncation error is
     * h²·|f'''|/6 ≲ 1e-10 and the rounding error eps·|f|/h ≲ 1e-10 for |x| ≤ 6, so 1e-8 absolute
     * (plus 1e-7 relative) separates a right derivative from a wrong one by orders of magnitude.
     */
    @Property(tries = 200)
    void geluGradientsMatchFiniteDifferences(@ForAll @DoubleRange(min = -6, max = 6) double x) {
        double h = 1e-5;
        double fd = (SpecialFunctions.gelu(x + h) - SpecialFunctions.gelu(x - h)) / (2 * h);
        close(fd, SpecialFunctions.geluGrad(x), 1e-7, 1e-8, "gelu'(" + x + ")");
        double fdt = (SpecialFunctions.geluTanh(x + h) - SpecialFunctions.geluTanh(x - h)) / (2 * h);
        close(fdt, SpecialFunctions.geluTanhGrad(x), 1e-7, 1e-8, "geluTanh'(" + x + ")");
        // The tanh form approximates the exact one to within 5e-4 everywhere.
        assertEquals(SpecialFunctions.gelu(x), SpecialFunctions.geluTanh(x), 5e-4);
    }
}
