package dev.irtj.train;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.Linear;
import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.loss.ContrastiveLoss;
import dev.irtj.train.loss.CrossBatchMemory;
import dev.irtj.train.loss.CrossEntropyLoss;
import dev.irtj.train.loss.KoLeoLoss;
import dev.irtj.train.optim.AdamW;
import dev.irtj.train.optim.LrSchedule;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.VisionTransformer;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The IRT training loop: descriptors of a batch, the contrastive loss against the batch and the
 * cross-batch memory, plus λ·KoLeo; AdamW; the memory refilled from the batch (or from a
 * momentum encoder). It logs one JSON line per logging step to {@code RUN/metrics.jsonl},
 * evaluates periodically, and checkpoints every N steps and at the end; a run resumed from its
 * last checkpoint ends bit-identical to an uninterrupted one. Cross-entropy with a linear head
 * is the other objective (classification pretraining).
 */
public final class Trainer {

    public enum Objective { CONTRASTIVE, CROSS_ENTROPY }

    /** Settings; {@link #paperDefaults()} has the paper's recipe. */
    public record Config(Objective objective, int iterations, double lr, double weightDecay, int warmup, boolean cosine,
                         double beta, double lambda, int memorySize, int memoryStart, double momentum, Pooling pooling,
                         long seed, int logEvery, int evalEvery, int checkpointEvery, double clipNorm, int numClasses) {

        public Config {
            if (iterations < 0) throw new IllegalArgumentException("iterations must be >= 0");
            if (objective == Objective.CROSS_ENTROPY && numClasses < 2) throw new IllegalArgumentException("cross-entropy needs at least 2 classes");
            if (logEvery < 1 || checkpointEvery < 0 || evalEvery < 0) throw new IllegalArgumentException("logEvery must be >= 1, evalEvery and checkpointEvery >= 0");
        }

        /** AdamW lr 3e-5, wd 5e-4, β 0.5, λ 0.7, constant LR, CLS descriptor, memory set by the caller. */
        public static Config paperDefaults(int iterations, int memorySize) {
            return new Config(Objective.CONTRASTIVE, iterations, 3e-5, 5e-4, 0, false, 0.5, 0.7, memorySize, 0, 0.0,
                    Pooling.CLS, 0, 10, 0, 1000, 0.0, 0);
        }
    }

    /** Where batches come from; its state is checkpointed so a resume sees the same batches. */
    public interface BatchSource {
        Batch next();

        long[] state();

        void restore(long[] state);
    }

    public record Batch(Tensor images, long[] labels) {
    }

    /** Periodic evaluation; returns named figures such as recall@1. */
    public interface Evaluator {
        Map<String, Double> evaluate(VisionTransformer model);
    }

    /** Progress reports for a console. */
    public interface Listener {
        void onStep(long step, long total, Map<String, Double> metrics);

        default void onEval(long step, Map<String, Double> figures) {
        }
    }

    private final VisionTransformer model;
    private final Linear head;
    private final Config config;
    private final BatchSource source;
    private final Evaluator evaluator;
    private final Listener listener;
    private final Path runDir;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final CrossBatchMemory memory;
    private final MomentumEncoder momentum;
    private final ContrastiveLoss contrastive;
    private final KoLeoLoss koleo = new KoLeoLoss();
    private final CrossEntropyLoss crossEntropy = new CrossEntropyLoss();
    private final List<Map<String, Double>> evaluations = new ArrayList<>();
    private long step;

    /**
     * @param emaFactory builds a second model of the same shape for the momentum encoder (used
     *                   only when {@code config.momentum() > 0})
     */
    public Trainer(VisionTransformer model, Config config, BatchSource source, Evaluator evaluator, Listener listener,
                   Path runDir, Supplier<VisionTransformer> emaFactory) {
        this.model = model;
        this.config = config;
        this.source = source;
        this.evaluator = evaluator;
        this.listener = listener;
        this.runDir = runDir;
        DType dtype = model.namedParameters().get("pos_embed").data().dtype();
        int dim = model.config().embedDim();
        this.head = config.objective() == Objective.CROSS_ENTROPY
                ? new Linear(dim, config.numClasses(), true, Rng.stream(config.seed(), 77), dtype) : null;
        // Everything trains where the model's parameters are (see Module.to).
        if (head != null) head.to(model.device());
        Map<String, Parameter> params = new LinkedHashMap<>(model.namedParameters());
        if (head != null) head.namedParameters().forEach((n, p) -> params.put("head." + n, p));
        this.optimizer = new AdamW(params, config.lr(), 0.9, 0.999, 1e-8, config.weightDecay());
        this.schedule = config.cosine() ? LrSchedule.cosine(config.lr(), 0, config.warmup(), Math.max(1, config.iterations()))
                : config.warmup() > 0 ? it -> config.lr() * Math.min(1.0, (it + 1.0) / config.warmup()) : LrSchedule.constant(config.lr());
        this.memory = config.objective() == Objective.CONTRASTIVE ? new CrossBatchMemory(config.memorySize(), dim) : null;
        this.momentum = config.momentum() > 0 && config.memorySize() > 0 ? new MomentumEncoder(emaFactory.get(), model, config.momentum()) : null;
        this.contrastive = new ContrastiveLoss(config.beta());
    }

