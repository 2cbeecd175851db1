package dev.irtj.train.data;

import dev.irtj.tensor.Rng;
import dev.irtj.vit.image.Preprocess.Planes;
import dev.irtj.vit.image.UndecodableImageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Decodes and transforms images on a fixed pool of worker threads and delivers {@link Batch}es
 * in order, with at most {@code prefetch} batches in preparation at a time.
 *
 * <p><b>Two modes.</b> {@link #training} takes batches of indices from an iterator (normally an
 * {@link MPerClassSampler}) and applies {@link Transforms#train}; {@link #evaluation} goes through
 * the dataset in order, in batches of a given size (the last one may be smaller), and applies
 * {@link Transforms#eval}.
 *
 * <p><b>Determinism.</b> The pixels of a batch depend only on the seed, the batch number and the
 * indices, never on thread timing or the number of workers: item {@code j} of batch {@code b}
 * draws its augmentation from {@code Rng.stream(Rng.stream(seed, b).nextLong(), 2j)} and chooses
 * a replacement for an unreadable image with stream {@code 2j + 1}. Batch numbers start at
 * {@code firstBatchNumber} (give the training step when resuming, with
 * {@link #samplerState()} restored into the sampler, and the batches continue exactly).
 *
 * <p><b>Unreadable images</b> (missing, unreadable or undecodable files): each one gives one
 * warning line, once per file, naming the file and the reason. Warnings go to
 * {@link System#err} unless {@link Options#warnings} names another sink. {@link #skippedCount()}
 * counts the distinct files found unreadable. In training the image is replaced by another image
 * of the same class, the first readable one in an order drawn from the item's own random stream
 * (so the batch keeps its m-per-class structure; if no image of the class is readable, by a
 * readable image of any class, with a second warning). In evaluation no replacement is made
 * (a copy of another image of the class would be a perfect match and inflate Recall@K): the
 * item keeps its index and label and its pixels are all 0, i.e. the mean image after
 * normalization.
 *
 * <p>The iterator of indices is only used on the thread that calls {@link #next()}, but it runs
 * ahead of the delivered batches by up to {@code prefetch}; checkpoint {@link #samplerState()}
 * and {@link #nextBatchNumber()}, not the sampler's own state. Not thread-safe: one consumer.
 * Close the loader to stop its threads.
 */
public final class Loader implements Iterator<Batch>, AutoCloseable {

    /**
     * Worker threads (default: available processors), batches in preparation at a time (default
     * 3, at least 1), and where warnings go (default: one line each on {@link System#err}).
     */
    public record Options(int workers, int prefetch, Consumer<String> warnings) {
        public Options {
            if (workers < 1) throw new IllegalArgumentException("workers must be at least 1, got " + workers);
            if (prefetch < 1) throw new IllegalArgumentException("prefetch must be at least 1, got " + prefetch);
            Objects.requireNonNull(warnings, "warnings");
        }

        public static Options defaults() {
            return new Options(Runtime.getRuntime().availableProcessors(), 3, System.err::println);
        }

        public Options withWorkers(int n) {
            return new Options(n, prefetch, warnings);
        }

        public Options withPrefetch(int n) {
            return new Options(workers, n, warnings);
        }

        public Options withWarnings(Consumer<String> sink) {
            return new Options(workers, prefetch, sink);
        }
    }

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final Dataset dataset;
    private final Transforms transforms;
    private final boolean train;
    private final long seed;
    private final Iterator<int[]> source;
    private final Options options;
    private final ExecutorService pool;
    private final ArrayDeque<Pending> inFlight = new ArrayDeque<>();
    private final Set<ImageSource> unreadable = ConcurrentHashMap.newKeySet();
    private final AtomicLong replaced = new AtomicLong();
    private final int sampleLength;

    private long nextToSubmit;
    private long nextToDeliver;
    private MPerClassSampler.State samplerState;
    private volatile boolean closed;

    private record Pending(long number, CompletableFuture<Batch> result, MPerClassSampler.State stateAfter) {
    }

    private Loader(Dataset dataset, Iterator<int[]> source, Transforms transforms, boolean train, long seed,
            long firstBatchNumber, Options options) {
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.source = Objects.requireNonNull(source, "source");
        this.transforms = Objects.requireNonNull(transforms, "transforms");
        this.train = train;
        this.seed = seed;
        this.options = Objects.requireNonNull(options, "options");
        this.nextToSubmit = firstBatchNumber;
        this.nextToDeliver = firstBatchNumber;
        this.sampleLength = transforms.sampleLength();
        this.samplerState = source instanceof MPerClassSampler s ? s.state() : null;
        int poolId = POOLS.incrementAndGet();
        AtomicInteger threadId = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "irtj-loader-" + poolId + "-" + threadId.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.pool = Executors.newFixedThreadPool(options.workers(), tf);
    }

    /** Training batches from {@code batches}, numbered from 0, with default options. */
    public static Loader training(Dataset dataset, Iterator<int[]> batches, Transforms transforms, long seed) {
        return training(dataset, batches, transforms, seed, 0, Options.defaults());
    }

    /**
     * Training batches from {@code batches} (e.g. an {@link MPerClassSampler}), numbered from
     * {@code firstBatchNumber}, augmented by {@link Transforms#train} with randomness from
     * {@code seed}.
     */
    public static Loader training(Dataset dataset, Iterator<int[]> batches, Transforms transforms, long seed,
            long firstBatchNumber, Options options) {
        return new Loader(dataset, batches, transforms, true, seed, firstBatchNumber, options);
    }

    /** The whole dataset in order, in batches of {@code batchSize} (the last may be smaller), default options. */
    public static Loader evaluation(Dataset dataset, int batchSize, Transforms transforms) {
        return evaluation(dataset, batchSize, transforms, Options.defaults());
    }

    public static Loader evaluation(Dataset dataset, int batchSize, Transforms transforms, Options options) {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        Iterator<int[]> inOrder = new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < dataset.size();
            }

            @Override
            public int[] next() {
                if (!hasNext()) throw new NoSuchElementException();
                int n = Math.min(batchSize, dataset.size() - next);
                int[] idx = new int[n];
                for (int i = 0; i < n; i++) idx[i] = next + i;
                next += n;
                return idx;
            }
        };
        return new Loader(dataset, inOrder, transforms, false, 0, 0, options);
    }

    /** The number of batches of an evaluation pass over {@code dataset} with {@code batchSize}. */
    public static int evaluationBatches(Dataset dataset, int batchSize) {
        return (dataset.size() + batchSize - 1) / batchSize;
    }

    public Transforms transforms() {
        return transforms;
    }

    public Dataset dataset() {
        return dataset;
    }

    @Override
    public boolean hasNext() {
        ensureOpen();
        fill();
        return !inFlight.isEmpty();
    }

    /**
     * The next batch, waiting for it if needed.
     *
     * @throws UncheckedIOException if a batch could not be made (e.g. no readable image at all)
     */
    @Override
    public Batch next() {
        ensureOpen();
        fill();
        Pending head = inFlight.poll();
        if (head == null) throw new NoSuchElementException("no more batches");
        fill(); // keep the workers busy while the caller uses this batch
        Batch b;
        try {
            b = head.result().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while waiting for batch " + head.number());
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof UncheckedIOException u) throw new UncheckedIOException("batch " + head.number() + ": "
                    + u.getCause().getMessage(), u.getCause());
            if (c instanceof Error err) throw err;
            throw new IllegalStateException("batch " + head.number() + " failed: " + c, c);
        }
        nextToDeliver = head.number() + 1;
        if (head.stateAfter() != null) samplerState = head.stateAfter();
        return b;
    }

    /** The number the next delivered batch will have. */
    public long nextBatchNumber() {
        return nextToDeliver;
    }

    /**
     * The sampler position right after the last delivered batch (the position at creation if none
     * was delivered): restore it into a new sampler, and pass {@link #nextBatchNumber()} as the
     * new loader's {@code firstBatchNumber}, to continue exactly.
     *
     * @throws IllegalStateException if the batches do not come from an {@link MPerClassSampler}
     */
    public MPerClassSampler.State samplerState() {
        if (samplerState == null) throw new IllegalStateException("this loader's batches do not come from an MPerClassSampler");
        return samplerState;
    }

    /** The number of distinct image files found unreadable so far (each was warned about once). */
    public long skippedCount() {
        return unreadable.size();
    }

    /** The number of batch items whose image was unreadable (replaced in training, zeros in evaluation). */
    public long replacedCount() {
        return replaced.get();
    }

    /** Stops the worker threads; batches in preparation are dropped. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (Pending p : inFlight) p.result().cancel(false);
        inFlight.clear();
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("loader is closed");
    }

    /** Submits batches until {@code prefetch} are in preparation or the source is exhausted. */
    private void fill() {
        while (inFlight.size() < options.prefetch() && source.hasNext()) {
            int[] indices = source.next().clone();
            for (int i : indices) {
                if (i < 0 || i >= dataset.size()) {
                    throw new IndexOutOfBoundsException("index " + i + " is outside " + dataset.name() + " (size "
                            + dataset.size() + ")");
                }
            }
            MPerClassSampler.State after = source instanceof MPerClassSampler s ? s.state() : null;
            long number = nextToSubmit++;
            inFlight.add(new Pending(number, submit(number, indices), after));
        }
    }

    private CompletableFuture<Batch> submit(long number, int[] indices) {
        int n = indices.length;
        float[] pixels = new float[n * sampleLength];
        long[] labels = new long[n];
        int[] loaded = new int[n];
        long batchSeed = Rng.stream(seed, number).nextLong();
        CompletableFuture<?>[] items = new CompletableFuture<?>[n];
        for (int j = 0; j < n; j++) {
            final int pos = j;
            items[j] = CompletableFuture.runAsync(() -> loadItem(batchSeed, pos, indices[pos], pixels, labels, loaded), pool);
        }
        return CompletableFuture.allOf(items).thenApply(v -> new Batch(pixels, labels, loaded, transforms.channels(),
                transforms.crop(), number));
    }

    private void loadItem(long batchSeed, int pos, int index, float[] pixels, long[] labels, int[] loaded) {
        int offset = pos * sampleLength;
        Planes p = tryLoad(index);
        int chosen = index;
        if (p == null) {
            replaced.incrementAndGet();
            if (!train) {
                // Zeros: the mean image after normalization. Index and label are kept.
                labels[pos] = dataset.label(index);
                loaded[pos] = index;
                return;
            }
            Rng pick = Rng.stream(batchSeed, 2L * pos + 1);
            Loaded found = replacement(index, pick);
            chosen = found.index();
            p = found.planes();
        }
        if (train) {
            transforms.train(p, Rng.stream(batchSeed, 2L * pos), pixels, offset);
        } else {
            transforms.eval(p, pixels, offset);
        }
        labels[pos] = dataset.label(chosen);
        loaded[pos] = chosen;
    }

    private record Loaded(int index, Planes planes) {
    }

    /** The first readable image of the class of {@code index} in {@code pick}'s order, else of any class. */
    private Loaded replacement(int index, Rng pick) {
        int c = dataset.classIndex(dataset.label(index));
        int[] members = dataset.membersOfClass(c).clone();
        pick.shuffle(members);
        for (int i : members) {
            if (i == index) continue;
            Planes p = tryLoad(i);
            if (p != null) return new Loaded(i, p);
        }
        int[] all = new int[dataset.size()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        pick.shuffle(all);
        for (int i : all) {
            if (dataset.label(i) == dataset.label(index)) continue;
            Planes p = tryLoad(i);
            if (p != null) {
                options.warnings().accept("warning: no readable image in class " + dataset.label(index) + " of "
                        + dataset.name() + "; " + dataset.source(index).describe() + " is replaced by "
                        + dataset.source(i).describe() + " of class " + dataset.label(i));
                return new Loaded(i, p);
            }
        }
        throw new UncheckedIOException(new IOException("no readable image in " + dataset.name()));
    }

    /** The planes of image {@code index}, or null (after one warning per file) if it cannot be read. */
    private Planes tryLoad(int index) {
        ImageSource src = dataset.source(index);
        if (unreadable.contains(src)) return null;
        try {
            return transforms.load(src);
        } catch (ClosedByInterruptException e) {
            throw new CancellationException("loader closed");
        } catch (IOException | RuntimeException e) {
            if (closed || Thread.currentThread().isInterrupted()) throw new CancellationException("loader closed");
            if (unreadable.add(src)) {
                options.warnings().accept("warning: skipping unreadable image " + src.describe() + " (" + reason(e)
                        + "); " + (train ? "it is replaced by another image of the same class"
                                : "its slot is filled with the mean image")
                        + "; unreadable images so far: " + unreadable.size());
            }
            return null;
        }
    }

    private static String reason(Exception e) {
        if (e instanceof UndecodableImageException u) return u.reason();
        if (e instanceof NoSuchFileException) return "file not found";
        if (e instanceof AccessDeniedException) return "permission denied";
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
