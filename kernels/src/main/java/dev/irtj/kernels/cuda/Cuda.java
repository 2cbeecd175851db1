package dev.irtj.kernels.cuda;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * The process's CUDA state: device 0's primary context, one stream on which every kernel and
 * copy is queued (so work is ordered without synchronization, and a block freed to the
 * allocator may be reused by the next kernel safely), the kernel modules loaded from the
 * fatbins of {@code irtj-native}, pinned staging buffers for host transfers, and the error slots
 * in which the index kernels report a bad index.
 *
 * <p>Index errors are found on the device, so an index op never waits for it; they are read
 * where the host waits anyway ({@link #download}, {@link #synchronize}) and thrown there as an
 * {@link IndexOutOfBoundsException} naming the op, the bad index and its position, like PyTorch's
 * device-side asserts. The error therefore surfaces at the next synchronization, not at the call.
 */
final class Cuda {
    /**
     * {@code -Dirtj.cuda.sync=true}: wait after every kernel so that a fault is reported by the
     * launch that caused it, not by a later copy (for debugging and the GPU tests; slow).
     */
    final boolean syncEachLaunch = parseSync(System.getProperty("irtj.cuda.sync", "false"));

    private static boolean parseSync(String v) {
        String s = v.trim().toLowerCase(java.util.Locale.ROOT);
        if (!s.equals("true") && !s.equals("false")) throw new IllegalArgumentException("-Dirtj.cuda.sync must be true or false, got '" + v + "'");
        return s.equals("true");
    }

    /** Bytes of each pinned staging buffer; larger transfers go through them in chunks. */
    static final int STAGING_BYTES = 8 << 20;

    final CUdevice device = new CUdevice();
    final CUcontext context = new CUcontext();
    final CUstream stream = new CUstream();
    final String deviceName;
    final int computeMajor, computeMinor, multiprocessors, driverVersion;
    final CudaAllocator allocator;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    // Two pinned buffers used alternately; each has an event marking when its last copy ended.
    private final Pointer[] staging = {new Pointer(), new Pointer()};
    private final ByteBuffer[] stagingBuffers = new ByteBuffer[2];
    private final CUevent[] stagingDone = {new CUevent(), new CUevent()};
    private final boolean[] stagingPending = new boolean[2];
    private int nextStaging;

    /**
     * Index launches between two synchronizations that can be told apart; one more forces a wait
     * (a training step has a handful, so it never happens there).
     */
    static final int INDEX_SLOTS = 1024;
    // INDEX_SLOTS pairs of long longs {position + 1 of the first bad index (0: none), its value};
    // all zero except between a faulty launch and the check that reports it.
    private final CUdeviceptr indexErrors = new CUdeviceptr();
    private final IndexLaunch[] indexLaunches = new IndexLaunch[INDEX_SLOTS];
    private int indexSlotsUsed;

    private record IndexLaunch(String op, int bound) {
    }

    /** Fails (with the first failing call named) when there is no driver, no device or no JCuda library. */
    Cuda() {
        JCudaDriver.setExceptionsEnabled(false);
        check(JCudaDriver.cuInit(0), "cuInit");
        if (syncEachLaunch) java.util.logging.Logger.getLogger(Cuda.class.getName())
                .info("irtj: -Dirtj.cuda.sync=true: every kernel is waited for (slow; for locating faults)");
        int[] count = {0};
        check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) throw new CudaException("cuDeviceGetCount: no CUDA device");
        check(JCudaDriver.cuDeviceGet(device, 0), "cuDeviceGet(0)");
        check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
        current.set(true);
        byte[] name = new byte[256];
        check(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        deviceName = new String(name, 0, len, java.nio.charset.StandardCharsets.US_ASCII);
        computeMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        computeMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        int[] v = {0};
        check(JCudaDriver.cuDriverGetVersion(v), "cuDriverGetVersion");
        driverVersion = v[0];
        if (computeMajor < 8) {
            throw new CudaException("device 0 (" + deviceName + ") has compute capability " + computeMajor + "." + computeMinor
                    + "; the kernels are built for 8.0 and newer");
        }
        check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate");
        for (int i = 0; i < 2; i++) {
            check(JCudaDriver.cuMemAllocHost(staging[i], STAGING_BYTES), "cuMemAllocHost(" + STAGING_BYTES + ")");
            stagingBuffers[i] = staging[i].getByteBuffer(0, STAGING_BYTES).order(ByteOrder.nativeOrder());
            check(JCudaDriver.cuEventCreate(stagingDone[i], 0), "cuEventCreate");
        }
        check(JCudaDriver.cuMemAlloc(indexErrors, 16L * INDEX_SLOTS), "cuMemAlloc(index error slots)");
        check(JCudaDriver.cuMemsetD8(indexErrors, (byte) 0, 16L * INDEX_SLOTS), "cuMemsetD8(index error slots)");
        allocator = new CudaAllocator(deviceMemory());
        // Every module and kernel is resolved now, so a fatbin that does not fit this GPU or
        // driver, or a kernel missing from it, is one line at start-up rather than a failure
        // in the middle of a training step.
        CudaKernel.resolveAll(symbol -> {
            try {
                function(symbol);
                return null;
            } catch (CudaException e) {
                return e.getMessage();
            }
        });
    }

    /** The allocator's driver calls, in this context and on this stream. */
    private DeviceMemory deviceMemory() {
        return new DeviceMemory() {
            @Override
            public int alloc(CUdeviceptr p, long bytes) {
                makeCurrent();
                return JCudaDriver.cuMemAlloc(p, bytes);
            }

            @Override
            public int free(CUdeviceptr p) {
                makeCurrent();
                return JCudaDriver.cuMemFree(p);
            }

            @Override
            public void synchronize() {
                makeCurrent();
                check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize (before cuMemFree)");
            }

            @Override
            public long[] info() {
                long[] free = {0}, total = {0};
                JCudaDriver.cuMemGetInfo(free, total);
                return new long[] {free[0], total[0]};
            }
        };
    }

    private int attribute(int which) {
        int[] v = {0};
        check(JCudaDriver.cuDeviceGetAttribute(v, which, device), "cuDeviceGetAttribute(" + which + ")");
        return v[0];
    }

    /** Throws a {@link CudaException} naming {@code call} unless {@code result} is CUDA_SUCCESS. */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + CUresult.stringFor(result) + " (" + result + ")");
        }
    }

    /** Makes the primary context current on the calling thread (once per thread). */
    void makeCurrent() {
        if (!current.get()) {
            check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
            current.set(true);
        }
    }

    /** A kernel of the family {@code kernel.module()} (native/src/cuda/MODULE.cu). */
    synchronized CUfunction function(CudaKernel.Symbol kernel) {
        String module = kernel.module(), name = kernel.name();
        String key = module + "/" + name;
        CUfunction f = functions.get(key);
        if (f == null) {
            CUmodule m = modules.computeIfAbsent(module, this::load);
            f = new CUfunction();
            check(JCudaDriver.cuModuleGetFunction(f, m, name), "cuModuleGetFunction(" + module + ", " + name + ")");
            functions.put(key, f);
        }
        return f;
    }

    private CUmodule load(String module) {
        String resource = "/dev/irtj/native/" + module + ".fatbin";
        byte[] image;
        try (InputStream in = Cuda.class.getResourceAsStream(resource)) {
            if (in == null) throw new CudaException("kernel module " + resource + " is not on the class path (irtj-native missing?)");
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("reading " + resource + ": " + e.getMessage());
        }
        CUmodule m = new CUmodule();
        check(JCudaDriver.cuModuleLoadData(m, image), "cuModuleLoadData(" + module + ".fatbin)");
        return m;
    }

    /** Queues a kernel on the stream; {@code params} from {@link KernelArgs}. */
    void launch(CudaKernel.Symbol kernel, int gridX, int gridY, int gridZ, int block, KernelArgs params) {
        CUfunction f = function(kernel);
        String name = kernel.name();
        check(JCudaDriver.cuLaunchKernel(f, gridX, gridY, gridZ, block, 1, 1, 0, stream, params.pointer(), null),
                "cuLaunchKernel(" + name + ", grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + block + ")");
        // The arguments hold the storages they address: until the launch is queued, none of
        // them may become unreachable and have its block recycled by the Cleaner.
        java.lang.ref.Reference.reachabilityFence(params);
        if (syncEachLaunch) {
            check(JCudaDriver.cuStreamSynchronize(stream), "kernel " + name + " (-Dirtj.cuda.sync=true)");
            checkIndexErrors();
        }
    }

    /**
     * The error slot for the next launch of index op {@code op} whose indices must lie in
     * [0, bound). When every slot has been handed out since the last synchronization, this
     * synchronizes (and reports any error found) to free them.
     */
    synchronized CUdeviceptr indexErrorSlot(String op, int bound) {
        if (indexSlotsUsed == INDEX_SLOTS) synchronize();
        int i = indexSlotsUsed++;
        indexLaunches[i] = new IndexLaunch(op, bound);
        return indexErrors.withByteOffset(16L * i);
    }

    /**
     * Reads the slots handed out since the last check (the stream must be idle) and throws for
     * the earliest launch that found a bad index. Every slot is free again afterwards.
     */
    private synchronized void checkIndexErrors() {
        int used = indexSlotsUsed;
        if (used == 0) return;
        indexSlotsUsed = 0;
        long[] slots = new long[2 * used];
        check(JCudaDriver.cuMemcpyDtoH(Pointer.to(slots), indexErrors, 16L * used), "cuMemcpyDtoH(index error slots)");
        for (int i = 0; i < used; i++) {
            if (slots[2 * i] == 0) continue;
            check(JCudaDriver.cuMemsetD8(indexErrors, (byte) 0, 16L * used), "cuMemsetD8(index error slots)");
            IndexLaunch l = indexLaunches[i];
            throw new IndexOutOfBoundsException(l.op() + ": index " + slots[2 * i + 1] + " out of range [0, " + l.bound() + ") at position "
                    + (slots[2 * i] - 1) + " of the index (found on the device, reported at the next synchronization)");
        }
    }

    /** A grid-stride launch over {@code n} elements. */
    void launchElementwise(CudaKernel.Symbol kernel, int n, KernelArgs params) {
        if (n == 0) return;
        int blocks = (int) Math.min((n + 255L) / 256, 65536);
        launch(kernel, blocks, 1, 1, 256, params);
    }

    /** Copies {@code bytes} bytes from {@code src} (already in native order) to the device. */
    synchronized void upload(CUdeviceptr dst, ByteSource src, long bytes) {
        makeCurrent();
        long done = 0;
        while (done < bytes) {
            int chunk = (int) Math.min(STAGING_BYTES, bytes - done);
            int i = acquireStaging();
            ByteBuffer buf = stagingBuffers[i];
            buf.clear();
            src.write(buf, done, chunk);
            check(JCudaDriver.cuMemcpyHtoDAsync(dst.withByteOffset(done), staging[i], chunk, stream), "cuMemcpyHtoDAsync(" + chunk + " bytes)");
            check(JCudaDriver.cuEventRecord(stagingDone[i], stream), "cuEventRecord");
            stagingPending[i] = true;
            done += chunk;
        }
    }

    /** Copies {@code bytes} bytes from the device into {@code dst}; waits for the stream (the value must reach the host). */
    synchronized void download(CUdeviceptr src, ByteSink dst, long bytes) {
        makeCurrent();
        long done = 0;
        while (done < bytes) {
            int chunk = (int) Math.min(STAGING_BYTES, bytes - done);
            int i = acquireStaging();
            check(JCudaDriver.cuMemcpyDtoHAsync(staging[i], src.withByteOffset(done), chunk, stream), "cuMemcpyDtoHAsync(" + chunk + " bytes)");
            check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize (after a kernel or copy queued earlier)");
            ByteBuffer buf = stagingBuffers[i];
            buf.clear();
            dst.read(buf, done, chunk);
            done += chunk;
        }
        checkIndexErrors();
    }

    /** A staging buffer whose previous upload has left it; waits only if that copy is still running. */
    private int acquireStaging() {
        int i = nextStaging;
        nextStaging = 1 - nextStaging;
        if (stagingPending[i]) {
            check(JCudaDriver.cuEventSynchronize(stagingDone[i]), "cuEventSynchronize (staging buffer)");
            stagingPending[i] = false;
        }
        return i;
    }

    /** Waits for everything queued so far (benchmarks; errors of earlier kernels, bad indices included, surface here). */
    synchronized void synchronize() {
        makeCurrent();
        check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
        checkIndexErrors();
    }

    interface ByteSource {
        /** Puts {@code count} bytes starting at byte {@code from} of the source into {@code buf}. */
        void write(ByteBuffer buf, long from, int count);
    }

    interface ByteSink {
        /** Takes {@code count} bytes from {@code buf} as bytes {@code from}.. of the destination. */
        void read(ByteBuffer buf, long from, int count);
    }
}
