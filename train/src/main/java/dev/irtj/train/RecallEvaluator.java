package dev.irtj.train;

import dev.irtj.eval.Recall;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.Loader;
import dev.irtj.train.data.Transforms;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.VisionTransformer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Recall@K on a test set, every image querying all others (the SOP/CUB protocol), or queries
 * against a gallery (In-Shop's).
 */
public final class RecallEvaluator implements Trainer.Evaluator {
    private final Dataset queries;
    private final Dataset gallery;
    private final Transforms transforms;
    private final Pooling pooling;
    private final int batchSize;
    private final Loader.Options options;
    private final int[] ks;

    /** @param gallery null for the all-vs-all protocol */
    public RecallEvaluator(Dataset queries, Dataset gallery, Transforms transforms, Pooling pooling, int batchSize,
                           Loader.Options options, int... ks) {
        this.queries = queries;
        this.gallery = gallery;
        this.transforms = transforms;
        this.pooling = pooling;
        this.batchSize = batchSize;
        this.options = options;
        this.ks = ks.clone();
    }

    @Override
    public Map<String, Double> evaluate(VisionTransformer model) {
        Tensor q = Embeddings.compute(model, queries, transforms, pooling, batchSize, options);
        Map<Integer, Double> r = gallery == null
                ? Recall.atK(q, queries.labels(), ks)
                : Recall.queryGallery(q, queries.labels(), Embeddings.compute(model, gallery, transforms, pooling, batchSize, options), gallery.labels(), ks);
        Map<String, Double> out = new LinkedHashMap<>();
        r.forEach((k, v) -> out.put("recall@" + k, v));
        return out;
    }
}
