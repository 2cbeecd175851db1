package dev.irtj.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

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
 * cache is returned to the driver and the allocation retried once; a second failure reports the
 * request and the device's free memory.
 */
final class CudaAllocator {
    private final Cuda cuda;
    private final TreeMap<Long, ArrayDeque<CUdeviceptr>> free = new TreeMap<>();
    private long cachedBytes, liveBytes, peakLiveBytes, allocations, reuses;

    CudaAllocator(Cuda cuda) {
        this.cuda = cuda;
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
            cuda.makeCurrent();
            p = new CUdeviceptr();
            int r = JCudaDriver.cuMemAlloc(p, size);
            if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                long released = cachedBytes;
                releaseCached();
                r = JCudaDriver.cuMemAlloc(p, size);
                if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
                    long[] f = {0}, t = {0};
                    JCudaDriver.cuMemGetInfo(f, t);
                    throw new CudaOutOfMemoryException(size, f[0], t[0], released);
                }
            }
            Cuda.check(r, "cuMemAlloc(" + size + " bytes)");
            allocations++;
        }
        liveBytes += size;
        peakLiveBytes = Math.max(peakLiveBytes, liveBytes);
        return new Block(p, size);
    }

    /** Returns a block to the cache (from a scope, an explicit release or the Cleaner). */
    synchronized void free(Block b) {
        free.computeIfAbsent(b.size, k -> new ArrayDeque<>()).addLast(b.ptr);
        cachedBytes += b.size;
        liveBytes -= b.size;
    }

    /** Gives every cached block back to the driver, after queued work that may still use them. */
    synchronized void releaseCached() {
        cuda.makeCurrent();
        Cuda.check(JCudaDriver.cuStreamSynchronize(cuda.stream), "cuStreamSynchronize (before cuMemFree)");
        List<CUdeviceptr> all = new ArrayList<>();
        free.values().forEach(all::addAll);
        free.clear();
        cachedBytes = 0;
        for (CUdeviceptr p : all) Cuda.check(JCudaDriver.cuMemFree(p), "cuMemFree");
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
