package dev.irtj.autograd;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.List;

/**
 * One property per differentiable op: {@link GradCheck} (F64, default tolerances) passes on
 * random shapes, size-1 and broadcast dims included, and random values. Inputs of non-smooth
 * ops keep away from their kinks (relu/abs at 0, clamp bounds, ties in max).
 */
class GradCheckPropertiesTest {
    private static final int TRIES = 25;

    @Provide
    Arbitrary<Tensor> small() {
        return TensorArbitraries.tensors(TensorArbitraries.shapes(1, 3, 4), DType.F64, -2, 2);
    }

    @Provide
    Arbitrary<Tensor> positive() {
        return TensorArbitraries.tensors(TensorArbitraries.shapes(1, 3, 4), DType.F64, 0.2, 3);
    }

    @Provide
    Arbitrary<Tensor> awayFromZero() {
        return TensorArbitraries.tensorsAwayFromZero(TensorArbitraries.shapes(1, 3, 4), DType.F64, 0.05, 2);
    }

    @Provide
    Arbitrary<Tensor[]> broadcastPair() {
        return TensorArbitraries.broadcastPairs(3, 4).flatMap(p -> Combinators.combine(
                TensorArbitraries.tensors(p[0], DType.F64, -2, 2),
                TensorArbitraries.tensors(p[1], DType.F64, 0.5, 2)).as((a, b) -> new Tensor[] {a, b}));
    }

    /** Values spaced apart so max/min/maximum never meet ties. */
    @Provide
    Arbitrary<Tensor> distinct() {
        return TensorArbitraries.shapes(1, 3, 4).flatMap(shape -> Arbitraries.longs().map(seed -> {
            int n = Tensor.zeros(DType.F64, shape).numel();
            int[] perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            new dev.irtj.tensor.Rng(seed).shuffle(perm);
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = 0.1 * perm[i] - 0.05 * n;
            return Tensor.of(v, shape);
        }));
    }

    @Provide
    Arbitrary<Tensor[]> matmulPair() {
        Arbitrary<Integer> d = Arbitraries.integers().between(1, 4);
        return Combinators.combine(d, d, d, Arbitraries.of(0, 1, 2), Arbitraries.of(true, false))
                .as((m, k, n, batch, bBatched) -> new int[] {m, k, n, batch, bBatched ? 1 : 0})
                .flatMap(s -> {
                    int[] sa = s[3] == 0 ? new int[] {s[0], s[1]} : new int[] {s[3], s[0], s[1]};
                    int[] sb = s[3] > 0 && s[4] == 1 ? new int[] {s[3], s[1], s[2]} : new int[] {s[1], s[2]};
                    return Combinators.combine(TensorArbitraries.tensors(sa, DType.F64, -1, 1),
                            TensorArbitraries.tensors(sb, DType.F64, -1, 1)).as((a, b) -> new Tensor[] {a, b});
                });
    }

    private static void check(java.util.function.Function<Var[], Var> fn, Tensor... inputs) {
        GradCheck.check(fn, inputs);
    }

    // ---- elementwise --------------------------------------------------------------------------

    @Property(tries = TRIES) void add(@ForAll("broadcastPair") Tensor[] p) { check(in -> in[0].add(in[1]), p); }
    @Property(tries = TRIES) void sub(@ForAll("broadcastPair") Tensor[] p) { check(in -> in[0].sub(in[1]), p); }
    @Property(tries = TRIES) void mul(@ForAll("broadcastPair") Tensor[] p) { check(in -> in[0].mul(in[1]), p); }
    @Property(tries = TRIES) void div(@ForAll("broadcastPair") Tensor[] p) { check(in -> in[0].div(in[1]), p); }

    @Property(tries = TRIES)
    void maximumAndMinimum(@ForAll("distinct") Tensor a) {
        Tensor b = a.neg().add(0.013);
        check(in -> in[0].maximum(in[1]), a, b);
        check(in -> in[0].minimum(in[1]), a, b);
    }

