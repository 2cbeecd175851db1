package dev.irtj.train.data;

import dev.irtj.tensor.Rng;
import java.util.Arrays;
import java.util.Iterator;

/**
 * Batches of dataset indices with exactly {@code m} images of each of {@code k = batchSize / m}
 * distinct classes, for as many epochs as asked for ({@link #hasNext()} is always true).
 *
 * <p><b>Batch layout.</b> Positions {@code [j·m, (j+1)·m)} of a batch hold the {@code m} images
 * of its {@code j}-th class; the {@code k} classes are distinct.
 *
 * <p><b>An epoch</b> (number {@code e}, from 0) is planned with its own generator
 * {@code Rng.stream(seed, e)}, so it depends only on the seed, the dataset's labels,
 * {@code batchSize}, {@code m} and {@code e}:
 * <ol>
 *   <li>each class, in class-index order, shuffles its images and cuts them into groups of
 *       {@code m}. An incomplete last group of a class with at least {@code m} images is filled
 *       with other images of the class (the first ones of its shuffled order, so a group never
 *       repeats an image). A class with fewer than {@code m} images makes one group of all its
 *       images plus images drawn uniformly <b>with replacement</b> from the class, so such a
 *       group repeats images (a class of one image gives {@code m} copies of it);</li>
 *   <li>the groups of all classes are shuffled together;</li>
 *   <li>batches are assembled greedily: each takes, in that shuffled order, the first groups of
 *       classes not yet in the batch until it has {@code k}. The epoch ends when fewer than
 *       {@code k} classes have groups left; those groups are dropped (like {@code drop_last}).</li>
 * </ol>
 * So within an epoch every image appears at most once, apart from the fillers of step 1 and
 * the dropped remainder of step 3, and different epochs give different batches.
 *
 * <p><b>Resuming.</b> {@link #state()} is the position (epoch, batch within it) plus a
 * fingerprint of the seed, labels, batch size and m; {@link #restore} moves a sampler made with
 * the same arguments to that position, after which it returns exactly the batches the saved one
 * would have. Not thread-safe.
 */
public final class MPerClassSampler implements Iterator<int[]> {

    /** A position in the batch sequence; {@link #toLongs()} is the form stored in checkpoints. */
    public record State(long epoch, int batch, long fingerprint) {
        public State {
            if (epoch < 0 || batch < 0) throw new IllegalArgumentException("bad sampler position " + epoch + "/" + batch);
        }

        public long[] toLongs() {
            return new long[] {epoch, batch, fingerprint};
        }

        public static State fromLongs(long[] s) {
            if (s.length != 3) throw new IllegalArgumentException("sampler state needs 3 longs, got " + s.length);
            if (s[1] < 0 || s[1] > Integer.MAX_VALUE) throw new IllegalArgumentException("bad batch position " + s[1]);
            return new State(s[0], (int) s[1], s[2]);
        }
    }

    private final Dataset dataset;
    private final int batchSize;
    private final int m;
    private final int k;
    private final long seed;
    private final long fingerprint;

    private long epoch;
    private int batch;
    /** The batches of {@link #planEpoch}, concatenated; null until needed. */
    private int[] plan;
    private int planBatches;
    private long plannedEpoch = -1;

