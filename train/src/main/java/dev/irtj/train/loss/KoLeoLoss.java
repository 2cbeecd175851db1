package dev.irtj.train.loss;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.Tensor;

/**
 * The Kozachenko–Leonenko differential-entropy regularizer IRT adds against feature collapse:
 * <pre>
 *   L_KoLeo = −(1/B) Σ_i log(min_{j≠i} ‖z_i − z_j‖ + eps)
 * </pre>
 * over the batch. The nearest neighbour of each z_i is found without gradient; the distance to
 * it is then computed differentiably.
 */
public final class KoLeoLoss {
    public static final double DEFAULT_EPS = 1e-8;
    private final double eps;

    public KoLeoLoss() {
        this(DEFAULT_EPS);
    }

    public KoLeoLoss(double eps) {
        this.eps = eps;
    }

    public Var apply(Var z) {
        int b = z.shape(0);
        if (b < 2) throw new IllegalArgumentException("KoLeo needs at least 2 descriptors in the batch, got " + b);
        Tensor nearest;
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor zd = z.data();
            Tensor sq = zd.mul(zd).sum(-1, true);                                      // [B, 1]
            Tensor d2 = sq.add(sq.mT()).sub(zd.matmul(zd.mT()).mul(2.0));               // [B, B]
            Tensor self = Tensor.eye(b, zd.dtype()).to(zd.device());
            nearest = d2.maskedFill(self, Double.POSITIVE_INFINITY).argmin(-1, false); // [B]
        }
        Var diff = z.sub(z.indexSelect(0, nearest));
        Var dist = diff.mul(diff).sum(-1, false).sqrt();
        return dist.add(eps).log().mean().neg();
    }
}
