package dev.irtj.tensor;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Host arrays returned by released storage, kept by dtype and exact length so that a training
 * loop, which allocates the same shapes every step, reuses them instead of churning the garbage
 * collector. The pool is bounded ({@code -Dirtj.pool.mb}, default an eighth of the heap, at most 1024 MiB); beyond the bound,
 * recycled arrays are simply dropped for the collector.
 */
public final class BufferPool {
    private static final long LIMIT_BYTES = Long.getLong("irtj.pool.mb", Math.min(1024L, Runtime.getRuntime().maxMemory() >> 23)) << 20;
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
            return switch (dtype) {
                case F32 -> new float[length];
                case F64 -> new double[length];
                case I64 -> new long[length];
            };
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
