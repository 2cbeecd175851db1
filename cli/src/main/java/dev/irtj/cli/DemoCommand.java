package dev.irtj.cli;

import dev.irtj.retrieval.RunConfig;

import com.fasterxml.jackson.databind.JsonNode;
import dev.irtj.eval.Pca;
import dev.irtj.tensor.AtomicFiles;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ModelSource;
import dev.irtj.retrieval.RecallEvaluator;
import dev.irtj.train.Trainer;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.Idx;
import dev.irtj.train.loss.ContrastiveLoss;
import dev.irtj.train.loss.CrossBatchMemory;
import dev.irtj.train.objective.CrossEntropyObjective;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code irt demo}: the paper's three models on bundled Fashion-MNIST, zero-shot: classes 0–4
 * train, classes 5–9 are only seen at test time. IRT_O is a ViT pretrained with cross-entropy
 * on the training classes (our stand-in for ImageNet pretraining); IRT_L fine-tunes it with the
 * contrastive loss and the cross-batch memory; IRT_R adds the KoLeo regularizer.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Pretrain, fine-tune (IRT_L) and regularize (IRT_R) a small ViT on bundled Fashion-MNIST; report Recall@K on unseen classes.")
public final class DemoCommand implements Callable<Integer> {
    /** The demo's recorded figures come from the CPU backend; `irt train --device` runs on a GPU. */
    private static final dev.irtj.tensor.Device DEVICE = dev.irtj.tensor.Device.CPU;

    @Spec
    CommandSpec spec;

    @Option(names = "--out", defaultValue = "runs/demo", description = "Output folder; its demo runs are replaced (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--quick", description = "A one-minute version on a subset (used by CI's smoke test).")
    boolean quick;

    @Option(names = "--data", description = "Folder with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (default: the bundled copy).")
    Path data;

    @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--workers", defaultValue = "2", description = "Image decoding threads (default: ${DEFAULT-VALUE}).")
    int workers;

    static final int[] KS = {1, 2, 4, 8};
    /** Training classes: with only five, every batch holds all of them, batch / 5 images each. */
    static final int CLASSES = 5;

    /** Sizes of one demo flavour. */
    record Plan(ViTConfig model, int trainPerClass, int testPerClass, int pretrainIters, int pretrainBatch, double pretrainLr,
                int fineTuneIters, int fineTuneBatch, double fineTuneLr) {
    }

    /** The demo's descriptors: the same pipeline as irt eval and irt embed (CLS, crop 0.875, no PCA). */
    private DescriptorPipeline pipeline(VisionTransformer model) {
        return DescriptorPipeline.of(model, Pooling.CLS, ModelSource.DEFAULT_CROP_PCT, null,
                DescriptorPipeline.Options.defaults().withBatch(100).withWorkers(workers).withDevice(DEVICE));
    }

    private Map<String, Double> recall(VisionTransformer model, Dataset test) {
        try (DescriptorPipeline pipeline = pipeline(model)) {
            Map<String, Double> figures = RecallEvaluator.evaluate(pipeline, test, null, KS);
            figures.remove("left_out");
            return figures;
        }
    }

    static Plan plan(boolean quick) {
        return quick
                ? new Plan(ViTConfig.of(28, 7, 1, 48, 2, 2, 2), 100, 60, 60, 50, 2e-3, 40, 40, 2e-4)
                : new Plan(ViTConfig.of(28, 4, 1, 96, 4, 3, 2), 1000, 1000, 600, 100, 1e-3, 250, 60, 1e-4);
    }

