package dev.irtj.kernels.cpu;

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
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Storage;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.TopK;
import dev.irtj.tensor.TopKPlan;
import dev.irtj.tensor.UnaryOp;

import java.util.Arrays;
import java.util.List;

/**
 * The CPU backend on the Vector API: F32 through packed SGEMM ({@link Sgemm}), one class per
 * kernel family ({@link SoftmaxKernels}, {@link LayerNormKernels}, {@link GeluKernels},
 * {@link L2NormalizeKernels}, {@link AdamWKernel}, {@link ReductionKernels},
 * {@link ElementwiseKernels}, sharing {@link ExpKernel}'s exponential), all
 * multi-threaded over {@link Parallel}'s bounded pool. F64 and I64 (gradient checks, indices) and
 * the rarely hot ops go to the {@link ReferenceBackend}, which is also what every kernel here is
 * tested against.
 */
public final class SimdBackend implements Backend {
    private final ReferenceBackend ref = new ReferenceBackend();

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Device.Kind deviceKind() {
        return Device.Kind.CPU;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public String unavailableReason() {
        return VectorSupport.problem();
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static boolean f32(Tensor t) {
        return t.dtype() == DType.F32;
    }

    private static float[] data(Tensor t) {
        return ((HostStorage) t.storage()).f32();
    }

    private static Tensor newF32(int... shape) {
        return Tensor.contiguousView(HostStorage.allocate(DType.F32, Shape.numel(shape), false), shape);
    }

    /** A contiguous F32 tensor with the elements of t (t itself when already contiguous). */
    private Tensor dense(Tensor t) {
        return t.isContiguous() ? t : copy(t, DType.F32);
    }

    /** Offset of the first element of a contiguous tensor. */
    private static int off(Tensor t) {
        return t.offset();
    }

    // ---- memory -------------------------------------------------------------------------------

    @Override
    public Storage allocate(Device device, DType dtype, int numel, boolean zero) {
        return ref.allocate(device, dtype, numel, zero);
    }

    @Override
    public Storage upload(HostStorage host, Device device) {
        return host;
    }

    @Override
    public HostStorage download(Tensor t) {
        if (!f32(t)) return ref.download(t);
        HostStorage out = HostStorage.unpooled(DType.F32, t.numel());
        if (t.isContiguous()) {
            System.arraycopy(data(t), t.offset(), out.f32(), 0, t.numel());
        } else {
            StridedCopy.gather(data(t), t, out.f32(), 0);
        }
        return out;
    }

    // ---- data movement ------------------------------------------------------------------------

    @Override
    public Tensor copy(Tensor src, DType dtype) {
        if (!f32(src) || dtype != DType.F32) return ref.copy(src, dtype);
        Tensor out = newF32(src.shape());
        StridedCopy.gather(data(src), src, data(out), 0);
        return out;
    }

    @Override
    public void copyInto(Tensor dst, Tensor src) {
        if (!f32(dst) || !f32(src) || dst.storage() == src.storage()) {
            ref.copyInto(dst, src);
            return;
        }
        Tensor s = dense(src.expand(dst.shape()));
        StridedCopy.scatter(data(s), off(s), data(dst), dst);
    }

    @Override
    public void fill(Tensor dst, double value) {
        if (f32(dst) && dst.isContiguous()) {
            Arrays.fill(data(dst), dst.offset(), dst.offset() + dst.numel(), (float) value);
        } else {
            ref.fill(dst, value);
        }
    }

    @Override
    public Tensor cat(List<Tensor> tensors, int dim) {
        if (!f32(tensors.get(0))) return ref.cat(tensors, dim);
        int[] shape = tensors.get(0).shape();
        int total = 0;
        for (Tensor t : tensors) total += t.shape(dim);
        shape[dim] = total;
        Tensor out = newF32(shape);
        int at = 0;
        for (Tensor t : tensors) {
            copyInto(out.narrow(dim, at, t.shape(dim)), t);
            at += t.shape(dim);
        }
        return out;
    }

    @Override
    public Tensor indexSelect(Tensor x, int dim, Tensor index) {
        return ref.indexSelect(x, dim, index);
    }

    @Override
    public Tensor gather(Tensor x, int dim, Tensor index) {
        return ref.gather(x, dim, index);
    }

    @Override
    public Tensor indexAdd(int[] shape, int dim, Tensor index, Tensor src) {
        return ref.indexAdd(shape, dim, index, src);
    }

    @Override
    public Tensor scatterAdd(int[] shape, int dim, Tensor index, Tensor src) {
        return ref.scatterAdd(shape, dim, index, src);
    }

    // ---- elementwise --------------------------------------------------------------------------

    @Override
    public Tensor unary(UnaryOp op, Tensor x, double p0, double p1) {
        if (!f32(x)) return ref.unary(op, x, p0, p1);
        Tensor in = dense(x);
        Tensor out = newF32(x.shape());
        ElementwiseKernels.unary(op, data(in), off(in), data(out), 0, x.numel(), (float) p0, (float) p1);
        return out;
    }

    @Override
    public Tensor unaryBackward(UnaryOp op, Tensor x, Tensor dy, double p0, double p1) {
        if (!f32(x) || !f32(dy)) return ref.unaryBackward(op, x, dy, p0, p1);
        Tensor in = dense(x), g = dense(dy.expand(x.shape()));
        Tensor out = newF32(x.shape());
        ElementwiseKernels.unaryBackward(op, data(in), off(in), data(g), off(g), data(out), 0, x.numel(), (float) p0, (float) p1);
        return out;
    }

    @Override
    public Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        if (!f32(a) || !f32(b)) return ref.binary(op, a, b);
        int[] shape = Shape.broadcast(a.shape(), b.shape());
        int n = Shape.numel(shape);
        Tensor out = newF32(shape);
        if (b.numel() == 1 && a.numel() == n) {
            Tensor da = dense(a);
            ElementwiseKernels.binaryScalar(op, data(da), off(da), b.item() , data(out), 0, n, false);
            return out;
        }
        if (a.numel() == 1 && b.numel() == n) {
            Tensor db = dense(b);
            ElementwiseKernels.binaryScalar(op, data(db), off(db), a.item(), data(out), 0, n, true);
            return out;
        }
        int tailA = trailingBlock(a.shape(), shape), tailB = trailingBlock(b.shape(), shape);
        // Each operand is either full-size or repeats as a contiguous trailing block (bias, pos_embed).
        Tensor da = tailA > 0 ? dense(a) : dense(a.expand(shape));
        Tensor db = tailB > 0 ? dense(b) : dense(b.expand(shape));
        int periodA = tailA > 0 ? tailA : n, periodB = tailB > 0 ? tailB : n;
        ElementwiseKernels.binaryPeriodic(op, data(da), off(da), periodA, data(db), off(db), periodB, data(out), 0, n);
        return out;
    }

    /**
     * The element count of {@code small}'s block when it broadcasts to {@code full} only by
     * repetition along leading dims (its trailing dims equal full's); 0 otherwise.
     */
    private static int trailingBlock(int[] small, int[] full) {
        int lead = full.length - small.length;
        int start = 0;
        while (start < small.length && small[start] == 1) start++;
        for (int i = start; i < small.length; i++) if (small[i] != full[i + lead]) return 0;
        int n = Shape.numel(small);
        return n == 0 ? 0 : n;
    }

    @Override
    public Tensor where(Tensor cond, Tensor a, Tensor b) {
        return ref.where(cond, a, b);
    }

    // ---- reductions ---------------------------------------------------------------------------

    @Override
    public Tensor reduce(ReductionPlan plan) {
        ReduceOp op = plan.op();
        Tensor x = plan.x();
        int len = plan.len(), rows = plan.rows();
        if (!f32(x) || plan.dims().length == 0 || len == 0) return ref.reduce(plan);
        float[] result = new float[rows];
        boolean leadingReduced = plan.sumsDownColumns();
        if (leadingReduced) {
            // Column sums over a [len × rows] block: no transposed copy needed.
            ReductionKernels.sumDownColumns(data(x), off(x), result, 0, len, rows);
        } else {
            // The reduced dims moved last: every output element reduces one contiguous row.
            Tensor moved = dense(x.permute(plan.perm()));
            ElementwiseKernels.reduceRows(op, data(moved), off(moved), result, rows, len);
        }
        if (op == ReduceOp.MEAN && leadingReduced) {
            for (int i = 0; i < rows; i++) result[i] /= len;
        }
        Tensor out = newF32(plan.outShape());
        System.arraycopy(result, 0, data(out), 0, rows);
        return out;
    }

    @Override
    public Tensor argReduce(ReductionPlan plan) {
        return ref.argReduce(plan);
    }

    @Override
    public TopK topk(TopKPlan plan) {
        Tensor x = plan.x();
        if (!f32(x) || plan.k() == 0 || plan.rows() == 0) return ref.topk(plan);
        Tensor in = dense(x);
        Tensor values = newF32(plan.outShape());
        Tensor positions = Tensor.contiguousView(HostStorage.allocate(DType.I64, Shape.numel(plan.outShape()), false), plan.outShape());
        TopKKernel.rows(data(in), off(in), plan.rows(), plan.n(), plan.k(), data(values), ((HostStorage) positions.storage()).i64());
        return new TopK(values, positions);
    }

    // ---- fused kernels ------------------------------------------------------------------------

    @Override
    public Tensor gemm(GemmShape plan, double alpha, double beta) {
        if (!f32(plan.a()) || !f32(plan.b()) || (plan.c0() != null && !f32(plan.c0()))) return ref.gemm(plan, alpha, beta);
        return GemmDispatch.gemm(this, plan, (float) alpha, (float) beta);
    }

    @Override
    public LinearGeluResult linearGelu(GemmShape plan, Tensor bias) {
        if (!f32(plan.a()) || !f32(plan.b())) return ref.linearGelu(plan, bias);
        return GemmDispatch.linearGelu(this, plan, packed(bias), 0);
    }

    @Override
    public Tensor[] linearGeluBackward(Tensor z, Tensor bias, Tensor dy) {
        if (!f32(z)) return ref.linearGeluBackward(z, bias, dy);
        int n = z.shape(-1), rows = z.numel() / Math.max(n, 1);
        Tensor zz = dense(z), g = dense(dy);
        Tensor dz = newF32(z.shape()), db = newF32(n);
        GeluKernels.biasGeluBackward(data(zz), off(zz), packed(bias), 0, data(g), off(g), data(dz), 0, data(db), 0, rows, n);
        return new Tensor[] {dz, db};
    }

    @Override
    public Tensor softmax(Tensor x, double scale, boolean log) {
        if (!f32(x)) return ref.softmax(x, scale, log);
        Tensor in = dense(x);
        int n = x.shape(-1), rows = x.numel() / Math.max(n, 1);
        Tensor out = newF32(x.shape());
        SoftmaxKernels.forward(data(in), off(in), data(out), 0, rows, n, (float) scale, log);
        return out;
    }

    @Override
    public Tensor softmaxBackward(Tensor y, Tensor dy, double scale, boolean log) {
        if (!f32(y) || !f32(dy)) return ref.softmaxBackward(y, dy, scale, log);
        Tensor yy = dense(y), g = dense(dy.expand(y.shape()));
        int n = y.shape(-1), rows = y.numel() / Math.max(n, 1);
        Tensor out = newF32(y.shape());
        SoftmaxKernels.backward(data(yy), off(yy), data(g), off(g), data(out), 0, rows, n, (float) scale, log);
        return out;
    }

    @Override
    public LayerNormResult layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        if (!f32(x)) return ref.layerNorm(x, weight, bias, eps);
        int n = x.shape(-1), rows = x.numel() / Math.max(n, 1);
        Tensor in = dense(x);
        Tensor out = newF32(x.shape());
        int[] rowShape = Arrays.copyOf(x.shape(), x.rank() - 1);
        Tensor mean = newF32(rowShape), rstd = newF32(rowShape);
        LayerNormKernels.forward(data(in), off(in), packed(weight), packed(bias), data(out), 0,
                data(mean), data(rstd), rows, n, (float) eps);
        return new LayerNormResult(out, mean, rstd);
    }

