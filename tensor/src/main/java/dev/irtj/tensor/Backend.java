package dev.irtj.tensor;

import java.util.List;

/**
 * The primitives a compute backend implements. Composite operations (linear, patch convolution,
 * stack, masked fill, ...) are written once above these in {@link Tensor}.
 *
 * <p>Contract:
 * <ul>
 *   <li>Inputs may be arbitrary strided views (broadcast strides of 0 included) on the backend's
 *       device; outputs are new contiguous tensors on the same device, of the inputs' dtype
 *       unless stated otherwise. Nothing is copied to the host unless a method says so, so a GPU
 *       backend keeps data on its device from op to op.</li>
 *   <li>Fused kernels (GEMM with transposes and α/β, softmax, layer norm, GELU, AdamW) are single
 *       calls so a backend can implement each natively.</li>
 *   <li>F32 and F64 are supported by every floating op; I64 only by data movement (copy,
 *       cat, index ops) and as index arguments.</li>
 * </ul>
 *
 * <p>Backends are found with {@link java.util.ServiceLoader}; see {@link Backends}.
 */
public interface Backend {

    /** Short name used by {@code -Dirtj.backend=NAME}: "reference", "cpu", "cuda". */
    String name();

    /** The kind of device whose storage this backend computes on. */
    Device.Kind deviceKind();

    /** Higher wins among usable backends of one device kind. */
    int priority();

    /** Null when the backend can run here; otherwise what is missing, in a few words. */
    String unavailableReason();

    // ---- memory -------------------------------------------------------------------------------

    /** New storage of {@code numel} elements on {@code device}; zero-filled when {@code zero}. */
    Storage allocate(Device device, DType dtype, int numel, boolean zero);

    /** Copies host data onto {@code device} (may return the same storage for host backends). */
    Storage upload(HostStorage host, Device device);

    /** Copies the tensor's elements, in row-major order, into a host array of its dtype. */
    HostStorage download(Tensor t);

    // ---- data movement ------------------------------------------------------------------------

    /** A contiguous copy of {@code src} converted to {@code dtype}. */
    Tensor copy(Tensor src, DType dtype);

    /** Writes {@code src} (broadcast to dst's shape) into the strided view {@code dst}. */
    void copyInto(Tensor dst, Tensor src);

    /** Sets every element of the view {@code dst} to {@code value}. */
    void fill(Tensor dst, double value);

    Tensor cat(List<Tensor> tensors, int dim);

    /** Rows (along {@code dim}) of x at the I64 indices {@code index} (1-D). */
    Tensor indexSelect(Tensor x, int dim, Tensor index);

    /** out[i][j] = x[i][index[i][j]] along {@code dim}; index (I64) has x's rank. */
    Tensor gather(Tensor x, int dim, Tensor index);

    /** Adds src's slices into a zero tensor of {@code shape} at {@code index} along dim (index_select's adjoint). */
    Tensor indexAdd(int[] shape, int dim, Tensor index, Tensor src);

    /** Adds src into a zero tensor of {@code shape} at {@code index} along dim (gather's adjoint). */
    Tensor scatterAdd(int[] shape, int dim, Tensor index, Tensor src);

    // ---- elementwise --------------------------------------------------------------------------

    Tensor unary(UnaryOp op, Tensor x, double p0, double p1);

    /** dy · f'(x) for the unary op f with the same parameters. */
    Tensor unaryBackward(UnaryOp op, Tensor x, Tensor dy, double p0, double p1);

    /** a op b with NumPy broadcasting. */
    Tensor binary(BinaryOp op, Tensor a, Tensor b);

    /** cond ≠ 0 ? a : b, all three broadcast together; a and b share a dtype. */
    Tensor where(Tensor cond, Tensor a, Tensor b);

    // ---- reductions ---------------------------------------------------------------------------

    /**
     * The reduction {@link ReductionPlan#resolve} planned (dims checked, the kept/reduced split
     * and output shape computed); an empty dims array reduces nothing.
     */
    Tensor reduce(ReductionPlan plan);

