package dev.irtj.kernels.cuda;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The caching allocator's out-of-memory path and the kernel arguments' hold on their storages,
 * on a fake device (FakeDeviceMemory), without a GPU: a failed cuMemAlloc first returns the
 * cache, then collects storages that became unreachable unreleased (their blocks come back
 * through the Cleaner) and tries again; only memory that is really held is reported, in one line.
 */
class CudaAllocatorTest {
    private static final Device GPU = Device.cuda(0);
    private static final int MIB_FLOATS = 1 << 18;   // 1 MiB of F32

    /** A storage of `mib` MiB that nothing keeps: only the Cleaner can return its block. */
    private static void dropped(CudaAllocator allocator, int mib) {
        new CudaStorage(allocator, GPU, DType.F32, mib * MIB_FLOATS);
    }

    @Test
    void outOfMemoryFirstReleasesTheCacheThenCollectsUnreachableStorages() {
        FakeDeviceMemory device = new FakeDeviceMemory(10L << 20);
        CudaAllocator allocator = new CudaAllocator(device);
        // Cached: released explicitly, so its block sits in the cache (a size nobody asks for again).
        new CudaStorage(allocator, GPU, DType.F32, 3 * MIB_FLOATS).release();
        dropped(allocator, 2);
        dropped(allocator, 4);
        assertEquals(9L << 20, device.used(), "3 MiB cached + 6 MiB held by unreachable storages");
        CudaStorage big = new CudaStorage(allocator, GPU, DType.F32, 5 * MIB_FLOATS);
        assertNotNull(big.ptr());
        assertTrue(device.outOfMemory >= 2, "the first try and the one after releasing the cache both failed: " + device.outOfMemory);
        assertEquals(5L << 20, device.used(), "the cache and the collected storages went back to the driver; only the new block is held");
        assertTrue(device.synchronizations >= 1, "queued work is waited for before cuMemFree");
    }

    @Test
    void memoryThatIsReallyHeldIsReportedInOneLine() {
        FakeDeviceMemory device = new FakeDeviceMemory(8L << 20);
        CudaAllocator allocator = new CudaAllocator(device);
        CudaStorage held = new CudaStorage(allocator, GPU, DType.F32, 6 * MIB_FLOATS);
        long start = System.nanoTime();
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class,
                () -> new CudaStorage(allocator, GPU, DType.F32, 4 * MIB_FLOATS));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(e.getMessage().startsWith("CUDA out of memory: cuMemAlloc of 4,194,304 bytes failed; 2,097,152 of 8,388,608 bytes free"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
        assertEquals(2 + CudaAllocator.CLEANER_ROUNDS, device.outOfMemory, "first try, after the cache, then once per collection round");
        assertTrue(ms < 60_000, "the wait for the Cleaner is bounded: " + ms + " ms");
        assertNotNull(held.ptr());
    }

    @Test
    void kernelArgumentsKeepTheStoragesTheyAddressReachable() throws InterruptedException {
        FakeDeviceMemory device = new FakeDeviceMemory(64L << 20);
        CudaAllocator allocator = new CudaAllocator(device);
        KernelArgs args = new KernelArgs();
        WeakReference<CudaStorage> ref = addressOnly(allocator, args);
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertNotNull(ref.get(), "a storage whose only reference is the launch's arguments is still reachable");
        assertSame(ref.get(), args.storages().get(0));
        assertEquals(0, allocator.stats().cachedBytes(), "its block was not returned by the Cleaner");
        java.lang.ref.Reference.reachabilityFence(args);
        // Without the arguments, the Cleaner returns it (this shows the check above can fail).
        args = null;
        for (int i = 0; i < 100 && allocator.stats().cachedBytes() == 0; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(CudaAllocator.roundUp(4 * 1000), allocator.stats().cachedBytes(), "once unreachable, the block goes back to the cache");
    }

    /** Puts a fresh storage's tensor into args and keeps nothing else of it. */
    private static WeakReference<CudaStorage> addressOnly(CudaAllocator allocator, KernelArgs args) {
        CudaStorage s = new CudaStorage(allocator, GPU, DType.F32, 1000);
        args.base(Tensor.contiguousView(s, 1000)).i(1000);
        return new WeakReference<>(s);
    }
}
