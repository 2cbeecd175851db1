package dev.irtj.tensor;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Host arrays returned by released storage, kept by dtype and exact length so that a training
 * loop, which allocates the same shapes every step, reuses them instead of churning the garbage
 * collector. The pool is bounded ({@code -Dirtj.pool.mb}, default a quarter of the heap); beyond the bound,
 * recycled arrays are simply dropped for the collector. The bound must hold a step's temporaries:
 * at the former default (an eighth of the heap, at most 1 GiB) a DeiT-S batch-32 training step,
 * whose activations and gradients are about 2.7 GB, found only 1 GiB back in the pool and
 * allocated 1.7 GB of new arrays every step, which the young collections then copied while they
 * were live (bench/README.md, "Where a training step's time goes"). Pooled arrays never cost a
 * run its memory: an allocation that fails empties the pool and is tried once more.
 */
public final class BufferPool {
    private static final long LIMIT_BYTES = Long.getLong("irtj.pool.mb", Runtime.getRuntime().maxMemory() >> 22) << 20;
    private static final Map<Long, ArrayDeque<Object>> FREE = new HashMap<>();
    private static long pooledBytes;
    private static long hits;
    private static long misses;

    private BufferPool() {
    }

    private static long key(DType dtype, int length) {
        return ((long) dtype.ordinal() << 32) | length;
    }

    static synchronized Object acquire(DType dtype, int length, boolean zero) {
        ArrayDeque<Object> q = FREE.get(key(dtype, length));
        Object array = q == null ? null : q.pollLast();
        if (array == null) {
            misses++;
            try {
                return newArray(dtype, length);
            } catch (OutOfMemoryError e) {
                // The pooled arrays of other lengths may be what the heap lacks: give them to the
                // collector and try once more (a second failure is the run's own).
                clear();
                return newArray(dtype, length);
            }
        }
        hits++;
        pooledBytes -= (long) length * dtype.byteSize();
        if (zero) {
            switch (dtype) {
                case F32 -> Arrays.fill((float[]) array, 0f);
                case F64 -> Arrays.fill((double[]) array, 0d);
                case I64 -> Arrays.fill((long[]) array, 0L);
            }
        }
        return array;
    }

    private static Object newArray(DType dtype, int length) {
        return switch (dtype) {
            case F32 -> new float[length];
            case F64 -> new double[length];
            case I64 -> new long[length];
        };
    }

    static synchronized void recycle(DType dtype, Object array) {
        int length = java.lang.reflect.Array.getLength(array);
        long bytes = (long) length * dtype.byteSize();
        if (length == 0 || pooledBytes + bytes > LIMIT_BYTES) return;
        FREE.computeIfAbsent(key(dtype, length), k -> new ArrayDeque<>()).addLast(array);
        pooledBytes += bytes;
    }

    /** Allocations served from the pool since start. */
    public static synchronized long hits() {
        return hits;
    }

    /** Allocations that needed a new array. */
    public static synchronized long misses() {
        return misses;
    }

    public static synchronized long pooledBytes() {
        return pooledBytes;
    }

    /** Drops every pooled array. */
    public static synchronized void clear() {
        FREE.clear();
        pooledBytes = 0;
    }
}
