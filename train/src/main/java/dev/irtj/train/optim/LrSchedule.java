package dev.irtj.train.optim;

/** Learning rate as a function of the (0-based) iteration. */
@FunctionalInterface
public interface LrSchedule {
    double at(long iteration);

    static LrSchedule constant(double lr) {
        return it -> lr;
    }

    /**
     * Linear warm-up from 0 over {@code warmup} iterations, then cosine decay from {@code lr} to
     * {@code minLr} at {@code total}.
     */
    static LrSchedule cosine(double lr, double minLr, long warmup, long total) {
        if (total <= 0 || warmup < 0 || warmup > total) throw new IllegalArgumentException("cosine schedule needs 0 <= warmup <= total, total > 0");
        return it -> {
            if (it < warmup) return lr * (it + 1) / warmup;
            double progress = Math.min(1.0, (double) (it - warmup) / Math.max(1, total - warmup));
            return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * progress));
        };
    }
}
