package dev.irtj.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.objective.Objective;
import dev.irtj.train.objective.Step;
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

/**
 * The training loop, for any {@link Objective}: the objective's loss of a batch, AdamW, the
 * objective's after-step update (e.g. its memory). It logs one JSON line per logging step to
 * {@code RUN/metrics.jsonl}, evaluates periodically (a line per evaluation, and the best model
 * kept, see {@link BestCheckpoint}), and checkpoints every N steps and at the end; a run resumed
 * from its last checkpoint ends bit-identical to an uninterrupted one.
 */
public final class Trainer {

    /** Loop settings; {@link #builder()} starts from the paper's optimizer recipe. */
    public static final class Config {
        private final int iterations;
        private final double lr;
        private final double weightDecay;
        private final int warmup;
        private final boolean cosine;
        private final Pooling pooling;
        private final long seed;
        private final int logEvery;
        private final int evalEvery;
        private final int checkpointEvery;
        private final double clipNorm;

        private Config(Builder b) {
            if (b.iterations < 0) throw new IllegalArgumentException("iterations must be >= 0, got " + b.iterations);
            if (!(b.lr > 0) || !Double.isFinite(b.lr) || !(b.weightDecay >= 0) || !(b.clipNorm >= 0)) {
                throw new IllegalArgumentException("lr must be positive, weight decay and clip norm >= 0; got " + b.lr + ", " + b.weightDecay + ", " + b.clipNorm);
            }
            if (b.warmup < 0) throw new IllegalArgumentException("warmup must be >= 0, got " + b.warmup);
            if (b.logEvery < 1 || b.checkpointEvery < 0 || b.evalEvery < 0) throw new IllegalArgumentException("logEvery must be >= 1, evalEvery and checkpointEvery >= 0");
            iterations = b.iterations;
            lr = b.lr;
            weightDecay = b.weightDecay;
            warmup = b.warmup;
            cosine = b.cosine;
            pooling = b.pooling;
            seed = b.seed;
            logEvery = b.logEvery;
            evalEvery = b.evalEvery;
            checkpointEvery = b.checkpointEvery;
            clipNorm = b.clipNorm;
        }

        /** AdamW lr 3e-5, weight decay 5e-4, constant LR, no warm-up, no clipping, CLS descriptor, seed 0, a log line every 10, a checkpoint every 1000 steps, no periodic evaluation. */
        public static Builder builder() {
            return new Builder();
        }

        /** This configuration as a builder, e.g. to change the iterations of a resumed run. */
        public Builder toBuilder() {
            return new Builder().iterations(iterations).lr(lr).weightDecay(weightDecay).warmup(warmup).cosine(cosine).pooling(pooling)
                    .seed(seed).logEvery(logEvery).evalEvery(evalEvery).checkpointEvery(checkpointEvery).clipNorm(clipNorm);
        }

        public int iterations() { return iterations; }
        public double lr() { return lr; }
        public double weightDecay() { return weightDecay; }
        public int warmup() { return warmup; }
        public boolean cosine() { return cosine; }
        public Pooling pooling() { return pooling; }
        public long seed() { return seed; }
        public int logEvery() { return logEvery; }
        public int evalEvery() { return evalEvery; }
        public int checkpointEvery() { return checkpointEvery; }
        public double clipNorm() { return clipNorm; }

        /**
         * The learning rate of each iteration. It depends on {@link #iterations()} only through
         * a cosine decay's horizon: extending a run with a constant or warm-up-only schedule
         * continues exactly as an uninterrupted longer run; extending a cosine run re-aims its
         * decay at the new last iteration from the resume step on.
         */
        public LrSchedule schedule() {
            if (cosine) return LrSchedule.cosine(lr, 0, warmup, Math.max(1, iterations));
            return warmup > 0 ? it -> lr * Math.min(1.0, (it + 1.0) / warmup) : LrSchedule.constant(lr);
        }

        /** The settings that decide the result (cadence of logs, evaluations and checkpoints left out). */
        public Map<String, Object> settings() {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("iterations", iterations);
            s.put("lr", lr);
            s.put("weight_decay", weightDecay);
            s.put("warmup", warmup);
            s.put("schedule", cosine ? "cosine" : "constant");
            s.put("clip", clipNorm);
            s.put("pooling", pooling.name());
            s.put("seed", seed);
            return s;
        }
    }

