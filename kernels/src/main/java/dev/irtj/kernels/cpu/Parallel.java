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
        int chunks = workersFor(n, costPerItem);
        if (chunks == 1) {
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

    /** Body of one item of {@link #forEachItem}. */
    @FunctionalInterface
    public interface Item {
        void run(int index);
    }

    /**
     * Runs {@code body} on every index of [0, n), each index on one thread, the threads claiming
     * indices one at a time from a shared counter: for items of equal cost (attention's
     * (batch, head) blocks) a thread the OS delays does not hold the others up, as its fixed
     * chunk would. Only for bodies whose result does not depend on which thread runs an index
     * (each writes its own outputs). Inline, like {@link #forRange}, when small or nested.
     */
    public static void forEachItem(int n, long costPerItem, Item body) {
        int workers = workersFor(n, costPerItem);
        if (workers == 1) {
            for (int i = 0; i < n; i++) body.run(i);
            return;
        }
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Runnable claim = () -> {
            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) body.run(i);
        };
        List<ForkJoinTask<?>> tasks = new ArrayList<>(workers - 1);
        for (int w = 1; w < workers; w++) tasks.add(POOL.submit(claim));
        claim.run();
        for (ForkJoinTask<?> t : tasks) t.join();
    }

    /**
     * How many threads [0, n) is worth at {@code costPerItem} rough element operations per item:
     * up to {@link #threads()}, at most n, and 1 (run inline) when the work is too small for a
     * hand-off, there is no pool, or the caller already runs on one of its threads.
     */
    private static int workersFor(int n, long costPerItem) {
        int workers = (int) Math.min(THREADS, Math.max(1, (n * Math.max(1, costPerItem)) / 32_768));
        workers = Math.min(workers, n);
        return workers <= 1 || POOL == null || ForkJoinTask.inForkJoinPool() ? 1 : workers;
    }
}
