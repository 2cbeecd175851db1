package dev.irtj.autograd;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.LongLived;
import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;

import java.util.List;

/**
 * A tensor in a differentiable computation: its value, its gradient (for leaves that require
 * one) and the node of the op that made it. Operations on Vars mirror those on {@link Tensor};
 * when grad mode is on and an input requires a gradient, each records a node whose hand-written
 * backward {@link #backward()} runs in reverse order.
 */
public final class Var {
    private Tensor data;
    private Tensor grad;
    private final boolean requiresGrad;
    private Node node;
    private String name;

    private Var(Tensor data, boolean requiresGrad, Node node) {
        this.data = data;
        this.requiresGrad = requiresGrad;
        this.node = node;
    }

    /** A leaf; when {@code requiresGrad}, backward accumulates its gradient in {@link #grad()}. */
    public static Var of(Tensor data, boolean requiresGrad) {
        if (requiresGrad && !data.dtype().isFloating()) {
            throw new IllegalArgumentException("only floating tensors can require grad, got " + data.dtype());
        }
        return new Var(data, requiresGrad, null);
    }

    /** A leaf that requires grad. */
    public static Var param(Tensor data) {
        return of(data, true);
    }

    /** A leaf that needs no gradient. */
    public static Var constant(Tensor data) {
        return of(data, false);
    }

    /**
     * The result of an op: records a node when grad mode is on and some input requires grad.
     * This is how new differentiable ops are written outside this package.
     */
    public static Var result(Tensor out, String op, Backward backward, Var... inputs) {
        if (NoGrad.isGradEnabled()) {
            for (Var in : inputs) {
                if (in.requiresGrad) return new Var(out, true, new Node(op, inputs, backward));
            }
        }
        return new Var(out, false, null);
    }

    public Tensor data() {
        return data;
    }

    /** Replaces a leaf's value (optimizers, weight loading); shape and dtype must match. */
    public void setData(Tensor value) {
        if (node != null) throw new IllegalStateException("setData on a non-leaf Var");
        if (!java.util.Arrays.equals(value.shape(), data.shape()) || value.dtype() != data.dtype()) {
            throw new IllegalArgumentException("setData: " + value + " does not match " + data);
        }
        data = value;
    }

    /** The accumulated gradient of a leaf, or null before any backward reached it. */
    public Tensor grad() {
        return grad;
    }

