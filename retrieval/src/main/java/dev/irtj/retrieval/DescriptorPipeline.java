package dev.irtj.retrieval;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.eval.Pca;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.ImageSource;
import dev.irtj.train.data.Transforms;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import dev.irtj.vit.image.Preprocess;
import dev.irtj.vit.image.UndecodableImageException;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The one descriptor pipeline: image → decode → eval transform (resize the shorter side to
 * {@code size / cropPct}, center crop, normalize) → ViT → pooling → L2 → optional PCA (project,
 * L2). {@code irt embed}, {@code irt eval}, the trainer's periodic evaluation, the index and the
 * service all compute descriptors here, so they agree bit for bit.
 *
 * <p>Decoding runs on {@code workers} threads one batch ahead of the model; the model runs on
 * the calling thread, one batch at a time. Descriptors of a dataset stay on the model's device
 * ({@link #describe(Dataset)}). Forward passes are serialized (the methods are synchronized), so
 * one pipeline can serve concurrent requests.
 */
public final class DescriptorPipeline implements ImageDescriber, AutoCloseable {
    /**
     * @param batch images per forward pass
     * @param workers decoding threads
     * @param device where the model runs
     * @param warnings where per-file warnings go (one line each)
     */
    public record Options(int batch, int workers, Device device, Consumer<String> warnings) {
        public Options {
            if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
            if (workers < 1) throw new IllegalArgumentException("--workers must be at least 1, got " + workers);
            if (warnings == null) warnings = s -> { };
        }

        public static Options defaults() {
            return new Options(32, Math.max(1, Runtime.getRuntime().availableProcessors()), Device.CPU, System.err::println);
        }

        public Options withBatch(int n) {
            return new Options(n, workers, device, warnings);
        }

        public Options withWorkers(int n) {
            return new Options(batch, n, device, warnings);
        }

        public Options withDevice(Device d) {
            return new Options(batch, workers, d, warnings);
        }

        public Options withWarnings(Consumer<String> sink) {
            return new Options(batch, workers, device, sink);
        }
    }

    /**
     * Descriptors of a list of images.
     *
     * @param vectors [n, dims] F32 on the model's device, one row per image that could be decoded
     * @param rows for each row of {@code vectors}, the position of its image in the input
     * @param failures one line per image that could not be decoded (path and reason)
     */
    public record Descriptors(Tensor vectors, int[] rows, List<String> failures) {
        public int skipped() {
            return failures.size();
        }
    }

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final VisionTransformer model;
    private final Pooling pooling;
    private final Transforms transform;
    private final double cropPct;
    private final Pca pca;
    private final String weightsHash;
    private final String pcaHash;
    private final String source;
    private final String origin;
    private final Options options;
    private final String fingerprint;
    private ExecutorService decoders;

    private DescriptorPipeline(VisionTransformer model, Pooling pooling, double cropPct, Pca pca, String weightsHash, String pcaHash,
                               String source, String origin, Options options) {
        ViTConfig c = model.config();
        if (pca != null && pca.inputDims() != c.embedDim()) {
            throw new IllegalArgumentException("PCA of " + pca.inputDims() + "-d descriptors for a model of dim " + c.embedDim());
        }
        this.model = model;
        this.pooling = pooling;
        this.cropPct = cropPct;
        this.transform = evalTransform(c.imgSize(), c.inChans(), cropPct);
        this.pca = pca;
        this.weightsHash = weightsHash;
        this.pcaHash = pcaHash;
        this.source = source;
        this.origin = origin;
        this.options = options;
        this.fingerprint = fingerprint(c, model.distilled(), pooling, transform, weightsHash, pcaHash);
    }

    /** Loads the model of {@code source} onto {@code options.device()}. */
    public static DescriptorPipeline open(ModelSource source, Options options) throws IOException {
        ModelSource.Loaded l = source.load();
        l.model().to(options.device());
        l.model().eval();
        return new DescriptorPipeline(l.model(), l.pooling(), source.crop(), l.pca(), l.weightsHash(), l.pcaHash(),
                source.toJson(), l.origin(), options);
    }

    /** Reopens the describer an index recorded ({@link ImageDescriber#source()}), on the default device. */
    public static ImageDescriber reopen(String source) throws IOException {
        return open(ModelSource.fromJson(source), Options.defaults().withDevice(dev.irtj.tensor.Devices.auto()));
    }

    /**
     * A pipeline over a model in memory (the trainer's, during periodic evaluation). Its
     * fingerprint names the model shape but not its weights, which keep changing; such a
     * pipeline cannot be reopened ({@link #source()} is {@code "{}"}).
     */
    public static DescriptorPipeline of(VisionTransformer model, Pooling pooling, double cropPct, Pca pca, Options options) {
        return new DescriptorPipeline(model, pooling, cropPct, pca, "in-memory@" + Integer.toHexString(System.identityHashCode(model)),
                null, "{}", "a model in memory", options);
    }

    /** The same pipeline with another PCA (null: none), e.g. to fit one on raw descriptors. */
    public DescriptorPipeline withPca(Pca newPca, String newPcaHash) {
        return new DescriptorPipeline(model, pooling, cropPct, newPca, weightsHash, newPcaHash, source, origin, options);
    }

    /** The eval transform for a model of input {@code size}: shorter side to floor(size / cropPct), center crop. */
    public static Transforms evalTransform(int size, int channels, double cropPct) {
        if (!(cropPct > 0 && cropPct <= 1)) throw new IllegalArgumentException("--crop-pct must be in (0, 1], got " + cropPct);
        int resize = Math.max(size, (int) Math.floor(size / cropPct + 1e-9));
        return new Transforms(resize, size, channels, false, Transforms.defaultMean(channels), Transforms.defaultStd(channels));
    }

    public VisionTransformer model() {
        return model;
    }

    public Pooling pooling() {
        return pooling;
    }

    public Pca pca() {
        return pca;
    }

    public Transforms transform() {
        return transform;
    }

    /** The eval transform's center-crop fraction. */
    public double cropPct() {
        return cropPct;
    }

    public Options options() {
        return options;
    }

    @Override
    public int dims() {
        return pca != null ? pca.outputDims() : model.config().embedDim();
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public String describe() {
        ViTConfig c = model.config();
        return String.format(Locale.ROOT, "ViT %dpx patch %d dim %d depth %d heads %d, %d channel(s), %s pooling, crop %.3g%s, %d-d (%s)",
                c.imgSize(), c.patchSize(), c.embedDim(), c.depth(), c.numHeads(), c.inChans(), pooling.name().toLowerCase(Locale.ROOT),
                cropPct, pca == null ? "" : ", PCA " + pca.outputDims(), dims(), origin);
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public synchronized float[] describe(BufferedImage image) {
        float[] x = transform.eval(Preprocess.toPlanarFloat(image, transform.channels()));
        try (NoGrad ignored = NoGrad.enter(); MemoryScope scope = MemoryScope.open()) {
            return forward(x, 1).toFloatArray();
        }
    }

    @Override
    public float[] describe(Path file) throws IOException {
        Decoded d = decode(ImageSource.file(file));
        if (d.error() != null) throw new UndecodableImageException(file, d.error());
        synchronized (this) {
            try (NoGrad ignored = NoGrad.enter(); MemoryScope scope = MemoryScope.open()) {
                return forward(d.pixels(), 1).toFloatArray();
            }
        }
    }

    @Override
    public void describeAll(List<Path> files, Consumer<Described> sink) {
        List<ImageSource> sources = new ArrayList<>(files.size());
        for (Path f : files) sources.add(ImageSource.file(f));
        run(sources, (start, decoded, vectors, scope) -> {
            float[] all = vectors == null ? new float[0] : vectors.toFloatArray();
            int d = dims(), row = 0;
            for (int i = 0; i < decoded.length; i++) {
                Decoded x = decoded[i];
                Path f = files.get(start + i);
                if (x.error() == null) {
                    sink.accept(new Described(f, Arrays.copyOfRange(all, row * d, (row + 1) * d), x.width(), x.height(), null));
                    row++;
                } else {
                    sink.accept(new Described(f, null, 0, 0, x.error()));
                }
            }
        });
    }

    /** Descriptors of every image of {@code dataset} that can be decoded, on the model's device, in dataset order. */
    public Descriptors describe(Dataset dataset) {
        List<ImageSource> sources = new ArrayList<>(dataset.size());
        for (int i = 0; i < dataset.size(); i++) sources.add(dataset.source(i));
        return describeSources(sources);
    }

    /** As {@link #describe(Dataset)} for any list of image sources. */
    public Descriptors describeSources(List<ImageSource> sources) {
        List<Tensor> parts = new ArrayList<>();
        int[] rows = new int[sources.size()];
        int[] n = {0};
        List<String> failures = new ArrayList<>();
        run(sources, (start, decoded, vectors, scope) -> {
            for (int i = 0; i < decoded.length; i++) {
                if (decoded[i].error() == null) {
                    rows[n[0]++] = start + i;
                } else {
                    failures.add(sources.get(start + i).describe() + ": " + decoded[i].error());
                }
            }
            if (vectors != null) parts.add(scope.keep(vectors));
        });
        Tensor all = parts.isEmpty() ? Tensor.zeros(model.device(), dev.irtj.tensor.DType.F32, 0, dims())
                : parts.size() == 1 ? parts.get(0) : Tensor.cat(parts, 0);
        return new Descriptors(all, Arrays.copyOf(rows, n[0]), List.copyOf(failures));
    }

    @Override
    public synchronized void close() {
        if (decoders != null) decoders.shutdownNow();
        decoders = null;
    }

    // ---- the loop ------------------------------------------------------------------------------

    private record Decoded(float[] pixels, int width, int height, String error) {
    }

    /** Receives each batch: its start position, what decoding gave, [ok, dims] descriptors (null when none decoded) and the batch's scope (keep what outlives it). */
    private interface BatchSink {
        void accept(int start, Decoded[] decoded, Tensor vectors, MemoryScope batchScope);
    }

    private synchronized void run(List<ImageSource> sources, BatchSink sink) {
        boolean wasTraining = model.isTraining();
        model.eval();
        ExecutorService pool = decoders();
        int b = options.batch();
        try (NoGrad ignored = NoGrad.enter()) {
            List<Future<Decoded>> next = submit(pool, sources, 0, b);
            for (int start = 0; start < sources.size(); start += b) {
                List<Future<Decoded>> current = next;
                next = submit(pool, sources, start + b, b); // decode the next batch while this one runs
                Decoded[] decoded = new Decoded[current.size()];
                int ok = 0;
                for (int i = 0; i < decoded.length; i++) {
                    decoded[i] = await(current.get(i));
                    if (decoded[i].error() == null) {
                        ok++;
                    } else {
                        options.warnings().accept("warning: skipping " + sources.get(start + i).describe() + ": " + decoded[i].error());
                    }
                }
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor vectors = null;
                    if (ok > 0) {
                        int per = transform.sampleLength();
                        float[] input = new float[ok * per];
                        int row = 0;
                        for (Decoded d : decoded) if (d.error() == null) System.arraycopy(d.pixels(), 0, input, per * row++, per);
                        vectors = forward(input, ok);
                    }
                    sink.accept(start, decoded, vectors, scope);
                }
            }
        } finally {
            model.train(wasTraining);
        }
    }

    private List<Future<Decoded>> submit(ExecutorService pool, List<ImageSource> sources, int start, int b) {
        List<Future<Decoded>> out = new ArrayList<>();
        for (int i = start; i < Math.min(sources.size(), start + b); i++) {
            ImageSource s = sources.get(i);
            out.add(pool.submit(() -> decode(s)));
        }
        return out;
    }

    private static Decoded await(Future<Decoded> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while decoding images");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException("decoding failed: " + e.getCause(), e.getCause());
        }
    }

    /** Decode and transform; a file that cannot be read gives the reason instead of throwing. */
    private Decoded decode(ImageSource s) {
        try {
            Preprocess.Planes p = transform.load(s);
            return new Decoded(transform.eval(p), p.width(), p.height(), null);
        } catch (UndecodableImageException e) {
            return new Decoded(null, 0, 0, e.reason());
        } catch (NoSuchFileException e) {
            return new Decoded(null, 0, 0, "file not found");
        } catch (AccessDeniedException e) {
            return new Decoded(null, 0, 0, "permission denied");
        } catch (IOException | RuntimeException e) {
            return new Decoded(null, 0, 0, e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        } catch (OutOfMemoryError e) {
            return new Decoded(null, 0, 0, "image too large to decode in this heap");
        }
    }

    /** [n, dims] descriptors of n transformed images, on the model's device, in the current scope. */
    private Tensor forward(float[] input, int n) {
        ViTConfig c = model.config();
        Tensor x = Tensor.of(input, n, c.inChans(), c.imgSize(), c.imgSize()).to(model.device());
        Tensor d = model.descriptor(Var.constant(x), pooling).data();
        return pca == null ? d : pca.apply(d);
    }

    private synchronized ExecutorService decoders() {
        if (decoders == null) {
            int id = POOLS.incrementAndGet();
            AtomicInteger thread = new AtomicInteger();
            decoders = Executors.newFixedThreadPool(options.workers(), r -> {
                Thread t = new Thread(r, "irtj-decode-" + id + "-" + thread.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        return decoders;
    }

    private static String fingerprint(ViTConfig c, boolean distilled, Pooling pooling, Transforms t, String weightsHash, String pcaHash) {
        String text = String.join("|", "irtj-descriptor/1", weightsHash, c.toString(), Boolean.toString(distilled), pooling.name(),
                Integer.toString(t.resize()), Integer.toString(t.crop()), Integer.toString(t.channels()), Arrays.toString(t.mean()),
                Arrays.toString(t.std()), pcaHash == null ? "no-pca" : pcaHash);
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