    public MPerClassSampler(Dataset dataset, int batchSize, int m, long seed) {
        if (m < 1) throw new IllegalArgumentException("m must be at least 1, got " + m);
        if (batchSize < m || batchSize % m != 0) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be a positive multiple of m = " + m);
        }
        int classes = dataset.numClasses();
        if (batchSize / m > classes) {
            throw new IllegalArgumentException("a batch of " + batchSize + " with m = " + m + " needs " + batchSize / m
                    + " distinct classes but " + dataset.name() + " has " + classes);
        }
        this.dataset = dataset;
        this.batchSize = batchSize;
        this.m = m;
        this.k = batchSize / m;
        this.seed = seed;
        long h = seed * 0x9E3779B97F4A7C15L + batchSize * 31L + m;
        h = h * 31 + Arrays.hashCode(dataset.labels());
        h = h * 31 + dataset.size();
        this.fingerprint = h;
    }

    public int batchSize() {
        return batchSize;
    }

    public int m() {
        return m;
    }

    /** {@code batchSize / m}. */
    public int classesPerBatch() {
        return k;
    }

    public long seed() {
        return seed;
    }

    public Dataset dataset() {
        return dataset;
    }

    /** The epoch of the next batch. */
    public long epoch() {
        return epoch;
    }

    /** The number of batches of the epoch of the next batch. */
    public int batchesInEpoch() {
        ensurePlan();
        return planBatches;
    }

    @Override
    public boolean hasNext() {
        return true;
    }

    @Override
    public int[] next() {
        ensurePlan();
        if (batch >= planBatches) {
            epoch++;
            batch = 0;
            ensurePlan();
        }
        int[] out = Arrays.copyOfRange(plan, batch * batchSize, (batch + 1) * batchSize);
        batch++;
        return out;
    }

    /** The position of the next batch. */
    public State state() {
        return new State(epoch, batch, fingerprint);
    }

    /**
     * Continues from {@code s}, saved by a sampler made with the same dataset labels, batch
     * size, m and seed (otherwise an {@link IllegalArgumentException}).
     */
    public void restore(State s) {
        if (s.fingerprint() != fingerprint) {
            throw new IllegalArgumentException("sampler state was saved for another dataset, batch size, m or seed");
        }
        epoch = s.epoch();
        batch = s.batch();
        ensurePlan();
        if (batch > planBatches) {
            throw new IllegalArgumentException("epoch " + epoch + " has " + planBatches + " batches, not " + batch);
        }
    }

    private void ensurePlan() {
        if (plannedEpoch == epoch) return;
        planEpoch(epoch);
        plannedEpoch = epoch;
    }

    private void planEpoch(long e) {
        Rng rng = Rng.stream(seed, e);
        int classes = dataset.numClasses();
        // 1. Groups of m images per class.
        int groups = 0;
        for (int c = 0; c < classes; c++) groups += (dataset.classSize(c) + m - 1) / m;
        int[] groupImages = new int[groups * m];
        int[] groupClass = new int[groups];
        int g = 0;
        for (int c = 0; c < classes; c++) {
            int[] perm = dataset.membersOfClass(c).clone();
            rng.shuffle(perm);
            int n = perm.length;
            for (int start = 0; start < n; start += m, g++) {
                groupClass[g] = c;
                int base = g * m;
                int have = Math.min(m, n - start);
                System.arraycopy(perm, start, groupImages, base, have);
                for (int f = have; f < m; f++) {
                    groupImages[base + f] = n >= m ? perm[f - have] : perm[rng.nextInt(n)];
                }
            }
        }
        // 2. Shuffle the groups.
        int[] order = new int[groups];
        for (int i = 0; i < groups; i++) order[i] = i;
        rng.shuffle(order);
        // 3. Greedy assembly over a linked list of the remaining groups.
        // Nodes 0..groups-1 are positions in the shuffled order; node `groups` is the sentinel.
        int head = groups;
        int[] nextNode = new int[groups + 1];
        int[] prevNode = new int[groups + 1];
        for (int i = 0; i <= groups; i++) {
            nextNode[i] = (i + 1) % (groups + 1);
            prevNode[i] = (i + groups) % (groups + 1);
        }
        int[] remaining = new int[classes];
        for (int i = 0; i < groups; i++) remaining[groupClass[i]]++;
        int live = 0;
        for (int r : remaining) if (r > 0) live++;
        int[] stamp = new int[classes];
        Arrays.fill(stamp, -1);
        int maxBatches = groups / k;
        int[] out = new int[maxBatches * batchSize];
        int batches = 0;
        while (live >= k) {
            int taken = 0;
            for (int node = nextNode[head]; node != head && taken < k; ) {
                int after = nextNode[node];
                int grp = order[node];
                int c = groupClass[grp];
                if (stamp[c] != batches) {
                    stamp[c] = batches;
                    System.arraycopy(groupImages, grp * m, out, batches * batchSize + taken * m, m);
                    taken++;
                    nextNode[prevNode[node]] = after;
                    prevNode[after] = prevNode[node];
                    if (--remaining[c] == 0) live--;
                }
                node = after;
            }
            if (taken != k) throw new AssertionError("sampler assembly found " + taken + " of " + k + " classes");
            batches++;
        }
        plan = out;
        planBatches = batches;
    }
}
