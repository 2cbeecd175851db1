package dev.irtj.autograd;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GradCheck itself: it passes correct gradients and pinpoints wrong ones. */
class GradCheckTest {

    /** x² with a deliberately wrong backward (3x instead of 2x) on element 2 only. */
    private static Var brokenSquare(Var x) {
        Tensor xd = x.data();
        return Var.result(xd.mul(xd), "broken_square", g -> {
            double[] d = xd.mul(2).toDoubleArray();
            d[2] = 3 * xd.toDoubleArray()[2];
            return new Tensor[] {g.mul(Tensor.of(d, xd.shape()))};
        }, x);
    }

    @Test
    void reportsInputElementAndBothValues() {
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
        Tensor b = Tensor.of(new double[] {0.5, -1, 2, 1}, 2, 2);
        GradCheck.GradCheckFailure f = assertThrows(GradCheck.GradCheckFailure.class,
                () -> GradCheck.check(in -> in[0].add(brokenSquare(in[1])), a, b));
        String m = f.getMessage();
        assertTrue(m.contains("input 1"), m);
        assertTrue(m.contains("index [1, 0]"), m);
        assertTrue(m.contains("analytical") && m.contains("numerical"), m);
    }

    @Test
    void resultCarriesTheErrors() {
        Tensor x = Tensor.of(new double[] {0.3, -0.7, 1.1}, 3);
        GradCheck.Result ok = GradCheck.defaults().run(in -> in[0].exp().mul(in[0]), x);
        assertTrue(ok.passed(), ok.message());
        assertTrue(ok.maxAbsError() < 1e-8, "central differences in F64 should be accurate, max error " + ok.maxAbsError());
        GradCheck.Result bad = GradCheck.defaults().run(GradCheckTest::firstOnly, x);
        assertFalse(bad.passed());
    }

    private static Var firstOnly(Var[] in) {
        return brokenSquare(in[0]);
    }

    @Test
    void acceptsF32InputsByCheckingInF64() {
        Tensor x = Tensor.of(new float[] {0.25f, -0.5f}, 2);
        GradCheck.check(in -> in[0].tanh(), x);
    }

    @Test
    void rejectsFunctionsThatLeaveF64() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GradCheck.check(in -> in[0].to(DType.F32), x));
        assertTrue(e.getMessage().contains("F32"), e.getMessage());
    }

    @Test
    void validatesSettings() {
        assertThrows(IllegalArgumentException.class, () -> GradCheck.withTolerances(0, 1e-5, 1e-3));
        assertEquals(1e-6, GradCheck.DEFAULT_EPS);
        assertEquals(1e-5, GradCheck.DEFAULT_ATOL);
        assertEquals(1e-3, GradCheck.DEFAULT_RTOL);
    }
}