    /** {@link #reduce(ReductionPlan)} on a plan resolved here, for tests that drive one backend directly. */
    default Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepdim) {
        return reduce(ReductionPlan.resolve(op, x, dims, keepdim));
    }

    /** I64 positions of the max (or min) along the plan's one dim ({@link ReductionPlan#along}); the first one on ties. */
    Tensor argReduce(ReductionPlan plan);

    /** {@link #argReduce(ReductionPlan)} on a plan resolved here, for tests that drive one backend directly. */
    default Tensor argReduce(ReduceOp op, Tensor x, int dim, boolean keepdim) {
        return argReduce(ReductionPlan.along(op, x, dim, keepdim));
    }

    /**
     * The k best entries of each row in {@link TopKPlan}'s order (larger first, ties and NaN
     * resolved as it says): values of x's dtype and their I64 positions along the last dim.
     */
    TopK topk(TopKPlan plan);

    // ---- fused kernels ------------------------------------------------------------------------

    /**
     * C = α·op(A)·op(B) + β·C0 as planned by {@link GemmShape#resolve}: shapes, dtypes and
     * broadcasting are already checked, so an implementation only executes. {@code c0} may be
     * null (then β is ignored).
     */
    Tensor gemm(GemmShape plan, double alpha, double beta);

    /**
     * {@link #gemm(GemmShape, double, double)} on a plan resolved here, for tests and benchmarks
     * that drive one backend directly; compute above {@code tensor} goes through {@link Tensor}.
     */
    default Tensor gemm(Tensor a, boolean transA, Tensor b, boolean transB, double alpha, Tensor c0, double beta) {
        return gemm(GemmShape.resolve(a, transA, b, transB, c0), alpha, beta);
    }

    /**
     * A Linear layer followed by the exact (erf) GELU, as one call: z = op(A)·op(B) for the plan
     * (x·Wᵀ, no c0) and y = gelu(z + bias), bias [n] added along the last dim. z, the product
     * without the bias, is what {@link #linearGeluBackward} needs (a backend may then fuse the
     * bias into its GELU kernels, as CUDA's {@code bias_gelu} does, or into the GEMM's stores).
     */
    LinearGeluResult linearGelu(GemmShape plan, Tensor bias);

    /**
     * Gradients of {@link #linearGelu} behind the product: dz = dy·gelu'(z + bias) and
     * db = Σ over all leading dims of dz ([n]); {@link Tensor} has checked dy has z's shape and
     * bias is [n].
     */
    Tensor[] linearGeluBackward(Tensor z, Tensor bias, Tensor dy);

    /** softmax(scale·x) over the last dim, or its log when {@code log}. */
    Tensor softmax(Tensor x, double scale, boolean log);

    /** Gradient wrt x of softmax(scale·x) (or log-softmax) given its output y and upstream dy. */
    Tensor softmaxBackward(Tensor y, Tensor dy, double scale, boolean log);

    /** Layer norm over the last dim; weight/bias may be null, and {@link Tensor} has checked they are [n] and floating like x. */
    LayerNormResult layerNorm(Tensor x, Tensor weight, Tensor bias, double eps);

    /**
     * A residual add followed by layer norm, in one pass: h = x + r (same shape, no broadcasting)
     * and layer norm of h over the last dim, as {@link #layerNorm} would compute it; h is kept
     * because the residual stream goes on with it. The backward is {@link #layerNormBackward}
     * on h.
     */
    AddLayerNormResult addLayerNorm(Tensor x, Tensor r, Tensor weight, Tensor bias, double eps);

    /** Gradients of layer norm: dx, and dweight/dbias (null when weight/bias is null). */
    Tensor[] layerNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, boolean withBias);

    /** x / max(‖x‖₂, eps) over the last dim. */
    Tensor l2Normalize(Tensor x, double eps);

    Tensor l2NormalizeBackward(Tensor x, Tensor dy, double eps);

    /**
     * One AdamW step in place (PyTorch's rule): p -= lr·wd·p; m = β1·m + (1−β1)·g;
     * v = β2·v + (1−β2)·g²; p -= lr·m̂ / (√v̂ + eps) with bias-corrected m̂, v̂ at {@code step}
     * (1-based). All four tensors are contiguous and of one shape.
     */
    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step);

    /**
     * One AdamW step of many parameters in one call, each updated exactly as
     * {@link #adamw(Tensor, Tensor, Tensor, Tensor, AdamWStep)} would update it, with the step's
     * weight decay where the entry {@code decays} and none elsewhere ({@link Tensor} has checked
     * each entry's devices, dtypes and shapes).
     */
    void adamw(List<AdamWParameter> params, AdamWStep step);

    // ---- fused attention ----------------------------------------------------------------------

    /**
     * softmax(scale·q·kᵀ)·v per (batch, head) block as {@link AttentionPlan#resolve} planned it,
     * without keeping the [N × N] probabilities: the output [B, N, H·hd] (heads interleaved) and
     * the log-sum-exp of each row of scaled scores [B, H, N].
     */
    AttentionResult attention(AttentionPlan plan);

    /**
     * Gradients of {@link #attention} for upstream dOut [B, N, H·hd], given its out and lse, written
     * (not added) into the views dq, dk, dv of q's shape (for the packed projection, slices of one
     * qkv gradient). {@link Tensor#attentionBackward} has checked every shape.
     */
    void attentionBackward(AttentionPlan plan, Tensor out, Tensor lse, Tensor dOut, Tensor dq, Tensor dk, Tensor dv);

    /** Output of {@link #attention}: out [B, N, H·hd] and the row log-sum-exps lse [B, H, N]. */
    record AttentionResult(Tensor out, Tensor lse) {
    }

    /** Output of {@link #layerNorm}: y, and per-row mean and 1/std (shape x.shape[:-1]). */
    record LayerNormResult(Tensor y, Tensor mean, Tensor rstd) {
    }

    /** Output of {@link #addLayerNorm}: the sum h = x + r, and layer norm of h with its statistics. */
    record AddLayerNormResult(Tensor h, LayerNormResult norm) {
    }

    /** Output of {@link #linearGelu}: y = gelu(z + bias), and z = x·Wᵀ without the bias. */
    record LinearGeluResult(Tensor y, Tensor z) {
    }

    /** Scalars of one AdamW step. */
    record AdamWStep(long step, double lr, double beta1, double beta2, double eps, double weightDecay) {
        /** These scalars for one parameter of a many-parameter step: without weight decay unless it decays. */
        public AdamWStep forParameter(boolean decays) {
            return decays ? this : new AdamWStep(step, lr, beta1, beta2, eps, 0.0);
        }
    }
}