    public long step() {
        return step;
    }

    public VisionTransformer model() {
        return model;
    }

    public Linear head() {
        return head;
    }

    public List<Map<String, Double>> evaluations() {
        return evaluations;
    }

    /** Continues from the run directory's checkpoint, if there is one; returns the step reached. */
    public long resumeIfPossible() throws IOException {
        if (!Checkpoint.exists(runDir)) return 0;
        Checkpoint.Loaded c = Checkpoint.load(runDir);
        Map<String, Tensor> modelState = new LinkedHashMap<>(), adam = new LinkedHashMap<>(), ema = new LinkedHashMap<>(), headState = new LinkedHashMap<>();
        c.tensors().forEach((name, t) -> {
            if (name.startsWith("model.")) modelState.put(name.substring(6), t);
            else if (name.startsWith("adam.")) adam.put(name.substring(5), t);
            else if (name.startsWith("ema.")) ema.put(name.substring(4), t);
            else if (name.startsWith("head.")) headState.put(name.substring(5), t);
        });
        model.loadStateDict(modelState, c.file().toString(), n -> false);
        if (head != null) head.loadStateDict(headState, c.file().toString(), n -> false);
        if (momentum != null) momentum.model().loadStateDict(ema, c.file().toString(), n -> false);
        if (memory != null && memory.capacity() > 0) memory.loadState(c.tensors());
        optimizer.loadState(adam, c.state().path("optimizer_step").asLong());
        ArrayNode sampler = (ArrayNode) c.state().get("source");
        long[] s = new long[sampler.size()];
        for (int i = 0; i < s.length; i++) s[i] = sampler.get(i).asLong();
        source.restore(s);
        step = c.step();
        truncateMetrics(step);
        return step;
    }

    /** Runs until {@code config.iterations()}; checkpoints at the end. */
    public void run() throws IOException {
        Files.createDirectories(runDir);
        long windowStart = System.nanoTime();
        int windowImages = 0;
        Map<String, Double> sums = new LinkedHashMap<>();
        int windowSteps = 0;
        while (step < config.iterations()) {
            Map<String, Double> m = trainStep();
            windowImages += m.remove("batch").intValue();
            windowSteps++;
            m.forEach((k, v) -> sums.merge(k, v, Double::sum));
            step++;
            if (step % config.logEvery() == 0 || step == config.iterations()) {
                double seconds = (System.nanoTime() - windowStart) / 1e9;
                Map<String, Double> line = new LinkedHashMap<>();
                for (Map.Entry<String, Double> e : sums.entrySet()) line.put(e.getKey(), e.getValue() / windowSteps);
                line.put("lr", optimizer.lr());
                line.put("images_per_s", windowImages / Math.max(seconds, 1e-9));
                writeMetrics(line);
                if (listener != null) listener.onStep(step, config.iterations(), line);
                sums.clear();
                windowSteps = 0;
                windowImages = 0;
                windowStart = System.nanoTime();
            }
            if (evaluator != null && config.evalEvery() > 0 && step % config.evalEvery() == 0) evaluate();
            if (config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0 && step < config.iterations()) saveCheckpoint();
        }
        saveCheckpoint();
    }

    /** Evaluates now (eval mode), records and reports the figures. */
    public Map<String, Double> evaluate() {
        model.eval();
        Map<String, Double> figures = new LinkedHashMap<>(evaluator.evaluate(model));
        figures.put("step", (double) step);
        evaluations.add(figures);
        if (listener != null) listener.onEval(step, figures);
        return figures;
    }

