package dev.irtj.cli;

import dev.irtj.eval.Knn;
import dev.irtj.eval.Neighbors;
import dev.irtj.eval.Pca;
import dev.irtj.tensor.Tensor;

import java.util.Arrays;

/**
 * How much of the space a set of L2-normalized descriptors uses (the paper's RQ3, feature
 * collapse): the PCA energy spectrum, the share of the top 10% of directions, the effective
 * rank exp(H) of the spectrum (H its entropy; D when every direction holds the same share, 1
 * when one holds all), and the distance of each descriptor to its nearest other one.
 */
record DescriptorSpread(double[] explained, double topShare, double effectiveRank, double[] nearestDistances) {

    static DescriptorSpread of(Tensor unitDescriptors) {
        double[] ev = Pca.fit(unitDescriptors, unitDescriptors.shape(1)).explainedVariance();
        int top = Math.max(1, (int) Math.round(ev.length * 0.1));
        double share = 0, entropy = 0;
        for (int i = 0; i < ev.length; i++) {
            if (i < top) share += ev[i];
            if (ev[i] > 0) entropy -= ev[i] * Math.log(ev[i]);
        }
        Neighbors nn = Knn.search(unitDescriptors, unitDescriptors, 1, true);
        double[] d = new double[nn.queries()];
        // Unit vectors: ‖a − b‖² = 2 − 2·a·b.
        for (int q = 0; q < d.length; q++) d[q] = Math.sqrt(Math.max(0, 2 - 2 * (double) nn.similarities()[q][0]));
        return new DescriptorSpread(ev, share, Math.exp(entropy), d);
    }

    double meanNearest() {
        return Arrays.stream(nearestDistances).average().orElse(Double.NaN);
    }

    double medianNearest() {
        double[] s = nearestDistances.clone();
        Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
