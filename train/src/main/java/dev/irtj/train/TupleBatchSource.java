package dev.irtj.train;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.Batch;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.HardNegativeMiner;
import dev.irtj.train.data.Loader;
import dev.irtj.train.data.SfM120k;
import dev.irtj.train.data.Transforms;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.VisionTransformer;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Batches of SfM-120k tuples (1 query, 1 positive, N negatives each, one tuple after another)
 * with hard negatives mined from the model being trained, as cirtorch's
 * {@code create_epoch_tuples}: at the start of each epoch, {@code queries} query–positive pairs
 * and a pool of {@code poolSize} candidate images are drawn at random, both are described by the
 * current model (evaluation mode, no gradient, the evaluation transform, the run's pooling,
 * L2-normalized), and each query gets the {@code negatives} most similar candidates of clusters
 * other than its own, one per cluster ({@link HardNegativeMiner}). An epoch is
 * {@code queries / tuplesPerBatch} batches (a remainder is dropped, as cirtorch's loader does);
 * the images of a batch are augmented by {@link Transforms#train} as every training batch.
 *
 * <p>Mining runs inside {@link #next()}, i.e. after the previous step's update, so the negatives
 * of an epoch come from the model as it stands at that epoch's first step. The state holds the
 * epoch's tuples themselves (the model that mined them is gone once training moves on) and the
 * position in the epoch, so a resumed run trains on the same tuples and mines the next epoch
 * from the same weights: bit-identical to an uninterrupted run.
 */
public final class TupleBatchSource implements Trainer.BatchSource, AutoCloseable {
    /** Tuple counts of the paper's recipe: 5 tuples of 1 + 1 + 5 per batch, 2,000 queries and 22,000 candidates per epoch. */
    public record Settings(int tuplesPerBatch, int negatives, int queries, int poolSize) {
        public static final Settings PAPER = new Settings(5, 5, 2000, 22000);

        public Settings {
            if (tuplesPerBatch < 1 || negatives < 1 || queries < 1 || poolSize < 1) {
                throw new IllegalArgumentException("tuples per batch, negatives, queries and pool size must be at least 1, got "
                        + tuplesPerBatch + ", " + negatives + ", " + queries + ", " + poolSize);
            }
            if (queries < tuplesPerBatch) throw new IllegalArgumentException(queries + " queries per epoch do not fill one batch of " + tuplesPerBatch + " tuples");
        }

        public int tupleSize() {
            return negatives + 2;
        }

        public int batchesPerEpoch() {
            return queries / tuplesPerBatch;
        }

        /** For config.json and the --resume comparison (the negatives per tuple are the tuple objective's setting). */
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tuples", tuplesPerBatch);
            m.put("queries", queries);
            m.put("neg_pool", poolSize);
            return m;
        }

        /** Why these settings cannot be drawn from {@code data}, or null if they can. */
        public String misfit(SfM120k data) {
            if (queries > data.queries().length) {
                return queries + " queries per epoch but " + data.images().name() + " has " + data.queries().length + " query-positive pairs";
            }
            if (poolSize > data.images().size()) return "a negative pool of " + poolSize + " but " + data.images().name() + " has " + data.images().size() + " images";
            if (data.images().numClasses() <= negatives) {
                return negatives + " negatives from other clusters than the query's, but " + data.images().name() + " has " + data.images().numClasses() + " clusters";
            }
            return null;
        }
    }

    /** Rng stream ids of the epochs' draws, apart from the loader's per-batch streams (0, 1, 2, …). */
    private static final long MINING_STREAMS = Long.MIN_VALUE;

    private final SfM120k data;
    private final VisionTransformer model;
    private final Pooling pooling;
    private final Transforms transforms;
    private final Settings settings;
    private final long seed;
    private final Loader.Options options;
    private final int describeBatch;
    private long delivered;
    private long epoch;
    private int position;
    private int[] tuples;
    private Loader loader;
    private long skippedBefore;

    /**
     * @param model         the model being trained; it is described with at each epoch's start
     * @param describeBatch images per forward pass while mining
     */
    public TupleBatchSource(SfM120k data, VisionTransformer model, Pooling pooling, Transforms transforms, Settings settings, long seed,
                            Loader.Options options, int describeBatch) {
        String misfit = settings.misfit(data);
        if (misfit != null) throw new IllegalArgumentException(misfit);
        if (describeBatch < 1) throw new IllegalArgumentException("describe batch must be at least 1, got " + describeBatch);
        this.data = data;
        this.model = model;
        this.pooling = pooling;
        this.transforms = transforms;
        this.settings = settings;
        this.seed = seed;
        this.options = options;
        this.describeBatch = describeBatch;
    }

    @Override
    public Trainer.Batch next() {
        if (tuples == null || position == settings.batchesPerEpoch()) {
            tuples = mineEpoch(epoch);
            epoch++;
            position = 0;
            openLoader();
        }
        Batch b = loader.next();
        position++;
        delivered++;
        return new Trainer.Batch(b.toTensor(), b.labels());
    }

    /** The current epoch's tuples, {@link Settings#tupleSize()} image indices each (null before the first batch). */
    public int[] epochTuples() {
        return tuples == null ? null : tuples.clone();
    }

    /** Epochs mined so far. */
    public long epochs() {
        return epoch;
    }

    /** Unreadable images met by the training loaders (counted once per epoch they appear in). */
    public long skipped() {
        return skippedBefore + (loader == null ? 0 : loader.skippedCount());
    }

    /** [batches delivered, epochs mined, position in the epoch, tuple size, tuple count, the tuples' indices…]. */
    @Override
    public long[] state() {
        int n = tuples == null ? 0 : tuples.length;
        long[] s = new long[5 + n];
        s[0] = delivered;
        s[1] = epoch;
        s[2] = position;
        s[3] = settings.tupleSize();
        s[4] = n / settings.tupleSize();
        for (int i = 0; i < n; i++) s[5 + i] = tuples[i];
        return s;
    }

    @Override
    public void restore(long[] s) {
        if (s.length < 5 || s[3] != settings.tupleSize() || s.length != 5 + s[3] * s[4]) {
            throw new IllegalArgumentException("the checkpoint's tuple state (" + s.length + " values) is not one of tuples of " + settings.tupleSize() + " images");
        }
        if (s[4] != 0 && s[4] != (long) settings.batchesPerEpoch() * settings.tuplesPerBatch() || s[2] < 0 || s[2] > settings.batchesPerEpoch()) {
            throw new IllegalArgumentException("the checkpoint's epoch of " + s[4] + " tuples at batch " + s[2] + " does not fit "
                    + settings.batchesPerEpoch() + " batches of " + settings.tuplesPerBatch() + " tuples");
        }
        closeLoader();
        delivered = s[0];
        epoch = s[1];
        position = (int) s[2];
        if (s[4] == 0) {
            tuples = null;
            return;
        }
        tuples = new int[(int) (s[3] * s[4])];
        for (int i = 0; i < tuples.length; i++) {
            long v = s[5 + i];
            if (v < 0 || v >= data.images().size()) throw new IllegalArgumentException("the checkpoint's tuples name image " + v + " of " + data.images().size());
            tuples[i] = (int) v;
        }
        openLoader();
    }

    @Override
    public void close() {
        closeLoader();
    }

    /** Draws the epoch's queries and pool, describes them with the model as it is now, and returns the tuples. */
    int[] mineEpoch(long e) {
        Rng rng = Rng.stream(seed, MINING_STREAMS + e);
        int[] pairs = permutation(data.queries().length, rng);
        int[] candidates = permutation(data.images().size(), rng);
        int count = settings.batchesPerEpoch() * settings.tuplesPerBatch();
        int[] queries = new int[count];
        for (int i = 0; i < count; i++) queries[i] = data.queries()[pairs[i]];
        int[] pool = Arrays.copyOf(candidates, settings.poolSize());
        long[] queryClusters = new long[count], poolClusters = new long[pool.length];
        for (int i = 0; i < count; i++) queryClusters[i] = data.images().label(queries[i]);
        for (int i = 0; i < pool.length; i++) poolClusters[i] = data.images().label(pool[i]);
        int[][] negatives = HardNegativeMiner.mine(describe(queries), describe(pool), queryClusters, poolClusters, settings.negatives());
        int size = settings.tupleSize();
        int[] out = new int[count * size];
        for (int t = 0; t < count; t++) {
            out[t * size] = queries[t];
            out[t * size + 1] = data.positives()[pairs[t]];
            for (int k = 0; k < settings.negatives(); k++) out[t * size + 2 + k] = pool[negatives[t][k]];
        }
        return out;
    }

    /** L2-normalized descriptors [n, D] of the images at {@code indices}, on the model's device, by the model in evaluation mode. */
    private Tensor describe(int[] indices) {
        Dataset subset = data.images().subset(data.images().name() + "-mining", indices);
        boolean training = model.isTraining();
        model.eval();
        int dims = model.config().embedDim();
        float[] out = new float[indices.length * dims];
        int filled = 0;
        try (Loader l = Loader.evaluation(subset, describeBatch, transforms, options); NoGrad ignored = NoGrad.enter()) {
            while (l.hasNext()) {
                Batch b = l.next();
                try (MemoryScope scope = MemoryScope.open()) {
                    Var x = Var.constant(b.toTensor().to(model.device()));
                    float[] d = model.descriptor(x, pooling).data().toFloatArray();
                    System.arraycopy(d, 0, out, filled, d.length);
                    filled += d.length;
                }
            }
        } finally {
            model.train(training);
        }
        return Tensor.of(out, indices.length, dims).to(model.device());
    }

    private static int[] permutation(int n, Rng rng) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        rng.shuffle(a);
        return a;
    }

    private void openLoader() {
        closeLoader();
        int size = settings.tupleSize(), perBatch = settings.tuplesPerBatch() * size, batches = settings.batchesPerEpoch();
        int[] epochTuples = tuples;
        Iterator<int[]> rest = new Iterator<>() {
            private int next = position;

            @Override
            public boolean hasNext() {
                return next < batches;
            }

            @Override
            public int[] next() {
                if (!hasNext()) throw new NoSuchElementException();
                int from = next * perBatch;
                next++;
                return Arrays.copyOfRange(epochTuples, from, from + perBatch);
            }
        };
        loader = Loader.training(data.images(), rest, transforms, seed, delivered, options);
    }

    private void closeLoader() {
        if (loader == null) return;
        skippedBefore += loader.skippedCount();
        loader.close();
        loader = null;
    }
}
