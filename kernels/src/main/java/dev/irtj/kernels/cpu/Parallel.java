package dev.irtj.kernels.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU backend's bounded worker pool: {@code -Dirtj.threads=N} threads, default the number of
 * available processors. Work is split into at most one contiguous chunk per thread, so results
 * never depend on timing (each chunk computes its own rows in a fixed order).
 */
public final class Parallel {
    private static final int THREADS = Math.max(1, Integer.getInteger("irtj.threads", Runtime.getRuntime().availableProcessors()));
    private static final ForkJoinPool POOL = THREADS == 1 ? null : new ForkJoinPool(THREADS);

    private Parallel() {
    }

    public static int threads() {
        return THREADS;
    }

    /** Body of one chunk: items [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over [0, n) in up to {@link #threads()} chunks; runs inline when the
     * work ({@code n · costPerItem}, in rough element operations) is too small to be worth a
     * hand-off.
     */
    public static void forRange(int n, long costPerItem, Range body) {
        int chunks = (int) Math.min(THREADS, Math.max(1, (n * Math.max(1, costPerItem)) / 32_768));
        chunks = Math.min(chunks, n);
        if (chunks <= 1 || POOL == null || ForkJoinTask.inForkJoinPool()) {
            if (n > 0) body.run(0, n);
            return;
        }
        List<ForkJoinTask<?>> tasks = new ArrayList<>(chunks);
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
            tasks.add(POOL.submit(() -> body.run(from, to)));
        }
        body.run(0, (int) ((long) n / chunks));
        for (ForkJoinTask<?> t : tasks) t.join();
    }
}
