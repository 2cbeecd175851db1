package dev.irtj.tensor;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;

/**
 * The bytes every thread of this JVM allocated since a starting point (threads started since
 * then count from zero), for the allocation tests that show the Vector API kernels run unboxed
 * (KernelsRunUnboxedTest, ForwardRunsUnboxedTest, TrainingStepRunsUnboxedTest): a kernel that
 * runs boxed allocates a vector payload per operation, one that C2 compiled allocates nothing.
 * All threads, not only the caller's, because the kernels run on worker pools.
 */
public final class AllocatedBytes {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final Map<Long, Long> start;

    private AllocatedBytes(Map<Long, Long> start) {
        this.start = start;
    }

    /** Starts counting now. */
    public static AllocatedBytes start() {
        return new AllocatedBytes(byThread());
    }

    /** Bytes allocated by all threads since {@link #start()}. */
    public long sinceStart() {
        long total = 0;
        for (Map.Entry<Long, Long> e : byThread().entrySet()) total += e.getValue() - start.getOrDefault(e.getKey(), 0L);
        return total;
    }

    private static Map<Long, Long> byThread() {
        long[] ids = THREADS.getAllThreadIds();
        long[] bytes = THREADS.getThreadAllocatedBytes(ids);
        Map<Long, Long> m = new HashMap<>();
        for (int i = 0; i < ids.length; i++) if (bytes[i] >= 0) m.put(ids[i], bytes[i]);
        return m;
    }
}
