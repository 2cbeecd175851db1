package dev.irtj.train;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.Batch;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.Loader;
import dev.irtj.train.data.Transforms;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.VisionTransformer;

/** Descriptors of a whole dataset, in dataset order, with the eval transform and no gradient. */
public final class Embeddings {
    private Embeddings() {
    }

    /** [N, D] F32, L2-normalized rows. */
    public static Tensor compute(VisionTransformer model, Dataset dataset, Transforms transforms, Pooling pooling,
                                 int batchSize, Loader.Options options) {
        boolean wasTraining = model.isTraining();
        model.eval();
        int d = model.config().embedDim();
        float[] out = new float[dataset.size() * d];
        try (Loader loader = Loader.evaluation(dataset, batchSize, transforms, options); NoGrad ignored = NoGrad.enter()) {
            int row = 0;
            while (loader.hasNext()) {
                Batch b = loader.next();
                try (MemoryScope scope = MemoryScope.open()) {
                    float[] desc = model.descriptor(Var.constant(b.toTensor().to(model.device())), pooling).data().toFloatArray();
                    System.arraycopy(desc, 0, out, row * d, desc.length);
                    row += b.batchSize();
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return Tensor.of(out, dataset.size(), d);
    }
}
