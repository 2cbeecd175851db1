package dev.irtj.kernels.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A small, bounded pool of daemon worker threads for the CPU kernels.
 *
 * <p>Its size is {@code Runtime.availableProcessors()} unless the system property
 * {@code irtj.threads} says otherwise. The calling thread always takes part in the work, so a
 * pool of {@code n} threads starts only {@code n - 1} workers. Work is handed out as task indices
 * claimed from a shared counter, which balances load when other processes steal a core from us.
 *
 * <p>A call made from inside a pool task runs sequentially on the calling thread: nested
 * parallelism would only add scheduling overhead, and blocking a worker on its own pool could
 * deadlock.
 */
public final class GemmPool {

    private static final int PARALLELISM = readParallelism();
    /** How long an idle thread polls for new work before it parks (and needs a slow wake-up). */
    private static final long SPIN_BEFORE_PARK_NANOS = 50_000;
    private static final ThreadLocal<Boolean> INSIDE_TASK = ThreadLocal.withInitial(() -> false);

    /** Workers park here between jobs; a job is published by replacing this reference. */
    private static volatile Job currentJob;
    private static final Object SUBMIT_LOCK = new Object();
    private static final Thread[] WORKERS = startWorkers(PARALLELISM - 1);

    private GemmPool() {}

    /** Number of threads (workers plus the caller) that a parallel loop may use. */
    public static int parallelism() {
        return PARALLELISM;
    }

    /** True when called from code that already runs as a task of this pool. */
    public static boolean insideTask() {
        return INSIDE_TASK.get();
    }

    /**
     * Runs {@code task.accept(i)} for every {@code i} in {@code [0, taskCount)}, spread over the
     * pool, and returns when all have finished. The first exception thrown by a task is rethrown.
     */
    public static void parallelFor(int taskCount, IntConsumer task) {
        if (taskCount <= 0) {
            return;
        }
        if (taskCount == 1 || WORKERS.length == 0 || insideTask()) {
            runInline(taskCount, task);
            return;
        }
        // One job at a time keeps the pool simple; concurrent callers simply queue up here.
        synchronized (SUBMIT_LOCK) {
            Job job = new Job(taskCount, task, Math.min(WORKERS.length, taskCount - 1));
            currentJob = job;
            for (int w = 0; w < job.helpersWanted; w++) {
                LockSupport.unpark(WORKERS[w]);
            }
            job.work();
            job.awaitHelpers();
            currentJob = null;
            job.rethrowFailure();
        }
    }

    private static void runInline(int taskCount, IntConsumer task) {
        boolean wasInside = INSIDE_TASK.get();
        INSIDE_TASK.set(true);
        try {
            for (int i = 0; i < taskCount; i++) {
                task.accept(i);
            }
        } finally {
            INSIDE_TASK.set(wasInside);
        }
    }

    private static final class Job {
        final int taskCount;
        final IntConsumer task;
        final int helpersWanted;
        final AtomicInteger nextTask = new AtomicInteger();
        final AtomicInteger helpersJoined = new AtomicInteger();
        final AtomicInteger helpersDone = new AtomicInteger();
        final Thread owner = Thread.currentThread();
        volatile Throwable failure;

        Job(int taskCount, IntConsumer task, int helpersWanted) {
            this.taskCount = taskCount;
            this.task = task;
            this.helpersWanted = helpersWanted;
        }

        void work() {
            boolean wasInside = INSIDE_TASK.get();
            INSIDE_TASK.set(true);
            try {
                for (int i = nextTask.getAndIncrement(); i < taskCount; i = nextTask.getAndIncrement()) {
                    if (failure != null) {
                        return;
                    }
                    try {
                        task.accept(i);
                    } catch (Throwable t) {
                        failure = t;
                    }
                }
            } finally {
                INSIDE_TASK.set(wasInside);
            }
        }

        void awaitHelpers() {
            // Each worker that was woken either joins (and later reports done) or finds the job
            // already finished; we only wait for the ones that actually joined.
            nextTask.set(taskCount);
            long start = System.nanoTime();
            while (helpersDone.get() < helpersJoined.get()) {
                if (System.nanoTime() - start < SPIN_BEFORE_PARK_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 20_000);
                }
            }
        }

        void rethrowFailure() {
            Throwable t = failure;
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            if (t != null) {
                throw new RuntimeException(t);
            }
        }
    }

    private static Thread[] startWorkers(int count) {
        Thread[] workers = new Thread[Math.max(0, count)];
        for (int w = 0; w < workers.length; w++) {
            Thread thread = new Thread(GemmPool::workerLoop, "irtj-gemm-" + (w + 1));
            thread.setDaemon(true);
            workers[w] = thread;
        }
        for (Thread thread : workers) {
            thread.start();
        }
        return workers;
    }

    private static void workerLoop() {
        Job lastJob = null;
        long idleSince = System.nanoTime();
        while (true) {
            Job job = currentJob;
            if (job == null || job == lastJob) {
                // Kernels usually come in quick succession (layer after layer), and waking a
                // parked thread takes tens of microseconds, so spin briefly before parking.
                if (System.nanoTime() - idleSince < SPIN_BEFORE_PARK_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(GemmPool.class);
                }
                continue;
            }
            lastJob = job;
            // Joining is counted before the check so the owner never misses a helper that is
            // about to run tasks.
            job.helpersJoined.incrementAndGet();
            try {
                if (job.nextTask.get() < job.taskCount) {
                    job.work();
                }
            } finally {
                job.helpersDone.incrementAndGet();
                LockSupport.unpark(job.owner);
                idleSince = System.nanoTime();
            }
        }
    }

    private static int readParallelism() {
        int threads = Runtime.getRuntime().availableProcessors();
        String property = System.getProperty("irtj.threads");
        if (property != null && !property.isBlank()) {
            try {
                threads = Integer.parseInt(property.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("irtj.threads must be an integer: " + property, e);
            }
        }
        return Math.max(1, threads);
    }
}
