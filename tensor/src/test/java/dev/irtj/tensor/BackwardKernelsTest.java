package dev.irtj.tensor;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static dev.irtj.tensor.TestTensors.assertClose;
import static dev.irtj.tensor.TestTensors.assertSameValues;
import static dev.irtj.tensor.TestTensors.assertShape;
import static dev.irtj.tensor.TestTensors.strided;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The backend's hand-written backward kernels (softmax, layer norm, L2 normalize) against
 * central finite differences of L(x) = Σ dy ⊙ f(x) in F64, and the AdamW step against a scalar
 * transcription of PyTorch's rule.
 *
 * <p>Finite-difference tolerance: with h = 1e-6 the truncation error is h²·|L'''| ≲ 1e-11 and the
 * rounding error is about eps·Σ|dy ⊙ f|/h ≲ 1e-9 for these sizes, so |a − b| ≤ 1e-7 + 1e-6·|b|
 * is comfortably above the noise and far below any wrong term.
 */
class BackwardKernelsTest {
    private static final Backend BE = Backends.forDevice(Device.CPU);
    private static final double H = 1e-6;

    /** ∂/∂x of Σ dy ⊙ f(x), by central differences. */
    private static double[] numericGrad(Function<Tensor, Tensor> f, Tensor x, Tensor dy) {
        double[] xv = x.toDoubleArray(), g = new double[xv.length];
        for (int i = 0; i < xv.length; i++) {
            double keep = xv[i];
            xv[i] = keep + H;
            double up = f.apply(Tensor.of(xv, x.shape())).mul(dy).sum().item();
            xv[i] = keep - H;
            double down = f.apply(Tensor.of(xv, x.shape())).mul(dy).sum().item();
            xv[i] = keep;
            g[i] = (up - down) / (2 * H);
        }
        return g;
    }

    private static void assertGrad(String what, double[] numeric, Tensor analytic) {
        assertClose(what, numeric, analytic, 1e-6, 1e-7);
    }

    private static int[] smallRowsShape(Rng r) {
        int[] s = TestTensors.randomShape(r, 1, 3, 3);
        s[s.length - 1] = 1 + r.nextInt(6);
        return s;
    }

    @Property(tries = 30)
    void softmaxBackwardMatchesFiniteDifferences(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = smallRowsShape(r);
        Tensor x = TestTensors.randn(seed, shape), dy = TestTensors.randn(seed + 1, shape);
        double scale = r.nextBoolean() ? 1 : 0.37;
        for (boolean log : new boolean[] {false, true}) {
            Tensor y = BE.softmax(x, scale, log);
            Tensor dx = BE.softmaxBackward(y, dy, scale, log);
            assertShape(shape, dx);
            assertGrad((log ? "log_softmax" : "softmax") + " scale " + scale, numericGrad(t -> BE.softmax(t, scale, log), x, dy), dx);
            assertSameValues("strided", dx, BE.softmaxBackward(strided(y), strided(dy), scale, log));
        }
    }

    @Property(tries = 30)
    void layerNormBackwardMatchesFiniteDifferences(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = smallRowsShape(r);
        int len = shape[shape.length - 1];
        Tensor x = TestTensors.randn(seed, shape), dy = TestTensors.randn(seed + 1, shape);
        Tensor w = TestTensors.randn(seed + 2, len), b = TestTensors.randn(seed + 3, len);
        double eps = 1e-5;
        Backend.LayerNormResult res = BE.layerNorm(x, w, b, eps);
        Tensor[] g = BE.layerNormBackward(dy, x, w, res.mean(), res.rstd(), true);
        assertShape(shape, g[0]);
        assertShape(new int[] {len}, g[1]);
        assertShape(new int[] {len}, g[2]);
        assertGrad("layer_norm dx", numericGrad(t -> BE.layerNorm(t, w, b, eps).y(), x, dy), g[0]);
        assertGrad("layer_norm dweight", numericGrad(t -> BE.layerNorm(x, t, b, eps).y(), w, dy), g[1]);
        assertGrad("layer_norm dbias", numericGrad(t -> BE.layerNorm(x, w, t, eps).y(), b, dy), g[2]);
        // Without affine parameters: dx of the plain normalization, no dweight/dbias.
        Backend.LayerNormResult plain = BE.layerNorm(x, null, null, eps);
        Tensor[] gp = BE.layerNormBackward(dy, x, null, plain.mean(), plain.rstd(), false);
        assertNull(gp[1]);
        assertNull(gp[2]);
        assertGrad("layer_norm dx without affine", numericGrad(t -> BE.layerNorm(t, null, null, eps).y(), x, dy), gp[0]);
        Tensor[] gs = BE.layerNormBackward(strided(dy), strided(x), strided(w), res.mean(), res.rstd(), true);
        for (int i = 0; i < 3; i++) assertSameValues("layer_norm backward strided " + i, g[i], gs[i]);
    }

    @Property(tries = 30)
    void l2NormalizeBackwardMatchesFiniteDifferences(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] shape = smallRowsShape(r);
        Tensor x = TestTensors.randn(seed, shape).add(0.1), dy = TestTensors.randn(seed + 1, shape);
        double eps = 1e-12;
        Tensor dx = BE.l2NormalizeBackward(x, dy, eps);
        assertShape(shape, dx);
        assertGrad("l2_normalize", numericGrad(t -> BE.l2Normalize(t, eps), x, dy), dx);
        assertSameValues("strided", dx, BE.l2NormalizeBackward(strided(x), strided(dy), eps));
    }

    @Test
    void l2NormalizeBackwardBelowEpsIsLinear() {
        // Below eps the function is x / eps, whose gradient is dy / eps.
        Tensor x = Tensor.of(new double[] {1e-8, -2e-8}, 1, 2), dy = Tensor.of(new double[] {3, 4}, 1, 2);
        assertClose("below eps", new double[] {3e6, 4e6}, BE.l2NormalizeBackward(x, dy, 1e-6), 1e-15, 0);
    }

    /** dy may broadcast (e.g. the gradient of a sum arrives as a scalar). */
    @Test
    void backwardKernelsAcceptBroadcastUpstream() {
        Tensor x = TestTensors.randn(9, 3, 4);
        Tensor one = Tensor.ones(DType.F64, 1);
        Tensor full = Tensor.ones(DType.F64, 3, 4);
        Tensor y = BE.softmax(x, 1, false);
        assertSameValues("softmax", BE.softmaxBackward(y, full, 1, false), BE.softmaxBackward(y, one, 1, false));
        assertSameValues("l2", BE.l2NormalizeBackward(x, full, 1e-12), BE.l2NormalizeBackward(x, one, 1e-12));
        Backend.LayerNormResult ln = BE.layerNorm(x, null, null, 1e-5);
        assertSameValues("layer_norm", BE.layerNormBackward(full, x, null, ln.mean(), ln.rstd(), false)[0],
                BE.layerNormBackward(one, x, null, ln.mean(), ln.rstd(), false)[0]);
    }

    // ---- AdamW ----------------------------------------------------------------------------------

    @Test
    void adamwMatchesPyTorchRule() {
        double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05;
        double[] p = {0.5, -1.0, 2.0, 0.0}, m = new double[4], v = new double[4];
        Tensor tp = Tensor.of(p, 4), tm = Tensor.zeros(DType.F64, 4), tv = Tensor.zeros(DType.F64, 4);
        Rng rng = new Rng(77);
        for (int step = 1; step <= 5; step++) {
            double[] g = new double[4];
            for (int i = 0; i < 4; i++) g[i] = rng.nextGaussian();
            // torch.optim.AdamW, written out per element.
            for (int i = 0; i < 4; i++) {
                p[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double mhat = m[i] / (1 - Math.pow(b1, step));
                double vhat = v[i] / (1 - Math.pow(b2, step));
                p[i] -= lr * mhat / (Math.sqrt(vhat) + eps);
            }
            BE.adamw(tp, Tensor.of(g, 4), tm, tv, new Backend.AdamWStep(step, lr, b1, b2, eps, wd));
            // The kernel folds the bias corrections into the step size (as torch does): a few ulp apart.
            assertClose("param after step " + step, p, tp, 1e-14, 1e-16);
            assertClose("m after step " + step, m, tm, 1e-15, 0);
            assertClose("v after step " + step, v, tv, 1e-15, 0);
        }
    }

    @Test
    void adamwFirstStepMovesByLearningRate() {
        // At step 1, m̂ = g and v̂ = g², so every parameter moves by lr·sign(g) (eps aside), plus decay.
        Tensor p = Tensor.of(new float[] {1, 1, 1}, 3);
        Tensor g = Tensor.of(new float[] {5, -0.01f, 100}, 3);
        BE.adamw(p, g, Tensor.zeros(DType.F32, 3), Tensor.zeros(DType.F32, 3), new Backend.AdamWStep(1, 0.1, 0.9, 0.999, 1e-8, 0));
        assertArrayEquals(new float[] {0.9f, 1.1f, 0.9f}, p.toFloatArray(), 1e-5f);
    }
}