    /** Named settings with defaults; see {@link Config#builder()}. */
    public static final class Builder {
        private int iterations = 1000;
        private double lr = 3e-5;
        private double weightDecay = 5e-4;
        private int warmup;
        private boolean cosine;
        private Pooling pooling = Pooling.CLS;
        private long seed;
        private int logEvery = 10;
        private int evalEvery;
        private int checkpointEvery = 1000;
        private double clipNorm;

        private Builder() {
        }

        public Builder iterations(int v) { iterations = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        /** Linear warm-up iterations (0 = none). */
        public Builder warmup(int v) { warmup = v; return this; }
        /** Cosine decay to 0 at the last iteration (false = constant after the warm-up). */
        public Builder cosine(boolean v) { cosine = v; return this; }
        public Builder pooling(Pooling v) { pooling = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder logEvery(int v) { logEvery = v; return this; }
        /** Evaluate every N iterations (0 = never). */
        public Builder evalEvery(int v) { evalEvery = v; return this; }
        /** Checkpoint every N iterations (0 = only at the end). */
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        /** Clip the global gradient norm (0 = off). */
        public Builder clipNorm(double v) { clipNorm = v; return this; }

        public Config build() {
            return new Config(this);
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

    /** Periodic evaluation; returns named figures such as recall@1 (higher is better). */
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
    private final Objective objective;
    private final Config config;
    private final BatchSource source;
    private final Evaluator evaluator;
    private final Listener listener;
    private final Path runDir;
    private final Map<String, Parameter> objectiveParameters;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final BestCheckpoint best;
    private final List<Map<String, Double>> evaluations = new ArrayList<>();
    private long step;

    public Trainer(VisionTransformer model, Objective objective, Config config, BatchSource source, Evaluator evaluator, Listener listener,
                   Path runDir) {
        this.model = model;
        this.objective = objective;
        this.config = config;
        this.source = source;
        this.evaluator = evaluator;
        this.listener = listener;
        this.runDir = runDir;
        // Everything trains where the model's parameters are (see Module.to).
        objective.attach(model);
        this.objectiveParameters = new LinkedHashMap<>(objective.parameters());
        Map<String, Parameter> params = new LinkedHashMap<>(model.namedParameters());
        objectiveParameters.forEach((n, p) -> {
            if (params.put(n, p) != null) throw new IllegalArgumentException("objective " + objective.name() + " names a parameter '" + n + "' the model has");
        });
        this.optimizer = new AdamW(params, config.lr(), 0.9, 0.999, 1e-8, config.weightDecay());
        this.schedule = config.schedule();
        this.best = new BestCheckpoint(runDir);
    }

    public long step() {
        return step;
    }

    public VisionTransformer model() {
        return model;
    }

    public Objective objective() {
        return objective;
    }

    public List<Map<String, Double>> evaluations() {
        return evaluations;
    }

    /** Continues from the run directory's checkpoint, if there is one; returns the step reached. */
    public long resumeIfPossible() throws IOException {
        if (!Checkpoint.exists(runDir)) return 0;
        Checkpoint.Loaded c = Checkpoint.load(runDir);
        if (c.step() > config.iterations()) {
            throw new IllegalArgumentException(runDir + " has reached step " + c.step() + ", beyond the " + config.iterations() + " iterations asked for");
        }
        Map<String, Tensor> modelState = new LinkedHashMap<>(), adam = new LinkedHashMap<>();
        c.tensors().forEach((name, t) -> {
            if (name.startsWith("model.")) modelState.put(name.substring(6), t);
            else if (name.startsWith("adam.")) adam.put(name.substring(5), t);
        });
        model.loadStateDict(modelState, c.file().toString(), n -> false);
        objective.loadState(c.tensors(), c.file().toString());
        optimizer.loadState(adam, c.state().path("optimizer_step").asLong());
        ArrayNode sampler = (ArrayNode) c.state().get("source");
        long[] s = new long[sampler.size()];
        for (int i = 0; i < s.length; i++) s[i] = sampler.get(i).asLong();
        source.restore(s);
        best.restore(c.state().get("best"));
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
                ObjectNode node = Checkpoint.json().createObjectNode();
                line.forEach(node::put);
                appendMetrics(node);
                if (listener != null) listener.onStep(step, config.iterations(), line);
                sums.clear();
                windowSteps = 0;
                windowImages = 0;
                windowStart = System.nanoTime();
            }
            if (evaluator != null && config.evalEvery() > 0 && step % config.evalEvery() == 0) {
                Map<String, Double> figures = evaluate();
                ObjectNode node = Checkpoint.json().createObjectNode();
                ObjectNode eval = node.putObject("eval");
                figures.forEach((k, v) -> {
                    if (!k.equals("step")) eval.put(k, v);
                });
                appendMetrics(node);
                best.offer(step, figures, model);
            }
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
            Step s = new Step(model, config.pooling(), Var.constant(batch.images().to(model.device())), batch.labels(), step);
            Objective.Loss loss = objective.loss(s);
            model.zeroGrad();
            for (Parameter p : objectiveParameters.values()) p.zeroGrad();
            loss.total().backward();
            Tensor gradNorm = config.clipNorm() > 0 ? optimizer.clipGradNorm(config.clipNorm()) : null;
            optimizer.setLr(schedule.at(step));
            optimizer.step();
            objective.afterStep(s);
            // The step's work is queued; its scalars now come to the host together, the step's
            // one wait (none at all on the CPU). A non-finite loss stops the run before any
            // checkpoint of this step is written, so the last one on disk is the last good one.
            List<String> names = new ArrayList<>();
            List<Tensor> scalars = new ArrayList<>();
            names.add("loss");
            scalars.add(loss.total().data());
            loss.terms().forEach((n, v) -> {
                names.add(n);
                scalars.add(v.data());
            });
            if (gradNorm != null) {
                names.add("grad_norm");
                scalars.add(gradNorm);
            }
            double[] values = readScalars(scalars);
            if (!Double.isFinite(values[0])) {
                throw new NonFiniteLossException("the loss became " + values[0] + " at step " + (step + 1) + "; training stopped. "
                        + (Checkpoint.exists(runDir) ? "The last good checkpoint is kept: " + runDir.resolve(Checkpoint.INDEX)
                        : "No checkpoint had been written yet."));
            }
            for (int i = 1; i < names.size(); i++) metrics.put(names.get(i), values[i]);
            metrics.put("loss", values[0]);
        }
        metrics.put("batch", (double) batch.labels().length);
        return metrics;
    }

    /** One host transfer for all of a step's scalars (each a one-element tensor on the device). */
    private static double[] readScalars(List<Tensor> scalars) {
        List<Tensor> column = new ArrayList<>(scalars.size());
        for (Tensor t : scalars) {
            if (t.numel() != 1) throw new IllegalStateException("a loss term must be a scalar, got shape " + java.util.Arrays.toString(t.shape()));
            column.add(t.reshape(1).to(DType.F64));
        }
        return Tensor.cat(column, 0).toDoubleArray();
    }

    /** Writes weights, optimizer moments and the objective's state, then the index. */
    public void saveCheckpoint() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.stateDict().forEach((n, t) -> tensors.put("model." + n, t));
        optimizer.state().forEach((n, t) -> tensors.put("adam." + n, t));
        objective.state().forEach((n, t) -> {
            if (n.startsWith("model.") || n.startsWith("adam.") || tensors.put(n, t) != null) {
                throw new IllegalStateException("objective " + objective.name() + " checkpoints a tensor '" + n + "' whose name is taken");
            }
        });
        ObjectNode state = Checkpoint.json().createObjectNode();
        state.put("optimizer_step", optimizer.stepCount());
        ArrayNode s = state.putArray("source");
        for (long v : source.state()) s.add(v);
        state.put("objective", objective.name());
        state.put("seed", config.seed());
        JsonNode kept = best.state();
        if (kept != null) state.set("best", kept);
        Checkpoint.save(runDir, step, tensors, state);
    }

    private void appendMetrics(ObjectNode fields) throws IOException {
        ObjectNode node = Checkpoint.json().createObjectNode();
        node.put("step", step);
        node.setAll(fields);
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
