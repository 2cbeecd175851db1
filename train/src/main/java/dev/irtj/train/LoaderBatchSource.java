package dev.irtj.train;

import dev.irtj.train.data.Batch;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.Loader;
import dev.irtj.train.data.MPerClassSampler;
import dev.irtj.train.data.Transforms;

import java.util.Arrays;

/**
 * Training batches from a dataset: an m-per-class sampler feeding the threaded loader. Its state
 * is the number of the next batch plus the sampler position of the batches delivered so far
 * (not of those prefetched), so a resumed run sees exactly the same batches.
 */
public final class LoaderBatchSource implements Trainer.BatchSource, AutoCloseable {
    private final Dataset dataset;
    private final Transforms transforms;
    private final int batchSize;
    private final int m;
    private final long seed;
    private final Loader.Options options;
    private Loader loader;

    public LoaderBatchSource(Dataset dataset, Transforms transforms, int batchSize, int m, long seed, Loader.Options options) {
        this.dataset = dataset;
        this.transforms = transforms;
        this.batchSize = batchSize;
        this.m = m;
        this.seed = seed;
        this.options = options;
        this.loader = Loader.training(dataset, new MPerClassSampler(dataset, batchSize, m, seed), transforms, seed, 0, options);
    }

    @Override
    public Trainer.Batch next() {
        Batch b = loader.next();
        return new Trainer.Batch(b.toTensor(), b.labels());
    }

    /** Unreadable images met so far (each warned about once). */
    public long skipped() {
        return loader.skippedCount();
    }

    @Override
    public long[] state() {
        long[] sampler = loader.samplerState().toLongs();
        long[] out = new long[sampler.length + 1];
        out[0] = loader.nextBatchNumber();
        System.arraycopy(sampler, 0, out, 1, sampler.length);
        return out;
    }

    @Override
    public void restore(long[] state) {
        MPerClassSampler sampler = new MPerClassSampler(dataset, batchSize, m, seed);
        sampler.restore(MPerClassSampler.State.fromLongs(Arrays.copyOfRange(state, 1, state.length)));
        loader.close();
        loader = Loader.training(dataset, sampler, transforms, seed, state[0], options);
    }

    @Override
    public void close() {
        loader.close();
    }
}