    @Override
    public AddLayerNormResult addLayerNorm(Tensor x, Tensor r, Tensor weight, Tensor bias, double eps) {
        if (!f32(x)) return ref.addLayerNorm(x, r, weight, bias, eps);
        int n = x.shape(-1), rows = x.numel() / Math.max(n, 1);
        Tensor in = dense(x), res = dense(r);
        Tensor h = newF32(x.shape()), out = newF32(x.shape());
        int[] rowShape = Arrays.copyOf(x.shape(), x.rank() - 1);
        Tensor mean = newF32(rowShape), rstd = newF32(rowShape);
        LayerNormKernels.addForward(data(in), off(in), data(res), off(res), packed(weight), packed(bias), data(h), 0,
                data(out), 0, data(mean), data(rstd), rows, n, (float) eps);
        return new AddLayerNormResult(h, new LayerNormResult(out, mean, rstd));
    }

    /** The elements of a small parameter vector as an array starting at 0 (null stays null). */
    private static float[] packed(Tensor t) {
        if (t == null) return null;
        if (t.isContiguous() && t.offset() == 0 && data(t).length == t.numel()) return data(t);
        return t.toFloatArray();
    }

    @Override
    public Tensor[] layerNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, boolean withBias) {
        if (!f32(x) || !f32(dy)) return ref.layerNormBackward(dy, x, weight, mean, rstd, withBias);
        int n = x.shape(-1), rows = x.numel() / Math.max(n, 1);
        Tensor in = dense(x), g = dense(dy.expand(x.shape()));
        Tensor dx = newF32(x.shape());
        Tensor dw = weight == null ? null : newF32(n), db = withBias ? newF32(n) : null;
        LayerNormKernels.backward(data(g), off(g), data(in), off(in), packed(weight), packed(mean), packed(rstd),
                data(dx), 0, dw == null ? null : data(dw), db == null ? null : data(db), rows, n);
        return new Tensor[] {dx, dw, db};
    }

    @Override
    public Tensor l2Normalize(Tensor x, double eps) {
        if (!f32(x)) return ref.l2Normalize(x, eps);
        Tensor in = dense(x);
        int n = x.shape(-1), rows = x.numel() / Math.max(n, 1);
        Tensor out = newF32(x.shape());
        L2NormalizeKernels.forward(data(in), off(in), data(out), 0, rows, n, (float) eps);
        return out;
    }

    @Override
    public Tensor l2NormalizeBackward(Tensor x, Tensor dy, double eps) {
        if (!f32(x) || !f32(dy)) return ref.l2NormalizeBackward(x, dy, eps);
        Tensor in = dense(x), g = dense(dy.expand(x.shape()));
        int n = x.shape(-1), rows = x.numel() / Math.max(n, 1);
        Tensor out = newF32(x.shape());
        L2NormalizeKernels.backward(data(in), off(in), data(g), off(g), data(out), 0, rows, n, (float) eps);
        return out;
    }

    /**
     * Every F32 parameter in one pass of {@link AdamWKernel#stepAll} over the pool (one split of
     * all their elements instead of one per tensor); others go to the reference one by one.
     */
    @Override
    public void adamw(List<AdamWParameter> params, AdamWStep s) {
        List<AdamWParameter> fast = new java.util.ArrayList<>(params.size());
        for (AdamWParameter e : params) {
            if (adamwFast(e.param(), e.grad(), e.m(), e.v())) {
                fast.add(e);
            } else {
                ref.adamw(e.param(), e.grad(), e.m(), e.v(), s.forParameter(e.decays()));
            }
        }
        int n = fast.size();
        float[][] p = new float[n][], g = new float[n][], m = new float[n][], v = new float[n][];
        int[] offsets = new int[n], counts = new int[n];
        boolean[] decays = new boolean[n];
        for (int i = 0; i < n; i++) {
            AdamWParameter e = fast.get(i);
            p[i] = data(e.param());
            g[i] = data(e.grad());
            m[i] = data(e.m());
            v[i] = data(e.v());
            offsets[i] = e.param().offset();
            counts[i] = e.param().numel();
            decays[i] = e.decays();
        }
        AdamWKernel.stepAll(p, g, m, v, offsets, counts, decays, s.step(),
                (float) s.lr(), (float) s.beta1(), (float) s.beta2(), (float) s.eps(), (float) s.weightDecay());
    }

    /** F32, contiguous and at one offset: what {@link AdamWKernel} takes. */
    private static boolean adamwFast(Tensor param, Tensor grad, Tensor m, Tensor v) {
        return f32(param) && f32(grad) && f32(m) && f32(v) && param.isContiguous() && grad.isContiguous()
                && m.isContiguous() && v.isContiguous() && param.offset() == m.offset() && m.offset() == v.offset()
                && v.offset() == grad.offset();
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep s) {
        if (!adamwFast(param, grad, m, v)) {
            ref.adamw(param, grad, m, v, s);
            return;
        }
        AdamWKernel.step(data(param), data(grad), data(m), data(v), param.offset(), param.numel(), s.step(),
                (float) s.lr(), (float) s.beta1(), (float) s.beta2(), (float) s.eps(), (float) s.weightDecay());
    }

    // ---- fused attention ----------------------------------------------------------------------

    @Override
    public AttentionResult attention(AttentionPlan plan) {
        if (!fastAttention(plan)) return ref.attention(plan);
        Tensor out = newF32(plan.outShape()), lse = newF32(plan.lseShape());
        AttentionKernels.forward(operand(plan.q()), operand(plan.k()), operand(plan.v()), plan.batch(), plan.heads(),
                plan.tokens(), plan.headDim(), (float) plan.scale(), data(out), 0, data(lse), 0);
        return new AttentionResult(out, lse);
    }

    @Override
    public void attentionBackward(AttentionPlan plan, Tensor out, Tensor lse, Tensor dOut, Tensor dq, Tensor dk, Tensor dv) {
        if (!fastAttention(plan)) {
            ref.attentionBackward(plan, out, lse, dOut, dq, dk, dv);
            return;
        }
        Tensor o = dense(out), l = dense(lse), g = dense(dOut);
        Tensor[] dst = {dq, dk, dv};
        Tensor[] target = new Tensor[3];
        for (int i = 0; i < 3; i++) target[i] = dst[i].stride(3) == 1 || plan.headDim() == 1 ? dst[i] : newF32(dst[i].shape());
        AttentionKernels.backward(operand(plan.q()), operand(plan.k()), operand(plan.v()), plan.batch(), plan.heads(),
                plan.tokens(), plan.headDim(), (float) plan.scale(), data(o), off(o), data(l), off(l), data(g), off(g),
                operand(target[0]), operand(target[1]), operand(target[2]));
        for (int i = 0; i < 3; i++) if (target[i] != dst[i]) copyInto(dst[i], target[i]);
    }

    /** F32 throughout and something to compute; F64 (gradient checks) and empty blocks go to the reference. */
    private static boolean fastAttention(AttentionPlan plan) {
        return f32(plan.q()) && plan.tokens() > 0 && plan.headDim() > 0 && plan.batch() * plan.heads() > 0;
    }

    /** A [B, H, N, hd] F32 view as the kernel reads it: head-dim stride 1 (copied densely when it is not). */
    private AttentionKernels.Operand operand(Tensor t) {
        Tensor u = t.stride(3) == 1 || t.shape(3) == 1 ? t : dense(t);
        return new AttentionKernels.Operand(data(u), u.offset(), u.stride(0), u.stride(1), u.stride(2));
    }

    /** For {@link GemmDispatch}: a contiguous F32 copy of t when needed. */
    Tensor denseF32(Tensor t) {
        return dense(t);
    }
}
