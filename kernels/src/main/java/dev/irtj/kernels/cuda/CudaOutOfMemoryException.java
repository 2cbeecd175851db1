package dev.irtj.kernels.cuda;

/** Device memory exhausted even after the allocator returned its cached blocks to the driver and collected unreachable storages. */
public final class CudaOutOfMemoryException extends CudaException {
    public CudaOutOfMemoryException(long requested, long free, long total, long cached) {
        super(String.format(java.util.Locale.ROOT,
                "CUDA out of memory: cuMemAlloc of %,d bytes failed; %,d of %,d bytes free on the device (%,d bytes were cached or held by unreachable storages and released first)",
                requested, free, total, cached));
    }
}
