package dev.irtj.kernels.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * The driver calls {@link CudaAllocator} makes, behind an interface so that its out-of-memory
 * handling can be tested on a machine without a GPU (CudaAllocatorTest's fake device).
 */
interface DeviceMemory {
    /** cuMemAlloc into {@code p}: CUDA_SUCCESS, CUDA_ERROR_OUT_OF_MEMORY or another CUresult. */
    int alloc(CUdeviceptr p, long bytes);

    /** cuMemFree: a CUresult. */
    int free(CUdeviceptr p);

    /** Waits for all queued work, so that memory handed back to the driver is no longer in use. */
    void synchronize();

    /** {free, total} bytes of the device, for the out-of-memory message. */
    long[] info();
}
