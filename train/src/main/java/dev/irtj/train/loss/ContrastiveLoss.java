package dev.irtj.train.loss;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Tensor;

/**
 * The contrastive loss of IRT over cosine similarities s of L2-normalized descriptors, in one of
 * three published reductions ({@link Reduction}). The references are the batch itself and,
 * optionally, a cross-batch memory [K, D] (detached descriptors with labels, no gradient); the
 * memory term is added with weight w (1 by default). β is the negative margin in similarity.
 *
 * <p>With {@link Reduction#PAPER} (the default) this is the paper's Eq. 1:
 * <pre>
 *   L = (1/B) Σ_i [ Σ_{j∈P_i} (1 − s_ij) + Σ_{j∈N_i} max(0, s_ij − β) ]
 * </pre>
 * where P_i are references with the anchor's label (the anchor itself excluded from the batch
 * part), N_i those with another label; with w ≠ 1 the memory pairs' sum is scaled by w.
 * docs/DESIGN.md ("The contrastive loss conventions") gives the other two and their sources.
 */
public final class ContrastiveLoss {
    /**
     * How pair losses become the loss. Each applies to the batch term and to the memory term
     * separately; the memory term is then added with the weight.
     */
    public enum Reduction {
        /** Eq. 1 of the paper: Σ over positive and negative pair losses, divided by the batch size. */
        PAPER,
        /**
         * pytorch-metric-learning 1.3.2's {@code ContrastiveLoss(pos_margin=1, neg_margin=β,
         * distance=CosineSimilarity())} with its default {@code AvgNonZeroReducer}, as jhgan00's
         * IRT reimplementation trains it: the mean of the positive pair losses relu(1 − s) that
         * are > 0, plus the mean of the negative pair losses relu(s − β) that are > 0 (a term
         * with no such pair is 0). Self-pairs are excluded in the batch term only; a term with at
         * most one positive and at most one negative pair is 0, as upstream.
         */
        PML,
        /**
         * research-xbm's {@code ContrastiveLoss}: (1/B) Σ_i [ Σ_{j: same label, s_ij < 1 − 1e-5}
         * (1 − s_ij) + Σ_{j: other label, s_ij > β} s_ij ]. Pairs are selected by value, not
         * index: the anchor's own similarity (and an exact duplicate's) is ≥ 1 − 1e-5 and
         * drops out; a negative above the margin costs s, not s − β.
         */
        XBM
    }

    /** research-xbm's positive filter: a same-label pair counts only if s &lt; 1 − this. */
    static final double XBM_SELF_EPSILON = 1e-5;

    private final double beta;
    private final Reduction reduction;
    private final double memoryWeight;

    /** Eq. 1 ({@link Reduction#PAPER}) with margin β and memory weight 1. */
    public ContrastiveLoss(double beta) {
        this(beta, Reduction.PAPER, 1.0);
    }

    /** The given reduction with margin β and memory weight 1. */
    public ContrastiveLoss(double beta, Reduction reduction) {
        this(beta, reduction, 1.0);
    }

    /** The given reduction with margin β; the memory term is added times {@code memoryWeight}. */
    public ContrastiveLoss(double beta, Reduction reduction, double memoryWeight) {
        if (!Double.isFinite(beta) || beta < -1 || beta > 1) {
            throw new IllegalArgumentException("contrastive margin beta must be a cosine similarity in [-1, 1], got " + beta);
        }
        if (reduction == null) throw new IllegalArgumentException("contrastive loss needs a reduction (paper, pml or xbm)");
        if (!Double.isFinite(memoryWeight) || memoryWeight < 0) {
            throw new IllegalArgumentException("contrastive memory weight must be finite and >= 0, got " + memoryWeight);
        }
        this.beta = beta;
        this.reduction = reduction;
        this.memoryWeight = memoryWeight;
    }

    public double beta() {
        return beta;
    }

    public Reduction reduction() {
        return reduction;
    }

    public double memoryWeight() {
        return memoryWeight;
    }

