package dev.irtj.retrieval;

import dev.irtj.eval.Pca;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.ImageSource;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Multi-scale descriptors: the L2-normalized descriptors of an image at several scales,
 * averaged, then L2-normalized again. This is cirtorch's {@code extract_ms} with its default
 * {@code msp = 1} (cirtorch raises each descriptor to the power msp before averaging and takes
 * the msp-th root after, with msp = the GeM p only for whitening-free GeM networks in its test
 * script; irtj averages plainly).
 *
 * <p>A ViT sees a fixed number of patches, so a scale is a model input size: {@code s · S}
 * rounded to a whole number of patches, the same weights with {@code pos_embed} resampled to
 * that grid (bicubically, as loading a checkpoint at another size does). Each scale runs the
 * eval transform of its size (resize the shorter side to size / crop-pct, center crop), so
 * smaller scales see the same view at a lower resolution, as cirtorch's resized images do.
 * Scale 1 is the pipeline itself. A pipeline's PCA (a run's) is applied after the average.
 */
public final class MultiScaleDescriber implements AutoCloseable {
    private final DescriptorPipeline base;
    private final DescriptorPipeline raw;
    private final Pca pca;
    private final double[] scales;
    private final List<DescriptorPipeline> pipelines = new ArrayList<>();

    private MultiScaleDescriber(DescriptorPipeline base, double[] scales) {
        this.base = base;
        this.pca = base.pca();
        this.raw = pca == null ? base : base.withPca(null, null);
        this.scales = scales.clone();
    }

    /** Descriptors of {@code base} at {@code scales} (each > 0; {1} gives the base pipeline alone). */
    public static MultiScaleDescriber of(DescriptorPipeline base, double... scales) {
        if (scales.length == 0) throw new IllegalArgumentException("--scales needs at least one scale");
        MultiScaleDescriber d = new MultiScaleDescriber(base, scales);
        ViTConfig c = base.model().config();
        for (double s : scales) {
            if (!(s > 0) || s > 8) throw new IllegalArgumentException("--scales must be in (0, 8], got " + s);
            int size = sizeAt(c, s);
            if (size == c.imgSize()) {
                d.pipelines.add(d.raw);
                continue;
            }
            VisionTransformer m = new VisionTransformer(c.withImgSize(size), base.model().distilled(), new Rng(0), DType.F32);
            TimmCheckpoint.loadInto(m, base.model().stateDict(), "the model at scale " + s);
            m.to(base.options().device());
            m.eval();
            d.pipelines.add(DescriptorPipeline.of(m, base.pooling(), base.cropPct(), null, base.options()));
        }
        return d;
    }

    /** The model input size at scale {@code s}: {@code s · S} rounded to whole patches, at least one patch. */
    public static int sizeAt(ViTConfig c, double s) {
        int p = c.patchSize();
        return (int) Math.max(p, Math.round(c.imgSize() * s / p) * p);
    }

    public int dims() {
        return pca == null ? raw.dims() : pca.outputDims();
    }

    public double[] scales() {
        return scales.clone();
    }

    /** E.g. "scales 1, 0.7071 (160 px), 0.5 (112 px)". */
    public String describe() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < scales.length; i++) {
            String scale = java.math.BigDecimal.valueOf(scales[i]).stripTrailingZeros().toPlainString();
            parts.add(scale + " (" + pipelines.get(i).model().config().imgSize() + " px)");
        }
        return "scales " + String.join(", ", parts) + (pca == null ? "" : ", then PCA to " + pca.outputDims());
    }

    /** The descriptor of one image, [1, dims] F32 on the model's device (summed and normalized as {@link #describe(List)} does). */
    public Tensor describe(BufferedImage image) {
        Tensor sum = null;
        for (DescriptorPipeline p : pipelines) {
            Tensor v = Tensor.of(p.describe(image), 1, raw.dims()).to(base.model().device());
            sum = sum == null ? v : sum.add(v);
        }
        return finish(sum);
    }

    /**
     * Descriptors of every source, [n, dims] F32 on the model's device, in order; fails naming the
     * images that could not be decoded (a ranking needs every database image).
     */
    public Tensor describe(List<ImageSource> sources) {
        Tensor sum = null;
        for (DescriptorPipeline p : pipelines) {
            DescriptorPipeline.Descriptors d = p.describeSources(sources);
            if (d.skipped() > 0) {
                throw new IllegalArgumentException(d.skipped() + " of " + sources.size() + " images could not be read, first " + d.failures().get(0));
            }
            sum = sum == null ? d.vectors() : sum.add(d.vectors());
        }
        return finish(sum);
    }

    /** The sum of per-scale descriptors → their normalized mean (the mean's direction), then the PCA if any. */
    private Tensor finish(Tensor sum) {
        Tensor v = pipelines.size() == 1 ? sum : sum.l2Normalize();
        return pca == null ? v : pca.apply(v);
    }

    /** Closes the pipelines made here (the base one belongs to the caller). */
    @Override
    public void close() {
        for (DescriptorPipeline p : pipelines) if (p != base && p != raw) p.close();
        if (raw != base) raw.close();
    }
}
