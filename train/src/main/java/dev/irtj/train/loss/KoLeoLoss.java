package dev.irtj.train.loss;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.Tensor;

/**
 * The Kozachenko–Leonenko differential-entropy regularizer IRT adds against feature collapse:
 * <pre>
 *   L_KoLeo = −(1/B) Σ_i log(ρ_i + eps),   ρ_i = sqrt(min_{j≠i} ‖z_i − z_j‖² + eps²)
 * </pre>
 * over the batch. The nearest neighbour of each z_i is found without gradient; the distance to
 * it is then computed differentiably.
 *
 * <p><b>Why eps² inside the square root.</b> Two equal descriptors in a batch (the m-per-class
 * sampler repeats the images of a class smaller than m) give ‖z_i − z_j‖ = 0, where the
 * derivative of the plain square root is infinite and its product with the zero difference is
 * NaN. dinov2 avoids it with {@code nn.PairwiseDistance(eps)}, i.e. ‖z_i − z_j + eps·1‖: finite,
 * but at a duplicate its gradient is the arbitrary all-ones direction scaled by about
 * 1/(eps·(√D + 1)) ≈ 10⁸/√D, which swamps the step (and a gradient clip) while pushing both
 * copies the same way. Identical inputs give identical descriptors whatever the parameters, so
 * no update can separate them; sqrt(d² + eps²) is smooth everywhere, its gradient at d = 0 is
 * exactly 0, and its value log(2·eps) there is finite. Away from duplicates it differs from
 * ‖z_i − z_j‖ by at most eps²/(2d) (below 1e-12 for d ≥ 1e-4 with eps = 1e-8), so the loss
 * still matches dinov2's and the PyTorch golden of the unregularized formula.
 */
public final class KoLeoLoss {
    public static final double DEFAULT_EPS = 1e-8;
    private final double eps;

    public KoLeoLoss() {
        this(DEFAULT_EPS);
    }

    public KoLeoLoss(double eps) {
        if (!(eps > 0) || !Double.isFinite(eps)) throw new IllegalArgumentException("KoLeo eps must be a positive number, got " + eps);
        this.eps = eps;
    }

    public double eps() {
        return eps;
    }

    public Var apply(Var z) {
        int b = z.shape(0);
        if (b < 2) throw new IllegalArgumentException("KoLeo needs at least 2 descriptors in the batch, got " + b);
        Tensor nearest;
        try (NoGrad ignored = NoGrad.enter()) {
            Tensor zd = z.data();
            Tensor sq = zd.mul(zd).sum(-1, true);                                      // [B, 1]
            Tensor d2 = sq.add(sq.mT()).sub(zd.matmul(zd.mT()).mul(2.0));               // [B, B]
            // The diagonal from an index compared on the device: B values cross, not a B × B mask.
            Tensor index = Tensor.arange(b, zd.dtype()).to(zd.device());
            Tensor self = index.reshape(b, 1).eq(index.reshape(1, b));
            nearest = d2.maskedFill(self, Double.POSITIVE_INFINITY).argmin(-1, false); // [B]
        }
        Var diff = z.sub(z.indexSelect(0, nearest));
        Var dist = diff.mul(diff).sum(-1, false).add(eps * eps).sqrt();
        return dist.add(eps).log().mean().neg();
    }
}