    /** Batch against batch only. */
    public Var apply(Var embeddings, long[] labels) {
        return apply(embeddings, labels, null, (Tensor) null);
    }

    /**
     * Batch against batch plus {@code memory} [K, D] with host {@code memoryLabels} (uploaded
     * here; both may be null or empty). See {@link #apply(Var, long[], Tensor, Tensor)}.
     */
    public Var apply(Var embeddings, long[] labels, Tensor memory, long[] memoryLabels) {
        boolean withMemory = memory != null && memory.shape(0) > 0;
        if (withMemory && (memoryLabels == null || memoryLabels.length != memory.shape(0))) {
            throw new IllegalArgumentException("memory of " + memory.shape(0) + " entries needs as many labels");
        }
        return apply(embeddings, labels, memory, withMemory ? Labels.onDevice(memoryLabels, memory.device()) : null);
    }

    /**
     * Batch against batch plus {@code memory} [K, D] with {@code memoryLabels} [K] on the same
     * device in {@link Labels}' form (as {@link CrossBatchMemory#labelTensor} gives them; both
     * may be null or empty). The memory is used as given: if the caller enqueued the batch
     * first, its copies are in it (see {@link CrossBatchMemory.Enqueue}). The pair masks come
     * from {@link Tensor#eq} of the labels on the device, and nothing is read back to the host.
     */
    public Var apply(Var embeddings, long[] labels, Tensor memory, Tensor memoryLabels) {
        int b = embeddings.shape(0);
        if (labels.length != b) throw new IllegalArgumentException(labels.length + " labels for a batch of " + b);
        boolean withMemory = memory != null && memory.shape(0) > 0;
        Device device = embeddings.data().device();
        if (withMemory) {
            if (memoryLabels == null || memoryLabels.rank() != 1 || memoryLabels.shape(0) != memory.shape(0)) {
                throw new IllegalArgumentException("memory of " + memory.shape(0) + " entries needs as many labels");
            }
            if (!memory.device().equals(device) || !memoryLabels.device().equals(device)) {
                throw new IllegalArgumentException("memory on " + memory.device() + " (labels on " + memoryLabels.device()
                        + ") for descriptors on " + device + "; build the memory on the model's device");
            }
        }
        Tensor rowLabels = Labels.onDevice(labels, device);
        Var sims = embeddings.matmul(embeddings.mT());
        Var memSims = withMemory ? embeddings.matmul(Var.constant(memory.to(embeddings.dtype())).mT()) : null;
        return switch (reduction) {
            case PAPER -> paper(sims, memSims, rowLabels, memoryLabels, b);
            case PML -> weighted(pml(sims, rowLabels, rowLabels, true), memSims == null ? null : pml(memSims, rowLabels, memoryLabels, false));
            case XBM -> weighted(xbm(sims, rowLabels, rowLabels, b), memSims == null ? null : xbm(memSims, rowLabels, memoryLabels, b));
        };
    }

    /** Eq. 1: all pair losses summed, then divided by B (one division, as before the options). */
    private Var paper(Var sims, Var memSims, Tensor labels, Tensor memoryLabels, int b) {
        Var loss = paperSum(sims, labels, labels, true);
        if (memSims != null) {
            Var memory = paperSum(memSims, labels, memoryLabels, false);
            loss = loss.add(memoryWeight == 1.0 ? memory : memory.mul(memoryWeight));
        }
        return loss.div(b);
    }

    private Var weighted(Var batchTerm, Var memoryTerm) {
        if (memoryTerm == null) return batchTerm;
        return batchTerm.add(memoryWeight == 1.0 ? memoryTerm : memoryTerm.mul(memoryWeight));
    }

    /** Σ over pairs of (1 − s) for positives and max(0, s − β) for negatives. */
    private Var paperSum(Var sims, Tensor rowLabels, Tensor colLabels, boolean excludeDiagonal) {
        PairMasks m = PairMasks.of(sims, rowLabels, colLabels, excludeDiagonal);
        Var positive = sims.neg().add(1.0).mul(m.positive()).sum();
        Var negative = sims.sub(beta).relu().mul(m.negative()).sum();
        return positive.add(negative);
    }

