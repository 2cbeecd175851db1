package dev.irtj.serve;

import java.util.Arrays;

/**
 * Search latencies: the count of every search served, and mean, p50 and p95 over the most recent
 * ones (a fixed window, so memory stays bounded and the figures follow the current load).
 */
final class LatencyStats {
    private final double[] window;
    private long served;
    private int next;
    private int filled;

    LatencyStats(int windowSize) {
        this.window = new double[windowSize];
    }

    synchronized void record(double millis) {
        served++;
        window[next] = millis;
        next = (next + 1) % window.length;
        if (filled < window.length) filled++;
    }

    /** A consistent copy of the figures. */
    synchronized Snapshot snapshot() {
        double[] recent = Arrays.copyOf(window, filled);
        Arrays.sort(recent);
        double sum = 0;
        for (double v : recent) sum += v;
        return new Snapshot(served, filled, filled == 0 ? 0 : sum / filled, percentile(recent, 0.50), percentile(recent, 0.95));
    }

    /** Nearest-rank percentile of sorted values (0 when there are none). */
    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) return 0;
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    record Snapshot(long served, int window, double meanMs, double p50Ms, double p95Ms) {
    }
}
