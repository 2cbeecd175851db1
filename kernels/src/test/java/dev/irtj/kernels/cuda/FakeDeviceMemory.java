package dev.irtj.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;

import java.util.IdentityHashMap;
import java.util.Map;

/** A device of {@code capacity} bytes for CudaAllocator without a GPU: it counts, it stores nothing. */
final class FakeDeviceMemory implements DeviceMemory {
    private final long capacity;
    private final Map<CUdeviceptr, Long> live = new IdentityHashMap<>();
    private long used;
    int allocCalls, freeCalls, outOfMemory, synchronizations;

    FakeDeviceMemory(long capacity) {
        this.capacity = capacity;
    }

    @Override
    public synchronized int alloc(CUdeviceptr p, long bytes) {
        allocCalls++;
        if (used + bytes > capacity) {
            outOfMemory++;
            return CUresult.CUDA_ERROR_OUT_OF_MEMORY;
        }
        used += bytes;
        live.put(p, bytes);
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized int free(CUdeviceptr p) {
        Long bytes = live.remove(p);
        if (bytes == null) return CUresult.CUDA_ERROR_INVALID_VALUE;
        freeCalls++;
        used -= bytes;
        return CUresult.CUDA_SUCCESS;
    }

    @Override
    public synchronized void synchronize() {
        synchronizations++;
    }

    @Override
    public synchronized long[] info() {
        return new long[] {capacity - used, capacity};
    }

    synchronized long used() {
        return used;
    }
}