    public void zeroGrad() {
        grad = null;
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    public boolean isLeaf() {
        return node == null;
    }

    public String name() {
        return name;
    }

    public Var named(String name) {
        this.name = name;
        return this;
    }

    Node node() {
        return node;
    }

    void releaseNode() {
        if (node != null) node.release();
    }

    /** A leaf's gradient outlives the backward pass and the step that made it (until zeroGrad). */
    void accumulateGrad(Tensor g) {
        grad = LongLived.adopt(grad == null ? g.copy() : grad.add(g));
    }

    /** The same value, cut from the graph. */
    public Var detach() {
        return new Var(data, false, null);
    }

    /** Backward from a one-element output with gradient 1; the graph is released after. */
    public void backward() {
        if (data.numel() != 1) {
            throw new IllegalStateException("backward() without a gradient needs a one-element output, got shape "
                    + java.util.Arrays.toString(data.shape()) + "; pass the upstream gradient");
        }
        backward(Tensor.ones(data.dtype(), data.shape()).to(data.device()), false);
    }

    public void backward(Tensor gradOutput) {
        backward(gradOutput, false);
    }

    /** Backward with an upstream gradient; keeps the graph for another backward when {@code retainGraph}. */
    public void backward(Tensor gradOutput, boolean retainGraph) {
        Engine.backward(this, gradOutput, retainGraph);
    }

    public int[] shape() {
        return data.shape();
    }

    public int shape(int dim) {
        return data.shape(dim);
    }

    public int rank() {
        return data.rank();
    }

    public DType dtype() {
        return data.dtype();
    }

    // ---- elementwise --------------------------------------------------------------------------

    public Var add(Var o) { return Elementwise.add(this, o); }
    public Var sub(Var o) { return Elementwise.sub(this, o); }
    public Var mul(Var o) { return Elementwise.mul(this, o); }
    public Var div(Var o) { return Elementwise.div(this, o); }
    public Var maximum(Var o) { return Elementwise.maximum(this, o); }
    public Var minimum(Var o) { return Elementwise.minimum(this, o); }
    public Var add(double c) { return Elementwise.affine(this, 1, c); }
    public Var sub(double c) { return Elementwise.affine(this, 1, -c); }
    public Var mul(double c) { return Elementwise.affine(this, c, 0); }
    public Var div(double c) { return Elementwise.affine(this, 1 / c, 0); }
    public Var neg() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.NEG, 0, 0); }
    public Var exp() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.EXP, 0, 0); }
    public Var log() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.LOG, 0, 0); }
    public Var sqrt() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.SQRT, 0, 0); }
    public Var rsqrt() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.RSQRT, 0, 0); }
    public Var abs() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.ABS, 0, 0); }
    public Var relu() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.RELU, 0, 0); }
    public Var gelu() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.GELU, 0, 0); }
    public Var geluTanh() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.GELU_TANH, 0, 0); }
    public Var tanh() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.TANH, 0, 0); }
    public Var sigmoid() { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.SIGMOID, 0, 0); }
    public Var pow(double exponent) { return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.POW, exponent, 0); }

    public Var clamp(double lo, double hi) {
        if (lo > hi) throw new IllegalArgumentException("clamp bounds " + lo + " > " + hi);
        return Elementwise.unary(this, dev.irtj.tensor.UnaryOp.CLAMP, lo, hi);
    }

    /** cond ≠ 0 ? a : b (cond carries no gradient). */
    public static Var where(Tensor cond, Var a, Var b) { return Elementwise.where(cond, a, b); }

    public Var maskedFill(Tensor mask, double value) { return Elementwise.maskedFill(this, mask, value); }

    /** This value converted to {@code dtype}; the gradient is converted back. */
    public Var to(DType dtype) { return Elementwise.cast(this, dtype); }

    // ---- reductions ---------------------------------------------------------------------------

    public Var sum(int[] dims, boolean keepdim) { return Reductions.sum(this, dims, keepdim); }
    public Var sum(int dim, boolean keepdim) { return sum(new int[] {dim}, keepdim); }
    public Var sum() { return sum(Shape.allDims(rank()), false); }
    public Var mean(int[] dims, boolean keepdim) { return Reductions.mean(this, dims, keepdim); }
    public Var mean(int dim, boolean keepdim) { return mean(new int[] {dim}, keepdim); }
    public Var mean() { return mean(Shape.allDims(rank()), false); }
    /** Max over dims; the gradient is shared equally among tied maxima. */
    public Var max(int[] dims, boolean keepdim) { return Reductions.extreme(this, dims, keepdim, true); }
    public Var max(int dim, boolean keepdim) { return max(new int[] {dim}, keepdim); }
    public Var min(int[] dims, boolean keepdim) { return Reductions.extreme(this, dims, keepdim, false); }
    public Var min(int dim, boolean keepdim) { return min(new int[] {dim}, keepdim); }

    // ---- linear algebra -----------------------------------------------------------------------

    public Var matmul(Var o) { return LinearAlgebra.matmul(this, o); }
    /** x·Wᵀ + b; bias may be null. */
    public Var linear(Var weight, Var bias) { return LinearAlgebra.linear(this, weight, bias); }
    /**
     * gelu(x·Wᵀ + b), exact (erf) GELU, as one fused op forward (bias and GELU in the GEMM's
     * stores) and backward (GELU's gradient and the bias gradient in one pass); bias required.
     */
    public Var linearGelu(Var weight, Var bias) { return LinearAlgebra.linearGelu(this, weight, bias); }
    /** Stride-equals-kernel convolution (patch embedding); bias may be null. */
    public Var conv2dPatch(Var weight, Var bias) { return LinearAlgebra.conv2dPatch(this, weight, bias); }

    // ---- fused row ops ------------------------------------------------------------------------

    /**
     * Multi-head self-attention over a packed qkv projection [B, N, 3·D] (timm's [q; k; v]
     * layout): softmax(scale·q·kᵀ)·v per head, heads concatenated → [B, N, D].
     */
    public Var selfAttention(int heads, double scale) { return AttentionOps.selfAttention(this, heads, scale); }
    public Var softmax() { return RowOps.softmax(this, 1.0, false); }
    /** softmax(scale·x) over the last dim (attention's scaled scores in one kernel). */
    public Var softmax(double scale) { return RowOps.softmax(this, scale, false); }
    public Var logSoftmax() { return RowOps.softmax(this, 1.0, true); }
    /** Layer norm over the last dim; weight and bias may be null. */
    public Var layerNorm(Var weight, Var bias, double eps) { return RowOps.layerNorm(this, weight, bias, eps); }
    /** The residual add this + r (same shape) and layer norm of the sum, computed in one pass; weight/bias may be null. */
    public ResidualNorm addLayerNorm(Var r, Var weight, Var bias, double eps) { return RowOps.addLayerNorm(this, r, weight, bias, eps); }
    public Var l2Normalize(double eps) { return RowOps.l2Normalize(this, eps); }
    public Var l2Normalize() { return l2Normalize(1e-12); }

    // ---- views --------------------------------------------------------------------------------

    public Var reshape(int... shape) { return Views.reshape(this, shape); }
    public Var flatten() { return reshape(data.numel()); }
    public Var transpose(int d0, int d1) { return Views.transpose(this, d0, d1); }
    public Var mT() { return transpose(-2, -1); }
    public Var permute(int... dims) { return Views.permute(this, dims); }
    public Var narrow(int dim, int start, int length) { return Views.narrow(this, dim, start, length); }
    public Var select(int dim, int index) { return narrow(dim, index, 1).squeeze(dim); }
    public Var expand(int... shape) { return Views.expand(this, shape); }
    public Var squeeze(int dim) { return Views.reshapeLike(this, data.squeeze(dim), "squeeze"); }
    public Var unsqueeze(int dim) { return Views.reshapeLike(this, data.unsqueeze(dim), "unsqueeze"); }
    public Var contiguous() { return data.isContiguous() ? this : Views.contiguous(this); }

    // ---- joining and indexing -----------------------------------------------------------------

    public static Var cat(List<Var> vars, int dim) { return Joining.cat(vars, dim); }
    public static Var stack(List<Var> vars, int dim) { return Joining.stack(vars, dim); }
    public Var indexSelect(int dim, Tensor index) { return Joining.indexSelect(this, dim, index); }
    public Var gather(int dim, Tensor index) { return Joining.gather(this, dim, index); }

    @Override
    public String toString() {
        return "Var" + (name == null ? "" : " '" + name + "'") + (requiresGrad ? " (requires grad)" : "") + " " + data;
    }
}
