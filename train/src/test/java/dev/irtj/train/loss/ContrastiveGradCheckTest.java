package dev.irtj.train.loss;

import dev.irtj.autograd.GradCheck;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.loss.ContrastiveLoss.Reduction;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GradCheck in F64 of every reduction, batch only and against a memory, through the L2
 * normalization, on seeded descriptors that share a common direction (so some negatives are
 * above β and some below). The pair selections (relu, AvgNonZero's count, XBM's filters) are
 * piecewise constant, so the check first asserts that no similarity is within 1e-3 of a
 * threshold: central differences (eps 1e-6) then never cross one.
 */
class ContrastiveGradCheckTest {
    private static final long[] LABELS = {0, 0, 0, 1, 1, 2, 3};
    private static final long[] MEMORY_LABELS = {0, 1, 4, 4, 2, 3};
    private static final int DIM = 5;
    private static final double BETA = 0.5;

    @TestFactory
    List<DynamicTest> gradientsMatchCentralDifferences() {
        Rng rng = new Rng(1201);
        Tensor common = Tensor.randn(rng, DType.F64, 1, DIM);
        Tensor raw = Tensor.randn(rng, DType.F64, LABELS.length, DIM).add(common);
        Tensor memory = Tensor.randn(rng, DType.F64, MEMORY_LABELS.length, DIM).add(common).l2Normalize();
        assertAwayFromThresholds(raw.l2Normalize(), Tensor.cat(List.of(raw.l2Normalize(), memory), 0));
        List<DynamicTest> tests = new ArrayList<>();
        for (Reduction reduction : Reduction.values()) {
            ContrastiveLoss loss = new ContrastiveLoss(BETA, reduction, 0.75);
            tests.add(DynamicTest.dynamicTest(reduction + " batch only", () -> GradCheck.withTolerances(1e-6, 1e-8, 1e-5)
                    .verify(in -> loss.apply(in[0].l2Normalize(), LABELS), raw)));
            tests.add(DynamicTest.dynamicTest(reduction + " with memory", () -> GradCheck.withTolerances(1e-6, 1e-8, 1e-5)
                    .verify(in -> loss.apply(in[0].l2Normalize(), LABELS, memory, MEMORY_LABELS), raw)));
        }
        return tests;
    }

    private static void assertAwayFromThresholds(Tensor embeddings, Tensor references) {
        double[] s = embeddings.matmul(references.mT()).toDoubleArray();
        int cols = references.shape(0), above = 0, below = 0;
        for (int i = 0; i < embeddings.shape(0); i++) {
            for (int j = 0; j < cols; j++) {
                double v = s[i * cols + j];
                if (i == j) continue;
                assertTrue(Math.abs(v - BETA) > 1e-3 && Math.abs(v - (1 - ContrastiveLoss.XBM_SELF_EPSILON)) > 1e-3,
                        "seeded similarity " + v + " at (" + i + ", " + j + ") is too close to a threshold for central differences");
                if (v > BETA) above++;
                else below++;
            }
        }
        assertTrue(above > 0 && below > 0, "the seeded pairs should fall on both sides of beta: " + above + " above, " + below + " below");
    }
}
