package dev.irtj.eval;

import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Learned PCA-whitening of descriptors, as cirtorch's {@code pcawhitenlearn} and
 * {@code whitenapply} (Radenović et al.): centre on the mean of the learning descriptors, project
 * onto the leading eigenvectors of their covariance, divide each coordinate by the square root
 * of its eigenvalue, then L2-normalize. Fitted with {@link Pca#fit} (double precision, the same
 * sign convention); the eigenvalues here are of Σ = XcᵀXc / (N − 1) where cirtorch's are of XcᵀXc,
 * a common factor that the final L2 normalization removes.
 *
 * <p>Only directions with a positive eigenvalue can be whitened, so the output has at most
 * N − 1 dimensions for N learning descriptors; {@link #fit} refuses more.
 */
public final class Whitening {
    /** Metadata value naming this kind of file, beside {@link Pca}'s tensors. */
    public static final String KIND = "pca-whitening";

    /** Eigenvalues at or below this fraction of the largest are treated as zero (rank deficiency). */
    private static final double RELATIVE_FLOOR = 1e-10;

    private final Pca pca;
    private final double[] inverseSqrt; // [dims]

    private Whitening(Pca pca) {
        this.pca = pca;
        double[] ev = pca.eigenvalues();
        if (ev == null) throw new IllegalArgumentException("a whitening needs the eigenvalues of its PCA (" + Pca.KEY_EIGENVALUES + ")");
        int dims = pca.outputDims();
        inverseSqrt = new double[dims];
        for (int i = 0; i < dims; i++) {
            if (!(ev[i] > RELATIVE_FLOOR * ev[0])) {
                throw new IllegalArgumentException("component " + i + " has eigenvalue " + ev[i] + " (largest " + ev[0]
                        + "): the learning descriptors span only " + i + " dimensions, so at most " + i + " can be whitened");
            }
            inverseSqrt[i] = 1 / Math.sqrt(ev[i]);
        }
    }

    /**
     * Fits to {@code dims} output dimensions (0: as many as the data supports, min(D, N − 1) less
     * any null directions).
     *
     * @param learn [N, D] descriptors, N ≥ 2
     */
    public static Whitening fit(Tensor learn, int dims) {
        SimilarityBlocks.checkMatrix(learn, "whitening learning data");
        int n = learn.shape(0), d = learn.shape(1);
        if (n < 2) throw new IllegalArgumentException("whitening needs at least 2 learning descriptors, got " + n);
        if (dims < 0) throw new IllegalArgumentException("whitening dimensions must be positive, got " + dims);
        if (dims == 0) {
            Pca full = Pca.fit(learn, d);
            double[] ev = full.eigenvalues();
            int rank = 0;
            while (rank < Math.min(d, n - 1) && ev[rank] > RELATIVE_FLOOR * ev[0]) rank++;
            if (rank == 0) throw new IllegalArgumentException("the " + n + " whitening learning descriptors are all equal");
            dims = rank;
        }
        return new Whitening(Pca.fit(learn, dims));
    }

    public int inputDims() {
        return pca.inputDims();
    }

    public int outputDims() {
        return pca.outputDims();
    }

    /** (x − μ)·Cᵀ·Λ^(−1/2), each row L2-normalized; [M, dims] in x's dtype and on its device. */
    public Tensor apply(Tensor x) {
        return whiten(x).l2Normalize();
    }

    /** (x − μ)·Cᵀ·Λ^(−1/2) before normalization: the learning data comes out with identity covariance. */
    Tensor whiten(Tensor x) {
        if (x.rank() != 2 || x.shape(1) != inputDims()) {
            throw new IllegalArgumentException("this whitening takes descriptors of " + inputDims() + " dimensions, got " + Shape.str(x.shape()));
        }
        Tensor scale = Tensor.of(inverseSqrt, outputDims()).to(x.dtype()).to(x.device());
        return pca.project(x).mul(scale);
    }

    /** The fitted state (the PCA's tensors, eigenvalues included), for a safetensors file. */
    public Map<String, Tensor> toTensors() {
        return new LinkedHashMap<>(pca.toTensors());
    }

    /** A whitening from {@link #toTensors()}. */
    public static Whitening fromTensors(Map<String, Tensor> tensors) {
        return new Whitening(Pca.fromTensors(tensors));
    }
}
