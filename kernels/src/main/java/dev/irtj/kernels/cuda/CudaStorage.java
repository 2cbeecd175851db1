package dev.irtj.kernels.cuda;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Storage;
import jcuda.driver.CUdeviceptr;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Device memory from the caching allocator. A {@link MemoryScope} releases it deterministically;
 * storage that becomes unreachable unreleased (kept past every scope, then dropped) goes back
 * through a {@link Cleaner}, which only ever returns the block to the cache.
 */
final class CudaStorage extends Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device device;
    private final CUdeviceptr ptr;
    private final Cleaner.Cleanable cleanable;

    /** Returns the block once, whichever of release() and the Cleaner comes first. */
    private static final class Returner implements Runnable {
        private final CudaAllocator allocator;
        private final CudaAllocator.Block block;
        private final AtomicBoolean done = new AtomicBoolean();

        Returner(CudaAllocator allocator, CudaAllocator.Block block) {
            this.allocator = allocator;
            this.block = block;
        }

        @Override
        public void run() {
            if (done.compareAndSet(false, true)) allocator.free(block);
        }
    }

    CudaStorage(CudaAllocator allocator, Device device, DType dtype, int size) {
        super(dtype, size);
        this.device = device;
        CudaAllocator.Block block = allocator.allocate((long) size * dtype.byteSize());
        this.ptr = block.ptr();
        this.cleanable = CLEANER.register(this, new Returner(allocator, block));
        MemoryScope.register(this);
    }

    @Override
    public Device device() {
        return device;
    }

    /** The device address of element 0. */
    CUdeviceptr ptr() {
        checkLive();
        return ptr;
    }

    @Override
    protected void onRelease() {
        cleanable.clean();
    }
}
