package dev.irtj.train.loss;

import dev.irtj.autograd.GradCheck;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tuple loss (q, p, n1 … nN) against its definition written as loops, its gradient against
 * central differences, and the reason {@link ContrastiveLoss} over the tuple's labels is not
 * used: the label form has other pairs, so its value differs, while each tuple's query against
 * its own positive and negatives is exactly {@link ContrastiveLoss}'s Eq. 1 with one anchor.
 */
class TupleContrastiveLossTest {
    private static final double BETA = 0.85;
    private static final int TUPLES = 3, NEGATIVES = 4, SIZE = NEGATIVES + 2, DIM = 6;

    /** Unit rows sharing a direction, so some negatives are above β and some below. */
    private static Tensor descriptors(long seed) {
        Rng rng = new Rng(seed);
        Tensor common = Tensor.randn(rng, DType.F64, 1, DIM).mul(2.0);
        return Tensor.randn(rng, DType.F64, TUPLES * SIZE, DIM).add(common).l2Normalize();
    }

    /** Σ_t [(1 − q·p) + Σ_k max(0, q·n_k − β)] / T, written out. */
    private static double byDefinition(double[] d) {
        double sum = 0;
        for (int t = 0; t < TUPLES; t++) {
            int q = t * SIZE;
            sum += 1 - dot(d, q, q + 1);
            for (int k = 2; k < SIZE; k++) sum += Math.max(0, dot(d, q, q + k) - BETA);
        }
        return sum / TUPLES;
    }

    private static double dot(double[] d, int i, int j) {
        double s = 0;
        for (int k = 0; k < DIM; k++) s += d[i * DIM + k] * d[j * DIM + k];
        return s;
    }

    @Test
    void valueIsTheQueryAnchoredPairsOfEachTuple() {
        Tensor x = descriptors(15);
        double[] d = x.toDoubleArray();
        int above = 0, below = 0;
        for (int t = 0; t < TUPLES; t++) for (int k = 2; k < SIZE; k++) if (dot(d, t * SIZE, t * SIZE + k) > BETA) above++; else below++;
        assertTrue(above > 0 && below > 0, "negatives on both sides of β: " + above + " above, " + below + " below");
        double got = new TupleContrastiveLoss(BETA, SIZE).apply(Var.constant(x)).data().item();
        assertEquals(byDefinition(d), got, 1e-12 * Math.abs(byDefinition(d)));
        // F32 on the default backend: the same within float rounding.
        double f32 = new TupleContrastiveLoss(BETA, SIZE).apply(Var.constant(x.to(DType.F32))).data().item();
        assertEquals(byDefinition(d), f32, 1e-5 + 1e-5 * Math.abs(byDefinition(d)));
    }

    @Test
    void eachTupleIsContrastiveLossWithTheQueryAsTheOnlyAnchorButTheLabelFormIsNot() {
        Tensor x = descriptors(16);
        double sum = 0;
        long[] ownLabel = {0};
        long[] refLabels = new long[SIZE - 1];
        for (int k = 1; k < refLabels.length; k++) refLabels[k] = k; // positive shares label 0; each negative its own
        for (int t = 0; t < TUPLES; t++) {
            Tensor q = x.narrow(0, t * SIZE, 1).contiguous(), refs = x.narrow(0, t * SIZE + 1, SIZE - 1).contiguous();
            sum += new ContrastiveLoss(BETA).apply(Var.constant(q), ownLabel, refs, refLabels).data().item();
        }
        double tuple = new TupleContrastiveLoss(BETA, SIZE).apply(Var.constant(x)).data().item();
        assertEquals(sum / TUPLES, tuple, 1e-12 * Math.abs(tuple));
        // The whole batch with tuple labels (q and p share one, every negative its own) brings in
        // p–n, n–n and cross-tuple pairs and counts q–p twice: another value.
        long[] labels = new long[TUPLES * SIZE];
        for (int t = 0; t < TUPLES; t++) {
            labels[t * SIZE] = labels[t * SIZE + 1] = 1000L * t;
            for (int k = 2; k < SIZE; k++) labels[t * SIZE + k] = 1000L * t + k;
        }
        double labelForm = new ContrastiveLoss(BETA).apply(Var.constant(x), labels).data().item();
        assertTrue(Math.abs(labelForm - tuple) > 1e-3, "label form " + labelForm + " vs tuple form " + tuple);
    }

    @Test
    void gradientMatchesCentralDifferencesThroughTheNormalization() {
        Rng rng = new Rng(17);
        Tensor common = Tensor.randn(rng, DType.F64, 1, DIM).mul(2.0);
        Tensor raw = Tensor.randn(rng, DType.F64, TUPLES * SIZE, DIM).add(common);
        double[] d = raw.l2Normalize().toDoubleArray();
        for (int t = 0; t < TUPLES; t++) {
            for (int k = 2; k < SIZE; k++) {
                double s = dot(d, t * SIZE, t * SIZE + k);
                assertTrue(Math.abs(s - BETA) > 1e-3, "seeded similarity " + s + " too close to β for central differences");
            }
        }
        TupleContrastiveLoss loss = new TupleContrastiveLoss(BETA, SIZE);
        GradCheck.withTolerances(1e-6, 1e-8, 1e-5).verify(in -> loss.apply(in[0].l2Normalize()), raw);
    }

    @Test
    void aBatchThatIsNotWholeTuplesIsRefused() {
        TupleContrastiveLoss loss = new TupleContrastiveLoss(BETA, SIZE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> loss.apply(Var.constant(descriptors(1).narrow(0, 0, SIZE + 1).contiguous())));
        assertTrue(e.getMessage().contains("not a whole number of tuples of " + SIZE), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TupleContrastiveLoss(BETA, 2));
    }
}
