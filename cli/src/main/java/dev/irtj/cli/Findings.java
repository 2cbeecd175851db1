package dev.irtj.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the demo's numbers say about the paper's research questions, as sentences with the
 * numbers in them, including when a finding does not reproduce. A Recall difference counts only
 * beyond twice its standard error over the N test queries, sqrt((p1(1−p1) + p2(1−p2)) / N); a
 * spread measure (effective rank, mean nearest-neighbour distance) counts as changed beyond 5%.
 */
record Findings(List<String> lines) {
    static final double SPREAD_CHANGE = 0.05;

    /**
     * @param termScale IRT_R's mean contrastive term and mean λ·KoLeo over the second half
     *                  of its training (training data only)
     */
    static Findings of(Map<String, Map<String, Double>> rows, Map<String, DescriptorSpread> spreads, int queries, double[] termScale) {
        List<String> out = new ArrayList<>();
        double o = rows.get("irt_o").get("recall@1"), l = rows.get("irt_l").get("recall@1"), r = rows.get("irt_r").get("recall@1");
        out.add(String.format(Locale.ROOT, "RQ2 (IRT_L beats IRT_O): %s: Recall@1 %.2f%% (IRT_O) -> %.2f%% (IRT_L), %s.",
                verdict(o, l, queries, "yes", "no, IRT_L is worse", "not shown, the difference is within noise"),
                100 * o, 100 * l, difference(o, l, queries)));
        DescriptorSpread sl = spreads.get("IRT_L"), sr = spreads.get("IRT_R");
        double rank = sr.effectiveRank() / sl.effectiveRank() - 1, nn = sr.meanNearest() / sl.meanNearest() - 1;
        out.add(String.format(Locale.ROOT, "RQ3, spectrum: %s: effective rank %.2f (IRT_L) -> %.2f (IRT_R), %+.1f%%; the top 10%% of PCA directions "
                        + "hold %.1f%% -> %.1f%% of the variance.",
                rank > SPREAD_CHANGE ? "KoLeo flattened the spectrum" : rank < -SPREAD_CHANGE ? "KoLeo made the spectrum steeper" : "no visible change",
                sl.effectiveRank(), sr.effectiveRank(), 100 * rank, 100 * sl.topShare(), 100 * sr.topShare()));
        out.add(String.format(Locale.ROOT, "RQ3, nearest neighbours: %s: mean distance to the nearest other test descriptor %.4f (IRT_L) -> %.4f (IRT_R), %+.1f%%.",
                nn > SPREAD_CHANGE ? "KoLeo spread the descriptors apart" : nn < -SPREAD_CHANGE ? "KoLeo brought the descriptors closer" : "no visible change",
                sl.meanNearest(), sr.meanNearest(), 100 * nn));
        out.add(String.format(Locale.ROOT, "RQ3, Recall: %s: Recall@1 %.2f%% (IRT_L) -> %.2f%% (IRT_R), %s.",
                verdict(l, r, queries, "KoLeo improved Recall", "KoLeo lowered Recall", "no change beyond noise"), 100 * l, 100 * r, difference(l, r, queries)));
        double c = termScale[0], k = termScale[1];
        out.add(String.format(Locale.ROOT, "Scale of the terms in IRT_R's training (second half of its steps): contrastive %.3g, λ·KoLeo %.3g; "
                + "KoLeo is %.1f%% of their summed magnitudes.", c, k, 100 * Math.abs(k) / Math.max(Math.abs(c) + Math.abs(k), 1e-300)));
        return new Findings(List.copyOf(out));
    }

    private static String verdict(double before, double after, int n, String better, String worse, String same) {
        double d = after - before;
        return Math.abs(d) <= 2 * standardError(before, after, n) ? same : d > 0 ? better : worse;
    }

    private static String difference(double before, double after, int n) {
        return String.format(Locale.ROOT, "%+.2f points (2 standard errors: %.2f)", 100 * (after - before), 200 * standardError(before, after, n));
    }

    static double standardError(double p1, double p2, int n) {
        return Math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n);
    }
}