    @Property(tries = TRIES) void scalarAffine(@ForAll("small") Tensor x) { check(in -> in[0].mul(1.5).add(0.25).sub(1).div(3), x); }
    @Property(tries = TRIES) void neg(@ForAll("small") Tensor x) { check(in -> in[0].neg(), x); }
    @Property(tries = TRIES) void exp(@ForAll("small") Tensor x) { check(in -> in[0].exp(), x); }
    @Property(tries = TRIES) void log(@ForAll("positive") Tensor x) { check(in -> in[0].log(), x); }
    @Property(tries = TRIES) void sqrt(@ForAll("positive") Tensor x) { check(in -> in[0].sqrt(), x); }
    @Property(tries = TRIES) void rsqrt(@ForAll("positive") Tensor x) { check(in -> in[0].rsqrt(), x); }
    @Property(tries = TRIES) void abs(@ForAll("awayFromZero") Tensor x) { check(in -> in[0].abs(), x); }
    @Property(tries = TRIES) void relu(@ForAll("awayFromZero") Tensor x) { check(in -> in[0].relu(), x); }
    @Property(tries = TRIES) void gelu(@ForAll("small") Tensor x) { check(in -> in[0].gelu(), x); }
    @Property(tries = TRIES) void geluTanh(@ForAll("small") Tensor x) { check(in -> in[0].geluTanh(), x); }
    @Property(tries = TRIES) void tanh(@ForAll("small") Tensor x) { check(in -> in[0].tanh(), x); }
    @Property(tries = TRIES) void sigmoid(@ForAll("small") Tensor x) { check(in -> in[0].sigmoid(), x); }
    @Property(tries = TRIES) void pow(@ForAll("positive") Tensor x) { check(in -> in[0].pow(2.5), x); }
    @Property(tries = TRIES) void clamp(@ForAll("awayFromZero") Tensor x) { check(in -> in[0].clamp(-0.04, 0.03).add(in[0].clamp(-0.777, Double.POSITIVE_INFINITY).add(in[0].clamp(Double.NEGATIVE_INFINITY, 1.333))), x); }

    @Property(tries = TRIES)
    void whereAndMaskedFill(@ForAll("broadcastPair") Tensor[] p) {
        Tensor cond = p[0].gt(Tensor.scalar(0, DType.F64));
        check(in -> Var.where(cond, in[0], in[1]), p);
        check(in -> in[0].maskedFill(cond, 7.0), p[0]);
    }

    @Property(tries = TRIES)
    void castRoundTrip(@ForAll("small") Tensor x) {
        // F64 → F32 → F64 loses digits; the gradient (identity) must still pass at a loose tolerance.
        GradCheck.withTolerances(1e-3, 1e-4, 1e-3).verify(in -> in[0].to(DType.F32).to(DType.F64), x);
    }

    // ---- reductions ---------------------------------------------------------------------------

    @Property(tries = TRIES)
    void sumAndMean(@ForAll("small") Tensor x, @ForAll boolean keepdim) {
        check(in -> in[0].sum(-1, keepdim), x);
        check(in -> in[0].mean(0, keepdim), x);
        check(in -> in[0].sum(), x);
        if (x.rank() >= 2) check(in -> in[0].mean(new int[] {0, -1}, keepdim), x);
    }

    @Property(tries = TRIES)
    void maxAndMin(@ForAll("distinct") Tensor x, @ForAll boolean keepdim) {
        check(in -> in[0].max(-1, keepdim), x);
        check(in -> in[0].min(0, keepdim), x);
    }

    // ---- linear algebra -----------------------------------------------------------------------

    @Property(tries = TRIES)
    void matmul(@ForAll("matmulPair") Tensor[] p) {
        check(in -> in[0].matmul(in[1]), p);
        check(in -> in[1].mT().matmul(in[0].mT()), p);
    }

    @Property(tries = TRIES)
    void matmulWithVectors(@ForAll("small") Tensor x) {
        int k = x.shape(-1);
        Tensor v = Tensor.arange(k, DType.F64).mul(0.3).sub(0.5);
        check(in -> in[0].matmul(in[1]), x, v);
        check(in -> in[1].matmul(in[0].mT()), x.rank() >= 2 ? x : x.unsqueeze(0), v);
    }

    @Property(tries = TRIES)
    void linear(@ForAll("small") Tensor x, @ForAll("small") Tensor w) {
        Tensor weight = w.reshape(-1, 1).expand(-1, x.shape(-1)).contiguous().add(Tensor.arange(x.shape(-1), DType.F64).mul(0.1));
        Tensor bias = Tensor.arange(weight.shape(0), DType.F64).mul(0.2);
        check(in -> in[0].linear(in[1], in[2]), x, weight, bias);
        check(in -> in[0].linear(in[1], null), x, weight);
    }

    @Property(tries = TRIES)
    void linearGelu(@ForAll("small") Tensor x, @ForAll("small") Tensor w) {
        Tensor weight = w.reshape(-1, 1).expand(-1, x.shape(-1)).contiguous().add(Tensor.arange(x.shape(-1), DType.F64).mul(0.1));
        Tensor bias = Tensor.arange(weight.shape(0), DType.F64).mul(0.2).sub(0.3);
        check(in -> in[0].linearGelu(in[1], in[2]), x, weight, bias);
        // The fused op is the composition it replaces, forward and backward (F64, reference backend).
        Var[] fused = {Var.param(x), Var.param(weight), Var.param(bias)};
        Var[] composed = {Var.param(x), Var.param(weight), Var.param(bias)};
        Var yf = fused[0].linearGelu(fused[1], fused[2]), yc = composed[0].linear(composed[1], composed[2]).gelu();
        assertClose("forward", yc.data(), yf.data());
        Tensor dy = Tensor.randn(new dev.irtj.tensor.Rng(x.numel()), DType.F64, yf.shape());
        yf.backward(dy);
        yc.backward(dy);
        for (int i = 0; i < 3; i++) assertClose("gradient of input " + i, composed[i].grad(), fused[i].grad());
    }

