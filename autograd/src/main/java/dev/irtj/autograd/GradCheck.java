package dev.irtj.autograd;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.HostStorage;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Checks hand-written gradients against central differences, in F64 (after PyTorch's gradcheck
 * and DL4J's GradientCheckUtil).
 *
 * <p>The function's output {@code y} is reduced to the scalar {@code L = Σ y·w} with fixed random
 * weights {@code w}, so every output element contributes. For every element {@code x_j} of every
 * input, the analytical ∂L/∂x_j from {@link Var#backward(Tensor)} must match
 * {@code (L(x_j + eps) − L(x_j − eps)) / 2eps} within {@code |a − n| ≤ atol + rtol·|n|}.
 * Inputs are converted to F64 copies first; the function must stay in F64 and be smooth near
 * the inputs (no ties in max, no relu at 0).
 *
 * <pre>{@code
 * GradCheck.check(in -> in[0].matmul(in[1]).softmax(), a, b);
 * GradCheck.withTolerances(1e-6, 1e-7, 1e-5).check(...);
 * }</pre>
 */
public final class GradCheck {
    public static final double DEFAULT_EPS = 1e-6;
    public static final double DEFAULT_ATOL = 1e-5;
    public static final double DEFAULT_RTOL = 1e-3;

    private final double eps;
    private final double atol;
    private final double rtol;
    private final long seed;

    private GradCheck(double eps, double atol, double rtol, long seed) {
        if (!(eps > 0) || atol < 0 || rtol < 0) {
            throw new IllegalArgumentException("GradCheck needs eps > 0 and non-negative tolerances, got eps " + eps + ", atol " + atol + ", rtol " + rtol);
        }
        this.eps = eps;
        this.atol = atol;
        this.rtol = rtol;
        this.seed = seed;
    }

    /** A checker with the defaults: eps 1e-6, atol 1e-5, rtol 1e-3. */
    public static GradCheck defaults() {
        return new GradCheck(DEFAULT_EPS, DEFAULT_ATOL, DEFAULT_RTOL, 0);
    }

    public static GradCheck withTolerances(double eps, double atol, double rtol) {
        return new GradCheck(eps, atol, rtol, 0);
    }

    /** The same checker with another seed for the output weights. */
    public GradCheck seed(long newSeed) {
        return new GradCheck(eps, atol, rtol, newSeed);
    }

    /** Checks with the default settings; throws {@link GradCheckFailure} on the first mismatch. */
    public static void check(Function<Var[], Var> fn, Tensor... inputs) {
        defaults().verify(fn, inputs);
    }

    /** Throws {@link GradCheckFailure} naming the input, the element and both values on a mismatch. */
    public void verify(Function<Var[], Var> fn, Tensor... inputs) {
        Result r = run(fn, inputs);
        if (!r.passed()) throw new GradCheckFailure(r.message());
    }

    /** Runs the check and reports the first mismatch, if any, and the largest error seen. */
    public Result run(Function<Var[], Var> fn, Tensor... inputs) {
        if (inputs.length == 0) throw new IllegalArgumentException("GradCheck needs at least one input");
        Tensor[] x = new Tensor[inputs.length];
        Var[] vars = new Var[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (!inputs[i].dtype().isFloating()) throw new IllegalArgumentException("input " + i + " is " + inputs[i].dtype() + "; pass index tensors through the closure");
            x[i] = inputs[i].to(DType.F64).copy();
            vars[i] = Var.param(x[i]);
        }
        Var y = fn.apply(vars);
        if (y.dtype() != DType.F64) throw new IllegalArgumentException("the checked function returned " + y.dtype() + "; it must compute in F64");
        Tensor w = Tensor.randn(new Rng(seed), DType.F64, y.shape());
        if (!y.requiresGrad()) {
            return new Result(true, "output does not depend on any input", 0, 0);
        }
        y.backward(w);
        double[] weights = w.toDoubleArray();
        double worstAbs = 0, worstRel = 0;
        for (int i = 0; i < x.length; i++) {
            Tensor analytical = vars[i].grad();
            double[] a = analytical == null ? new double[x[i].numel()] : analytical.toDoubleArray();
            double[] data = ((HostStorage) x[i].storage()).f64();
            int[] shape = x[i].shape();
            for (int j = 0; j < data.length; j++) {
                double saved = data[j];
                data[j] = saved + eps;
                double plus = objective(fn, x, weights);
                data[j] = saved - eps;
                double minus = objective(fn, x, weights);
                data[j] = saved;
                double numerical = (plus - minus) / (2 * eps);
                double diff = Math.abs(a[j] - numerical);
                worstAbs = Math.max(worstAbs, diff);
                worstRel = Math.max(worstRel, diff / Math.max(Math.abs(numerical), 1e-300));
                if (!(diff <= atol + rtol * Math.abs(numerical))) {
                    String msg = String.format("gradient of input %d (shape %s) at index %s: analytical %.10g, numerical %.10g"
                                    + " (|diff| %.3g > atol %.1g + rtol %.1g * |numerical|)",
                            i, Arrays.toString(shape), Arrays.toString(unravel(j, shape)), a[j], numerical, diff, atol, rtol);
                    return new Result(false, msg, worstAbs, worstRel);
                }
            }
        }
        return new Result(true, "ok", worstAbs, worstRel);
    }

    private static double objective(Function<Var[], Var> fn, Tensor[] x, double[] weights) {
        try (NoGrad ignored = NoGrad.enter()) {
            Var[] vars = new Var[x.length];
            for (int i = 0; i < x.length; i++) vars[i] = Var.constant(x[i]);
            double[] y = fn.apply(vars).data().toDoubleArray();
            double s = 0;
            for (int k = 0; k < y.length; k++) s += y[k] * weights[k];
            return s;
        }
    }

    private static int[] unravel(int linear, int[] shape) {
        int[] c = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            c[d] = linear % shape[d];
            linear /= shape[d];
        }
        return c;
    }

    /** Outcome of a check: the first mismatch's description, and the largest errors seen. */
    public record Result(boolean passed, String message, double maxAbsError, double maxRelError) {
    }

    /** A gradient that does not match its numerical estimate. */
    public static final class GradCheckFailure extends AssertionError {
        private static final long serialVersionUID = 1L;

        GradCheckFailure(String message) {
            super("GradCheck failed: " + message);
        }
    }
}
