package dev.irtj.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array: a strided view (shape, strides, offset, all in elements) over a
 * {@link Storage}. Views (reshape of contiguous data, transpose, permute, narrow, expand,
 * squeeze/unsqueeze) share storage; every computing op returns a new contiguous tensor, computed
 * by the {@link Backend} of the tensor's device.
 *
 * <p>Tensors carry no gradient; see {@code dev.irtj.autograd.Var} for differentiation.
 */
public final class Tensor {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final int offset;

    private Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    /** A view over {@code storage}; bounds are checked so no view can reach past the storage. */
    public static Tensor strided(Storage storage, int[] shape, int[] strides, int offset) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Shape.str(shape) + " and strides " + Shape.str(strides) + " differ in rank");
        }
        int numel = Shape.numel(shape);
        if (numel > 0) {
            long lo = offset, hi = offset;
            for (int i = 0; i < shape.length; i++) {
                long span = (long) (shape[i] - 1) * strides[i];
                if (span < 0) lo += span; else hi += span;
            }
            if (lo < 0 || hi >= storage.size()) {
                throw new IllegalArgumentException("view " + Shape.str(shape) + " strides " + Shape.str(strides)
                        + " offset " + offset + " reaches outside a storage of " + storage.size() + " elements");
            }
        }
        return new Tensor(storage, shape.clone(), strides.clone(), offset);
    }

    /** A contiguous tensor over all of {@code storage}. */
    public static Tensor contiguousView(Storage storage, int... shape) {
        if (Shape.numel(shape) != storage.size()) {
            throw new IllegalArgumentException("shape " + Shape.str(shape) + " needs " + Shape.numel(shape)
                    + " elements, storage has " + storage.size());
        }
        return new Tensor(storage, shape.clone(), Shape.contiguousStrides(shape), 0);
    }

    // ---- properties ---------------------------------------------------------------------------

    public Storage storage() {
        return storage;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int shape(int dim) {
        return shape[Shape.dim(dim, shape.length)];
    }

    public int[] strides() {
        return strides.clone();
    }

    public int stride(int dim) {
        return strides[Shape.dim(dim, shape.length)];
    }

    public int offset() {
        return offset;
    }

    public int rank() {
        return shape.length;
    }

    public int numel() {
        return Shape.numel(shape);
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    public Backend backend() {
        return Backends.forDevice(device());
    }

    /** True when elements are laid out row-major without gaps (size-1 dims may have any stride). */
    public boolean isContiguous() {
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) continue;
            if (strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    // ---- creation -----------------------------------------------------------------------------

    public static Tensor empty(DType dtype, int... shape) {
        return empty(Device.CPU, dtype, shape);
    }

    public static Tensor empty(Device device, DType dtype, int... shape) {
        Storage s = Backends.forDevice(device).allocate(device, dtype, Shape.numel(shape), false);
        return contiguousView(s, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return zeros(Device.CPU, dtype, shape);
    }

    public static Tensor zeros(Device device, DType dtype, int... shape) {
        Storage s = Backends.forDevice(device).allocate(device, dtype, Shape.numel(shape), true);
        return contiguousView(s, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(1.0, dtype, shape);
    }

    public static Tensor full(double value, DType dtype, int... shape) {
        Tensor t = empty(dtype, shape);
        t.backend().fill(t, value);
        return t;
    }

    /** A 0-dimensional tensor holding {@code value}. */
    public static Tensor scalar(double value, DType dtype) {
        return full(value, dtype);
    }

    /** 0, 1, ..., n-1. */
    public static Tensor arange(int n, DType dtype) {
        return arange(0, n, 1, dtype);
    }

    /** start, start+step, ... below {@code end} (above it for a negative step). */
    public static Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0) throw new IllegalArgumentException("arange step must not be 0");
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        HostStorage h = HostStorage.allocate(dtype, n, false);
        for (int i = 0; i < n; i++) h.set(i, start + i * step);
        return contiguousView(h, n);
    }

    public static Tensor eye(int n, DType dtype) {
        HostStorage h = HostStorage.allocate(dtype, n * n, true);
        for (int i = 0; i < n; i++) h.set(i * n + i, 1.0);
        return contiguousView(h, n, n);
    }

    /** An F64 tensor over a copy of {@code data}. */
    public static Tensor of(double[] data, int... shape) {
        checkLength(data.length, shape);
        return contiguousView(HostStorage.wrap(data.clone()), shape);
    }

    /** An F32 tensor over a copy of {@code data}. */
    public static Tensor of(float[] data, int... shape) {
        checkLength(data.length, shape);
        return contiguousView(HostStorage.wrap(data.clone()), shape);
    }

    /** An I64 tensor over a copy of {@code data}. */
    public static Tensor ofLongs(long[] data, int... shape) {
        checkLength(data.length, shape);
        return contiguousView(HostStorage.wrap(data.clone()), shape);
    }

    /** A tensor of {@code dtype} from doubles (rounded for F32, truncated for I64). */
    public static Tensor of(DType dtype, double[] data, int... shape) {
        checkLength(data.length, shape);
        HostStorage h = HostStorage.allocate(dtype, data.length, false);
        for (int i = 0; i < data.length; i++) h.set(i, data[i]);
        return contiguousView(h, shape);
    }

    private static void checkLength(int length, int[] shape) {
        if (length != Shape.numel(shape)) {
            throw new IllegalArgumentException(length + " values do not fill shape " + Shape.str(shape)
                    + " (" + Shape.numel(shape) + " elements)");
        }
    }

    /** Standard normal samples from {@code rng}. */
    public static Tensor randn(Rng rng, DType dtype, int... shape) {
        return fromGenerator(dtype, shape, i -> rng.nextGaussian());
    }

    /** Uniform samples in [lo, hi). */
    public static Tensor uniform(Rng rng, double lo, double hi, DType dtype, int... shape) {
        return fromGenerator(dtype, shape, i -> lo + (hi - lo) * rng.nextDouble());
    }

    /** Normal(mean, std) samples truncated to [a, b] (absolute bounds, as timm's trunc_normal_). */
    public static Tensor truncatedNormal(Rng rng, double mean, double std, double a, double b, DType dtype, int... shape) {
        return fromGenerator(dtype, shape, i -> rng.nextTruncatedGaussian(mean, std, a, b));
    }

    private static Tensor fromGenerator(DType dtype, int[] shape, java.util.function.IntToDoubleFunction f) {
        int n = Shape.numel(shape);
        HostStorage h = HostStorage.allocate(dtype, n, false);
        for (int i = 0; i < n; i++) h.set(i, f.applyAsDouble(i));
        return contiguousView(h, shape);
    }

    // ---- host access and conversion -----------------------------------------------------------

    /**
     * Elements in row-major order, widened to double; always a fresh array the caller owns
     * (copied from the device if needed).
     */
    public double[] toDoubleArray() {
        HostStorage h = backend().download(this);
        if (h.dtype() == DType.F64) return h.f64();
        double[] out = new double[h.size()];
        for (int i = 0; i < out.length; i++) out[i] = h.get(i);
        return out;
    }

    public float[] toFloatArray() {
        HostStorage h = backend().download(this);
        if (h.dtype() == DType.F32) return h.f32();
        float[] out = new float[h.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) h.get(i);
        return out;
    }

    public long[] toLongArray() {
        HostStorage h = backend().download(this);
        if (h.dtype() == DType.I64) return h.i64();
        long[] out = new long[h.size()];
        for (int i = 0; i < out.length; i++) out[i] = (long) h.get(i);
        return out;
    }

    /** The single element of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalStateException("item() needs one element, tensor has shape " + Shape.str(shape));
        return toDoubleArray()[0];
    }

    /** One element by index (slow; for tests and debugging). */
    public double get(int... index) {
        if (index.length != shape.length) throw new IllegalArgumentException("index of rank " + index.length + " for a tensor of rank " + shape.length);
        int pos = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of shape " + Shape.str(shape));
            pos += index[i] * strides[i];
        }
        if (storage instanceof HostStorage h) return h.get(pos);
        Tensor t = this;
        for (int i = 0; i < index.length; i++) t = t.narrow(i, index[i], 1);
        return t.toDoubleArray()[0];
    }

    /** The leading block of this tensor with the given (no larger) shape: narrow(d, 0, shape[d]) in every dim. */
    public Tensor narrowTo(int[] shape) {
        if (shape.length != rank()) throw new IllegalArgumentException("narrowTo " + Shape.str(shape) + " for a tensor of rank " + rank());
        Tensor t = this;
        for (int i = 0; i < shape.length; i++) t = t.narrow(i, 0, shape[i]);
        return t;
    }

    public Tensor to(DType dtype) {
        return dtype == dtype() ? this : backend().copy(this, dtype);
    }

    /** This tensor on {@code device} (itself when already there). */
    public Tensor to(Device device) {
        if (device.equals(device())) return this;
        HostStorage host = backend().download(this);
        Storage s = Backends.forDevice(device).upload(host, device);
        return contiguousView(s, shape);
    }

    /** A contiguous copy (same dtype and device). */
    public Tensor copy() {
        return backend().copy(this, dtype());
    }

    /** This tensor if contiguous, else a contiguous copy. */
    public Tensor contiguous() {
        return isContiguous() ? this : copy();
    }

    /** Writes src (broadcast) into this view in place. */
    public Tensor copyFrom(Tensor src) {
        checkSameDevice(src);
        backend().copyInto(this, src);
        return this;
    }

    public Tensor fill(double value) {
        backend().fill(this, value);
        return this;
    }

    // ---- views --------------------------------------------------------------------------------

    /** Same elements in a new shape; one dim may be -1. Copies only if the layout requires it. */
    public Tensor reshape(int... newShape) {
        int[] s = inferShape(newShape);
        if (isContiguous()) return new Tensor(storage, s, Shape.contiguousStrides(s), offset);
        return copy().reshape(s);
    }

    /** Like {@link #reshape} but never copies: fails on a non-contiguous tensor. */
    public Tensor view(int... newShape) {
        if (!isContiguous()) throw new IllegalStateException("view() of a non-contiguous tensor " + Shape.str(shape) + "; use reshape()");
        return reshape(newShape);
    }

    private int[] inferShape(int[] newShape) {
        int[] s = newShape.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("only one dimension may be -1 in " + Shape.str(newShape));
                infer = i;
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) throw new IllegalArgumentException("cannot reshape " + Shape.str(shape) + " to " + Shape.str(newShape));
            s[infer] = numel() / known;
        }
        if (Shape.numel(s) != numel()) throw new IllegalArgumentException("cannot reshape " + Shape.str(shape) + " (" + numel() + " elements) to " + Shape.str(newShape));
        return s;
    }

    public Tensor flatten() {
        return reshape(numel());
    }

    public Tensor transpose(int d0, int d1) {
        int a = Shape.dim(d0, rank()), b = Shape.dim(d1, rank());
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[a] = b;
        perm[b] = a;
        return permute(perm);
    }

    /** Transpose of the last two dims. */
    public Tensor mT() {
        if (rank() < 2) throw new IllegalStateException("mT() needs rank >= 2, tensor has shape " + Shape.str(shape));
        return transpose(-2, -1);
    }

    public Tensor permute(int... dims) {
        if (dims.length != rank()) throw new IllegalArgumentException("permute " + Arrays.toString(dims) + " for a tensor of rank " + rank());
        int[] s = new int[rank()], st = new int[rank()];
        boolean[] seen = new boolean[rank()];
        for (int i = 0; i < dims.length; i++) {
            int d = Shape.dim(dims[i], rank());
            if (seen[d]) throw new IllegalArgumentException("permute " + Arrays.toString(dims) + " repeats dimension " + d);
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
        }
        return new Tensor(storage, s, st, offset);
    }

    /** Elements start..start+length-1 along {@code dim}. */
    public Tensor narrow(int dim, int start, int length) {
        int d = Shape.dim(dim, rank());
        if (start < 0 || length < 0 || start + length > shape[d]) {
            throw new IndexOutOfBoundsException("narrow(" + dim + ", " + start + ", " + length + ") of shape " + Shape.str(shape));
        }
        int[] s = shape.clone();
        s[d] = length;
        return new Tensor(storage, s, strides.clone(), offset + (length == 0 ? 0 : start * strides[d]));
    }

    /** The slice at {@code index} along {@code dim}, with that dim removed. */
    public Tensor select(int dim, int index) {
        return narrow(dim, index, 1).squeeze(dim);
    }

    /** Broadcasts size-1 dims (and new leading dims) to {@code newShape}; -1 keeps a dim. */
    public Tensor expand(int... newShape) {
        int lead = newShape.length - rank();
        if (lead < 0) throw new IllegalArgumentException("cannot expand " + Shape.str(shape) + " to fewer dims " + Shape.str(newShape));
        int[] s = new int[newShape.length], st = new int[newShape.length];
        for (int i = 0; i < newShape.length; i++) {
            if (i < lead) {
                if (newShape[i] < 0) throw new IllegalArgumentException("-1 in a new leading dim of expand " + Shape.str(newShape));
                s[i] = newShape[i];
                st[i] = 0;
            } else {
                int own = shape[i - lead];
                int want = newShape[i] == -1 ? own : newShape[i];
                if (own == want) {
                    s[i] = own;
                    st[i] = strides[i - lead];
                } else if (own == 1) {
                    s[i] = want;
                    st[i] = 0;
                } else {
                    throw new IllegalArgumentException("cannot expand " + Shape.str(shape) + " to " + Shape.str(newShape));
                }
            }
        }
        return new Tensor(storage, s, st, offset);
    }

    public Tensor squeeze(int dim) {
        int d = Shape.dim(dim, rank());
        if (shape[d] != 1) return this;
        return new Tensor(storage, remove(shape, d), remove(strides, d), offset);
    }

    /** Removes every size-1 dim. */
    public Tensor squeeze() {
        Tensor t = this;
        for (int d = rank() - 1; d >= 0; d--) t = t.squeeze(d);
        return t;
    }

    public Tensor unsqueeze(int dim) {
        int d = Shape.dim(dim, rank() + 1);
        int[] s = insert(shape, d, 1);
        int innerStride = d < rank() ? strides[d] * shape[d] : 1;
        int[] st = insert(strides, d, innerStride);
        return new Tensor(storage, s, st, offset);
    }

    private static int[] remove(int[] a, int i) {
        int[] r = new int[a.length - 1];
        System.arraycopy(a, 0, r, 0, i);
        System.arraycopy(a, i + 1, r, i, a.length - i - 1);
        return r;
    }

    private static int[] insert(int[] a, int i, int v) {
        int[] r = new int[a.length + 1];
        System.arraycopy(a, 0, r, 0, i);
        r[i] = v;
        System.arraycopy(a, i, r, i + 1, a.length - i);
        return r;
    }

    // ---- elementwise --------------------------------------------------------------------------

    private Tensor unary(UnaryOp op) {
        return backend().unary(op, this, 0, 0);
    }

    /** op(x) with the op's scalar parameters (see {@link UnaryOp}). */
    public Tensor apply(UnaryOp op, double p0, double p1) {
        return backend().unary(op, this, p0, p1);
    }

    /** dy·op'(x) for this x: the backward of {@link #apply}; dy may broadcast to x's shape. */
    public Tensor applyBackward(UnaryOp op, Tensor dy, double p0, double p1) {
        checkSameDevice(dy);
        checkSameDtype(dy);
        return backend().unaryBackward(op, this, dy, p0, p1);
    }

    private Tensor binary(BinaryOp op, Tensor other) {
        checkSameDevice(other);
        checkSameDtype(other);
        return backend().binary(op, this, other);
    }

    public Tensor add(Tensor o) { return binary(BinaryOp.ADD, o); }
    public Tensor sub(Tensor o) { return binary(BinaryOp.SUB, o); }
    public Tensor mul(Tensor o) { return binary(BinaryOp.MUL, o); }
    public Tensor div(Tensor o) { return binary(BinaryOp.DIV, o); }
    public Tensor maximum(Tensor o) { return binary(BinaryOp.MAXIMUM, o); }
    public Tensor minimum(Tensor o) { return binary(BinaryOp.MINIMUM, o); }
    public Tensor eq(Tensor o) { return binary(BinaryOp.EQ, o); }
    public Tensor ne(Tensor o) { return binary(BinaryOp.NE, o); }
    public Tensor lt(Tensor o) { return binary(BinaryOp.LT, o); }
    public Tensor le(Tensor o) { return binary(BinaryOp.LE, o); }
    public Tensor gt(Tensor o) { return binary(BinaryOp.GT, o); }
    public Tensor ge(Tensor o) { return binary(BinaryOp.GE, o); }

    public Tensor add(double c) { return backend().unary(UnaryOp.AFFINE, this, 1, c); }
    public Tensor sub(double c) { return backend().unary(UnaryOp.AFFINE, this, 1, -c); }
    public Tensor mul(double c) { return backend().unary(UnaryOp.AFFINE, this, c, 0); }
    public Tensor div(double c) { return backend().unary(UnaryOp.AFFINE, this, 1 / c, 0); }

    public Tensor neg() { return unary(UnaryOp.NEG); }
    public Tensor exp() { return unary(UnaryOp.EXP); }
    public Tensor log() { return unary(UnaryOp.LOG); }
    public Tensor sqrt() { return unary(UnaryOp.SQRT); }
    public Tensor rsqrt() { return unary(UnaryOp.RSQRT); }
    public Tensor abs() { return unary(UnaryOp.ABS); }
    public Tensor relu() { return unary(UnaryOp.RELU); }
    /** Exact GELU, x·Φ(x). */
    public Tensor gelu() { return unary(UnaryOp.GELU); }
    /** GELU's tanh approximation. */
    public Tensor geluTanh() { return unary(UnaryOp.GELU_TANH); }
    public Tensor tanh() { return unary(UnaryOp.TANH); }
    public Tensor sigmoid() { return unary(UnaryOp.SIGMOID); }

    public Tensor pow(double exponent) {
        return backend().unary(UnaryOp.POW, this, exponent, 0);
    }

    /** min(max(x, lo), hi); use ±infinity for a one-sided clamp. */
    public Tensor clamp(double lo, double hi) {
        if (lo > hi) throw new IllegalArgumentException("clamp bounds " + lo + " > " + hi);
        return backend().unary(UnaryOp.CLAMP, this, lo, hi);
    }

    /** cond ≠ 0 ? a : b, broadcast together. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        a.checkSameDevice(b);
        a.checkSameDevice(cond);
        a.checkSameDtype(b);
        return a.backend().where(cond, a, b);
    }

    /** This tensor with {@code value} wherever mask ≠ 0 (mask broadcasts to this shape). */
    public Tensor maskedFill(Tensor mask, double value) {
        return where(mask, scalar(value, dtype()).to(device()), this);
    }

    // ---- reductions ---------------------------------------------------------------------------

    public Tensor sum(int[] dims, boolean keepdim) { return reduce(ReduceOp.SUM, dims, keepdim); }
    public Tensor sum(int dim, boolean keepdim) { return sum(new int[] {dim}, keepdim); }
    /** Sum of all elements, as a 0-dimensional tensor. */
    public Tensor sum() { return reduce(ReduceOp.SUM, allDims(), false); }
    public Tensor mean(int[] dims, boolean keepdim) { return reduce(ReduceOp.MEAN, dims, keepdim); }
    public Tensor mean(int dim, boolean keepdim) { return mean(new int[] {dim}, keepdim); }
    public Tensor mean() { return reduce(ReduceOp.MEAN, allDims(), false); }
    public Tensor max(int[] dims, boolean keepdim) { return reduce(ReduceOp.MAX, dims, keepdim); }
    public Tensor max(int dim, boolean keepdim) { return max(new int[] {dim}, keepdim); }
    public Tensor max() { return reduce(ReduceOp.MAX, allDims(), false); }
    public Tensor min(int[] dims, boolean keepdim) { return reduce(ReduceOp.MIN, dims, keepdim); }
    public Tensor min(int dim, boolean keepdim) { return min(new int[] {dim}, keepdim); }
    public Tensor min() { return reduce(ReduceOp.MIN, allDims(), false); }

    public Tensor argmax(int dim, boolean keepdim) {
        return backend().argReduce(ReductionPlan.along(ReduceOp.MAX, this, dim, keepdim));
    }

    public Tensor argmin(int dim, boolean keepdim) {
        return backend().argReduce(ReductionPlan.along(ReduceOp.MIN, this, dim, keepdim));
    }

    /**
     * The k largest entries of every row (last dim), best first, with their I64 positions; ties
     * go to the lower index and NaN comes last ({@link TopKPlan}). Computed on this tensor's device.
     */
    public TopK topk(int k) {
        return backend().topk(TopKPlan.resolve(this, k));
    }

    private Tensor reduce(ReduceOp op, int[] dims, boolean keepdim) {
        return backend().reduce(ReductionPlan.resolve(op, this, dims, keepdim));
    }

    /** Sorted, distinct, non-negative dims; fails on repeats. */
    public int[] normalizeDims(int[] dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) d[i] = Shape.dim(dims[i], rank());
        Arrays.sort(d);
        for (int i = 1; i < d.length; i++) {
            if (d[i] == d[i - 1]) throw new IllegalArgumentException("dimension " + d[i] + " repeated in " + Arrays.toString(dims));
        }
        return d;
    }

    private int[] allDims() {
        return Shape.allDims(rank());
    }

    // ---- linear algebra -----------------------------------------------------------------------

    /**
     * Matrix product with torch.matmul's rules: 1-D operands are promoted (and the added dim
     * removed again), leading batch dims broadcast.
     */
    public Tensor matmul(Tensor other) {
        if (rank() == 0 || other.rank() == 0) throw new IllegalArgumentException("matmul of a 0-dimensional tensor");
        Tensor a = rank() == 1 ? unsqueeze(0) : this;
        Tensor b = other.rank() == 1 ? other.unsqueeze(1) : other;
        Tensor c = backend().gemm(GemmShape.resolve(a, false, b, false, null), 1.0, 0.0);
        if (rank() == 1) c = c.squeeze(-2);
        if (other.rank() == 1) c = c.squeeze(-1);
        return c;
    }

    /**
     * op(this)·op(other), where op transposes the last two dims when asked; leading batch dims
     * broadcast. The product the backward passes of matmul, linear and attention are made of.
     */
    public Tensor gemm(boolean transposeThis, Tensor other, boolean transposeOther) {
        return backend().gemm(GemmShape.resolve(this, transposeThis, other, transposeOther, null), 1.0, 0.0);
    }

    /** x·Wᵀ + b (bias may be null), as in torch.nn.functional.linear. */
    public Tensor linear(Tensor weight, Tensor bias) {
        checkLinear("linear", weight, bias);
        if (rank() == 1) return unsqueeze(0).linear(weight, bias).squeeze(0);
        return backend().gemm(GemmShape.resolve(this, false, weight, true, bias), 1.0, bias == null ? 0.0 : 1.0);
    }

    /**
     * gelu(x·Wᵀ + b) with the exact (erf) GELU, as one backend call (a CPU backend applies the
     * bias and the GELU as the GEMM stores its tiles), together with z = x·Wᵀ without the bias,
     * which {@link #linearGeluBackward} needs. Weight [n, k], bias [n] (required).
     */
    public Backend.LinearGeluResult linearGelu(Tensor weight, Tensor bias) {
        if (bias == null) throw new IllegalArgumentException("linear_gelu needs a bias; use linear(weight, null).gelu() without one");
        checkLinear("linear_gelu", weight, bias);
        if (!dtype().isFloating()) throw new IllegalArgumentException("linear_gelu is not defined for " + dtype() + " tensors");
        checkSameDevice(bias);
        checkSameDtype(bias);
        if (rank() == 1) {
            Backend.LinearGeluResult r = unsqueeze(0).linearGelu(weight, bias);
            return new Backend.LinearGeluResult(r.y().squeeze(0), r.z().squeeze(0));
        }
        return backend().linearGelu(GemmShape.resolve(this, false, weight, true, null), bias);
    }

    /**
     * On z of {@link #linearGelu}: {dz, db} for upstream dy, where dz = dy·gelu'(z + bias) (the
     * gradient behind the product) and db = dz summed over every leading dim, in one pass.
     */
    public Tensor[] linearGeluBackward(Tensor bias, Tensor dy) {
        if (!dtype().isFloating()) throw new IllegalArgumentException("linear_gelu is not defined for " + dtype() + " tensors");
        if (rank() == 0) throw new IllegalArgumentException("linear_gelu backward: z must have rank >= 1");
        checkSameDevice(bias);
        checkSameDtype(bias);
        checkSameDevice(dy);
        checkSameDtype(dy);
        if (bias.rank() != 1 || bias.shape(0) != shape(-1)) {
            throw new IllegalArgumentException("linear_gelu backward: bias " + Shape.str(bias.shape()) + " vs z " + Shape.str(shape));
        }
        if (!Arrays.equals(dy.shape, shape)) {
            throw new IllegalArgumentException("linear_gelu backward: dy " + Shape.str(dy.shape) + " vs z " + Shape.str(shape));
        }
        return backend().linearGeluBackward(this, bias, dy);
    }

    private void checkLinear(String op, Tensor weight, Tensor bias) {
        if (weight.rank() != 2) throw new IllegalArgumentException(op + " weight must be 2-D, got " + Shape.str(weight.shape));
        if (rank() == 0 || shape(-1) != weight.shape(1)) {
            throw new IllegalArgumentException(op + ": input " + Shape.str(shape) + " vs weight " + Shape.str(weight.shape()));
        }
        if (bias != null && (bias.rank() != 1 || bias.shape(0) != weight.shape(0))) {
            throw new IllegalArgumentException(op + ": bias " + Shape.str(bias.shape()) + " vs weight " + Shape.str(weight.shape()));
        }
    }

    /**
     * Convolution whose stride equals its kernel (ViT patch embedding), as reshape + GEMM:
     * x [B, C, H, W], weight [D, C, p, q], bias [D] or null → [B, D, H/p, W/q].
     */
    public Tensor conv2dPatch(Tensor weight, Tensor bias) {
        PatchGeometry g = PatchGeometry.of(shape, weight.shape);
        Tensor cols = patchesToRows(g);
        Tensor out = cols.linear(weight.reshape(g.outChannels(), -1), bias);
        return out.reshape(g.batch(), g.gridH(), g.gridW(), g.outChannels()).permute(0, 3, 1, 2).contiguous();
    }

    /** [B, C, H, W] → [B·(H/p)·(W/q), C·p·q]: each row one patch, channel-major like the weight. */
    public Tensor patchesToRows(PatchGeometry g) {
        return reshape(g.batch(), g.channels(), g.gridH(), g.patchH(), g.gridW(), g.patchW())
                .permute(0, 2, 4, 1, 3, 5)
                .reshape(g.batch() * g.gridH() * g.gridW(), g.channels() * g.patchH() * g.patchW());
    }

    // ---- fused row ops ------------------------------------------------------------------------

    public Tensor softmax() {
        return backend().softmax(this, 1.0, false);
    }

    /** softmax(scale·x) over the last dim, or its log. */
    public Tensor softmax(double scale, boolean log) {
        return backend().softmax(this, scale, log);
    }

    /** The gradient through this softmax output y (of {@link #softmax(double, boolean)}) for upstream dy. */
    public Tensor softmaxBackward(Tensor dy, double scale, boolean log) {
        checkSameDevice(dy);
        checkSameDtype(dy);
        return backend().softmaxBackward(this, dy, scale, log);
    }

    public Tensor logSoftmax() {
        return backend().softmax(this, 1.0, true);
    }

    public Tensor layerNorm(Tensor weight, Tensor bias, double eps) {
        return layerNormWithStatistics(weight, bias, eps).y();
    }

    /**
     * Layer norm over the last dim (weight and bias [n] or null) with the row means and 1/std its
     * backward needs. The dtype and parameters are checked here, once: backends only execute.
     */
    public Backend.LayerNormResult layerNormWithStatistics(Tensor weight, Tensor bias, double eps) {
        if (!dtype().isFloating()) throw new IllegalArgumentException("layer_norm is not defined for " + dtype() + " tensors");
        checkRowParameter(weight, "weight");
        checkRowParameter(bias, "bias");
        return backend().layerNorm(this, weight, bias, eps);
    }

    /**
     * h = this + r (same shape) and layer norm of h over the last dim, in one backend call (one
     * pass over the rows on the CPU): the residual add of a pre-norm transformer block and the
     * norm that follows it. Checked as {@link #layerNormWithStatistics}, plus r's shape.
     */
    public Backend.AddLayerNormResult addLayerNorm(Tensor r, Tensor weight, Tensor bias, double eps) {
        if (!dtype().isFloating()) throw new IllegalArgumentException("add_layer_norm is not defined for " + dtype() + " tensors");
        checkSameDevice(r);
        checkSameDtype(r);
        if (!Arrays.equals(r.shape, shape)) {
            throw new IllegalArgumentException("add_layer_norm: residual " + Shape.str(r.shape) + " vs input " + Shape.str(shape) + "; expected the same shape");
        }
        checkRowParameter(weight, "weight");
        checkRowParameter(bias, "bias");
        return backend().addLayerNorm(this, r, weight, bias, eps);
    }

    /**
     * Gradients of layer norm for this input x and upstream dy: {dx, dweight (null without a
     * weight), dbias (null unless withBias)}.
     */
    public Tensor[] layerNormBackward(Tensor dy, Tensor weight, Tensor mean, Tensor rstd, boolean withBias) {
        checkSameDevice(dy);
        checkSameDtype(dy);
        if (!dtype().isFloating()) throw new IllegalArgumentException("layer_norm is not defined for " + dtype() + " tensors");
        checkRowParameter(weight, "weight");
        return backend().layerNormBackward(dy, this, weight, mean, rstd, withBias);
    }

    private void checkRowParameter(Tensor p, String what) {
        if (p == null) return;
        checkSameDevice(p);
        checkSameDtype(p);
        int n = rank() == 0 ? 1 : shape(-1);
        if (p.rank() != 1 || p.shape(0) != n) {
            throw new IllegalArgumentException("layer_norm " + what + " must have shape [" + n + "], got " + Shape.str(p.shape()));
        }
    }

    /** x / max(‖x‖₂, eps) over the last dim (torch.nn.functional.normalize). */
    public Tensor l2Normalize(double eps) {
        return backend().l2Normalize(this, eps);
    }

    public Tensor l2Normalize() {
        return l2Normalize(1e-12);
    }

    /** The gradient of {@link #l2Normalize(double)} at this x for upstream dy. */
    public Tensor l2NormalizeBackward(Tensor dy, double eps) {
        checkSameDevice(dy);
        checkSameDtype(dy);
        return backend().l2NormalizeBackward(this, dy, eps);
    }

    // ---- fused attention ----------------------------------------------------------------------

    /**
     * softmax(plan.scale·q·kᵀ)·v per (batch, head) block of a plan from {@link AttentionPlan#resolve}
     * (which checked q, k, v once): out [B, N, H·hd] with the heads interleaved, and lse [B, H, N].
     */
    public static Backend.AttentionResult attention(AttentionPlan plan) {
        return plan.q().backend().attention(plan);
    }

    /**
     * Writes the gradients of {@link #attention} wrt q, k and v for upstream dOut into the views
     * dq, dk, dv (of q's shape); out and lse are what the forward returned.
     */
    public static void attentionBackward(AttentionPlan plan, Tensor out, Tensor lse, Tensor dOut, Tensor dq, Tensor dk, Tensor dv) {
        plan.checkBackward(out, lse, dOut, dq, dk, dv);
        plan.q().backend().attentionBackward(plan, out, lse, dOut, dq, dk, dv);
    }

    // ---- joining and indexing -----------------------------------------------------------------

    public static Tensor cat(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("cat of no tensors");
        Tensor first = tensors.get(0);
        int d = Shape.dim(dim, first.rank());
        for (Tensor t : tensors) {
            first.checkSameDevice(t);
            first.checkSameDtype(t);
            if (t.rank() != first.rank()) throw new IllegalArgumentException("cat of tensors of ranks " + first.rank() + " and " + t.rank());
            for (int i = 0; i < t.rank(); i++) {
                if (i != d && t.shape[i] != first.shape[i]) {
                    throw new IllegalArgumentException("cat along " + d + ": shapes " + Shape.str(first.shape) + " and " + Shape.str(t.shape));
                }
            }
        }
        return first.backend().cat(tensors, d);
    }

    public static Tensor stack(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) throw new IllegalArgumentException("stack of no tensors");
        int d = Shape.dim(dim, tensors.get(0).rank() + 1);
        List<Tensor> u = new ArrayList<>();
        for (Tensor t : tensors) {
            if (!Arrays.equals(t.shape, tensors.get(0).shape)) {
                throw new IllegalArgumentException("stack of shapes " + Shape.str(tensors.get(0).shape) + " and " + Shape.str(t.shape));
            }
            u.add(t.unsqueeze(d));
        }
        return cat(u, d);
    }

    public Tensor indexSelect(int dim, Tensor index) {
        checkIndex(index, 1);
        return backend().indexSelect(this, Shape.dim(dim, rank()), index);
    }

    public Tensor gather(int dim, Tensor index) {
        checkIndex(index, rank());
        return backend().gather(this, Shape.dim(dim, rank()), index);
    }

    /** Zeros of {@code shape} with src added at index along dim: the adjoint of {@link #indexSelect}. */
    public static Tensor indexAdd(int[] shape, int dim, Tensor index, Tensor src) {
        src.checkIndex(index, 1);
        return src.backend().indexAdd(shape, Shape.dim(dim, shape.length), index, src);
    }

    /** Zeros of {@code shape} with src added at index along dim: the adjoint of {@link #gather}. */
    public static Tensor scatterAdd(int[] shape, int dim, Tensor index, Tensor src) {
        src.checkIndex(index, src.rank());
        return src.backend().scatterAdd(shape, Shape.dim(dim, shape.length), index, src);
    }

    /**
     * One AdamW update of this parameter in place, with its gradient and moments m and v (all of
     * its device, dtype and shape); {@code step} is 1-based.
     */
    public void adamwUpdate(Tensor grad, Tensor m, Tensor v, long step, double lr, double beta1, double beta2,
                            double eps, double weightDecay) {
        checkAdamW(grad, m, v);
        backend().adamw(this, grad, m, v, new Backend.AdamWStep(step, lr, beta1, beta2, eps, weightDecay));
    }

    /**
     * One AdamW step of every listed parameter in place, as one backend call (a backend may walk
     * them all in one pass): each is updated exactly as {@link #adamwUpdate(Tensor, Tensor,
     * Tensor, long, double, double, double, double, double)} would, with {@code weightDecay}
     * where its entry {@code decays} and none elsewhere. All entries are on one device.
     */
    public static void adamwUpdate(List<AdamWParameter> params, long step, double lr, double beta1, double beta2,
                                   double eps, double weightDecay) {
        if (params.isEmpty()) return;
        Tensor first = params.get(0).param();
        for (AdamWParameter e : params) {
            first.checkSameDevice(e.param());
            e.param().checkAdamW(e.grad(), e.m(), e.v());
        }
        first.backend().adamw(List.copyOf(params), new Backend.AdamWStep(step, lr, beta1, beta2, eps, weightDecay));
    }

    private void checkAdamW(Tensor grad, Tensor m, Tensor v) {
        for (Tensor t : new Tensor[] {grad, m, v}) {
            checkSameDevice(t);
            checkSameDtype(t);
            if (!Arrays.equals(t.shape, shape)) {
                throw new IllegalArgumentException("adamw: parameter " + Shape.str(shape) + " with gradient or moment " + Shape.str(t.shape));
            }
        }
    }

    private void checkIndex(Tensor index, int wantRank) {
        checkSameDevice(index);
        if (index.dtype() != DType.I64) throw new IllegalArgumentException("index tensor must be I64, got " + index.dtype());
        if (index.rank() != wantRank) throw new IllegalArgumentException("index tensor must have rank " + wantRank + ", got " + Shape.str(index.shape));
    }

    // ---- checks and printing ------------------------------------------------------------------

    void checkSameDevice(Tensor o) {
        if (!o.device().equals(device())) throw new IllegalArgumentException("tensors on " + device() + " and " + o.device());
    }

    void checkSameDtype(Tensor o) {
        if (o.dtype() != dtype()) throw new IllegalArgumentException("dtypes differ: " + dtype() + " and " + o.dtype() + "; convert one with to(DType)");
    }

    /** dtype, shape, device and the first few values. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype()).append(", ").append(Shape.str(shape));
        if (!device().equals(Device.CPU)) sb.append(", ").append(device());
        sb.append(")");
        if (storage.isReleased()) return sb.append(" <released>").toString();
        int n = numel(), show = Math.min(n, 8);
        Tensor flat = narrowFlat(show);
        double[] v = flat.toDoubleArray();
        sb.append(" [");
        for (int i = 0; i < show; i++) {
            if (i > 0) sb.append(", ");
            sb.append(dtype() == DType.I64 ? Long.toString((long) v[i]) : String.format(java.util.Locale.ROOT, "%.6g", v[i]));
        }
        if (n > show) sb.append(", ... (").append(n).append(" values)");
        return sb.append("]").toString();
    }

    private Tensor narrowFlat(int count) {
        if (count == numel()) return this;
        return contiguous().reshape(numel()).narrow(0, 0, count);
    }
}