    @Property(tries = TRIES)
    void addLayerNorm(@ForAll("small") Tensor x) {
        int n = x.shape(-1);
        Tensor r = x.mul(-0.7).add(Tensor.arange(n, DType.F64).mul(0.3)).contiguous();
        Tensor w = Tensor.arange(n, DType.F64).mul(0.2).add(0.9), b = Tensor.arange(n, DType.F64).mul(-0.1);
        // Both outputs feed the checked value, so h's gradient is the sum of the two paths, as in a block.
        check(in -> { ResidualNorm o = in[0].addLayerNorm(in[1], in[2], in[3], 1e-5); return o.sum().mul(0.3).add(o.normed()); }, x, r, w, b);
        check(in -> in[0].addLayerNorm(in[1], null, null, 1e-5).normed(), x, r);
        Var[] fused = {Var.param(x), Var.param(r), Var.param(w), Var.param(b)};
        Var[] composed = {Var.param(x), Var.param(r), Var.param(w), Var.param(b)};
        ResidualNorm of = fused[0].addLayerNorm(fused[1], fused[2], fused[3], 1e-6);
        Var hc = composed[0].add(composed[1]), yc = hc.layerNorm(composed[2], composed[3], 1e-6);
        assertClose("sum", hc.data(), of.sum().data());
        assertClose("norm", yc.data(), of.normed().data());
        Tensor c = Tensor.randn(new dev.irtj.tensor.Rng(n), DType.F64, x.shape());
        of.sum().mul(Var.constant(c)).add(of.normed()).sum().backward();
        hc.mul(Var.constant(c)).add(yc).sum().backward();
        for (int i = 0; i < 4; i++) assertClose("gradient of input " + i, composed[i].grad(), fused[i].grad());
    }

