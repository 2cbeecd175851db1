package dev.irtj.kernels.cuda;

import dev.irtj.tensor.AttentionPlan;
import dev.irtj.tensor.AdamWParameter;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.GemmShape;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.HostStorage;
import dev.irtj.tensor.ReduceOp;
import dev.irtj.tensor.ReductionPlan;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Storage;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.TopK;
import dev.irtj.tensor.TopKPlan;
import dev.irtj.tensor.UnaryOp;
import jcuda.driver.CUdeviceptr;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * The GPU backend: our CUDA kernels (module {@code irtj-native}) launched through the JCuda
 * driver API on one stream of device 0's primary context, device memory from a caching
 * allocator, F32 matrix products through cuBLAS or our own GEMM kernels ({@link CudaGemm}).
 * Every floating op runs in F32 and F64; I64 is supported by copies, fills, where, cat and the
 * index ops. Nothing waits for the device except downloads (a value reaching the host) and
 * {@link #synchronize()}. Index ops check their indices on the device; a bad one is reported as
 * an {@link IndexOutOfBoundsException} at the next of those waits (see {@link Cuda}).
 *
 * <p>Construction is free: CUDA is initialized on the first call of {@link #unavailableReason()}
 * or of an op, so a machine without a driver only pays a failed library load, reported once by
 * {@link dev.irtj.tensor.Devices#auto()}.
 */
public final class CudaBackend implements Backend {
    private static final int ROW_THREADS = 256;
    private static volatile State state;

    private record State(Cuda cuda, CudaGemm gemm, String problem) {
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Device.Kind deviceKind() {
        return Device.Kind.CUDA;
    }

    @Override
    public int priority() {
        return 100;
    }

    private static State state() {
        State s = state;
        if (s == null) {
            synchronized (CudaBackend.class) {
                s = state;
                if (s == null) {
                    s = start();
                    state = s;
                }
            }
        }
        return s;
    }

    private static State start() {
        Cuda cuda;
        try {
            cuda = new Cuda();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            return new State(null, null, "the JCuda driver library did not load (no NVIDIA driver / libcuda.so.1?): " + firstLine(e));
        } catch (CudaException | IllegalArgumentException e) {
            return new State(null, null, e.getMessage());
        }
        try {
            return new State(cuda, CudaGemm.choose(cuda), null);
        } catch (RuntimeException | LinkageError e) {
            // A forced cuBLAS that does not load, or a bad -Dirtj.cuda.* value.
            return new State(null, null, firstLine(e));
        }
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage() != null ? e.getMessage() : e.toString());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    @Override
    public String unavailableReason() {
        return state().problem();
    }

    private static Cuda cuda() {
        State s = state();
        if (s.problem() != null) throw new IllegalStateException("the cuda backend cannot run here: " + s.problem());
        s.cuda().makeCurrent();
        return s.cuda();
    }

    /** Device name, compute capability, driver version and the GEMM in use, for logs and benchmarks. */
    public String describe() {
        Cuda c = cuda();
        CudaGemm g = state().gemm();
        return c.deviceName + " (sm_" + c.computeMajor + c.computeMinor + ", " + c.multiprocessors + " SMs, driver "
                + c.driverVersion / 1000 + "." + c.driverVersion % 1000 / 10 + "), GEMM "
                + (g.engine == CudaGemm.Engine.CUBLAS ? "cuBLAS (" + g.cublasName() + ")" : "irtj") + (g.tf32 ? " TF32" : " FP32");
    }

    /** Null when F32 products go through cuBLAS; otherwise why not (tests needing cuBLAS are skipped with it). */
    String cublasProblem() {
        cuda();
        CudaGemm g = state().gemm();
        return g.engine == CudaGemm.Engine.CUBLAS ? null : g.why;
    }

    /** Waits until all queued work is done (benchmarks time with this). */
    public void synchronize() {
        cuda().synchronize();
    }

    /** Bytes in use, peak, cached, and allocator hits; for benchmarks and tests. */
    public String memoryStats() {
        CudaAllocator.Stats s = cuda().allocator.stats();
        return String.format(java.util.Locale.ROOT, "live %,d B, peak %,d B, cached %,d B, cuMemAlloc calls %d, reuses %d",
                s.liveBytes(), s.peakLiveBytes(), s.cachedBytes(), s.allocations(), s.reuses());
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static void requireFloating(Tensor t, String op) {
        if (!t.dtype().isFloating()) throw new IllegalArgumentException(op + " is not defined for " + t.dtype() + " tensors");
    }

    private static void requireCuda(Tensor t, String op) {
        if (!(t.storage() instanceof CudaStorage)) {
            throw new IllegalArgumentException(op + ": the cuda backend computes on cuda tensors, got one on " + t.device());
        }
    }

    private static Tensor newTensor(Device device, DType dtype, int[] shape) {
        return Tensor.contiguousView(new CudaStorage(cuda().allocator, device, dtype, Shape.numel(shape)), shape);
    }

    private static Tensor newLike(Tensor t, DType dtype, int[] shape) {
        return newTensor(t.device(), dtype, shape);
    }

    /** t itself when contiguous, else a contiguous copy. */
    private Tensor dense(Tensor t) {
        return t.isContiguous() ? t : copy(t, t.dtype());
    }

    private static int rowThreads(int n) {
        return Math.max(32, Math.min(ROW_THREADS, (n + 31) / 32 * 32));
    }

    // ---- memory -------------------------------------------------------------------------------

    @Override
    public Storage allocate(Device device, DType dtype, int numel, boolean zero) {
        checkDevice(device);
        CudaStorage s = new CudaStorage(cuda().allocator, device, dtype, numel);
        if (zero && numel > 0) {
            Cuda.check(jcuda.driver.JCudaDriver.cuMemsetD8Async(s.ptr(), (byte) 0, (long) numel * dtype.byteSize(), cuda().stream),
                    "cuMemsetD8Async");
        }
        return s;
    }

    private static void checkDevice(Device device) {
        if (device.kind() != Device.Kind.CUDA || device.index() != 0) {
            throw new IllegalArgumentException("the cuda backend runs on cuda:0 only, not " + device);
        }
    }

    @Override
    public Storage upload(HostStorage host, Device device) {
        checkDevice(device);
        int n = host.size();
        CudaStorage s = new CudaStorage(cuda().allocator, device, host.dtype(), n);
        long bytes = (long) n * host.dtype().byteSize();
        Cuda.ByteSource src = switch (host.dtype()) {
            case F32 -> (buf, from, count) -> buf.asFloatBuffer().put(host.f32(), (int) (from / 4), count / 4);
            case F64 -> (buf, from, count) -> buf.asDoubleBuffer().put(host.f64(), (int) (from / 8), count / 8);
            case I64 -> (buf, from, count) -> buf.asLongBuffer().put(host.i64(), (int) (from / 8), count / 8);
        };
        if (bytes > 0) cuda().upload(s.ptr(), src, bytes);
        return s;
    }

    @Override
    public HostStorage download(Tensor t) {
        requireCuda(t, "download");
        Tensor c = dense(t);
        HostStorage out = HostStorage.unpooled(t.dtype(), t.numel());
        long bytes = (long) t.numel() * t.dtype().byteSize();
        if (bytes == 0) return out;
        CUdeviceptr p = ((CudaStorage) c.storage()).ptr().withByteOffset((long) c.offset() * c.dtype().byteSize());
        Cuda.ByteSink sink = switch (t.dtype()) {
            case F32 -> (ByteBuffer buf, long from, int count) -> buf.asFloatBuffer().get(out.f32(), (int) (from / 4), count / 4);
            case F64 -> (ByteBuffer buf, long from, int count) -> buf.asDoubleBuffer().get(out.f64(), (int) (from / 8), count / 8);
            case I64 -> (ByteBuffer buf, long from, int count) -> buf.asLongBuffer().get(out.i64(), (int) (from / 8), count / 8);
        };
        cuda().download(p, sink, bytes);
        return out;
    }

    // ---- data movement ------------------------------------------------------------------------

    @Override
    public Tensor copy(Tensor src, DType dtype) {
        requireCuda(src, "copy");
        Tensor out = newLike(src, dtype, src.shape());
        stridedCopy(out, src);
        return out;
    }

    /** dst[i] = src[i] (src already has dst's shape), converting dtype. */
    private static void stridedCopy(Tensor dst, Tensor src) {
        cuda().launchElementwise(CudaKernel.COPY.of(src.dtype(), dst.dtype()), dst.numel(), new KernelArgs()
                .base(dst).strided(dst, "copy").base(src).strided(src, "copy").i(dst.numel()));
    }

    @Override
    public void copyInto(Tensor dst, Tensor src) {
        requireCuda(dst, "copyInto");
        requireCuda(src, "copyInto");
        Tensor s = src.expand(dst.shape());
        // The reference reads everything before writing; an aliasing source goes through a copy.
        if (s.storage() == dst.storage()) s = copy(s, s.dtype());
        stridedCopy(dst, s);
    }

    @Override
    public void fill(Tensor dst, double value) {
        requireCuda(dst, "fill");
        cuda().launchElementwise(CudaKernel.FILL.of(dst.dtype()), dst.numel(),
                new KernelArgs().base(dst).strided(dst, "fill").i(dst.numel()).d(value));
    }

    @Override
    public Tensor cat(List<Tensor> tensors, int dim) {
        Tensor first = tensors.get(0);
        int[] shape = first.shape();
        int total = 0;
        for (Tensor t : tensors) {
            requireCuda(t, "cat");
            total += t.shape(dim);
        }
        shape[dim] = total;
        Tensor out = newLike(first, first.dtype(), shape);
        int at = 0;
        for (Tensor t : tensors) {
            stridedCopy(out.narrow(dim, at, t.shape(dim)), t);
            at += t.shape(dim);
        }
        return out;
    }

    /**
     * The error slot for one index-op launch (the kernel checks the indices against bound and
     * records the first bad one there, see {@link Cuda}). Checks on the host only what needs no
     * index value: the dtype, and an empty range, which no index can fall into.
     */
    private static jcuda.driver.CUdeviceptr indexSlot(Tensor index, int bound, String op) {
        requireCuda(index, op);
        if (index.dtype() != DType.I64) throw new IllegalArgumentException(op + ": indices must be I64, got " + index.dtype());
        if (bound == 0 && index.numel() > 0) {
            throw new IndexOutOfBoundsException(op + ": " + index.numel() + " indices into an empty range [0, 0)");
        }
        return cuda().indexErrorSlot(op, bound);
    }

    /**
     * For an op whose output is empty although its index is not (another dimension is 0): no
     * kernel runs to check the indices, so they are checked here, with a download (the one case
     * in which an index op waits for the device).
     */
    private void checkIndicesOnHost(Tensor index, int bound, String op) {
        long[] values = download(index).i64();
        for (int p = 0; p < values.length; p++) {
            long i = values[p];
            if (i < 0 || i >= bound) throw new IndexOutOfBoundsException(op + ": index " + i + " out of range [0, " + bound + ") at position " + p + " of the index");
        }
    }

    @Override
    public Tensor indexSelect(Tensor x, int dim, Tensor index) {
        requireCuda(x, "index_select");
        jcuda.driver.CUdeviceptr err = indexSlot(index, x.shape(dim), "index_select");
        int[] shape = x.shape();
        shape[dim] = index.numel();
        Tensor out = newLike(x, x.dtype(), shape);
        int[] xs = KernelArgs.stridedInts(shape, x.strides(), x.offset(), "index_select");
        cuda().launchElementwise(CudaKernel.INDEX_SELECT.of(x.dtype()), out.numel(), new KernelArgs()
                .base(x).ints(xs).i(dim).i(x.shape(dim)).base(index).strided(index, "index_select").base(out).i(out.numel()).ptr(err));
        if (out.numel() == 0 && index.numel() > 0) checkIndicesOnHost(index, x.shape(dim), "index_select");
        return out;
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        requireCuda(x, "gather");
        int[] shape = index.shape();
        for (int d = 0; d < shape.length; d++) {
            if (d != dim && shape[d] > x.shape(d)) {
                throw new IllegalArgumentException("gather: index " + Shape.str(shape) + " larger than input " + Shape.str(x.shape()) + " in dim " + d);
            }
        }
        jcuda.driver.CUdeviceptr err = indexSlot(index, x.shape(dim), "gather");
        Tensor out = newLike(x, x.dtype(), shape);
        int[] xs = KernelArgs.stridedInts(shape, x.strides(), x.offset(), "gather");
        cuda().launchElementwise(CudaKernel.GATHER.of(x.dtype()), out.numel(), new KernelArgs()
                .base(x).ints(xs).i(dim).i(x.shape(dim)).base(index).strided(index, "gather").base(out).i(out.numel()).ptr(err));
        return out;
    }

    @Override
    public Tensor indexAdd(int[] shape, int dim, Tensor index, Tensor src) {
        requireCuda(src, "index_add");
        jcuda.driver.CUdeviceptr err = indexSlot(index, shape[dim], "index_add");
        Tensor out = newLike(src, src.dtype(), shape);
        int[] os = KernelArgs.stridedInts(shape, Shape.contiguousStrides(shape), 0, "index_add");
        cuda().launchElementwise(CudaKernel.INDEX_ADD.of(src.dtype()), out.numel(), new KernelArgs()
                .ints(os).i(dim).base(index).strided(index, "index_add").i(index.numel())
                .base(src).strided(src, "index_add").base(out).i(out.numel()).ptr(err));
        if (out.numel() == 0 && index.numel() > 0) checkIndicesOnHost(index, shape[dim], "index_add");
        return out;
    }

    @Override
    public Tensor scatterAdd(int[] shape, int dim, Tensor index, Tensor src) {
        requireCuda(src, "scatter_add");
        int[] idxShape = index.shape();
        if (idxShape.length != shape.length) {
            throw new IllegalArgumentException("scatter_add: index " + Shape.str(idxShape) + " and output " + Shape.str(shape) + " differ in rank");
        }
        for (int d = 0; d < idxShape.length; d++) {
            if (d != dim && idxShape[d] > shape[d]) {
                throw new IllegalArgumentException("scatter_add: index " + Shape.str(idxShape) + " larger than output " + Shape.str(shape) + " in dim " + d);
            }
        }
        jcuda.driver.CUdeviceptr err = indexSlot(index, shape[dim], "scatter_add");
        Tensor out = newLike(src, src.dtype(), shape);
        Tensor s = src.narrowTo(idxShape);
        int[] os = KernelArgs.stridedInts(shape, Shape.contiguousStrides(shape), 0, "scatter_add");
        cuda().launchElementwise(CudaKernel.SCATTER_ADD.of(src.dtype()), out.numel(), new KernelArgs()
                .ints(os).i(dim).base(index).strided(index, "scatter_add").base(s).strided(s, "scatter_add").base(out).i(out.numel()).ptr(err));
        if (out.numel() == 0 && index.numel() > 0) checkIndicesOnHost(index, shape[dim], "scatter_add");
        return out;
    }

    // ---- elementwise --------------------------------------------------------------------------

    @Override
    public Tensor unary(UnaryOp op, Tensor x, double p0, double p1) {
        requireCuda(x, op.name());
        requireFloating(x, op.name());
        Tensor out = newLike(x, x.dtype(), x.shape());
        int n = x.numel();
        if (op == UnaryOp.GELU || op == UnaryOp.GELU_TANH) {
            cuda().launchElementwise(CudaKernel.BIAS_GELU_FORWARD.of(x.dtype()), n, new KernelArgs()
                    .i(op == UnaryOp.GELU_TANH ? 1 : 0).base(x).strided(x, "gelu").ptr(null).i(1).base(out).i(n));
        } else {
            cuda().launchElementwise(CudaKernel.UNARY.of(x.dtype()), n, new KernelArgs()
                    .i(CudaKernel.code(op)).base(x).strided(x, op.name()).base(out).i(n).d(p0).d(p1));
        }
        return out;
    }

    @Override
    public Tensor unaryBackward(UnaryOp op, Tensor x, Tensor dy, double p0, double p1) {
        requireCuda(x, op + " backward");
        requireCuda(dy, op + " backward");
        requireFloating(x, op.name());
        Tensor g = dy.expand(x.shape());
        Tensor out = newLike(x, x.dtype(), x.shape());
        int n = x.numel();
        if (op == UnaryOp.GELU || op == UnaryOp.GELU_TANH) {
            cuda().launchElementwise(CudaKernel.BIAS_GELU_BACKWARD.of(x.dtype()), n, new KernelArgs()
                    .i(op == UnaryOp.GELU_TANH ? 1 : 0).base(x).strided(x, "gelu").ptr(null).i(1)
                    .base(g).strided(g, "gelu").base(out).i(n));
        } else {
            cuda().launchElementwise(CudaKernel.UNARY_BACKWARD.of(x.dtype()), n, new KernelArgs()
                    .i(CudaKernel.code(op)).base(x).strided(x, op.name()).base(g).strided(g, op.name()).base(out).i(n).d(p0).d(p1));
        }
        return out;
    }

    /**
     * gelu(x + bias) in one pass, bias [n] added along x's last dim of n (a Linear's output
     * before its activation); exact erf GELU, or the tanh form when {@code tanhForm}.
     */
    public Tensor biasGelu(Tensor x, Tensor bias, boolean tanhForm) {
        Tensor b = checkBias(x, bias, "bias_gelu");
        Tensor out = newLike(x, x.dtype(), x.shape());
        cuda().launchElementwise(CudaKernel.BIAS_GELU_FORWARD.of(x.dtype()), x.numel(), new KernelArgs()
                .i(tanhForm ? 1 : 0).base(x).strided(x, "bias_gelu").data(b).i(b.numel()).base(out).i(x.numel()));
        return out;
    }

    /** dy · gelu'(x + bias): the gradient wrt x, and wrt bias after a sum over rows. */
    public Tensor biasGeluBackward(Tensor x, Tensor bias, Tensor dy, boolean tanhForm) {
        Tensor b = checkBias(x, bias, "bias_gelu backward");
        requireCuda(dy, "bias_gelu backward");
        Tensor g = dy.expand(x.shape());
        Tensor out = newLike(x, x.dtype(), x.shape());
        cuda().launchElementwise(CudaKernel.BIAS_GELU_BACKWARD.of(x.dtype()), x.numel(), new KernelArgs()
                .i(tanhForm ? 1 : 0).base(x).strided(x, "bias_gelu").data(b).i(b.numel()).base(g).strided(g, "bias_gelu")
                .base(out).i(x.numel()));
        return out;
    }

    /** The add kernel, then the layer-norm kernel on the sum (no fused kernel on the GPU yet). */
    @Override
    public AddLayerNormResult addLayerNorm(Tensor x, Tensor r, Tensor weight, Tensor bias, double eps) {
        Tensor h = binary(BinaryOp.ADD, x, r);
        return new AddLayerNormResult(h, layerNorm(h, weight, bias, eps));
    }

    /** The configured GEMM for z = x·Wᵀ, then {@code bias_gelu}'s forward kernel adds the bias and applies GELU in one pass. */
    @Override
    public LinearGeluResult linearGelu(GemmShape plan, Tensor bias) {
        Tensor z = gemm(plan, 1.0, 0.0);
        return new LinearGeluResult(biasGelu(z, bias, false), z);
    }

    /** {@code bias_gelu}'s backward kernel (bias added inside), then the bias gradient as a column sum. */
    @Override
    public Tensor[] linearGeluBackward(Tensor z, Tensor bias, Tensor dy) {
        Tensor dz = biasGeluBackward(z, bias, dy, false);
        int[] leading = new int[dz.rank() - 1];
        for (int d = 0; d < leading.length; d++) leading[d] = d;
        return new Tensor[] {dz, reduce(ReductionPlan.resolve(ReduceOp.SUM, dz, leading, false))};
    }

    private Tensor checkBias(Tensor x, Tensor bias, String op) {
        requireCuda(x, op);
        requireCuda(bias, op);
        requireFloating(x, op);
        if (x.rank() == 0 || bias.rank() != 1 || bias.shape(0) != x.shape(-1) || bias.dtype() != x.dtype()) {
            throw new IllegalArgumentException(op + ": bias " + Shape.str(bias.shape()) + " " + bias.dtype() + " does not fit x "
                    + Shape.str(x.shape()) + " " + x.dtype());
        }
        return dense(bias);
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        requireCuda(a, op.name());
        requireCuda(b, op.name());
        requireFloating(a, op.name());
        if (a.dtype() != b.dtype()) throw new IllegalArgumentException(op + ": dtypes differ: " + a.dtype() + " and " + b.dtype());
        int[] shape = Shape.broadcast(a.shape(), b.shape());
        Tensor ea = a.expand(shape), eb = b.expand(shape);
        Tensor out = newLike(a, a.dtype(), shape);
        cuda().launchElementwise(CudaKernel.BINARY.of(a.dtype()), out.numel(), new KernelArgs()
                .i(CudaKernel.code(op)).base(ea).strided(ea, op.name()).base(eb).strided(eb, op.name()).base(out).i(out.numel()));
        return out;
    }

    @Override
    public Tensor where(Tensor cond, Tensor a, Tensor b) {
        requireCuda(cond, "where");
        requireCuda(a, "where");
        requireCuda(b, "where");
        int[] shape = Shape.broadcast(cond.shape(), Shape.broadcast(a.shape(), b.shape()));
        Tensor ec = cond.expand(shape), ea = a.expand(shape), eb = b.expand(shape);
        Tensor out = newLike(a, a.dtype(), shape);
        cuda().launchElementwise(CudaKernel.WHERE.of(a.dtype(), cond.dtype()), out.numel(), new KernelArgs()
                .base(ec).strided(ec, "where").base(ea).strided(ea, "where").base(eb).strided(eb, "where").base(out).i(out.numel()));
        return out;
    }

    // ---- reductions ---------------------------------------------------------------------------

    @Override
    public Tensor reduce(ReductionPlan plan) {
        ReduceOp op = plan.op();
        Tensor x = plan.x();
        requireCuda(x, op.name());
        int len = plan.len(), rows = plan.rows();
        Tensor out = newLike(x, x.dtype(), plan.outShape());
        if (rows == 0) return out;
        if (len == 0) {
            fill(out, op == ReduceOp.SUM ? 0.0 : Double.NaN);
            return out;
        }
        if (plan.sumsDownColumns()) {
            columnSums(x, len, rows, op == ReduceOp.MEAN ? len : 1, out);
            return out;
        }
        Tensor moved = dense(x.permute(plan.perm()));
        cuda().launch(CudaKernel.REDUCE_ROWS.of(x.dtype()), rows, 1, 1, rowThreads(len),
                new KernelArgs().i(CudaKernel.code(op)).data(moved).data(out).i(len));
        return out;
    }

    /** out[j] = Σ_r x[r][j] / divisor over a contiguous [rows, cols] block, in two fixed passes. */
    private void columnSums(Tensor x, int rows, int cols, int divisor, Tensor out) {
        int chunks = Math.min(rows, 256), chunkRows = (rows + chunks - 1) / chunks;
        chunks = (rows + chunkRows - 1) / chunkRows;
        Tensor partial = newLike(x, x.dtype(), new int[] {chunks, cols});
        cuda().launch(CudaKernel.SUM_COLUMNS_PARTIAL.of(x.dtype()), (cols + ROW_THREADS - 1) / ROW_THREADS, chunks, 1, ROW_THREADS,
                new KernelArgs().data(x).i(rows).i(cols).i(chunkRows).data(partial));
        cuda().launchElementwise(CudaKernel.SUM_COLUMNS_FINISH.of(x.dtype()), cols,
                new KernelArgs().data(partial).i(chunks).i(cols).d(divisor).data(out));
        partial.storage().release();
    }

    @Override
    public Tensor argReduce(ReductionPlan plan) {
        ReduceOp op = plan.op();
        Tensor x = plan.x();
        requireCuda(x, "arg" + op);
        // The reference ranks any dtype; the CUDA kernel is built for floating ones only.
        requireFloating(x, "arg" + op);
        int len = plan.len(), rows = plan.rows();
        Tensor moved = dense(x.permute(plan.perm()));
        Tensor out = newLike(x, DType.I64, plan.outShape());
        if (rows > 0) {
            cuda().launch(CudaKernel.ARG_REDUCE_ROWS.of(x.dtype()), rows, 1, 1, rowThreads(len),
                    new KernelArgs().i(CudaKernel.code(op)).data(moved).data(out).i(len));
        }
        return out;
    }

    /** One block per row (topk.cu): the k best in {@link TopKPlan}'s order, NaN last. */
    @Override
    public TopK topk(TopKPlan plan) {
        Tensor x = plan.x();
        requireCuda(x, "topk");
        int n = plan.n(), k = plan.k(), rows = plan.rows();
        Tensor values = newLike(x, x.dtype(), plan.outShape()), indices = newLike(x, DType.I64, plan.outShape());
        if (rows > 0 && k > 0) {
            Tensor in = dense(x);
            cuda().launch(CudaKernel.TOPK_ROWS.of(x.dtype()), rows, 1, 1, rowThreads(n),
                    new KernelArgs().data(in).i(n).i(k).data(values).data(indices));
        }
        return new TopK(values, indices);
    }

    // ---- fused kernels ------------------------------------------------------------------------

    /** The device's SM count (starts CUDA), which the split-K choice depends on. */
    int multiprocessors() {
        return cuda().multiprocessors;
    }

    /** Which kernel computes an F32 product (F64 always uses the exact irtj kernel). */
    enum GemmMode { CUBLAS, IRTJ_FP32, IRTJ_TF32 }

    @Override
    public Tensor gemm(GemmShape plan, double alpha, double beta) {
        cuda();
        CudaGemm g = state().gemm();
        GemmMode mode = g.engine == CudaGemm.Engine.CUBLAS ? GemmMode.CUBLAS : g.tf32 ? GemmMode.IRTJ_TF32 : GemmMode.IRTJ_FP32;
        return gemm(mode, plan, alpha, beta);
    }

    /** {@link #gemm(GemmMode, GemmShape, double, double)} on a plan resolved here, for tests that name the kernel. */
    Tensor gemm(GemmMode mode, Tensor a, boolean transA, Tensor b, boolean transB, double alpha, Tensor c0, double beta) {
        return gemm(mode, GemmShape.resolve(a, transA, b, transB, c0), alpha, beta);
    }

    /** {@link #gemm} with the F32 kernel named (tests compare every kernel whatever the settings). */
    Tensor gemm(GemmMode mode, GemmShape plan, double alpha, double beta) {
        Tensor a = plan.a(), b = plan.b(), c0 = plan.c0();
        if (mode == GemmMode.CUBLAS && state().gemm().engine != CudaGemm.Engine.CUBLAS) {
            throw new IllegalStateException("gemm: cuBLAS is not in use (" + state().gemm().why + ")");
        }
        requireCuda(a, "gemm");
        requireCuda(b, "gemm");
        Tensor opA = plan.opA(), opB = plan.opB();
        int m = plan.m(), k = plan.k(), n = plan.n();
        int[] batchShape = plan.batchShape();
        int[] outShape = plan.outShape();
        Tensor out = newLike(a, a.dtype(), outShape);
        int batch = plan.batch();
        if (out.numel() == 0) return out;
        if (c0 != null) requireCuda(c0, "gemm");
        Tensor ea = collapsible(opA.expand(concat(batchShape, m, k)));
        Tensor eb = collapsible(opB.expand(concat(batchShape, k, n)));
        Tensor ec = c0 == null || beta == 0 ? null : collapsible(c0.expand(outShape));
        CudaGemm.GemmPlan p = plan(ea, eb, ec, m, n, k, batch);
        CudaGemm engine = state().gemm();
        Cuda cuda = cuda();
        if (a.dtype() == DType.F32 && mode == GemmMode.CUBLAS) {
            if (!CudaGemm.cublasLayout(p)) {
                ea = ea.contiguous();
                eb = eb.contiguous();
                p.aOff = ea.offset(); p.aRs = k; p.aCs = 1; p.aBs = batchStride(ea);
                p.bOff = eb.offset(); p.bRs = n; p.bCs = 1; p.bBs = batchStride(eb);
            }
            if (ec != null) stridedCopy(out, ec);
            engine.cublasSgemm(p, ((CudaStorage) ea.storage()).ptr(), ((CudaStorage) eb.storage()).ptr(),
                    ((CudaStorage) out.storage()).ptr(), (float) alpha, ec == null ? 0f : (float) beta);
            // As for our kernels' launches: the operands' blocks stay out of the Cleaner's reach until cuBLAS has queued its work.
            java.lang.ref.Reference.reachabilityFence(ea);
            java.lang.ref.Reference.reachabilityFence(eb);
            return out;
        }
        boolean tf32 = a.dtype() == DType.F32 && mode == GemmMode.IRTJ_TF32;
        CudaKernel.Symbol kernel = tf32 ? CudaKernel.GEMM_TF32.of() : CudaKernel.GEMM.of(a.dtype());
        int gridX = (n + CudaGemm.TILE - 1) / CudaGemm.TILE;
        SplitK split = SplitK.choose(m, n, k, batch, cuda.multiprocessors);
        if (split.isSplit()) {
            // Partials [splits, batch, m, n], then their sum in split order with α, β·C0; the
            // workspace goes back to the pool once both are queued (one stream: whatever reuses
            // it runs after the sum). SplitK splits only products with fewer output tiles than
            // SMs, so gridDim.y and z stay far below their 65535 limit here.
            int gridY = (m + CudaGemm.TILE - 1) / CudaGemm.TILE;
            Tensor partial = newLike(a, a.dtype(), new int[] {split.splits() * batch * m * n});
            cuda.launch(tf32 ? CudaKernel.GEMM_TF32_SPLITK.of() : CudaKernel.GEMM_SPLITK.of(a.dtype()), gridX, gridY, batch * split.splits(), 256,
                    new KernelArgs().gemm(p).i(split.kChunk()).base(ea).base(eb).data(partial));
            int blocks = (int) Math.min(((long) batch * m * n + 255) / 256, 4L * cuda.multiprocessors);
            cuda.launch(CudaKernel.GEMM_SPLITK_REDUCE.of(a.dtype()), blocks, 1, 1, 256,
                    new KernelArgs().gemm(p).i(split.splits()).data(partial).base(ec).data(out).d(alpha).d(beta));
            partial.storage().release();
            return out;
        }
        // gridDim.y and z are limited to 65535: long products and large batches go in slices.
        Tensor out3 = out.reshape(batch, m, n);
        for (CudaGemm.Launch l : CudaGemm.launches(m, batch)) {
            Tensor outSlice = out3.narrow(0, l.batchFirst(), l.batchCount()).narrow(1, l.rowFirst(), l.rowCount());
            cuda.launch(kernel, gridX, l.gridY(), l.batchCount(), 256, new KernelArgs()
                    .gemm(p.slice(l)).base(ea).base(eb).base(ec).data(outSlice).d(alpha).d(beta));
        }
        return out;
    }

    /** Addressing of operands already expanded to [batch..., rows, cols] with collapsible batch dims. */
    static CudaGemm.GemmPlan plan(Tensor ea, Tensor eb, Tensor ec, int m, int n, int k, int batch) {
        CudaGemm.GemmPlan p = new CudaGemm.GemmPlan();
        p.m = m;
        p.n = n;
        p.k = k;
        p.batch = batch;
        int r = ea.rank();
        p.aOff = ea.offset(); p.aRs = ea.stride(r - 2); p.aCs = ea.stride(r - 1); p.aBs = batchStride(ea);
        p.bOff = eb.offset(); p.bRs = eb.stride(r - 2); p.bCs = eb.stride(r - 1); p.bBs = batchStride(eb);
        if (ec != null) {
            p.cOff = ec.offset(); p.cRs = ec.stride(r - 2); p.cCs = ec.stride(r - 1); p.cBs = batchStride(ec);
        }
        return p;
    }

    static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }

    /** t when its batch dims (all but the last two) are one arithmetic progression, else a contiguous copy. */
    static Tensor collapsible(Tensor t) {
        return batchStrideOrMin(t) == Integer.MIN_VALUE ? t.contiguous() : t;
    }

    private static int batchStride(Tensor t) {
        int s = batchStrideOrMin(t);
        if (s == Integer.MIN_VALUE) throw new IllegalStateException("batch dims of " + Shape.str(t.shape()) + " do not collapse");
        return s;
    }

    /** The stride between consecutive flattened batch entries, or MIN_VALUE when there is none. */
    static int batchStrideOrMin(Tensor t) {
        int[] shape = t.shape(), strides = t.strides();
        int nb = shape.length - 2;
        Integer unit = null;
        long expected = 0;
        for (int d = nb - 1; d >= 0; d--) {
            if (shape[d] == 1) continue;
            if (unit == null) {
                unit = strides[d];
            } else if (strides[d] != expected) {
                return Integer.MIN_VALUE;
            }
            expected = (long) strides[d] * shape[d];
        }
        return unit == null ? 0 : unit;
    }

    @Override
    public Tensor softmax(Tensor x, double scale, boolean log) {
        requireCuda(x, "softmax");
        requireFloating(x, "softmax");
        Tensor in = dense(x);
        int n = x.rank() == 0 ? 1 : x.shape(-1), rows = n == 0 ? 0 : x.numel() / n;
        Tensor out = newLike(x, x.dtype(), x.shape());
        if (rows > 0) {
            cuda().launch(CudaKernel.SOFTMAX_FORWARD.of(x.dtype()), rows, 1, 1, rowThreads(n),
                    new KernelArgs().data(in).data(out).i(n).d(scale).i(log ? 1 : 0));
        }
        return out;
    }

    @Override
    public Tensor softmaxBackward(Tensor y, Tensor dy, double scale, boolean log) {
        requireCuda(y, "softmax backward");
        requireCuda(dy, "softmax backward");
        Tensor yy = dense(y), g = dense(dy.expand(y.shape()));
        int n = y.rank() == 0 ? 1 : y.shape(-1), rows = n == 0 ? 0 : y.numel() / n;
        Tensor out = newLike(y, y.dtype(), y.shape());
        if (rows > 0) {
            cuda().launch(CudaKernel.SOFTMAX_BACKWARD.of(y.dtype()), rows, 1, 1, rowThreads(n),
                    new KernelArgs().data(yy).data(g).data(out).i(n).d(scale).i(log ? 1 : 0));
        }
        return out;
    }

    @Override
    public LayerNormResult layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        requireCuda(x, "layer_norm");
        int n = x.shape(-1), rows = x.numel() / Math.max(n, 1);
        Tensor in = dense(x), w = weight == null ? null : dense(weight), b = bias == null ? null : dense(bias);
        Tensor out = newLike(x, x.dtype(), x.shape());
        int[] rowShape = Arrays.copyOf(x.shape(), x.rank() - 1);
        Tensor mean = newLike(x, x.dtype(), rowShape), rstd = newLike(x, x.dtype(), rowShape);
        if (n == 0) {
            // Mean and variance of an empty row are 0/0, as in the reference.
            fill(mean, Double.NaN);
            fill(rstd, Double.NaN);
        } else if (rows > 0) {
            cuda().launch(CudaKernel.LAYERNORM_FORWARD.of(x.dtype()), rows, 1, 1, rowThreads(n),
                    new KernelArgs().data(in).data(w).data(b).data(out).data(mean).data(rstd).i(n).d(eps));
        }
        return new LayerNormResult(out, mean, rstd);
    }

    @Override
    public Tensor[] layerNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, boolean withBias) {
        requireCuda(x, "layer_norm backward");
        requireCuda(dy, "layer_norm backward");
        int n = x.shape(-1), rows = x.numel() / Math.max(n, 1);
        Tensor in = dense(x), g = dense(dy.expand(x.shape())), w = weight == null ? null : dense(weight);
        Tensor mu = dense(mean), rs = dense(rstd);
        Tensor dx = newLike(x, x.dtype(), x.shape());
        Tensor dw = weight == null ? null : newLike(x, x.dtype(), new int[] {n});
        Tensor db = withBias ? newLike(x, x.dtype(), new int[] {n}) : null;
        if (rows == 0 || n == 0) {
            if (dw != null) fill(dw, 0);
            if (db != null) fill(db, 0);
            return new Tensor[] {dx, dw, db};
        }
        cuda().launch(CudaKernel.LAYERNORM_BACKWARD_INPUT.of(x.dtype()), rows, 1, 1, rowThreads(n),
                new KernelArgs().data(g).data(in).data(w).data(mu).data(rs).data(dx).i(n));
        if (dw != null || db != null) {
            int chunks = Math.min(rows, 256), chunkRows = (rows + chunks - 1) / chunks;
            chunks = (rows + chunkRows - 1) / chunkRows;
            Tensor pw = newLike(x, x.dtype(), new int[] {chunks, n}), pb = newLike(x, x.dtype(), new int[] {chunks, n});
            cuda().launch(CudaKernel.LAYERNORM_BACKWARD_PARAMS_PARTIAL.of(x.dtype()), (n + ROW_THREADS - 1) / ROW_THREADS, chunks, 1,
                    ROW_THREADS, new KernelArgs().data(g).data(in).data(mu).data(rs).i(rows).i(n).i(chunkRows).data(pw).data(pb));
            cuda().launchElementwise(CudaKernel.LAYERNORM_BACKWARD_PARAMS_FINISH.of(x.dtype()), n,
                    new KernelArgs().data(pw).data(pb).i(chunks).i(n).data(dw).data(db));
            pw.storage().release();
            pb.storage().release();
        }
        return new Tensor[] {dx, dw, db};
    }

    @Override
    public Tensor l2Normalize(Tensor x, double eps) {
        requireCuda(x, "l2_normalize");
        requireFloating(x, "l2_normalize");
        Tensor in = dense(x);
        int n = x.shape(-1), rows = n == 0 ? 0 : x.numel() / n;
        Tensor out = newLike(x, x.dtype(), x.shape());
        if (rows > 0) {
            cuda().launch(CudaKernel.L2_FORWARD.of(x.dtype()), rows, 1, 1, rowThreads(n),
                    new KernelArgs().data(in).data(out).i(n).d(eps));
        }
        return out;
    }

    @Override
    public Tensor l2NormalizeBackward(Tensor x, Tensor dy, double eps) {
        requireCuda(x, "l2_normalize backward");
        requireCuda(dy, "l2_normalize backward");
        Tensor in = dense(x), g = dense(dy.expand(x.shape()));
        int n = x.shape(-1), rows = n == 0 ? 0 : x.numel() / n;
        Tensor out = newLike(x, x.dtype(), x.shape());
        if (rows > 0) {
            cuda().launch(CudaKernel.L2_BACKWARD.of(x.dtype()), rows, 1, 1, rowThreads(n),
                    new KernelArgs().data(in).data(g).data(out).i(n).d(eps));
        }
        return out;
    }

    /** One launch of the AdamW kernel per parameter (no multi-tensor kernel yet), queued back to back without waiting. */
    @Override
    public void adamw(List<AdamWParameter> params, AdamWStep s) {
        for (AdamWParameter e : params) adamw(e.param(), e.grad(), e.m(), e.v(), s.forParameter(e.decays()));
    }

    @Override
    public AttentionResult attention(AttentionPlan plan) {
        requireCuda(plan.q(), "attention");
        return ComposedAttention.forward(this, plan);
    }

    @Override
    public void attentionBackward(AttentionPlan plan, Tensor out, Tensor lse, Tensor dOut, Tensor dq, Tensor dk, Tensor dv) {
        requireCuda(plan.q(), "attention backward");
        ComposedAttention.backward(this, plan, dOut, dq, dk, dv);
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        for (Tensor t : new Tensor[] {param, grad, m, v}) {
            requireCuda(t, "adamw");
            requireFloating(t, "adamw");
            if (!t.isContiguous() || t.dtype() != param.dtype() || !Arrays.equals(t.shape(), param.shape())) {
                throw new IllegalArgumentException("adamw needs four contiguous tensors of one dtype and shape, got "
                        + param + ", " + grad + ", " + m + ", " + v);
            }
        }
        double bc1 = 1 - Math.pow(s.beta1(), s.step()), bc2 = 1 - Math.pow(s.beta2(), s.step());
        cuda().launchElementwise(CudaKernel.ADAMW.of(param.dtype()), param.numel(), new KernelArgs()
                .data(param).data(grad).data(m).data(v).i(param.numel()).d(s.lr()).d(s.beta1()).d(s.beta2()).d(s.eps())
                .d(s.weightDecay()).d(s.lr() / bc1).d(Math.sqrt(bc2)));
    }
}
