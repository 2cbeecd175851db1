package dev.irtj.retrieval;

import dev.irtj.eval.Recall;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.Trainer;
import dev.irtj.train.data.Dataset;
import dev.irtj.vit.VisionTransformer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Recall@K on a test set through the {@link DescriptorPipeline}: every image querying all others
 * (the SOP/CUB protocol), or queries against a gallery (In-Shop's). An image that cannot be
 * decoded is left out of Recall (as a query and as a candidate), warned about by the pipeline,
 * and counted in the figures as {@code left_out}.
 */
public final class RecallEvaluator implements Trainer.Evaluator {
    private final Dataset queries;
    private final Dataset gallery;
    private final Function<VisionTransformer, DescriptorPipeline> pipelines;
    private final int[] ks;

    /**
     * @param gallery null for the all-vs-all protocol
     * @param pipelines the pipeline for a model (the trainer passes its model as it is at each evaluation)
     */
    public RecallEvaluator(Dataset queries, Dataset gallery, Function<VisionTransformer, DescriptorPipeline> pipelines, int... ks) {
        this.queries = queries;
        this.gallery = gallery;
        this.pipelines = pipelines;
        this.ks = ks.clone();
    }

    @Override
    public Map<String, Double> evaluate(VisionTransformer model) {
        try (DescriptorPipeline p = pipelines.apply(model)) {
            return evaluate(p, queries, gallery, ks);
        }
    }

    /** Recall@K with {@code pipeline}'s descriptors (its PCA included), plus {@code left_out}. */
    public static Map<String, Double> evaluate(DescriptorPipeline pipeline, Dataset queries, Dataset gallery, int... ks) {
        DescriptorPipeline.Descriptors q = pipeline.describe(queries);
        DescriptorPipeline.Descriptors g = gallery == null ? null : pipeline.describe(gallery);
        if (q.rows().length < 2) {
            throw new IllegalStateException("only " + q.rows().length + " of the " + queries.size() + " images of " + queries.name()
                    + " could be decoded; Recall needs at least 2");
        }
        long[] ql = labels(queries, q.rows());
        Map<Integer, Double> r = g == null
                ? Recall.atK(q.vectors(), ql, ks)
                : Recall.queryGallery(q.vectors(), ql, g.vectors(), labels(gallery, g.rows()), ks);
        Map<String, Double> out = new LinkedHashMap<>();
        r.forEach((k, v) -> out.put("recall@" + k, v));
        out.put("left_out", (double) (q.skipped() + (g == null ? 0 : g.skipped())));
        return out;
    }

    private static long[] labels(Dataset d, int[] rows) {
        long[] l = new long[rows.length];
        for (int i = 0; i < rows.length; i++) l[i] = d.label(rows[i]);
        return l;
    }

    /** Descriptors of a whole dataset as a tensor on the model's device; the rows of undecodable images are left out. */
    public static Tensor descriptors(DescriptorPipeline pipeline, Dataset d) {
        return pipeline.describe(d).vectors();
    }
}
