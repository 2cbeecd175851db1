package dev.irtj.cli;

import dev.irtj.retrieval.RunConfig;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Rng;
import dev.irtj.train.Checkpoint;
import dev.irtj.train.RunLock;
import dev.irtj.vit.Pooling;
import dev.irtj.train.LoaderBatchSource;
import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ModelSource;
import dev.irtj.retrieval.RecallEvaluator;
import dev.irtj.train.RunSettings;
import dev.irtj.train.Trainer;
import dev.irtj.train.objective.Objective;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.Loader;
import dev.irtj.train.data.Transforms;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** One training run as the CLI does it: data, model, trainer, progress bar, final weights. */
final class TrainingRun {
    /** The weights a finished run leaves for eval and embed (timm names). */
    static final String WEIGHTS = ModelSource.RUN_WEIGHTS;

    private TrainingRun() {
    }

    /** {@code asked}: settings recorded as the user gave them besides what they resolved to (e.g. memory_ratio beside memory). */
    record Inputs(ViTConfig model, Path initialWeights, VisionTransformer initialModel, Dataset train, Dataset test, Dataset gallery,
                  int batch, int m, Objective objective, Trainer.Config config, Map<String, Object> asked, int[] recallKs, boolean resume, Path out, int workers,
                  Device device) {
    }

    record Outcome(VisionTransformer model, Trainer trainer, long skipped) {
    }

    /**
     * Where a run's batches come from, opened once the model exists (a tuple source mines with
     * it); {@code settings} are the data settings recorded in config.json and compared on --resume.
     */
    interface Batches {
        Map<String, Object> settings();

        Source open(VisionTransformer model, Transforms transforms, Loader.Options options);
    }