    @Override
    public Integer call() throws Exception {
        long start = System.nanoTime();
        Plan p = plan(quick);
        Path dir = data != null ? data : Path.of(System.getProperty("irtj.home", ".")).resolve("data/fashion-mnist");
        Path images = dir.resolve("t10k-images-idx3-ubyte.gz"), labels = dir.resolve("t10k-labels-idx1-ubyte.gz");
        if (!Files.isRegularFile(images) || !Files.isRegularFile(labels)) {
            throw new UsageException("no Fashion-MNIST test files in " + dir + "; pass --data DIR");
        }
        Dataset all = Idx.read(images, labels, null);
        Dataset train = firstPerClass(all.filterLabels(l -> l <= 4), p.trainPerClass());
        Dataset test = firstPerClass(all.filterLabels(l -> l >= 5), p.testPerClass());
        spec.commandLine().getErr().printf("demo%s: %d training images (classes 0-4), %d test images (unseen classes 5-9), model %s%n",
                quick ? " --quick" : "", train.size(), test.size(), p.model());
        for (String run : List.of("pretrain", "irt_l", "irt_r")) deleteRun(out.resolve(run));
        Files.createDirectories(out);

        // (a) IRT_O: classification pretraining on the training classes.
        Trainer.Config ce = Trainer.Config.builder().iterations(p.pretrainIters()).lr(p.pretrainLr()).weightDecay(0.05)
                .warmup(p.pretrainIters() / 10).cosine(true).seed(seed).evalEvery(p.pretrainIters()).checkpointEvery(p.pretrainIters())
                .clipNorm(1.0).build();
        TrainingRun.Outcome pre = TrainingRun.run(new TrainingRun.Inputs(p.model(), null, null, train, null, null,
                p.pretrainBatch(), p.pretrainBatch() / CLASSES, new CrossEntropyObjective(CLASSES, seed), ce, Map.of(), KS, false, out.resolve("pretrain"), workers, DEVICE), spec.commandLine().getErr());
        Map<String, Double> irtO = recall(pre.model(), test);
        spec.commandLine().getErr().println("IRT_O  " + TrainingRun.format(irtO));

        // (b) IRT_L and (c) IRT_R: contrastive fine-tuning from the pretrained weights.
        Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
        rows.put("irt_o", irtO);
        Map<String, Tensor> testDescriptors = new LinkedHashMap<>();
        for (String name : List.of("irt_l", "irt_r")) {
            VisionTransformer model = new VisionTransformer(p.model(), new Rng(seed), DType.F32);
            model.loadStateDict(pre.model().stateDict());
            double lambda = name.equals("irt_r") ? 0.7 : 0.0;
            Trainer.Config c = Trainer.Config.builder().iterations(p.fineTuneIters()).lr(p.fineTuneLr()).weightDecay(5e-4).seed(seed)
                    .evalEvery(p.fineTuneIters()).checkpointEvery(p.fineTuneIters()).build();
            TrainingRun.Outcome o = TrainingRun.run(new TrainingRun.Inputs(p.model(), null, model, train, test, null,
                    p.fineTuneBatch(), p.fineTuneBatch() / CLASSES, TrainCommand.irtObjective(0.5, ContrastiveLoss.Reduction.PAPER, lambda, train.size(), 0, 0, CrossBatchMemory.Enqueue.AFTER), c, Map.of(), KS, false, out.resolve(name), workers, DEVICE), spec.commandLine().getErr());
            Map<String, Double> figures = o.trainer().evaluations().isEmpty()
                    ? recall(o.model(), test)
                    : withoutStep(o.trainer().evaluations().get(o.trainer().evaluations().size() - 1));
            figures.remove("left_out");
            rows.put(name, figures);
            try (DescriptorPipeline pipeline = pipeline(o.model())) {
                testDescriptors.put(name, pipeline.describe(test).vectors());
            }
            spec.commandLine().getErr().println(name.toUpperCase(Locale.ROOT) + "  " + TrainingRun.format(figures));
        }

        Map<String, double[]> spectra = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : testDescriptors.entrySet()) {
            spectra.put(e.getKey().toUpperCase(Locale.ROOT), Pca.fit(e.getValue(), e.getValue().shape(1)).explainedVariance());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        AtomicFiles.writeString(out.resolve("report.json"), RunConfig.json().writeValueAsString(rows));
        AtomicFiles.writeString(out.resolve("report.md"), markdown(rows, spectra, p, train, test, seconds));
        Plots.lossCurves(out.resolve("pretrain.png"), "Pretraining loss (IRT_O)", Map.of(
                "cross-entropy", metrics(out.resolve("pretrain"), "cross_entropy")));
        Plots.lossCurves(out.resolve("loss.png"), "Fine-tuning losses (the contrastive sum grows while the memory fills)", Map.of(
                "IRT_L contrastive", metrics(out.resolve("irt_l"), "contrastive"),
                "IRT_R contrastive", metrics(out.resolve("irt_r"), "contrastive"),
                "IRT_R KoLeo", metrics(out.resolve("irt_r"), "koleo")));
        Plots.spectrum(out.resolve("spectrum.png"), spectra);
        spec.commandLine().getOut().println();
        spec.commandLine().getOut().println(resultTable(rows));
        spec.commandLine().getOut().printf(Locale.ROOT, "%nreport: %s (and report.json, loss.png, pretrain.png, spectrum.png) in %.0f s%n", out.resolve("report.md"), seconds);
        return 0;
    }

    private static Map<String, Double> withoutStep(Map<String, Double> m) {
        Map<String, Double> c = new LinkedHashMap<>(m);
        c.remove("step");
        return c;
    }

    /** The first {@code n} images of each class, in file order. */
    static Dataset firstPerClass(Dataset d, int n) {
        List<Integer> keep = new ArrayList<>();
        Map<Long, Integer> seen = new LinkedHashMap<>();
        for (int i = 0; i < d.size(); i++) {
            int c = seen.merge(d.label(i), 1, Integer::sum);
            if (c <= n) keep.add(i);
        }
        return d.subset(d.name(), keep.stream().mapToInt(Integer::intValue).toArray());
    }

