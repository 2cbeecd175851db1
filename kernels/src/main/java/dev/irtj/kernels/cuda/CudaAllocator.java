package dev.irtj.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A caching device allocator: freed blocks are kept by size and handed out again to requests of
 * the same rounded size, so a training step, which allocates the same shapes every iteration,
 * stops calling cuMemAlloc/cuMemFree (both synchronize the device) after its first step.
 *
 * <p>Reuse is safe without events because every kernel and copy runs on the one stream: work
 * queued after a block was freed runs after all work that used it. When cuMemAlloc fails, the
 * cache is returned to the driver and the allocation retried; if it fails again, storages that
 * became unreachable without being released (their blocks still waiting for the Cleaner) are
 * collected: a garbage collection, then a bounded wait for the Cleaner to return their blocks,
 * the cache returned to the driver again and one more try. Only then is the request reported,
 * with the device's free memory.
 */
final class CudaAllocator {
    /** Collections tried, and how long each waits for the Cleaner, before out of memory is reported. */
    static final int CLEANER_ROUNDS = 10;
    static final long CLEANER_WAIT_MS = 50;

    private final DeviceMemory device;
    private final TreeMap<Long, ArrayDeque<CUdeviceptr>> free = new TreeMap<>();
    private long cachedBytes, liveBytes, peakLiveBytes, allocations, reuses;

    CudaAllocator(DeviceMemory device) {
        this.device = device;
    }

    /**
     * Sizes are rounded so that nearby sizes share blocks: to 512 bytes below 1 MiB, then to
     * 1/8 of the power of two at or below the size (at most 12.5% waste).
     */
    static long roundUp(long bytes) {
        if (bytes <= 0) return 512;
        if (bytes < (1 << 20)) return (bytes + 511) & ~511L;
        long step = Long.highestOneBit(bytes) >> 3;
        return (bytes + step - 1) / step * step;
    }

    /** A block of at least {@code bytes} bytes. */
    synchronized Block allocate(long bytes) {
        long size = roundUp(bytes);
        ArrayDeque<CUdeviceptr> q = free.get(size);
        CUdeviceptr p = q == null ? null : q.pollLast();
        if (p != null) {
            cachedBytes -= size;
            reuses++;
        } else {
            p = new CUdeviceptr();
            int r = device.alloc(p, size);
            if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                long released = cachedBytes;
                releaseCached();
                r = device.alloc(p, size);
                for (int round = 0; round < CLEANER_ROUNDS && r == CUresult.CUDA_ERROR_OUT_OF_MEMORY; round++) {
                    released += awaitCleaner();
                    releaseCached();
                    r = device.alloc(p, size);
                }
                if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                    long[] info = device.info();
                    throw new CudaOutOfMemoryException(size, info[0], info[1], released);
                }
            }
            Cuda.check(r, "cuMemAlloc(" + size + " bytes)");
            allocations++;
        }
        liveBytes += size;
        peakLiveBytes = Math.max(peakLiveBytes, liveBytes);
        return new Block(p, size);
    }

    /**
     * Collects garbage and waits up to {@link #CLEANER_WAIT_MS} for the Cleaner to return the
     * blocks of unreachable storages (its {@link #free} calls wake this wait, which gives up the
     * lock meanwhile). Returns the bytes they gave back.
     */
    private long awaitCleaner() {
        long before = cachedBytes;
        System.gc();
        long until = System.nanoTime() + CLEANER_WAIT_MS * 1_000_000;
        try {
            for (long ms; (ms = (until - System.nanoTime()) / 1_000_000) > 0; ) wait(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Math.max(0, cachedBytes - before);
    }

    /** Returns a block to the cache (from a scope, an explicit release or the Cleaner). */
    synchronized void free(Block b) {
        free.computeIfAbsent(b.size, k -> new ArrayDeque<>()).addLast(b.ptr);
        cachedBytes += b.size;
        liveBytes -= b.size;
        notifyAll();
    }

    /** Gives every cached block back to the driver, after queued work that may still use them. */
    synchronized void releaseCached() {
        if (free.isEmpty()) return;
        device.synchronize();
        List<CUdeviceptr> all = new ArrayList<>();
        free.values().forEach(all::addAll);
        free.clear();
        cachedBytes = 0;
        for (CUdeviceptr p : all) Cuda.check(device.free(p), "cuMemFree");
    }

    synchronized Stats stats() {
        return new Stats(liveBytes, peakLiveBytes, cachedBytes, allocations, reuses);
    }

    /** Bytes in use and cached, and how many requests needed cuMemAlloc versus reused a block. */
    record Stats(long liveBytes, long peakLiveBytes, long cachedBytes, long allocations, long reuses) {
    }

    /** A device block and its rounded size. */
    record Block(CUdeviceptr ptr, long size) {
    }
}