    /**
     * pytorch-metric-learning's term: per-pair losses relu(1 − s) and relu(s − β), each family
     * averaged over its pairs whose loss is > 0 (AvgNonZeroReducer), the two averages added.
     */
    private Var pml(Var sims, Tensor rowLabels, Tensor colLabels, boolean excludeDiagonal) {
        PairMasks m = PairMasks.of(sims, rowLabels, colLabels, excludeDiagonal);
        Var positive = averageOfNonZero(sims.neg().add(1.0).relu().mul(m.positive()));
        Var negative = averageOfNonZero(sims.sub(beta).relu().mul(m.negative()));
        // Upstream returns a zero loss before computing any distance when neither pair list
        // has more than one entry (GenericPairLoss.compute_loss). The counts stay on the
        // device: the term is multiplied by a 0/1 gate, exact either way (1·x = x; 0·x = +0
        // for the finite, non-negative x here, and its gradient is 0).
        Tensor one = Tensor.scalar(1.0, sims.dtype()).to(sims.data().device());
        Tensor gate = m.positive().data().sum().gt(one).maximum(m.negative().data().sum().gt(one));
        return positive.add(negative).mul(Var.constant(gate));
    }

    /**
     * The mean of the entries of {@code losses} (≥ 0) that are > 0, or 0 when none is. The
     * selection is a constant mask, so a pair whose loss is exactly 0 gets no gradient, as in
     * upstream's {@code losses[losses > 0].mean()}; the count stays on the device.
     */
    private static Var averageOfNonZero(Var losses) {
        Tensor data = losses.data();
        Tensor nonZero = data.gt(zero(data));
        Tensor count = nonZero.sum().maximum(Tensor.scalar(1.0, data.dtype()).to(data.device()));
        return losses.mul(Var.constant(nonZero)).sum().div(Var.constant(count));
    }

    /**
     * research-xbm's term: (1/B) Σ over same-label pairs with s &lt; 1 − 1e-5 of (1 − s), plus
     * Σ over other-label pairs with s &gt; β of s. The selection is by value and is a constant
     * mask (upstream's masked_select).
     */
    private Var xbm(Var sims, Tensor rowLabels, Tensor colLabels, int b) {
        PairMasks m = PairMasks.of(sims, rowLabels, colLabels, false);
        Tensor s = sims.data();
        Tensor keepPositive = m.positive().data().mul(s.lt(Tensor.scalar(1 - XBM_SELF_EPSILON, s.dtype()).to(s.device())));
        Tensor keepNegative = m.negative().data().mul(s.gt(Tensor.scalar(beta, s.dtype()).to(s.device())));
        Var positive = sims.neg().add(1.0).mul(Var.constant(keepPositive)).sum();
        Var negative = sims.mul(Var.constant(keepNegative)).sum();
        return positive.add(negative).div(b);
    }

    private static Tensor zero(Tensor like) {
        return Tensor.scalar(0.0, like.dtype()).to(like.device());
    }

    /**
     * Label masks of a similarity matrix, from the labels on its device: same label (optionally
     * not the diagonal), other label; 0/1 in the similarities' dtype.
     */
    private record PairMasks(Var positive, Var negative) {
        static PairMasks of(Var sims, Tensor rowLabels, Tensor colLabels, boolean excludeDiagonal) {
            int rows = rowLabels.shape(0), cols = colLabels.shape(0);
            Tensor r = rowLabels.reshape(rows, 1), c = colLabels.reshape(1, cols);
            Tensor same = r.eq(c), other = r.ne(c);
            if (excludeDiagonal) {
                Tensor index = Tensor.arange(rows, DType.F64).to(rowLabels.device());
                same = same.mul(index.reshape(rows, 1).ne(index.reshape(1, rows)));
            }
            return new PairMasks(Var.constant(same.to(sims.dtype())), Var.constant(other.to(sims.dtype())));
        }
    }
}
