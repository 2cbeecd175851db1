package dev.irtj.train.loss;

import dev.irtj.autograd.GradCheck;
import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KoLeo on batches holding exact duplicates (the m-per-class sampler repeats the images of
 * small classes): value and gradient stay finite, where the former ‖z_i − z_j‖ + eps gave a NaN
 * gradient; and where no duplicates exist the loss and its gradient equal that former formula.
 *
 * <p>Tolerance of the no-duplicates comparison (F64): |a − b| ≤ 1e-12 + 1e-9·|b|. The two
 * formulas differ by eps²/(2d²) relatively (d the nearest-neighbour distance, eps = 1e-8); the
 * batches are kept to d ≥ 1e-3, so the difference is below 5e-11 relative and the rest is
 * rounding.
 */
class KoLeoDuplicatesTest {
    private static final KoLeoLoss KOLEO = new KoLeoLoss();

    /** A batch [B, D] of raw descriptors from a seed, with some rows overwritten by copies of others. */
    record Batch(long seed, int rows, int dims, int[][] copies) {
        Tensor raw(DType dtype) {
            double[] v = Tensor.randn(new Rng(seed), DType.F64, rows, dims).toDoubleArray();
            for (int[] c : copies) System.arraycopy(v, c[0] * dims, v, c[1] * dims, dims);
            return Tensor.of(dtype, v, rows, dims);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("Batch[seed " + seed + ", " + rows + "x" + dims + ", copies");
            for (int[] c : copies) sb.append(' ').append(c[0]).append("->").append(c[1]);
            return sb.append(']').toString();
        }
    }

    @Provide
    Arbitrary<Batch> withDuplicates() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(2, 10), Arbitraries.integers().between(1, 8))
                .flatAs((seed, rows, dims) -> Combinators.combine(Arbitraries.integers().between(0, rows - 1), Arbitraries.integers().between(0, rows - 1))
                        .as((from, to) -> new int[] {from, to}).filter(c -> c[0] != c[1]).list().ofMinSize(1).ofMaxSize(rows)
                        .map(list -> new Batch(seed, rows, dims, list.toArray(new int[0][]))));
    }

    @Provide
    Arbitrary<Batch> distinct() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(2, 10), Arbitraries.integers().between(2, 8))
                .as((seed, rows, dims) -> new Batch(seed, rows, dims, new int[0][]));
    }

    /** The formula before the fix: −mean log(‖z_i − z_nn(i)‖ + eps), the plain square root. */
    private static Var formerKoLeo(Var z, double eps) {
        int b = z.shape(0);
        Tensor nearest;
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor zd = z.data();
            Tensor sq = zd.mul(zd).sum(-1, true);
            Tensor d2 = sq.add(sq.mT()).sub(zd.matmul(zd.mT()).mul(2.0));
            nearest = d2.maskedFill(Tensor.eye(b, zd.dtype()), Double.POSITIVE_INFINITY).argmin(-1, false);
        }
        Var diff = z.sub(z.indexSelect(0, nearest));
        return diff.mul(diff).sum(-1, false).sqrt().add(eps).log().mean().neg();
    }

    private record Evaluated(double value, double[] grad) {
        boolean finite() {
            if (!Double.isFinite(value)) return false;
            for (double g : grad) if (!Double.isFinite(g)) return false;
            return true;
        }
    }

    /** Loss and gradient with respect to the raw descriptors, normalized first as the trainer does. */
    private static Evaluated evaluate(Tensor raw, java.util.function.Function<Var, Var> loss) {
        Var x = Var.param(raw);
        Var l = loss.apply(x.l2Normalize());
        l.backward();
        return new Evaluated(l.data().toDoubleArray()[0], x.grad().toDoubleArray());
    }

    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void duplicatesGiveAFiniteValueAndGradient(@ForAll("withDuplicates") Batch batch) {
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Evaluated e = evaluate(batch.raw(dtype), KOLEO::apply);
            assertTrue(e.finite(), dtype + " " + batch + ": value " + e.value() + ", gradient " + java.util.Arrays.toString(e.grad()));
        }
        // The batch really holds a zero distance: the former formula's gradient is NaN on it.
        assertFalse(evaluate(batch.raw(DType.F64), z -> formerKoLeo(z, KoLeoLoss.DEFAULT_EPS)).finite(), batch + " should break the former formula");
    }

    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void withoutDuplicatesItEqualsTheFormerFormula(@ForAll("distinct") Batch batch) {
        Tensor raw = batch.raw(DType.F64);
        Assume.that(minNearestDistance(raw.l2Normalize()) >= 1e-3);
        Evaluated now = evaluate(raw, KOLEO::apply), before = evaluate(raw, z -> formerKoLeo(z, KoLeoLoss.DEFAULT_EPS));
        assertClose("value", now.value(), before.value(), batch);
        for (int i = 0; i < now.grad().length; i++) assertClose("gradient[" + i + "]", now.grad()[i], before.grad()[i], batch);
    }

    /** GradCheck in F64 (default tolerances) through the L2 normalization, on batches without ties. */
    @Property(tries = 50, edgeCases = EdgeCasesMode.NONE)
    void gradCheckF64(@ForAll("distinct") Batch batch) {
        Tensor raw = batch.raw(DType.F64);
        Assume.that(minNearestDistance(raw.l2Normalize()) >= 1e-3);
        GradCheck.check(in -> KOLEO.apply(in[0].l2Normalize()), raw);
    }

    private static void assertClose(String what, double actual, double expected, Batch batch) {
        assertTrue(Math.abs(actual - expected) <= 1e-12 + 1e-9 * Math.abs(expected),
                what + " of " + batch + ": " + actual + " vs the former " + expected);
    }

    private static double minNearestDistance(Tensor z) {
        int b = z.shape(0), d = z.shape(1);
        double[] v = z.toDoubleArray();
        double min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < b; j++) {
                if (i == j) continue;
                double s = 0;
                for (int k = 0; k < d; k++) s += (v[i * d + k] - v[j * d + k]) * (v[i * d + k] - v[j * d + k]);
                min = Math.min(min, Math.sqrt(s));
            }
        }
        return min;
    }
}
