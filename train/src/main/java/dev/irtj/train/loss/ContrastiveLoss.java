package dev.irtj.train.loss;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.Tensor;

/**
 * The contrastive loss of IRT (and of the cross-batch-memory paper it builds on), over cosine
 * similarities s of L2-normalized descriptors:
 * <pre>
 *   L = (1/B) Σ_i [ Σ_{j∈P_i} (1 − s_ij) + Σ_{j∈N_i} max(0, s_ij − β) ]
 * </pre>
 * where the references j are the batch itself and, optionally, the memory; P_i are references
 * with the anchor's label (the anchor itself excluded), N_i those with another label. The
 * memory carries no gradient.
 */
public final class ContrastiveLoss {
    private final double beta;

    public ContrastiveLoss(double beta) {
        this.beta = beta;
    }

    public double beta() {
        return beta;
    }

    /** Batch against batch only. */
    public Var apply(Var embeddings, long[] labels) {
        return apply(embeddings, labels, null, null);
    }

    /**
     * Batch against batch plus {@code memory} [K, D] with {@code memoryLabels} (both may be null
     * or empty).
     */
    public Var apply(Var embeddings, long[] labels, Tensor memory, long[] memoryLabels) {
        int b = embeddings.shape(0);
        if (labels.length != b) throw new IllegalArgumentException(labels.length + " labels for a batch of " + b);
        Var sims = embeddings.matmul(embeddings.mT());
        Var loss = pairTerms(sims, labels, labels, true);
        if (memory != null && memory.shape(0) > 0) {
            if (memoryLabels == null || memoryLabels.length != memory.shape(0)) {
                throw new IllegalArgumentException("memory of " + memory.shape(0) + " entries needs as many labels");
            }
            Var memSims = embeddings.matmul(Var.constant(memory.to(embeddings.dtype())).mT());
            loss = loss.add(pairTerms(memSims, labels, memoryLabels, false));
        }
        return loss.div(b);
    }

    /** Σ over pairs of (1 − s) for positives and max(0, s − β) for negatives. */
    private Var pairTerms(Var sims, long[] rowLabels, long[] colLabels, boolean excludeDiagonal) {
        int rows = rowLabels.length, cols = colLabels.length;
        double[] pos = new double[rows * cols], neg = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                if (rowLabels[i] == colLabels[j]) {
                    if (!(excludeDiagonal && i == j)) pos[i * cols + j] = 1;
                } else {
                    neg[i * cols + j] = 1;
                }
            }
        }
        Var posMask = Var.constant(Tensor.of(sims.dtype(), pos, rows, cols).to(sims.data().device()));
        Var negMask = Var.constant(Tensor.of(sims.dtype(), neg, rows, cols).to(sims.data().device()));
        Var positive = sims.neg().add(1.0).mul(posMask).sum();
        Var negative = sims.sub(beta).relu().mul(negMask).sum();
        return positive.add(negative);
    }
}
