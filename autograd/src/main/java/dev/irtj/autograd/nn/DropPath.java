package dev.irtj.autograd.nn;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;

/**
 * Stochastic depth: in training, each sample's residual branch is dropped with probability p
 * and the kept ones scaled by 1/(1 − p); the identity in eval mode or when p = 0.
 */
public final class DropPath extends Module {
    private final double p;
    private Rng rng;

    public DropPath(double p, Rng rng) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("drop-path rate must be in [0, 1), got " + p);
        this.p = p;
        this.rng = rng;
    }

    public Var forward(Var x) {
        if (!isTraining() || p == 0) return x;
        int batch = x.shape(0);
        double[] keep = new double[batch];
        for (int i = 0; i < batch; i++) keep[i] = rng.nextDouble() >= p ? 1.0 / (1 - p) : 0.0;
        int[] maskShape = new int[x.rank()];
        java.util.Arrays.fill(maskShape, 1);
        maskShape[0] = batch;
        Tensor mask = Tensor.of(x.dtype(), keep, maskShape).to(x.data().device());
        return x.mul(Var.constant(mask));
    }

    /**
     * Restarts the random stream; a trainer reseeds every iteration from (seed, iteration) so
     * that no generator state has to be checkpointed for an exact resume.
     */
    public void reseed(Rng newRng) {
        this.rng = newRng;
    }

    public double rate() {
        return p;
    }
}
