package dev.irtj.train.objective;

import dev.irtj.autograd.Var;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.VisionTransformer;

/**
 * One training step as an objective sees it: the model (in training mode), the batch on the
 * model's device and its labels, the 0-based iteration. The pooled features and the
 * L2-normalized descriptors are computed on first use and shared, so a contrastive term and
 * KoLeo differentiate through one forward pass.
 */
public final class Step {
    private final VisionTransformer model;
    private final Pooling pooling;
    private final Var images;
    private final long[] labels;
    private final long iteration;
    private Var features;
    private Var descriptors;

    public Step(VisionTransformer model, Pooling pooling, Var images, long[] labels, long iteration) {
        if (images.shape(0) != labels.length) throw new IllegalArgumentException(labels.length + " labels for a batch of " + images.shape(0));
        this.model = model;
        this.pooling = pooling;
        this.images = images;
        this.labels = labels;
        this.iteration = iteration;
    }

    public VisionTransformer model() {
        return model;
    }

    public Pooling pooling() {
        return pooling;
    }

    public Var images() {
        return images;
    }

    public long[] labels() {
        return labels;
    }

    /** The 0-based iteration of this step. */
    public long iteration() {
        return iteration;
    }

    /** Pooled, not normalized, [B, D] (what a classification head takes). */
    public Var features() {
        if (features == null) features = model.features(images, pooling);
        return features;
    }

    /** The retrieval descriptors, pooled and L2-normalized, [B, D]. */
    public Var descriptors() {
        if (descriptors == null) descriptors = features().l2Normalize();
        return descriptors;
    }
}
