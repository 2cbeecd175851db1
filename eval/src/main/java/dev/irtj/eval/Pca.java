package dev.irtj.eval;

import dev.irtj.tensor.Shape;
import dev.irtj.tensor.Tensor;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.CommonOps_MT_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Principal component analysis of descriptors, applied as the paper does: centre, project onto
 * the leading components, then L2-normalize each row.
 *
 * <p>{@link #fit} computes, in double precision, the mean and the covariance
 * Σ = (X − μ)ᵀ(X − μ) / (N − 1) of the training descriptors (read in chunks of rows, so a
 * large training set is never copied to the host whole), and its eigen-decomposition with EJML's
 * symmetric solver. Components are sorted by eigenvalue, largest first, and each one's sign is
 * fixed so that its entry of largest magnitude (the first such entry on a tie) is positive.
 * Components whose eigenvalues are equal span a subspace in which no single basis is preferred;
 * the solver's basis is kept there.
 *
 * <p>The full spectrum ({@link #eigenvalues()}, {@link #explainedVariance()}) shows how much of
 * the descriptor space a model uses: a collapsed representation puts nearly all the variance in
 * a few components.
 */
public final class Pca {
    /** Checkpoint key of the mean, [D]. */
    public static final String KEY_MEAN = "pca.mean";
    /** Checkpoint key of the components, [dims, D], one per row. */
    public static final String KEY_COMPONENTS = "pca.components";
    /** Checkpoint key of the full eigenvalue spectrum, [D] (optional when loading). */
    public static final String KEY_EIGENVALUES = "pca.eigenvalues";

    /** Target size of the row chunks read from the training tensor, in doubles. */
    private static final int CHUNK_ELEMENTS = 1 << 20;

    private final int inputDims;
    private final int outputDims;
    private final double[] mean;        // [D]
    private final double[] components;  // [dims, D] row-major
    private final double[] eigenvalues; // [D] descending, or null when not known

    private Pca(double[] mean, double[] components, int outputDims, double[] eigenvalues) {
        this.inputDims = mean.length;
        this.outputDims = outputDims;
        this.mean = mean;
        this.components = components;
        this.eigenvalues = eigenvalues;
    }

    /**
     * Fits a PCA to {@code dims} components.
     *
     * @param train [N, D] training descriptors, N ≥ 2, F32 or F64, on any device
     * @param dims  output size, 1 ≤ dims ≤ D (components beyond the rank of the centred data,
     *              i.e. beyond N − 1, have eigenvalue 0 and an arbitrary orthonormal basis)
     */
    public static Pca fit(Tensor train, int dims) {
        SimilarityBlocks.checkMatrix(train, "PCA training data");
        int n = train.shape(0), d = train.shape(1);
        if (dims > d) {
            throw new IllegalArgumentException("PCA to " + dims + " dimensions needs descriptors of at least " + dims
                    + " dimensions, but the training descriptors have " + d);
        }
        if (dims < 1) throw new IllegalArgumentException("PCA needs at least 1 output dimension, got " + dims);
        if (n < 2) throw new IllegalArgumentException("PCA needs at least 2 training descriptors, got " + n);

        int chunk = Math.max(1, CHUNK_ELEMENTS / d);
        double[] mean = new double[d];
        for (int s = 0; s < n; s += chunk) {
            int len = Math.min(chunk, n - s);
            double[] x = train.narrow(0, s, len).toDoubleArray();
            for (int r = 0; r < len; r++) {
                for (int c = 0; c < d; c++) mean[c] += x[r * d + c];
            }
        }
        for (int c = 0; c < d; c++) mean[c] /= n;

        DMatrixRMaj cov = new DMatrixRMaj(d, d);
        for (int s = 0; s < n; s += chunk) {
            int len = Math.min(chunk, n - s);
            double[] x = train.narrow(0, s, len).toDoubleArray();
            for (int r = 0; r < len; r++) {
                for (int c = 0; c < d; c++) x[r * d + c] -= mean[c];
            }
            DMatrixRMaj xc = DMatrixRMaj.wrap(len, d, x);
            if ((long) len * d * d >= 1L << 24) {
                CommonOps_MT_DDRM.multAddTransA(xc, xc, cov);
            } else {
                CommonOps_DDRM.multAddTransA(xc, xc, cov);
            }
        }
        double[] cv = cov.data;
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                double v = (cv[i * d + j] + cv[j * d + i]) / (2.0 * (n - 1));
                cv[i * d + j] = v;
                cv[j * d + i] = v;
            }
        }

        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, true, true);
        if (!eig.decompose(cov.copy())) {
            throw new IllegalStateException("the eigen-decomposition of the " + d + "x" + d
                    + " covariance did not converge (non-finite training descriptors?)");
        }
        Integer[] order = new Integer[d];
        double[] values = new double[d];
        for (int i = 0; i < d; i++) {
            order[i] = i;
            values[i] = eig.getEigenvalue(i).getReal();
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> values[i]).reversed());

        double[] spectrum = new double[d];
        double[] comps = new double[dims * d];
        for (int r = 0; r < d; r++) {
            spectrum[r] = Math.max(0.0, values[order[r]]); // a covariance is PSD: negatives are round-off
            if (r >= dims) continue;
            DMatrixRMaj v = eig.getEigenVector(order[r]);
            double norm = 0;
            int big = 0;
            for (int c = 0; c < d; c++) {
                double e = v.get(c);
                norm += e * e;
                if (Math.abs(e) > Math.abs(v.get(big))) big = c;
            }
            double scale = (v.get(big) < 0 ? -1.0 : 1.0) / Math.sqrt(norm);
            for (int c = 0; c < d; c++) comps[r * d + c] = v.get(c) * scale;
        }
        return new Pca(mean, comps, dims, spectrum);
    }

    /** Size of the descriptors this PCA takes (D). */
    public int inputDims() {
        return inputDims;
    }

    /** Size of the descriptors it produces. */
    public int outputDims() {
        return outputDims;
    }

    /** The training mean, [D], F64. */
    public Tensor mean() {
        return Tensor.of(mean, inputDims);
    }

    /** The components, [dims, D], F64, one unit vector per row, largest eigenvalue first. */
    public Tensor components() {
        return Tensor.of(components, outputDims, inputDims);
    }

    /**
     * The whole covariance spectrum, length D, largest first (round-off negatives clipped to 0),
     * in units of variance.
     *
     * @throws IllegalStateException for a PCA loaded from tensors without {@link #KEY_EIGENVALUES}
     */
    public double[] eigenvalues() {
        if (eigenvalues == null) throw new IllegalStateException("this PCA was loaded without its eigenvalues (" + KEY_EIGENVALUES + ")");
        return eigenvalues.clone();
    }

    /**
     * Each component's share of the total variance, length D, largest first, summing to 1 (all 0
     * when the training descriptors were all equal).
     */
    public double[] explainedVariance() {
        double[] ev = eigenvalues();
        double total = 0;
        for (double v : ev) total += v;
        if (total > 0) for (int i = 0; i < ev.length; i++) ev[i] /= total;
        return ev;
    }

    /** The share of the total variance kept by the {@link #outputDims()} components. */
    public double retainedVariance() {
        double[] ev = explainedVariance();
        double s = 0;
        for (int i = 0; i < outputDims; i++) s += ev[i];
        return s;
    }

    /**
     * Centred projection without normalization: (x − μ)·Cᵀ, [M, dims], in x's dtype and on its
     * device.
     */
    public Tensor project(Tensor x) {
        SimilarityBlocks.checkMatrix(x, "PCA input");
        if (x.shape(1) != inputDims) {
            throw new IllegalArgumentException("this PCA takes descriptors of " + inputDims + " dimensions, got shape " + Shape.str(x.shape()));
        }
        Tensor mu = Tensor.of(mean, inputDims).to(x.dtype()).to(x.device());
        Tensor c = Tensor.of(components, outputDims, inputDims).to(x.dtype()).to(x.device());
        return x.sub(mu).matmul(c.mT());
    }

    /**
     * The paper's PCA: {@link #project} then L2-normalize every row, [M, dims]. A row that
     * projects to zero (e.g. the training mean itself) stays zero.
     */
    public Tensor apply(Tensor x) {
        return project(x).l2Normalize();
    }

    /** The fitted state as F64 tensors under {@link #KEY_MEAN}, {@link #KEY_COMPONENTS} and {@link #KEY_EIGENVALUES}. */
    public Map<String, Tensor> toTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(KEY_MEAN, mean());
        m.put(KEY_COMPONENTS, components());
        if (eigenvalues != null) m.put(KEY_EIGENVALUES, Tensor.of(eigenvalues, inputDims));
        return m;
    }

    /**
     * A PCA from tensors written by {@link #toTensors()} (any floating dtype; other keys in the
     * map are ignored, so a whole checkpoint may be passed).
     */
    public static Pca fromTensors(Map<String, Tensor> tensors) {
        Tensor m = tensors.get(KEY_MEAN), c = tensors.get(KEY_COMPONENTS), e = tensors.get(KEY_EIGENVALUES);
        if (m == null || c == null) throw new IllegalArgumentException("a PCA needs tensors " + KEY_MEAN + " and " + KEY_COMPONENTS);
        if (m.rank() != 1 || c.rank() != 2 || c.shape(1) != m.shape(0) || c.shape(0) < 1) {
            throw new IllegalArgumentException("PCA tensors do not fit: " + KEY_MEAN + " " + Shape.str(m.shape()) + ", "
                    + KEY_COMPONENTS + " " + Shape.str(c.shape()) + " (want [D] and [dims, D])");
        }
        if (e != null && (e.rank() != 1 || e.shape(0) != m.shape(0))) {
            throw new IllegalArgumentException(KEY_EIGENVALUES + " " + Shape.str(e.shape()) + " does not fit " + KEY_MEAN + " " + Shape.str(m.shape()));
        }
        for (Tensor t : new Tensor[] {m, c, e}) {
            if (t != null && !t.dtype().isFloating()) throw new IllegalArgumentException("PCA tensors must be F32 or F64, got " + t.dtype());
        }
        return new Pca(m.toDoubleArray(), c.toDoubleArray(), c.shape(0), e == null ? null : e.toDoubleArray());
    }
}
