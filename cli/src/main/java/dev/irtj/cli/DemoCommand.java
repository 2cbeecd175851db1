package dev.irtj.cli;

import dev.irtj.retrieval.RunConfig;

import com.fasterxml.jackson.databind.JsonNode;
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
 * contrastive loss and the cross-batch memory; IRT_R adds the KoLeo regularizer. It measures the
 * paper's RQ2 (does IRT_L beat IRT_O?) and RQ3 (does KoLeo spread the descriptors: PCA spectrum,
 * nearest-neighbour distances, Recall?) and says, with the numbers, what it finds. With
 * {@code --ablations} it adds a β × λ table (the paper's Table 5 in miniature) and a pooling
 * table (Table 9).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Pretrain, fine-tune (IRT_L) and regularize (IRT_R) a small ViT on bundled Fashion-MNIST; report Recall@K on unseen classes and whether KoLeo spread the descriptors.")
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

    @Option(names = "--reduction", defaultValue = "pml", paramLabel = "paper|pml|xbm",
            description = "Contrastive convention of IRT_L and IRT_R (default: ${DEFAULT-VALUE}: each term a mean, so λ·KoLeo is not swamped "
                    + "by a sum over a dataset-sized memory; see the report).")
    ContrastiveLoss.Reduction reduction;

    @Option(names = "--lambda", defaultValue = "0.7", description = "KoLeo weight of IRT_R (default: ${DEFAULT-VALUE}, the paper's).")
    double lambda;

    @Option(names = "--ablations", description = "Also fine-tune a β × λ grid and the four poolings (seven more fine-tunings; about 2.5 times the demo's time).")
    boolean ablations;

    static final int[] KS = {1, 2, 4, 8};
    /** Training classes: with only five, every batch holds all of them, batch / 5 images each. */
    static final int CLASSES = 5;
    static final double BETA = 0.5;

    /** Sizes of one demo flavour. */
    record Plan(ViTConfig model, int trainPerClass, int testPerClass, int pretrainIters, int pretrainBatch, double pretrainLr,
                int fineTuneIters, int fineTuneBatch, double fineTuneLr) {
    }

    /** A fine-tuned model's figures, its test descriptors' spread and its run folder. */
    record FineTuned(Map<String, Double> recall, DescriptorSpread spread, Path run) {
    }

    /** The demo's descriptors: the same pipeline as irt eval and irt embed (crop 0.875, no PCA). */
    private DescriptorPipeline pipeline(VisionTransformer model, Pooling pooling) {
        return DescriptorPipeline.of(model, pooling, ModelSource.DEFAULT_CROP_PCT, null,
                DescriptorPipeline.Options.defaults().withBatch(100).withWorkers(workers).withDevice(DEVICE));
    }

    static Plan plan(boolean quick) {
        return quick
                ? new Plan(ViTConfig.of(28, 7, 1, 48, 2, 2, 2), 100, 60, 60, 50, 2e-3, 40, 40, 2e-4)
                : new Plan(ViTConfig.of(28, 4, 1, 96, 4, 3, 2), 1000, 1000, 600, 100, 1e-3, 250, 60, 1e-4);
    }

    @Override
    public Integer call() throws Exception {
        if (!(lambda > 0) || !Double.isFinite(lambda)) throw new UsageException("--lambda must be > 0 (IRT_R is IRT_L plus λ·KoLeo), got " + lambda);
        if (workers < 1) throw new UsageException("--workers must be at least 1, got " + workers);
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
        var err = spec.commandLine().getErr();
        err.printf("demo%s: %d training images (classes 0-4), %d test images (unseen classes 5-9), model %s, %s convention%n",
                quick ? " --quick" : "", train.size(), test.size(), p.model(), name(reduction));
        deleteDemoRuns(out);
        Files.createDirectories(out);

        // (a) IRT_O: classification pretraining on the training classes.
        Trainer.Config ce = Trainer.Config.builder().iterations(p.pretrainIters()).lr(p.pretrainLr()).weightDecay(0.05)
                .warmup(p.pretrainIters() / 10).cosine(true).seed(seed).evalEvery(p.pretrainIters()).checkpointEvery(p.pretrainIters())
                .clipNorm(1.0).build();
        TrainingRun.Outcome pre = TrainingRun.run(new TrainingRun.Inputs(p.model(), null, null, train, null, null,
                p.pretrainBatch(), p.pretrainBatch() / CLASSES, new CrossEntropyObjective(CLASSES, seed), ce, Map.of(), KS, false,
                out.resolve("pretrain"), workers, DEVICE), err);
        Map<String, Double> irtO;
        DescriptorSpread spreadO;
        try (DescriptorPipeline pipeline = pipeline(pre.model(), Pooling.CLS)) {
            irtO = RecallEvaluator.evaluate(pipeline, test, null, KS);
            irtO.remove("left_out");
            spreadO = DescriptorSpread.of(pipeline.describe(test).vectors());
        }
        err.println("IRT_O  " + TrainingRun.format(irtO));

        // (b) IRT_L and (c) IRT_R: contrastive fine-tuning from the pretrained weights.
        FineTuned irtL = fineTune("irt_l", p, pre.model(), train, test, BETA, 0, Pooling.CLS);
        FineTuned irtR = fineTune("irt_r", p, pre.model(), train, test, BETA, lambda, Pooling.CLS);
        Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
        rows.put("irt_o", irtO);
        rows.put("irt_l", irtL.recall());
        rows.put("irt_r", irtR.recall());
        Map<String, DescriptorSpread> spreads = new LinkedHashMap<>();
        spreads.put("IRT_O", spreadO);
        spreads.put("IRT_L", irtL.spread());
        spreads.put("IRT_R", irtR.spread());

        Map<String, Map<String, Double>> grid = new LinkedHashMap<>(), pools = new LinkedHashMap<>();
        if (ablations) {
            for (double beta : new double[] {0.3, 0.5, 0.7}) {
                for (double l : new double[] {0, lambda}) {
                    FineTuned f = beta == BETA ? (l == 0 ? irtL : irtR)
                            : fineTune(String.format(Locale.ROOT, "ablation-beta%.1f-lambda%.1f", beta, l), p, pre.model(), train, test, beta, l, Pooling.CLS);
                    grid.put(String.format(Locale.ROOT, "β = %.1f, λ = %s", beta, l == 0 ? "0" : String.format(Locale.ROOT, "%.1f", l)), f.recall());
                }
            }
            for (Pooling pooling : Pooling.TABLE_9) {
                FineTuned f = pooling == Pooling.CLS ? irtR
                        : fineTune("ablation-pool-" + pooling.name().toLowerCase(Locale.ROOT), p, pre.model(), train, test, BETA, lambda, pooling);
                pools.put(pooling.name(), f.recall());
            }
        }

        double seconds = (System.nanoTime() - start) / 1e9;
        double[] scale = termScale(irtR.run());
        Findings findings = Findings.of(rows, spreads, test.size(), new double[] {scale[0], lambda * scale[1]});
        Map<String, Object> json = new LinkedHashMap<>(rows);
        json.put("spread", spreadJson(spreads));
        json.put("findings", findings.lines());
        if (ablations) {
            json.put("ablation_beta_lambda", grid);
            json.put("ablation_pooling", pools);
        }
        AtomicFiles.writeString(out.resolve("report.json"), RunConfig.json().writeValueAsString(json));
        writePlots(spreads);
        Report report = report(rows, spreads, findings, grid, pools, p, train, test, seconds);
        AtomicFiles.writeString(out.resolve("report.md"), report.markdown());
        AtomicFiles.writeString(out.resolve("report.html"), report.html());
        var o = spec.commandLine().getOut();
        o.println();
        o.println(resultTable(rows));
        o.println();
        for (String f : findings.lines()) o.println(f);
        if (ablations) {
            o.println();
            o.println("β × λ (" + name(reduction) + "):");
            o.println(resultTable(grid));
            o.println("pooling (IRT_R):");
            o.println(resultTable(pools));
        }
        o.printf(Locale.ROOT, "%nreport: %s and report.html (and report.json, loss.png, pretrain.png, spectrum.png, nn-distances.png) in %.0f s%n",
                out.resolve("report.md"), seconds);
        return 0;
    }

    private FineTuned fineTune(String name, Plan p, VisionTransformer pretrained, Dataset train, Dataset test, double beta, double l,
                               Pooling pooling) throws IOException {
        VisionTransformer model = new VisionTransformer(p.model(), new Rng(seed), DType.F32);
        model.loadStateDict(pretrained.stateDict());
        Trainer.Config c = Trainer.Config.builder().iterations(p.fineTuneIters()).lr(p.fineTuneLr()).weightDecay(5e-4).seed(seed)
                .pooling(pooling).checkpointEvery(p.fineTuneIters()).build();
        TrainingRun.Outcome o = TrainingRun.run(new TrainingRun.Inputs(p.model(), null, model, train, null, null,
                p.fineTuneBatch(), p.fineTuneBatch() / CLASSES,
                TrainCommand.irtObjective(beta, reduction, l, train.size(), 0, 0, CrossBatchMemory.Enqueue.AFTER), c, Map.of(), KS, false,
                out.resolve(name), workers, DEVICE), spec.commandLine().getErr());
        try (DescriptorPipeline pipeline = pipeline(o.model(), pooling)) {
            Map<String, Double> figures = RecallEvaluator.evaluate(pipeline, test, null, KS);
            figures.remove("left_out");
            spec.commandLine().getErr().println(name.toUpperCase(Locale.ROOT) + "  " + TrainingRun.format(figures));
            return new FineTuned(figures, DescriptorSpread.of(pipeline.describe(test).vectors()), out.resolve(name));
        }
    }

    static String name(ContrastiveLoss.Reduction r) {
        return r.name().toLowerCase(Locale.ROOT);
    }

    /** The second half of IRT_R's logged steps: mean contrastive term and mean unweighted KoLeo (training data only). */
    static double[] termScale(Path run) throws IOException {
        double[][] c = metrics(run, "contrastive"), k = metrics(run, "koleo");
        int from = c[1].length / 2;
        double sc = 0, sk = 0;
        for (int i = from; i < c[1].length; i++) {
            sc += c[1][i];
            sk += k[1][i];
        }
        int n = Math.max(1, c[1].length - from);
        return new double[] {sc / n, sk / n};
    }

    private static Map<String, Object> spreadJson(Map<String, DescriptorSpread> spreads) {
        Map<String, Object> m = new LinkedHashMap<>();
        spreads.forEach((name, s) -> m.put(name.toLowerCase(Locale.ROOT), Map.of("top10_share", s.topShare(), "effective_rank", s.effectiveRank(),
                "mean_nn_distance", s.meanNearest(), "median_nn_distance", s.medianNearest())));
        return m;
    }

    private void writePlots(Map<String, DescriptorSpread> spreads) throws IOException {
        Plots.lossCurves(out.resolve("pretrain.png"), "Pretraining loss (IRT_O)", Map.of(
                "cross-entropy", metrics(out.resolve("pretrain"), "cross_entropy")));
        Map<String, Map<String, double[][]>> panels = new LinkedHashMap<>();
        Map<String, double[][]> contrastive = new LinkedHashMap<>();
        contrastive.put("IRT_L", metrics(out.resolve("irt_l"), "contrastive"));
        contrastive.put("IRT_R", metrics(out.resolve("irt_r"), "contrastive"));
        panels.put("contrastive term (" + name(reduction) + ")", contrastive);
        panels.put("KoLeo (IRT_R, before λ)", Map.of("IRT_R", metrics(out.resolve("irt_r"), "koleo")));
        Plots.lossPanels(out.resolve("loss.png"), panels);
        Map<String, double[]> spectra = new LinkedHashMap<>(), nearest = new LinkedHashMap<>();
        spreads.forEach((name, s) -> {
            spectra.put(name, s.explained());
            nearest.put(name, s.nearestDistances());
        });
        Plots.spectrum(out.resolve("spectrum.png"), spectra);
        Plots.histogram(out.resolve("nn-distances.png"), "Distance of each test descriptor to its nearest other one", "L2 distance (unit descriptors)",
                nearest, 30);
    }

    private Report report(Map<String, Map<String, Double>> rows, Map<String, DescriptorSpread> spreads, Findings findings,
                          Map<String, Map<String, Double>> grid, Map<String, Map<String, Double>> pools, Plan p, Dataset train, Dataset test,
                          double seconds) throws IOException {
        Report r = new Report(out, "irt demo: IRT on Fashion-MNIST, unseen classes");
        r.paragraph(String.format(Locale.ROOT, "Training: %d images of classes 0-4. Test: %d images of classes 5-9, each querying all others "
                        + "(Recall@K, query excluded). Model: ViT %dx%d, patch %d, dim %d, depth %d, heads %d. Time: %.0f s.",
                train.size(), test.size(), p.model().imgSize(), p.model().imgSize(), p.model().patchSize(), p.model().embedDim(),
                p.model().depth(), p.model().numHeads(), seconds));
        Map<String, String> what = Map.of("irt_o", "cross-entropy pretraining only", "irt_l", "+ contrastive loss, cross-batch memory",
                "irt_r", String.format(Locale.ROOT, "+ KoLeo regularizer (λ = %s)", lambda));
        r.table(recallHeader("model", "what"), rows.entrySet().stream().map(e -> {
            List<String> row = new ArrayList<>(List.of(e.getKey().toUpperCase(Locale.ROOT), what.get(e.getKey())));
            for (int k : KS) row.add(String.format(Locale.ROOT, "%.2f", 100 * e.getValue().get("recall@" + k)));
            return row;
        }).toList());
        r.heading("What the demo finds").bullets(findings.lines());
        r.paragraph(String.format(Locale.ROOT, "Pretraining: %d iterations of batch %d (lr %.0e). Fine-tuning: %d iterations of batch %d, "
                        + "%d images per class, lr %.0e, β = %.1f, memory = the training set, %s convention (--reduction). "
                        + "The rule for \"within noise\": a Recall difference below twice its standard error sqrt((p1(1-p1) + p2(1-p2)) / N) "
                        + "over the N test queries; a spectrum or distance change below 5%% is called no visible change.",
                p.pretrainIters(), p.pretrainBatch(), p.pretrainLr(), p.fineTuneIters(), p.fineTuneBatch(), p.fineTuneBatch() / CLASSES,
                p.fineTuneLr(), BETA, name(reduction)));
        r.paragraph("Why the " + name(reduction) + " convention: with Eq. 1 (--reduction paper) and a memory as large as the training set, the "
                + "contrastive term sums over thousands of references per anchor (376 in the full demo's training) while λ·KoLeo is about 1, so "
                + "KoLeo is 0.3% of the loss and changes nothing visible; pml and xbm average each term, and the terms are then of comparable size (the scale line above). The "
                + "choice rests on these training-loss scales only, not on the test classes; run the demo with --reduction paper to compare.");
        r.heading("Spread of the test descriptors (RQ3)");
        r.table(List.of("model", "top 10% of PCA directions hold", "effective rank", "mean NN distance", "median NN distance"),
                spreads.entrySet().stream().map(e -> List.of(e.getKey(), String.format(Locale.ROOT, "%.1f%%", 100 * e.getValue().topShare()),
                        String.format(Locale.ROOT, "%.2f", e.getValue().effectiveRank()), String.format(Locale.ROOT, "%.4f", e.getValue().meanNearest()),
                        String.format(Locale.ROOT, "%.4f", e.getValue().medianNearest()))).toList());
        r.image("spectrum.png", "PCA energy spectrum");
        r.paragraph("The spectrum is the paper's feature-collapse picture: the share of variance of the test descriptors along each principal "
                + "direction; a flatter spectrum (higher effective rank) means the descriptors use more of the space. The histogram shows "
                + "each test descriptor's distance to its nearest other one: KoLeo maximizes the log of that distance within a batch.");
        r.image("nn-distances.png", "nearest-neighbour distances");
        r.heading("Losses");
        r.image("loss.png", "fine-tuning losses");
        r.image("pretrain.png", "pretraining loss");
        if (!grid.isEmpty()) {
            r.heading("Ablations: β × λ (the paper's Table 5 in miniature)");
            r.table(recallHeader("setting"), table(grid));
            r.heading("Ablations: pooling of IRT_R (Table 9)");
            r.table(recallHeader("pooling"), table(pools));
        }
        return r;
    }

    private static List<String> recallHeader(String... first) {
        List<String> h = new ArrayList<>(List.of(first));
        for (int k : KS) h.add("R@" + k);
        return h;
    }

    private static List<List<String>> table(Map<String, Map<String, Double>> rows) {
        return rows.entrySet().stream().map(e -> {
            List<String> row = new ArrayList<>(List.of(e.getKey()));
            for (int k : KS) row.add(String.format(Locale.ROOT, "%.2f", 100 * e.getValue().get("recall@" + k)));
            return row;
        }).toList();
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
        int width = Math.max(8, rows.keySet().stream().mapToInt(String::length).max().orElse(0) + 2);
        StringBuilder sb = new StringBuilder(String.format("%-" + width + "s", "model"));
        for (int k : KS) sb.append(String.format("%10s", "R@" + k));
        for (Map.Entry<String, Map<String, Double>> r : rows.entrySet()) {
            sb.append('\n').append(String.format("%-" + width + "s", r.getKey().startsWith("irt_") ? r.getKey().toUpperCase(Locale.ROOT) : r.getKey()));
            for (int k : KS) sb.append(String.format(Locale.ROOT, "%10.2f", 100 * r.getValue().get("recall@" + k)));
        }
        return sb.toString();
    }

    /** Removes the previous demo's run folders in {@code out} (only folders that look like irt runs). */
    private static void deleteDemoRuns(Path out) throws IOException {
        if (!Files.isDirectory(out)) return;
        List<Path> runs = new ArrayList<>();
        for (String run : List.of("pretrain", "irt_l", "irt_r")) runs.add(out.resolve(run));
        try (Stream<Path> s = Files.list(out)) {
            s.filter(f -> f.getFileName().toString().startsWith("ablation-")).forEach(runs::add);
        }
        for (Path run : runs) {
            if (!Files.isDirectory(run)) continue;
            if (!Files.exists(run.resolve(RunConfig.FILE)) && !Files.exists(run.resolve("checkpoint.json"))) {
                throw new UsageException(run + " exists and is not an irt run; choose another --out");
            }
            try (Stream<Path> s = Files.walk(run)) {
                for (Path f : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(f);
            }
        }
    }
}
