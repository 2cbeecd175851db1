package dev.irtj.cli;

import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo's sentences follow its numbers, including when a finding does not reproduce. */
class FindingsTest {
    static DescriptorSpread spread(double rank, double nn) {
        return new DescriptorSpread(new double[] {1}, 0.5, rank, new double[] {nn, nn});
    }

    static Map<String, Map<String, Double>> recall(double o, double l, double r) {
        return Map.of("irt_o", Map.of("recall@1", o), "irt_l", Map.of("recall@1", l), "irt_r", Map.of("recall@1", r));
    }

    @Test
    void saysWhatReproducesAndWhatDoesNot() {
        // 1000 queries: two standard errors of a difference near 0.6 are about 4.4 points.
        Findings yes = Findings.of(recall(0.50, 0.60, 0.66), Map.of("IRT_L", spread(10, 0.2), "IRT_R", spread(12, 0.3)), 1000, new double[] {1, 1});
        assertTrue(yes.lines().get(0).startsWith("RQ2 (IRT_L beats IRT_O): yes: Recall@1 50.00% (IRT_O) -> 60.00% (IRT_L), +10.00 points"), yes.lines().get(0));
        assertTrue(yes.lines().get(1).startsWith("RQ3, spectrum: KoLeo flattened the spectrum: effective rank 10.00 (IRT_L) -> 12.00 (IRT_R), +20.0%"), yes.lines().get(1));
        assertTrue(yes.lines().get(2).startsWith("RQ3, nearest neighbours: KoLeo spread the descriptors apart"), yes.lines().get(2));
        assertTrue(yes.lines().get(3).startsWith("RQ3, Recall: KoLeo improved Recall"), yes.lines().get(3));
        assertTrue(yes.lines().get(4).contains("KoLeo is 50.0% of their summed magnitudes"), yes.lines().get(4));

        Findings no = Findings.of(recall(0.60, 0.58, 0.59), Map.of("IRT_L", spread(10, 0.2), "IRT_R", spread(10.2, 0.2)), 1000, new double[] {80, 1.4});
        assertTrue(no.lines().get(0).startsWith("RQ2 (IRT_L beats IRT_O): not shown, the difference is within noise"), no.lines().get(0));
        assertTrue(no.lines().get(1).startsWith("RQ3, spectrum: no visible change"), no.lines().get(1));
        assertTrue(no.lines().get(2).startsWith("RQ3, nearest neighbours: no visible change"), no.lines().get(2));
        assertTrue(no.lines().get(3).startsWith("RQ3, Recall: no change beyond noise"), no.lines().get(3));
        Findings worse = Findings.of(recall(0.70, 0.50, 0.40), Map.of("IRT_L", spread(10, 0.3), "IRT_R", spread(8, 0.2)), 1000, new double[] {1, 1});
        assertTrue(worse.lines().get(0).contains("no, IRT_L is worse") && worse.lines().get(1).contains("steeper")
                && worse.lines().get(2).contains("closer") && worse.lines().get(3).contains("lowered"), worse.lines().toString());
    }

    @Test
    void theSpreadOfKnownDescriptors() {
        // Four unit vectors ±e1, ±e2: two directions of equal variance (effective rank 2), nearest neighbours at √2.
        Tensor z = Tensor.of(new float[] {1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0}, 4, 3);
        DescriptorSpread s = DescriptorSpread.of(z);
        assertEquals(2.0, s.effectiveRank(), 1e-6);
        assertEquals(Math.sqrt(2), s.meanNearest(), 1e-6);
        assertEquals(Math.sqrt(2), s.medianNearest(), 1e-6);
    }
}