    /** One metric per logged step of a run's metrics.jsonl. */
    static double[][] metrics(Path run, String key) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode n = RunConfig.json().readTree(line);
            if (n.has(key)) lines.add(n);   // evaluation lines carry figures, not loss terms
        }
        double[][] xy = new double[2][lines.size()];
        for (int i = 0; i < lines.size(); i++) {
            xy[0][i] = lines.get(i).get("step").asDouble();
            xy[1][i] = lines.get(i).get(key).asDouble();
        }
        return xy;
    }

    static String resultTable(Map<String, Map<String, Double>> rows) {
        StringBuilder sb = new StringBuilder(String.format("%-8s", "model"));
        for (int k : KS) sb.append(String.format("%10s", "R@" + k));
        for (Map.Entry<String, Map<String, Double>> r : rows.entrySet()) {
            sb.append('\n').append(String.format("%-8s", r.getKey().toUpperCase(Locale.ROOT)));
            for (int k : KS) sb.append(String.format(Locale.ROOT, "%10.2f", 100 * r.getValue().get("recall@" + k)));
        }
        return sb.toString();
    }

    private static String markdown(Map<String, Map<String, Double>> rows, Map<String, double[]> spectra, Plan p, Dataset train,
                                   Dataset test, double seconds) {
        StringBuilder md = new StringBuilder("# irt demo: IRT on Fashion-MNIST, unseen classes\n\n");
        md.append(String.format(Locale.ROOT, "Training: %d images of classes 0-4. Test: %d images of classes 5-9, each querying all others "
                + "(Recall@K, query excluded). Model: ViT %dx%d, patch %d, dim %d, depth %d, heads %d. Time: %.0f s.%n%n",
                train.size(), test.size(), p.model().imgSize(), p.model().imgSize(), p.model().patchSize(), p.model().embedDim(),
                p.model().depth(), p.model().numHeads(), seconds));
        md.append("| model | what | R@1 | R@2 | R@4 | R@8 |\n|---|---|---|---|---|---|\n");
        Map<String, String> what = Map.of("irt_o", "cross-entropy pretraining only", "irt_l", "+ contrastive loss, cross-batch memory",
                "irt_r", "+ KoLeo regularizer (λ = 0.7)");
        rows.forEach((name, r) -> {
            md.append("| ").append(name.toUpperCase(Locale.ROOT)).append(" | ").append(what.get(name));
            for (int k : KS) md.append(String.format(Locale.ROOT, " | %.2f", 100 * r.get("recall@" + k)));
            md.append(" |\n");
        });
        md.append(String.format(Locale.ROOT, "%nPretraining: %d iterations of batch %d (lr %.0e). Fine-tuning: %d iterations of batch %d, "
                + "%d images per class, lr %.0e, β = 0.5, memory = the training set.%n%n", p.pretrainIters(), p.pretrainBatch(), p.pretrainLr(),
                p.fineTuneIters(), p.fineTuneBatch(), p.fineTuneBatch() / CLASSES, p.fineTuneLr()));
        md.append("![fine-tuning losses](loss.png)\n\n![pretraining loss](pretrain.png)\n\n![PCA energy spectrum](spectrum.png)\n\n");
        md.append("The contrastive loss sums over the batch and the cross-batch memory, so it grows while the memory fills "
                + "(one training set's worth of descriptors) and is comparable between IRT_L and IRT_R only at equal steps.\n\n");
        md.append("The spectrum plot is the paper's feature-collapse picture: the share of variance of the test descriptors along each "
                + "principal direction. A flatter spectrum (IRT_R) means the descriptors use more of the space.\n\n");
        spectra.forEach((name, ev) -> md.append(String.format(Locale.ROOT, "- %s: the top 10%% of directions hold %.1f%% of the variance%n",
                name, 100 * topShare(ev, 0.1))));
        return md.toString();
    }

    static double topShare(double[] explained, double fraction) {
        int n = Math.max(1, (int) Math.round(explained.length * fraction));
        double s = 0;
        for (int i = 0; i < n; i++) s += explained[i];
        return s;
    }

    /** Removes a previous demo run folder (only folders that look like irt runs). */
    private static void deleteRun(Path run) throws IOException {
        if (!Files.isDirectory(run)) return;
        if (!Files.exists(run.resolve(RunConfig.FILE)) && !Files.exists(run.resolve("checkpoint.json"))) {
            throw new UsageException(run + " exists and is not an irt run; choose another --out");
        }
        try (Stream<Path> s = Files.walk(run)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