    private static void assertClose(String what, Tensor expected, Tensor actual) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            if (Math.abs(a[i] - e[i]) > 1e-12 + 1e-12 * Math.abs(e[i])) {
                org.junit.jupiter.api.Assertions.fail(what + ": element " + i + " expected " + e[i] + ", got " + a[i]);
            }
        }
    }

    @Property(tries = 10)
    void conv2dPatch(@ForAll("patchInputs") Tensor[] p) {
        check(in -> in[0].conv2dPatch(in[1], in[2]), p);
    }

    @Provide
    Arbitrary<Tensor[]> patchInputs() {
        Arbitrary<Integer> d = Arbitraries.integers().between(1, 2);
        return Combinators.combine(d, d, d, d, d).as((b, c, gh, gw, o) -> new int[] {b, c, gh, gw, o}).flatMap(s -> {
            int patch = 2;
            return Combinators.combine(
                    TensorArbitraries.tensors(new int[] {s[0], s[1], s[2] * patch, s[3] * patch}, DType.F64, -1, 1),
                    TensorArbitraries.tensors(new int[] {s[4], s[1], patch, patch}, DType.F64, -1, 1),
                    TensorArbitraries.tensors(new int[] {s[4]}, DType.F64, -1, 1)).as((x, w, b) -> new Tensor[] {x, w, b});
        });
    }

    // ---- fused row ops ------------------------------------------------------------------------

    @Property(tries = TRIES)
    void softmaxAndLogSoftmax(@ForAll("small") Tensor x) {
        check(in -> in[0].softmax(), x);
        check(in -> in[0].softmax(0.37), x);
        check(in -> in[0].logSoftmax(), x);
    }

    @Property(tries = TRIES)
    void selfAttention(@ForAll @IntRange(min = 1, max = 2) int batch, @ForAll @IntRange(min = 1, max = 4) int tokens,
                       @ForAll @IntRange(min = 1, max = 3) int heads, @ForAll @IntRange(min = 1, max = 3) int headDim,
                       @ForAll long seed) {
        Tensor qkv = Tensor.randn(new dev.irtj.tensor.Rng(seed), DType.F64, batch, tokens, 3 * heads * headDim);
        check(in -> in[0].selfAttention(heads, 0.61), qkv);
    }

    /** The fused op is the composition it replaces: same output and same gradient, to rounding. */
    @Property(tries = TRIES)
    void selfAttentionEqualsComposition(@ForAll @IntRange(min = 1, max = 2) int batch, @ForAll @IntRange(min = 1, max = 5) int tokens,
                                        @ForAll @IntRange(min = 1, max = 3) int heads, @ForAll @IntRange(min = 1, max = 4) int headDim,
                                        @ForAll long seed) {
        int d = heads * headDim;
        Tensor qkv = Tensor.randn(new dev.irtj.tensor.Rng(seed), DType.F64, batch, tokens, 3 * d);
        Tensor upstream = Tensor.randn(new dev.irtj.tensor.Rng(seed + 1), DType.F64, batch, tokens, d);
        Var fusedIn = Var.param(qkv), composedIn = Var.param(qkv);
        Var fused = fusedIn.selfAttention(heads, 0.5);
        Var parts = composedIn.reshape(batch, tokens, 3, heads, headDim).permute(2, 0, 3, 1, 4);
        Var composed = parts.select(0, 0).matmul(parts.select(0, 1).mT()).softmax(0.5).matmul(parts.select(0, 2))
                .transpose(1, 2).reshape(batch, tokens, d);
        fused.backward(upstream);
        composed.backward(upstream);
        // Both run the same double-precision kernels in a different order: 1e-12 covers rounding.
        assertClose(fused.data(), composed.data(), 1e-12);
        assertClose(fusedIn.grad(), composedIn.grad(), 1e-12);
    }

    private static void assertClose(Tensor actual, Tensor expected, double tol) {
        double[] a = actual.toDoubleArray(), e = expected.toDoubleArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.shape(), actual.shape());
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - e[i]) <= tol + tol * Math.abs(e[i]))) {
                throw new AssertionError("element " + i + ": " + a[i] + " vs " + e[i]);
            }
        }
    }

    @Property(tries = TRIES)
    void layerNorm(@ForAll("small") Tensor x) {
        int d = x.shape(-1);
        Tensor w = Tensor.arange(d, DType.F64).mul(0.3).add(0.7);
        Tensor b = Tensor.arange(d, DType.F64).mul(-0.2);
        // A row of one element has zero variance: its output is the bias alone and the x gradient 0.
        check(in -> in[0].layerNorm(in[1], in[2], 1e-5), x, w, b);
        check(in -> in[0].layerNorm(null, null, 1e-5), x);
    }

    @Property(tries = TRIES)
    void l2Normalize(@ForAll("awayFromZero") Tensor x) {
        check(in -> in[0].l2Normalize(), x);
    }

    // ---- views --------------------------------------------------------------------------------

    @Property(tries = TRIES)
    void views(@ForAll("small") Tensor x) {
        check(in -> in[0].reshape(-1).mul(in[0].flatten()), x);
        check(in -> in[0].unsqueeze(0).squeeze(0).transpose(0, -1), x);
        int[] perm = new int[x.rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = perm.length - 1 - i;
        check(in -> in[0].permute(perm).contiguous().exp(), x);
        check(in -> in[0].narrow(-1, x.shape(-1) / 2, (x.shape(-1) + 1) / 2).mul(2), x);
        check(in -> in[0].select(0, 0), x);
        int[] expanded = new int[x.rank() + 1];
        expanded[0] = 3;
        for (int i = 0; i < x.rank(); i++) expanded[i + 1] = x.shape(i);
        check(in -> in[0].expand(expanded).mul(in[0].unsqueeze(0)), x);
    }

    // ---- joining and indexing -----------------------------------------------------------------

    @Property(tries = TRIES)
    void catAndStack(@ForAll("small") Tensor a, @ForAll("small") Tensor b) {
        Tensor c = b.reshape(-1).narrow(0, 0, 1).expand(a.shape()).add(a.mul(0.5)).contiguous();
        check(in -> Var.cat(List.of(in[0], in[1], in[0]), 0), a, c);
        check(in -> Var.stack(List.of(in[0], in[1]), -1), a, c);
    }

    @Property(tries = TRIES)
    void indexSelectAndGather(@ForAll("small") Tensor x, @ForAll long seed) {
        dev.irtj.tensor.Rng rng = new dev.irtj.tensor.Rng(seed);
        int n = x.shape(0);
        long[] rows = new long[n + 2];
        for (int i = 0; i < rows.length; i++) rows[i] = rng.nextInt(n);
        Tensor rowIndex = Tensor.ofLongs(rows, rows.length);
        check(in -> in[0].indexSelect(0, rowIndex), x);
        long[] g = new long[x.numel()];
        int last = x.shape(-1);
        for (int i = 0; i < g.length; i++) g[i] = rng.nextInt(last);
        Tensor gatherIndex = Tensor.ofLongs(g, x.shape());
        check(in -> in[0].gather(-1, gatherIndex), x);
    }
}