    private Map<String, Double> trainStep() {
        model.train(true);
        model.reseedStochasticDepth(config.seed(), step);
        Batch batch = source.next();
        Map<String, Double> metrics = new LinkedHashMap<>();
        try (MemoryScope ignored = MemoryScope.open()) {
            Var images = Var.constant(batch.images().to(model.device()));
            Var loss;
            Var embeddings = null;
            if (config.objective() == Objective.CROSS_ENTROPY) {
                loss = crossEntropy.apply(head.forward(model.features(images, config.pooling())), batch.labels());
                metrics.put("cross_entropy", loss.data().item());
            } else {
                embeddings = model.descriptor(images, config.pooling());
                boolean useMemory = memory.capacity() > 0 && memory.size() > 0 && step >= config.memoryStart();
                Var lc = useMemory
                        ? contrastive.apply(embeddings, batch.labels(), memory.contents(embeddings.dtype()).to(embeddings.data().device()), memory.labels())
                        : contrastive.apply(embeddings, batch.labels());
                metrics.put("contrastive", lc.data().item());
                loss = lc;
                if (config.lambda() > 0) {
                    Var lk = koleo.apply(embeddings);
                    metrics.put("koleo", lk.data().item());
                    loss = lc.add(lk.mul(config.lambda()));
                }
            }
            double value = loss.data().item();
            if (!Double.isFinite(value)) {
                throw new NonFiniteLossException("the loss became " + value + " at step " + (step + 1) + "; training stopped. "
                        + (Checkpoint.exists(runDir) ? "The last good checkpoint is kept: " + runDir.resolve(Checkpoint.INDEX)
                        : "No checkpoint had been written yet."));
            }
            metrics.put("loss", value);
            model.zeroGrad();
            if (head != null) head.zeroGrad();
            loss.backward();
            // The norm stays on the device until the step's work is queued; reading it is then the
            // step's one wait after the loss (none at all on the CPU).
            Tensor gradNorm = config.clipNorm() > 0 ? optimizer.clipGradNorm(config.clipNorm()) : null;
            optimizer.setLr(schedule.at(step));
            optimizer.step();
            if (memory != null && memory.capacity() > 0 && step + 1 >= config.memoryStart()) {
                if (momentum != null) {
                    momentum.update(model);
                    try (dev.irtj.autograd.NoGrad ng = dev.irtj.autograd.NoGrad.enter()) {
                        memory.enqueue(momentum.model().descriptor(images, config.pooling()).data(), batch.labels());
                    }
                } else {
                    memory.enqueue(embeddings.data(), batch.labels());
                }
            }
            if (gradNorm != null) metrics.put("grad_norm", gradNorm.item());
        }
        metrics.put("batch", (double) batch.labels().length);
        return metrics;
    }

    /** Writes weights, optimizer moments, memory and EMA weights, then the index. */
    public void saveCheckpoint() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.stateDict().forEach((n, t) -> tensors.put("model." + n, t));
        if (head != null) head.stateDict().forEach((n, t) -> tensors.put("head." + n, t));
        optimizer.state().forEach((n, t) -> tensors.put("adam." + n, t));
        if (momentum != null) momentum.model().stateDict().forEach((n, t) -> tensors.put("ema." + n, t));
        if (memory != null && memory.capacity() > 0) tensors.putAll(memory.state());
        ObjectNode state = Checkpoint.json().createObjectNode();
        state.put("optimizer_step", optimizer.stepCount());
        ArrayNode s = state.putArray("source");
        for (long v : source.state()) s.add(v);
        state.put("objective", config.objective().name());
        state.put("seed", config.seed());
        Checkpoint.save(runDir, step, tensors, state);
    }

    private void writeMetrics(Map<String, Double> line) throws IOException {
        ObjectNode node = Checkpoint.json().createObjectNode();
        node.put("step", step);
        line.forEach(node::put);
        try (BufferedWriter w = Files.newBufferedWriter(runDir.resolve("metrics.jsonl"), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            w.write(Checkpoint.json().writeValueAsString(node));
            w.newLine();
        }
    }

    /** After a resume, drops metric lines a killed run wrote past its last checkpoint. */
    private void truncateMetrics(long upTo) throws IOException {
        Path file = runDir.resolve("metrics.jsonl");
        if (!Files.exists(file)) return;
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) continue;
            try {
                if (Checkpoint.json().readTree(line).path("step").asLong() <= upTo) kept.add(line);
            } catch (IOException e) {
                // A line cut short by the kill: drop it.
            }
        }
        Files.write(file, kept);
    }
}
