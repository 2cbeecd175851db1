package dev.irtj.train.loss;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.Tensor;

/**
 * The contrastive loss over training tuples (q, p, n1 … nN), as cirtorch trains on SfM-120k:
 * only the query meets the others, the positive as a positive pair and each negative as a
 * negative pair; positive and negatives never meet each other, nor other tuples. In irtj's
 * convention (Eq. 1: cosine similarity s of L2-normalized descriptors, β a similarity margin):
 * {@code (1/T) Σ_t [(1 − s(q_t, p_t)) + Σ_k max(0, s(q_t, n_tk) − β)]} over the T tuples of a
 * batch, which lie in it one after the other, each {@code tupleSize} rows with query first and
 * positive second.
 *
 * <p>Why not {@link ContrastiveLoss} over the tuple's labels: its pairs are all pairs of the
 * batch, so positive–negative, negative–negative and cross-tuple pairs would join the loss and
 * the positive pair would count twice (q→p and p→q). The pair set differs, so no labelling
 * reproduces a tuple loss; {@code TupleContrastiveLossTest} shows both facts.
 *
 * <p>What differs from cirtorch's {@code ContrastiveLoss}: cirtorch measures Euclidean distance
 * D and costs {@code ½D²} per positive and {@code ½max(0, m − D)²} per negative. For unit
 * descriptors {@code ½D² = 1 − s} (up to cirtorch's eps of 1e-6 inside D), so the positive term
 * is the same; the negative term is a squared hinge on distance, not a hinge on similarity, so
 * margins do not translate one to one (D &lt; m ⇔ s &gt; 1 − m²/2). cirtorch also sums over the
 * tuples of a batch (gradients accumulated tuple by tuple) where this divides by T, as Eq. 1
 * divides by its anchors; with AdamW that changes the weight of λ·KoLeo and of weight decay, not
 * the direction of the contrastive gradient.
 */
public final class TupleContrastiveLoss {
    private final double beta;
    private final int tupleSize;

    /** @param tupleSize 1 query + 1 positive + N negatives, so at least 3 */
    public TupleContrastiveLoss(double beta, int tupleSize) {
        if (!(beta >= -1 && beta <= 1)) throw new IllegalArgumentException("β is a cosine-similarity margin in [-1, 1], got " + beta);
        if (tupleSize < 3) throw new IllegalArgumentException("a tuple is a query, a positive and at least one negative, got size " + tupleSize);
        this.beta = beta;
        this.tupleSize = tupleSize;
    }

    public double beta() {
        return beta;
    }

    public int tupleSize() {
        return tupleSize;
    }

    /** The loss of {@code descriptors} [T·tupleSize, D], L2-normalized rows, tuples one after another. */
    public Var apply(Var descriptors) {
        int rows = descriptors.shape(0);
        if (rows == 0 || rows % tupleSize != 0) {
            throw new IllegalArgumentException("a batch of " + rows + " descriptors is not a whole number of tuples of " + tupleSize);
        }
        int tuples = rows / tupleSize;
        // The whole similarity matrix is small (T·S squared, 35² for the paper's batches);
        // masks pick the query rows' pairs, so this is the same arithmetic as ContrastiveLoss.
        double[] positive = new double[rows * rows], negative = new double[rows * rows];
        for (int t = 0; t < tuples; t++) {
            int q = t * tupleSize;
            positive[q * rows + q + 1] = 1;
            for (int k = 2; k < tupleSize; k++) negative[q * rows + q + k] = 1;
        }
        Var sims = descriptors.matmul(descriptors.mT());
        Var pos = Var.constant(Tensor.of(sims.dtype(), positive, rows, rows).to(sims.data().device()));
        Var neg = Var.constant(Tensor.of(sims.dtype(), negative, rows, rows).to(sims.data().device()));
        Var positiveTerm = sims.neg().add(1.0).mul(pos).sum();
        Var negativeTerm = sims.sub(beta).relu().mul(neg).sum();
        return positiveTerm.add(negativeTerm).div(tuples);
    }
}