    /** An opened batch source, how to close it, and its count of unreadable images. */
    record Source(Trainer.BatchSource batches, AutoCloseable closer, java.util.function.LongSupplier skipped) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                closer.close();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
    }

    /** m-per-class batches of {@code in.train()} ({@link LoaderBatchSource}). */
    static Batches perClass(Inputs in) {
        return new Batches() {
            @Override
            public Map<String, Object> settings() {
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("batch", in.batch());
                data.put("m", in.m());
                return data;
            }

            @Override
            public Source open(VisionTransformer model, Transforms transforms, Loader.Options options) {
                LoaderBatchSource s = new LoaderBatchSource(in.train(), transforms, in.batch(), in.m(), in.config().seed(), options);
                return new Source(s, s, s::skipped);
            }
        };
    }

    /** Runs training with the run folder locked: a second writer of the same folder fails at once, naming the holder. */
    static Outcome run(Inputs in, PrintWriter log) throws IOException {
        return run(in, perClass(in), log);
    }

    /** As {@link #run(Inputs, PrintWriter)}, with batches from {@code batches} ({@code in.batch()} and {@code in.m()} then unused). */
    static Outcome run(Inputs in, Batches batches, PrintWriter log) throws IOException {
        RunLock lock;
        try {
            lock = RunLock.acquire(in.out());
        } catch (IOException e) {
            throw new UsageException("--out: " + e.getMessage());
        }
        try (lock) {
            return runLocked(in, batches, log);
        }
    }

    private static Outcome runLocked(Inputs in, Batches batches, PrintWriter log) throws IOException {
        if (Checkpoint.exists(in.out()) && !in.resume()) {
            throw new UsageException(in.out() + " already holds a training run; pass --resume to continue it or choose another --out");
        }
        VisionTransformer model;
        if (in.initialModel() != null) {
            model = in.initialModel();
        } else if (in.initialWeights() != null) {
            model = TimmCheckpoint.load(in.initialWeights(), in.model(), DType.F32);
        } else {
            model = new VisionTransformer(in.model(), new Rng(in.config().seed()), DType.F32);
        }
        if (in.config().pooling() == Pooling.CLS_DIST && !model.distilled()) throw new UsageException(Pooling.NEEDS_DISTILLED);
        model.to(in.device());
        Map<String, Object> data = new LinkedHashMap<>();
        data.putAll(batches.settings());
        data.put("train_images", in.train().size());
        data.putAll(in.asked());
        // Recorded as the model is, whichever way it came (a handed-over model may be distilled too).
        RunConfig runConfig = new RunConfig(in.model(), model.distilled(), in.config().pooling(), RunSettings.of(in.objective(), in.config(), data));
        long reached = in.resume() ? Checkpoint.latestStep(in.out()) : -1;
        if (reached > in.config().iterations()) {
            throw new UsageException("--iters " + in.config().iterations() + " is below the step " + reached + " that " + in.out()
                    + " has reached; pass --iters " + reached + " or more");
        }
        String extension = null;
        if (in.resume() && Files.exists(in.out().resolve(RunConfig.FILE))) {
            RunConfig previous = RunConfig.read(in.out());
            List<String> differ = new ArrayList<>();
            if (!previous.model().equals(runConfig.model())) differ.add("model: " + previous.model() + " → " + runConfig.model());
            differ.addAll(RunSettings.differences(RunConfig.json().valueToTree(previous.settings()), runConfig.settings(),
                    RunSettings.MAY_CHANGE_ON_RESUME));
            if (!differ.isEmpty()) {
                throw new UsageException("--resume with settings that differ from the run's " + in.out().resolve(RunConfig.FILE) + ": "
                        + String.join("; ", differ) + " (resume with the same options; only --iters may change)");
            }
            Object before = previous.settings().get("iterations");
            if (before instanceof Number n && n.longValue() != in.config().iterations() && reached >= 0) {
                extension = (n.longValue() < in.config().iterations() ? "extending " : "shortening ") + in.out() + " from " + n.longValue()
                        + " to " + in.config().iterations() + " iterations" + (in.config().cosine()
                        ? "; the cosine decay now ends at iteration " + in.config().iterations() + ", followed from step " + reached + " on"
                        : "; the learning-rate schedule does not depend on the length, so this equals an uninterrupted run of "
                        + in.config().iterations());
            }
        }

        Transforms transforms = Transforms.forModel(in.model().imgSize(), in.model().inChans());
        Loader.Options options = Loader.Options.defaults().withWorkers(in.workers());
        Trainer.Evaluator evaluator = in.config().evalEvery() > 0 && in.test() != null
                ? new RecallEvaluator(in.test(), in.gallery(), m -> DescriptorPipeline.of(m, in.config().pooling(), ModelSource.DEFAULT_CROP_PCT, null,
                        DescriptorPipeline.Options.defaults().withBatch(Math.max(in.batch(), 64)).withWorkers(in.workers()).withDevice(in.device())),
                        in.recallKs())
                : null;
        try (Source source = batches.open(model, transforms, options);
             ProgressBar bar = new ProgressBarBuilder().setTaskName(in.objective().name())
                     .setInitialMax(in.config().iterations()).setStyle(ProgressBarStyle.ASCII).setUnit(" it", 1).build()) {
            Trainer trainer = new Trainer(model, in.objective(), in.config(), source.batches(), evaluator, new Trainer.Listener() {
                @Override
                public void onStep(long step, long total, Map<String, Double> m) {
                    bar.stepTo(step);
                    bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f  %.0f img/s", m.get("loss"), m.get("images_per_s")));
                }

                @Override
                public void onEval(long step, Map<String, Double> figures) {
                    log.println();
                    log.println("step " + step + ": " + format(figures));
                    log.flush();
                }
            }, in.out());
            long at = 0;
            if (in.resume()) {
                // Before config.json is (re)written: a checkpoint of another model shape fails
                // here and leaves the run folder as it was.
                at = trainer.resumeIfPossible();
                log.println(at > 0 ? "resuming " + in.out() + " at step " + at : "no checkpoint in " + in.out() + "; starting fresh");
                if (extension != null) log.println(extension);
                bar.stepTo(at);
            }
            Path metrics = in.out().resolve("metrics.jsonl");
            if (at == 0 && Files.exists(metrics)) {
                // A run that left metrics but no checkpoint: its lines must not mix with this run's.
                Path aside = in.out().resolve("metrics-before-" + System.currentTimeMillis() + ".jsonl");
                Files.move(metrics, aside);
                log.println("moved the metrics of an earlier run without a checkpoint to " + aside);
            }
            runConfig.write(in.out());
            trainer.run();
            TimmCheckpoint.save(model, in.out().resolve(WEIGHTS));
            return new Outcome(model, trainer, source.skipped().getAsLong());
        }
    }

    static String format(Map<String, Double> figures) {
        StringBuilder sb = new StringBuilder();
        figures.forEach((k, v) -> {
            if (k.equals("step") || (k.equals("left_out") && v == 0)) return;
            if (sb.length() > 0) sb.append("  ");
            sb.append(k).append(' ').append(k.startsWith("recall") ? String.format(Locale.ROOT, "%.2f%%", 100 * v) : String.format(Locale.ROOT, "%.4g", v));
        });
        return sb.toString();
    }


}
