package dev.irtj.kernels.cuda;

import dev.irtj.autograd.TensorArbitraries;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.CudaDevice;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.ReduceOp;
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.TopK;
import dev.irtj.tensor.UnaryOp;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Assume;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.Example;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every CUDA kernel against {@link ReferenceBackend}: inputs are made on the host (odd and prime
 * sizes, transposed and offset views, broadcasts), run by the reference there and by the CUDA
 * backend on cuda:0, and compared elementwise with |a − b| ≤ atol + rtol·|b| (b the reference),
 * the tolerance written at each property. Skipped where no CUDA device is present.
 */
@net.jqwik.api.Tag("device-check") // scripts/device-check.sh runs every class with this tag on a GPU
@AddLifecycleHook(CudaDevice.class)
class CudaBackendTest {
    private static final Backend REF = new ReferenceBackend();
    private static final Device GPU = CudaDevice.DEVICE;

    private static CudaBackend cuda() {
        return (CudaBackend) Backends.byName("cuda");
    }

    static Tensor gpu(Tensor host) {
        return host.to(GPU);
    }

    /** |a − b| ≤ atol + rtol·|b| elementwise, b the reference; `actual` may live on the GPU. */
    static void assertClose(String what, Tensor expected, Tensor actual, double rtol, double atol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] b = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            boolean same = Double.isNaN(b[i]) ? Double.isNaN(a[i]) : Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]);
            if (!same) fail(what + ": element " + i + " of " + Arrays.toString(expected.shape()) + ": expected " + b[i] + ", got " + a[i]);
        }
    }

    /** A random tensor, stored non-contiguously (a transposed, offset view) when asked; built on the host. */
    static Tensor random(Rng rng, DType dtype, boolean strided, int... shape) {
        if (!strided || shape.length < 2) return Tensor.randn(rng, dtype, shape);
        int[] swapped = shape.clone();
        swapped[0] = shape[shape.length - 1];
        swapped[shape.length - 1] = shape[0];
        int[] padded = swapped.clone();
        padded[0] += 1;
        return Tensor.randn(rng, dtype, padded).narrow(0, 1, swapped[0]).transpose(0, shape.length - 1);
    }

    /** The same view (shape, strides, offset) over a device copy of the whole storage. */
    static Tensor onGpu(Tensor view) {
        Tensor all = Tensor.contiguousView(view.storage(), view.storage().size());
        return Tensor.strided(gpu(all).storage(), view.shape(), view.strides(), view.offset());
    }

    @Provide
    Arbitrary<int[]> shapes() {
        return Arbitraries.of(1, 2, 3, 5, 17, 63, 64, 257).array(int[].class).ofMinSize(1).ofMaxSize(3)
                .filter(s -> Arrays.stream(s).reduce(1, (p, q) -> p * q) < 70_000);
    }

    @Provide
    Arbitrary<DType> floats() {
        return Arbitraries.of(DType.F32, DType.F64);
    }

    private static double rtol(DType t, double f32) {
        return t == DType.F64 ? 1e-12 : f32;
    }

    // Copies move bits (F32↔F64 rounds exactly as the reference's set()): exact.
    @Property(tries = 40)
    void copiesConversionsFillAndCatOfViews(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll boolean strided) {
        Rng rng = new Rng(seed);
        Tensor x = random(rng, DType.F64, strided, shape);
        Tensor gx = onGpu(x);
        for (DType to : DType.values()) assertClose("copy F64 to " + to, REF.copy(x, to), cuda().copy(gx, to), 0, 0);
        Tensor x32 = x.to(DType.F32), g32 = gpu(x32);
        for (DType to : DType.values()) assertClose("copy F32 to " + to, REF.copy(x32, to), cuda().copy(g32, to), 0, 0);
        Tensor dst = Tensor.zeros(DType.F32, shape), gdst = gpu(dst);
        Tensor row = Tensor.randn(rng, DType.F32, shape[shape.length - 1]);
        REF.copyInto(dst, row);
        cuda().copyInto(gdst, gpu(row));
        assertClose("copyInto broadcast", dst, gdst, 0, 0);
        Tensor half = gdst.narrow(0, 0, (shape[0] + 1) / 2);
        cuda().fill(half, -2.5);
        REF.fill(dst.narrow(0, 0, (shape[0] + 1) / 2), -2.5);
        assertClose("fill of a view", dst, gdst, 0, 0);
        assertClose("cat", REF.cat(List.of(x, x), 0), cuda().cat(List.of(gx, gx), 0), 0, 0);
        Tensor longs = Tensor.ofLongs(new long[] {3, -1, 7}, 3);
        assertArrayEquals(longs.toLongArray(), gpu(longs).toLongArray(), "I64 upload and download");
    }

    @Provide
    Arbitrary<int[][]> broadcastPairs() {
        return TensorArbitraries.broadcastPairs(4, 17);
    }

    // One IEEE operation per element (CUDA's division is correctly rounded): F32 rtol 1e-6.
    @Property(tries = 40)
    void binaryOpsWithBroadcasting(@ForAll("broadcastPairs") int[][] shapes, @ForAll long seed, @ForAll boolean strided,
                                   @ForAll("floats") DType dtype) {
        Rng rng = new Rng(seed);
        Tensor a = random(rng, dtype, strided, shapes[0]), b = random(rng, dtype, false, shapes[1]).add(3.0);
        Tensor ga = onGpu(a), gb = gpu(b);
        for (BinaryOp op : BinaryOp.values()) {
            assertClose(op + " " + dtype, REF.binary(op, a, b), cuda().binary(op, ga, gb), rtol(dtype, 1e-6), 1e-7);
            assertClose(op + " swapped", REF.binary(op, b, a), cuda().binary(op, gb, ga), rtol(dtype, 1e-6), 1e-7);
        }
        Tensor cond = REF.binary(BinaryOp.GT, a, Tensor.zeros(dtype, 1));
        assertClose("where", REF.where(cond, a, b), cuda().where(gpu(cond), ga, gb), 0, 0);
        Tensor condI = REF.copy(cond, DType.I64);
        assertClose("where (I64 condition)", REF.where(condI, a, b), cuda().where(gpu(condI), ga, gb), 0, 0);
    }

    // CUDA's transcendentals (expf, erff, tanhf, powf ...) are within 2-4 ulp: F32 rtol 2e-5,
    // atol 2e-6; F64 rtol 1e-12.
    @Property(tries = 30)
    void unaryOpsAndTheirBackward(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll boolean strided, @ForAll("floats") DType dtype) {
        Rng rng = new Rng(seed);
        Tensor x = random(rng, dtype, strided, shape), positive = REF.unary(UnaryOp.ABS, x, 0, 0).add(0.1);
        Tensor dy = Tensor.randn(rng, dtype, shape);
        Tensor gx = onGpu(x), gpos = gpu(positive), gdy = gpu(dy);
        for (UnaryOp op : UnaryOp.values()) {
            boolean pos = switch (op) {
                case LOG, SQRT, RSQRT, POW -> true;
                default -> false;
            };
            Tensor in = pos ? positive : x, gin = pos ? gpos : gx;
            double p0 = op == UnaryOp.CLAMP ? -0.5 : op == UnaryOp.POW ? 2.5 : 1.7, p1 = op == UnaryOp.CLAMP ? 0.7 : -0.3;
            assertClose(op + " " + dtype, REF.unary(op, in, p0, p1), cuda().unary(op, gin, p0, p1), rtol(dtype, 2e-5), dtype == DType.F64 ? 1e-14 : 2e-6);
            assertClose(op + " backward " + dtype, REF.unaryBackward(op, in, dy, p0, p1), cuda().unaryBackward(op, gin, gdy, p0, p1),
                    rtol(dtype, 2e-5), dtype == DType.F64 ? 1e-14 : 2e-6);
        }
    }

    // gelu(x + b) against the reference's GELU of the sum: tolerances as the unary ops.
    @Property(tries = 20)
    void biasGeluForwardAndBackward(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll boolean strided,
                                    @ForAll boolean tanhForm, @ForAll("floats") DType dtype) {
        Rng rng = new Rng(seed);
        Tensor x = random(rng, dtype, strided, shape), bias = Tensor.randn(rng, dtype, shape[shape.length - 1]);
        Tensor dy = Tensor.randn(rng, dtype, shape);
        UnaryOp op = tanhForm ? UnaryOp.GELU_TANH : UnaryOp.GELU;
        Tensor sum = REF.binary(BinaryOp.ADD, x, bias);
        double rtol = rtol(dtype, 2e-5), atol = dtype == DType.F64 ? 1e-14 : 2e-6;
        assertClose("bias " + op, REF.unary(op, sum, 0, 0), cuda().biasGelu(onGpu(x), gpu(bias), tanhForm), rtol, atol);
        assertClose("bias " + op + " backward", REF.unaryBackward(op, sum, dy, 0, 0),
                cuda().biasGeluBackward(onGpu(x), gpu(bias), gpu(dy), tanhForm), rtol, atol);
    }

    // The fused Linear + GELU (GEMM, then bias_gelu) against the reference composition on the
    // issue's odd sizes: z as the GEMM tests (F32 rtol 1e-4, atol 1e-4·√k; F64 1e-12), y and dz
    // as the unary ops on the same z, db a column sum (F32 rtol 1e-4, atol 1e-4·√rows).
    @Property(tries = 12)
    void linearGeluForwardAndBackward(@ForAll("linearGeluSizes") int[] s, @ForAll long seed, @ForAll("floats") DType dtype) {
        Rng rng = new Rng(seed);
        int rows = s[0], n = s[1], k = s[2];
        Tensor x = Tensor.randn(rng, dtype, rows, k), w = Tensor.randn(rng, dtype, n, k), b = Tensor.randn(rng, dtype, n);
        boolean f64 = dtype == DType.F64;
        Backend.LinearGeluResult got = cuda().linearGelu(dev.irtj.tensor.GemmShape.resolve(gpu(x), false, gpu(w), true, null), gpu(b));
        Tensor zRef = REF.gemm(x, false, w, true, 1, null, 0);
        assertClose("z", zRef, got.z(), f64 ? 1e-12 : 1e-4, f64 ? 1e-12 : 1e-4 * Math.sqrt(k));
        Tensor z = got.z().to(dev.irtj.tensor.Device.CPU), dy = Tensor.randn(rng, dtype, rows, n);
        double rtol = rtol(dtype, 2e-5), atol = f64 ? 1e-14 : 2e-6;
        assertClose("y", REF.unary(UnaryOp.GELU, REF.binary(BinaryOp.ADD, z, b), 0, 0), got.y(), rtol, atol);
        Tensor[] want = REF.linearGeluBackward(z, b, dy), grads = cuda().linearGeluBackward(got.z(), gpu(b), gpu(dy));
        assertClose("dz", want[0], grads[0], rtol, atol);
        assertClose("db", want[1], grads[1], f64 ? 1e-12 : 1e-4, (f64 ? 1e-12 : 1e-4) * Math.sqrt(rows));
    }

    @Provide
    Arbitrary<int[]> linearGeluSizes() {
        return Combinators.combine(Arbitraries.of(1, 17, 197, 257), Arbitraries.of(1, 17, 384, 1536), Arbitraries.of(1, 17, 384))
                .as((r, n, k) -> new int[] {r, n, k});
    }

    // Sums of up to 70 000 terms in a tree instead of a line: F32 rtol 1e-4, atol 1e-4·√n;
    // F64 rtol 1e-12, atol 1e-12·√n; max/min and the arg-reductions are exact.
    @Property(tries = 40)
    void reductionsOverAnyDims(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll boolean keepdim, @ForAll boolean strided,
                               @ForAll("floats") DType dtype) {
        Rng rng = new Rng(seed);
        Tensor x = random(rng, dtype, strided, shape), gx = onGpu(x);
        int mask = 1 + rng.nextInt((1 << shape.length) - 1);
        int[] dims = IntStream.range(0, shape.length).filter(d -> (mask >> d & 1) == 1).toArray();
        double scale = Math.sqrt(x.numel());
        for (ReduceOp op : ReduceOp.values()) {
            assertClose(op + " over " + Arrays.toString(dims) + " of " + Arrays.toString(shape), REF.reduce(op, x, dims, keepdim),
                    cuda().reduce(op, gx, dims, keepdim), rtol(dtype, 1e-4), (dtype == DType.F64 ? 1e-12 : 1e-4) * scale);
        }
        int dim = rng.nextInt(shape.length);
        for (ReduceOp op : new ReduceOp[] {ReduceOp.MAX, ReduceOp.MIN}) {
            assertArrayEquals(REF.argReduce(op, x, dim, keepdim).toLongArray(), cuda().argReduce(op, gx, dim, keepdim).toLongArray(), "arg" + op);
        }
    }

    @Example
    void reductionsPropagateNaNAndArgReductionsTakeTheFirstTie() {
        Tensor x = Tensor.of(new double[] {1, 5, 5, 2, Double.NaN, 3, 0, -1}, 2, 4);
        Tensor gx = gpu(x);
        assertClose("max with NaN", REF.reduce(ReduceOp.MAX, x, new int[] {1}, false), cuda().reduce(ReduceOp.MAX, gx, new int[] {1}, false), 0, 0);
        assertArrayEquals(REF.argReduce(ReduceOp.MAX, x, 1, false).toLongArray(), cuda().argReduce(ReduceOp.MAX, gx, 1, false).toLongArray());
        assertArrayEquals(new long[] {1, 0}, cuda().argReduce(ReduceOp.MAX, gx, 1, false).toLongArray());
    }

    @Provide
    Arbitrary<int[]> gemmSizes() {
        Arbitrary<Integer> d = Arbitraries.of(1, 3, 7, 17, 31, 64, 65, 129, 200);
        return Combinators.combine(d, d, d, Arbitraries.integers().between(0, 3)).as((m, k, n, b) -> new int[] {m, k, n, b});
    }

    /**
     * Tolerances: exact FP32 rtol 1e-4, atol 1e-5·K (K-term dot products in float vs double);
     * TF32 rounds each operand to 11 significant bits (relative error 2⁻¹¹ each), so a product of
     * unit normals is off by about 1e-3 and K of them by about 1e-3·√K: rtol 2e-3, atol 4e-3·√K;
     * F64 rtol 1e-12, atol 1e-13·K.
     */
    @Property(tries = 60)
    void gemmWithTransposesStridesBatchesAndBeta(@ForAll("gemmSizes") int[] s, @ForAll long seed, @ForAll boolean transA,
                                                 @ForAll boolean transB, @ForAll boolean stridedA, @ForAll boolean broadcastB,
                                                 @ForAll @IntRange(max = 2) int cMode, @ForAll @IntRange(max = 2) int kind) {
        // cuBLAS has its own test class (CudaCublasTest), skipped with the reason when no binding loads.
        CudaBackend.GemmMode mode = kind == 2 ? null : kind == 0 ? CudaBackend.GemmMode.IRTJ_FP32 : CudaBackend.GemmMode.IRTJ_TF32;
        DType dtype = mode == null ? DType.F64 : DType.F32;
        Rng rng = new Rng(seed);
        int m = s[0], k = s[1], n = s[2], batch = s[3];
        int[] aShape = batch == 0 ? (transA ? new int[] {k, m} : new int[] {m, k}) : (transA ? new int[] {batch, k, m} : new int[] {batch, m, k});
        int[] bCore = transB ? new int[] {n, k} : new int[] {k, n};
        int[] bShape = batch == 0 || broadcastB ? bCore : new int[] {batch, bCore[0], bCore[1]};
        Tensor a = random(rng, dtype, stridedA, aShape), b = random(rng, dtype, false, bShape);
        Tensor c0 = switch (cMode) {
            case 1 -> Tensor.randn(rng, dtype, n);
            case 2 -> Tensor.randn(rng, dtype, m, n);
            default -> null;
        };
        double alpha = 0.75, beta = c0 == null ? 0 : -1.25;
        Tensor expected = REF.gemm(a, transA, b, transB, alpha, c0, beta);
        Tensor actual = cuda().gemm(mode == null ? CudaBackend.GemmMode.IRTJ_FP32 : mode, onGpu(a), transA, gpu(b), transB, alpha,
                c0 == null ? null : gpu(c0), beta);
        String what = "gemm " + (mode == null ? "F64" : mode) + " " + Arrays.toString(s);
        if (mode == null) assertClose(what, expected, actual, 1e-12, 1e-13 * k);
        else if (mode == CudaBackend.GemmMode.IRTJ_TF32) assertClose(what, expected, actual, 2e-3, 4e-3 * Math.sqrt(k));
        else assertClose(what, expected, actual, 1e-4, 1e-5 * k);
    }

    /**
     * Long-k products with small outputs go through split-K (SplitK.choose; checked to be split
     * for this device's SM count): weight-gradient shapes, transposed operands, batches and a
     * bias, for the FP32, TF32 and F64 kernels, against the reference; and the same inputs give
     * the same bits twice (the partials are added in a fixed order). Tolerances as above.
     */
    @Property(tries = 12)
    void splitKProductsMatchTheReferenceAndRepeatBitForBit(@ForAll @IntRange(min = 1, max = 300) int m, @ForAll @IntRange(min = 1, max = 300) int n,
                                                           @ForAll @IntRange(min = 600, max = 13000) int k, @ForAll @IntRange(min = 1, max = 2) int batch,
                                                           @ForAll boolean transA, @ForAll boolean transB, @ForAll boolean bias,
                                                           @ForAll @IntRange(max = 2) int kind, @ForAll long seed) {
        CudaBackend.GemmMode mode = kind == 2 ? null : kind == 1 ? CudaBackend.GemmMode.IRTJ_TF32 : CudaBackend.GemmMode.IRTJ_FP32;
        DType dtype = mode == null ? DType.F64 : DType.F32;
        Assume.that(SplitK.choose(m, n, k, batch, cuda().multiprocessors()).isSplit());
        Rng rng = new Rng(seed);
        Tensor a = Tensor.randn(rng, dtype, transA ? new int[] {batch, k, m} : new int[] {batch, m, k});
        Tensor b = Tensor.randn(rng, dtype, transB ? new int[] {n, k} : new int[] {k, n});
        Tensor c0 = bias ? Tensor.randn(rng, dtype, n) : null;
        double alpha = 0.5, beta = bias ? 2.0 : 0;
        CudaBackend.GemmMode run = mode == null ? CudaBackend.GemmMode.IRTJ_FP32 : mode;
        Tensor expected = REF.gemm(a, transA, b, transB, alpha, c0, beta);
        Tensor actual = cuda().gemm(run, gpu(a), transA, gpu(b), transB, alpha, c0 == null ? null : gpu(c0), beta);
        Tensor again = cuda().gemm(run, gpu(a), transA, gpu(b), transB, alpha, c0 == null ? null : gpu(c0), beta);
        String what = "split-K gemm " + (mode == null ? "F64" : mode) + " " + batch + "x" + m + "x" + k + "x" + n;
        if (mode == null) assertClose(what, expected, actual, 1e-12, 1e-13 * k);
        else if (mode == CudaBackend.GemmMode.IRTJ_TF32) assertClose(what, expected, actual, 2e-3, 4e-3 * Math.sqrt(k));
        else assertClose(what, expected, actual, 1e-4, 1e-5 * k);
        assertArrayEquals(actual.toDoubleArray(), again.toDoubleArray(), what + ": the same bits twice");
    }

    @Example
    void attentionShapedBatchedProductsOfPermutedViews() {
        Rng rng = new Rng(3);
        Tensor qkv = Tensor.randn(rng, DType.F32, 2, 197, 3, 3, 64);
        Tensor g = gpu(qkv).permute(2, 0, 3, 1, 4), h = qkv.permute(2, 0, 3, 1, 4);
        Tensor q = h.select(0, 0), k = h.select(0, 1), v = h.select(0, 2);
        Tensor gq = g.select(0, 0), gk = g.select(0, 1), gv = g.select(0, 2);
        Tensor scores = REF.gemm(q, false, k, true, 0.125, null, 0);
        for (CudaBackend.GemmMode mode : new CudaBackend.GemmMode[] {CudaBackend.GemmMode.IRTJ_FP32, CudaBackend.GemmMode.IRTJ_TF32}) {
            boolean tf32 = mode == CudaBackend.GemmMode.IRTJ_TF32;
            Tensor gs = cuda().gemm(mode, gq, false, gk, true, 0.125, null, 0);
            assertClose("q·kᵀ " + mode, scores, gs, tf32 ? 2e-3 : 1e-4, tf32 ? 3e-2 : 1e-4);
            assertClose("attn·v " + mode, REF.gemm(scores, false, v, false, 1, null, 0), cuda().gemm(mode, gpu(scores), false, gv, false, 1, null, 0),
                    tf32 ? 2e-3 : 1e-4, tf32 ? 0.5 : 1e-3);
        }
    }

    // Row kernels sum a row in a tree: F32 rtol 1e-4/1e-5 as the CPU kernels; F64 rtol 1e-12.
    @Property(tries = 30)
    void rowKernels(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll boolean strided, @ForAll("floats") DType dtype) {
        Rng rng = new Rng(seed);
        Tensor x = random(rng, dtype, strided, shape), gx = onGpu(x);
        int n = shape[shape.length - 1];
        Tensor dy = Tensor.randn(rng, dtype, shape), gdy = gpu(dy);
        boolean f64 = dtype == DType.F64;
        for (boolean log : new boolean[] {false, true}) {
            Tensor y = REF.softmax(x, 0.3, log), gy = cuda().softmax(gx, 0.3, log);
            assertClose("softmax log=" + log, y, gy, rtol(dtype, 1e-5), f64 ? 1e-14 : 1e-6);
            assertClose("softmax backward log=" + log, REF.softmaxBackward(y, dy, 0.3, log), cuda().softmaxBackward(gpu(y), gdy, 0.3, log),
                    rtol(dtype, 1e-4), f64 ? 1e-13 : 1e-5);
        }
        Tensor w = Tensor.randn(rng, dtype, n), b = Tensor.randn(rng, dtype, n);
        for (boolean affine : new boolean[] {false, true}) {
            Tensor ww = affine ? w : null, bb = affine ? b : null;
            Backend.LayerNormResult r = REF.layerNorm(x, ww, bb, 1e-6);
            Backend.LayerNormResult c = cuda().layerNorm(gx, affine ? gpu(w) : null, affine ? gpu(b) : null, 1e-6);
            assertClose("layer norm", r.y(), c.y(), rtol(dtype, 1e-4), f64 ? 1e-12 : 1e-4);
            assertClose("layer norm mean", r.mean(), c.mean(), rtol(dtype, 1e-4), f64 ? 1e-13 : 1e-5);
            assertClose("layer norm rstd", r.rstd(), c.rstd(), rtol(dtype, 1e-4), f64 ? 1e-13 : 1e-5);
            Tensor[] gr = REF.layerNormBackward(dy, x, ww, r.mean(), r.rstd(), affine);
            Tensor[] gc = cuda().layerNormBackward(gdy, gx, affine ? gpu(w) : null, c.mean(), c.rstd(), affine);
            double rows = Math.sqrt(x.numel() / (double) n);
            for (int i = 0; i < 3; i++) {
                if (gr[i] == null) {
                    assertEquals(null, gc[i], "layer norm grad " + i);
                } else {
                    assertClose("layer norm grad " + i, gr[i], gc[i], rtol(dtype, 1e-4), (f64 ? 1e-12 : 1e-4) * (i == 0 ? 1 : rows));
                }
            }
        }
        assertClose("l2", REF.l2Normalize(x, 1e-12), cuda().l2Normalize(gx, 1e-12), rtol(dtype, 1e-5), f64 ? 1e-14 : 1e-6);
        assertClose("l2 backward", REF.l2NormalizeBackward(x, dy, 1e-12), cuda().l2NormalizeBackward(gx, gdy, 1e-12),
                rtol(dtype, 1e-4), f64 ? 1e-13 : 1e-5);
    }

    // The update computes in F32 on the device and in double in the reference: rtol 1e-5, atol 1e-7.
    @Property(tries = 20)
    void adamwStep(@ForAll @IntRange(min = 1, max = 5000) int n, @ForAll long seed, @ForAll @IntRange(min = 1, max = 1000) int step,
                   @ForAll("floats") DType dtype) {
        Rng rng = new Rng(seed);
        Tensor p = Tensor.randn(rng, dtype, n), g = Tensor.randn(rng, dtype, n);
        Tensor m = Tensor.randn(rng, dtype, n).mul(0.1), v = REF.unary(UnaryOp.ABS, Tensor.randn(rng, dtype, n), 0, 0).mul(0.01);
        Tensor gp = gpu(p), gg = gpu(g), gm = gpu(m), gv = gpu(v);
        Backend.AdamWStep s = new Backend.AdamWStep(step, 1e-3, 0.9, 0.999, 1e-8, 0.05);
        REF.adamw(p, g, m, v, s);
        cuda().adamw(gp, gg, gm, gv, s);
        for (Tensor[] pair : new Tensor[][] {{p, gp}, {m, gm}, {v, gv}}) assertClose("adamw", pair[0], pair[1], rtol(dtype, 1e-5), dtype == DType.F64 ? 1e-15 : 1e-7);
    }

    // Index ops move or add values in the reference's order: exact.
    @Property(tries = 30)
    void indexOps(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll boolean strided) {
        Rng rng = new Rng(seed);
        DType dtype = DType.F64;
        Tensor x = random(rng, dtype, strided, shape), gx = onGpu(x);
        int dim = rng.nextInt(shape.length), len = shape[dim];
        long[] idx = new long[1 + rng.nextInt(2 * len)];
        for (int i = 0; i < idx.length; i++) idx[i] = rng.nextInt(len);
        Tensor index = Tensor.ofLongs(idx, idx.length), gindex = gpu(index);
        Tensor sel = REF.indexSelect(x, dim, index);
        assertClose("index_select", sel, cuda().indexSelect(gx, dim, gindex), 0, 0);
        assertClose("index_add", REF.indexAdd(shape, dim, index, sel), cuda().indexAdd(shape, dim, gindex, gpu(sel)), 0, 0);
        int[] gShape = shape.clone();
        gShape[dim] = 1 + rng.nextInt(2 * len);
        for (int d = 0; d < gShape.length; d++) if (d != dim) gShape[d] = 1 + rng.nextInt(shape[d]);
        long[] gi = new long[Arrays.stream(gShape).reduce(1, (p, q) -> p * q)];
        for (int i = 0; i < gi.length; i++) gi[i] = rng.nextInt(len);
        Tensor gIndex = Tensor.ofLongs(gi, gShape);
        Tensor gathered = REF.gather(x, dim, gIndex);
        assertClose("gather", gathered, cuda().gather(gx, dim, gpu(gIndex)), 0, 0);
        assertClose("scatter_add", REF.scatterAdd(shape, dim, gIndex, gathered), cuda().scatterAdd(shape, dim, gpu(gIndex), gpu(gathered)), 0, 0);
    }

    // Indices are checked on the device: the op returns at once, and the next synchronization
    // (a download or synchronize()) throws once, naming the op, the bad index and its position;
    // after that the device is usable again and good ops report nothing. Under
    // -Dirtj.cuda.sync=true (as scripts/device-check.sh runs) the launch itself reports it.
    @Property(tries = 10)
    void badIndicesAreReportedAtTheNextSynchronization(@ForAll("shapes") int[] shape, @ForAll long seed) {
        Rng rng = new Rng(seed);
        Tensor gx = gpu(Tensor.randn(rng, DType.F64, shape));
        int dim = rng.nextInt(shape.length), len = shape[dim];
        long badValue = rng.nextInt(2) == 0 ? -1 : len + rng.nextInt(3);
        long[] idx = new long[2 + rng.nextInt(5)];
        int at = rng.nextInt(idx.length);
        idx[at] = badValue;
        Tensor bad = gpu(Tensor.ofLongs(idx, idx.length));
        String where = " out of range [0, " + len + ") at position " + at + " of the index";
        if (!Boolean.getBoolean("irtj.cuda.sync")) {
            Tensor sel = cuda().indexSelect(gx, dim, bad);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, sel::toDoubleArray);
            assertTrue(e.getMessage().startsWith("index_select: index " + badValue + where), e.getMessage());
            Tensor good = cuda().indexSelect(gx, dim, gpu(Tensor.ofLongs(new long[] {0}, 1)));
            assertEquals(good.numel(), good.toDoubleArray().length, "a download after the report is clean");
        }
        int[] srcShape = shape.clone();
        srcShape[dim] = idx.length;
        Tensor ones = gpu(Tensor.ones(DType.F64, srcShape));
        assertReported("index_select: index " + badValue + where, () -> cuda().indexSelect(gx, dim, bad));
        assertReported("index_add: index " + badValue + where, () -> cuda().indexAdd(shape, dim, bad, ones));
        int[] gShape = new int[shape.length];
        Arrays.fill(gShape, 1);
        gShape[dim] = idx.length;
        Tensor gBad = gpu(Tensor.ofLongs(idx, gShape)), gOnes = gpu(Tensor.ones(DType.F64, gShape));
        assertReported("gather: index " + badValue + where, () -> cuda().gather(gx, dim, gBad));
        assertReported("scatter_add: index " + badValue + where, () -> cuda().scatterAdd(shape, dim, gBad, gOnes));
        // The earliest faulty launch is the one reported, and only once.
        assertReported("gather: ", () -> {
            cuda().gather(gx, dim, gBad);
            cuda().indexSelect(gx, dim, bad);
        });
        cuda().synchronize();
    }

    /** ops, then a synchronization, throw an IndexOutOfBoundsException whose message starts with prefix. */
    private static void assertReported(String prefix, Runnable ops) {
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> {
            ops.run();
            cuda().synchronize();
        });
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }

    // Top-k selects values, so it is exact; ties go to the lower index, as a stable sort.
    @Property(tries = 20)
    void topkMatchesAStableSort(@ForAll @IntRange(min = 1, max = 9) int rows, @ForAll @IntRange(min = 1, max = 3000) int n,
                                @ForAll long seed, @ForAll("floats") DType dtype) {
        Rng rng = new Rng(seed);
        int k = 1 + rng.nextInt(Math.min(n, 100));
        // Rounded values so that ties occur.
        double[] v = Tensor.randn(rng, DType.F64, rows, n).mul(4).toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] = Math.round(v[i]);
        Tensor host = Tensor.of(v, rows, n).to(dtype);
        TopK r = gpu(host).topk(k);
        double[] values = r.values().toDoubleArray();
        long[] indices = r.indices().toLongArray();
        for (int row = 0; row < rows; row++) {
            final int base = row * n;
            Integer[] order = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble((Integer j) -> -v[base + j])).toArray(Integer[]::new);
            for (int j = 0; j < k; j++) {
                assertEquals(order[j].longValue(), indices[row * k + j], "top-k index row " + row + " rank " + j);
                assertEquals(v[base + order[j]], values[row * k + j], "top-k value row " + row + " rank " + j);
            }
        }
    }

    @Example
    void scopesReturnDeviceMemoryToTheCacheAndReleasedTensorsFailLoudly() {
        Tensor kept;
        Tensor temp;
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor a = Tensor.zeros(GPU, DType.F32, 1000, 1000);
            temp = a.add(1.0);
            kept = scope.keep(temp.mul(2.0));
        }
        assertArrayEquals(new float[] {2f, 2f}, kept.narrow(1, 0, 2).narrow(0, 0, 1).contiguous().toFloatArray());
        IllegalStateException e = assertThrows(IllegalStateException.class, temp::toFloatArray);
        assertTrue(e.getMessage().contains("after its MemoryScope closed"), e.getMessage());
        String before = cuda().memoryStats();
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor.zeros(GPU, DType.F32, 1000, 1000).add(1.0);
        }
        String after = cuda().memoryStats();
        assertEquals(calls(before), calls(after), "a repeated step reuses cached blocks: " + before + " -> " + after);
    }

    private static String calls(String stats) {
        int at = stats.indexOf("cuMemAlloc calls");
        return stats.substring(at, stats.indexOf(',', at));
    }

    @Example
    void wrongInputsNameTheOp() {
        Tensor host = Tensor.randn(new Rng(1), DType.F32, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cuda().softmax(host, 1, false));
        assertTrue(e.getMessage().startsWith("softmax: the cuda backend computes on cuda tensors"), e.getMessage());
        Tensor longs = gpu(Tensor.ofLongs(new long[] {1, 2}, 2));
        e = assertThrows(IllegalArgumentException.class, () -> cuda().unary(UnaryOp.EXP, longs, 0, 0));
        assertEquals("EXP is not defined for I64 tensors", e.getMessage());
    }
}
