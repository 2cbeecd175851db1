package dev.irtj.cli;

import dev.irtj.eval.Pca;
import dev.irtj.eval.RevisitedMap;
import dev.irtj.eval.Whitening;
import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ModelSource;
import dev.irtj.retrieval.MultiScaleDescriber;
import dev.irtj.retrieval.RevisitedEvaluation;
import dev.irtj.retrieval.RecallEvaluator;
import dev.irtj.retrieval.RunConfig;
import dev.irtj.tensor.AtomicFiles;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.ImageSource;
import dev.irtj.vit.image.ImageFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code irt eval}: Recall@K of a model on a dataset's test split, or revisited Oxford/Paris mAP
 * (Easy/Medium/Hard, mP@1,5,10) on revisitop's layout, through the descriptor pipeline.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Recall@K of a model on the test split of a dataset; with --format roxford5k|rparis6k, revisited mAP and mP@1,5,10.")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DataOptions data;

    @Mixin
    ModelSourceOptions model;

    @Option(names = "--recall", split = ",", defaultValue = "1,2,4,8", description = "K values (default: ${DEFAULT-VALUE}).")
    int[] recall;

    @Option(names = "--pca", description = "Fit a PCA to this size on the training split's descriptors, apply it (then L2-normalize) and, with --checkpoint, save it in the run (RUN/pca.safetensors) for embed, index and search.")
    Integer pcaDims;

    @Option(names = "--out", description = "Where to write the figures as JSON (default: RUN/eval.json with --checkpoint).")
    Path out;

    @Option(names = "--gnd", description = "With --format roxford5k|rparis6k: the ground truth (default: DIR/gnd_roxford5k.pkl or DIR/gnd_rparis6k.pkl; revisitop's .pkl or irtj's JSON form).")
    Path gnd;

    @Option(names = "--scales", split = ",", description = "With --format roxford5k|rparis6k: multi-scale descriptors, the normalized mean of the L2-normalized descriptors at these scales of the model's input size, e.g. 1,0.7071,0.5 (default: 1).")
    double[] scales;

    @Option(names = "--whiten-on", description = "With --format roxford5k|rparis6k: fit a learned PCA-whitening on the images of this folder (described as the queries are), apply it to queries and database, and save it beside the figures (whiten.safetensors).")
    Path whitenOn;

    @Override
    public Integer call() throws Exception {
        if (data.revisited()) return revisited();
        for (String only : new String[] {"--gnd", "--scales", "--whiten-on"}) {
            if (spec.commandLine().getParseResult().hasMatchedOption(only)) {
                throw new UsageException(only + " applies to --format roxford5k|rparis6k (revisited mAP), not --format " + data.format.name().toLowerCase(Locale.ROOT));
            }
        }
        PrintWriter err = spec.commandLine().getErr();
        for (int k : recall) if (k < 1) throw new UsageException("--recall values must be at least 1, got " + k);
        ModelSource source = model.source(data.channels());
        if (pcaDims != null && pcaDims < 1) throw new UsageException("--pca must be at least 1, got " + pcaDims);
        Path run = source instanceof ModelSource.Run r ? r.dir() : null;
        if (pcaDims != null && source instanceof ModelSource.Run r && r.usePca()) {
            source = new ModelSource.Run(r.dir(), r.pooling(), r.cropPct(), false); // a new PCA replaces the saved one
        }
        Dataset test = data.test();
        Dataset gallery = data.gallery();
        Dataset train = pcaDims == null ? null : data.train();
        try (DescriptorPipeline raw = model.open(source, err)) {
            DescriptorPipeline pipeline = raw;
            if (pcaDims != null) {
                if (pcaDims > raw.dims()) throw new UsageException("--pca " + pcaDims + " is larger than the descriptors (" + raw.dims() + ")");
                Pca pca = Pca.fit(raw.describe(train).vectors(), pcaDims);
                String hash = null;
                if (run != null) {
                    Path f = run.resolve(ModelSource.PCA_FILE);
                    SafeTensors.write(f, pca.toTensors(), Map.of("fitted_on", train.name(), "dims", Integer.toString(pcaDims)));
                    hash = ModelSource.sha256(f);
                    err.println("saved the PCA (" + raw.dims() + " -> " + pcaDims + ", fitted on " + train.size() + " training images) to " + f);
                }
                pipeline = raw.withPca(pca, hash);
            } else if (raw.pca() != null) {
                err.println("using the PCA saved in " + run + " (" + raw.pca().inputDims() + " -> " + raw.pca().outputDims()
                        + "); --no-pca evaluates without it");
            }
            Map<String, Double> figures = RecallEvaluator.evaluate(pipeline, test, gallery, recall);
            double leftOut = figures.getOrDefault("left_out", 0.0);
            Map<String, Double> recalls = new LinkedHashMap<>(figures);
            recalls.remove("left_out");
            spec.commandLine().getOut().println(table(recalls));
            if (leftOut > 0) err.printf(Locale.ROOT, "%d unreadable image(s) left out of Recall%n", (long) leftOut);
            Path target = out != null ? out : run != null ? run.resolve("eval.json") : null;
            if (target != null) {
                AtomicFiles.writeString(target, RunConfig.json().writeValueAsString(figures));
                err.println("wrote " + target);
            }
        }
        return 0;
    }

    /** Revisited Oxford/Paris: queries cropped to their boxes, Easy/Medium/Hard mAP and mP@1,5,10. */
    private Integer revisited() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        String name = data.revisitedName();
        for (String other : new String[] {"--recall", "--pca", "--train-classes", "--test-classes"}) {
            if (spec.commandLine().getParseResult().hasMatchedOption(other)) {
                throw new UsageException(other + " does not apply to --format " + name + " (revisited mAP" + (other.equals("--pca") ? "; --whiten-on learns a whitening" : "") + ")");
            }
        }
        double[] sc = scales == null ? new double[] {1} : scales;
        for (double s : sc) if (!(s > 0) || s > 8) throw new UsageException("--scales must be in (0, 8], got " + s);
        if (whitenOn != null && !Files.isDirectory(whitenOn)) throw new UsageException("--whiten-on " + whitenOn + ": no such folder");
        ModelSource source = model.source(3);
        Path run = source instanceof ModelSource.Run r ? r.dir() : null;
        // Beside the run's Recall figures (eval.json), not over them.
        Path target = out != null ? out : run != null ? run.resolve("eval-" + name + ".json") : null;
        if (whitenOn != null && target == null) {
            throw new UsageException("--whiten-on saves the whitening with the figures: give --checkpoint RUN or --out FILE");
        }
        List<Path> learn = whitenOn == null ? List.of() : ImageFiles.walk(whitenOn);
        if (whitenOn != null && learn.size() < 2) throw new UsageException("--whiten-on " + whitenOn + ": needs at least 2 images, found " + learn.size());
        Path gndFile = gnd != null ? gnd : data.dir.resolve("gnd_" + name + ".pkl");
        RevisitedEvaluation.Layout layout = RevisitedEvaluation.layout(data.dir, gndFile); // one IOException line on a bad layout
        if (target != null && target.toAbsolutePath().getParent() != null) Files.createDirectories(target.toAbsolutePath().getParent());
        try (DescriptorPipeline pipeline = model.open(source, err);
             MultiScaleDescriber describer = MultiScaleDescriber.of(pipeline, sc)) {
            RevisitedEvaluation.Descriptors d = RevisitedEvaluation.describe(describer, layout, err::println);
            Whitening whitening = null;
            Path whitenFile = null;
            if (whitenOn != null) {
                List<ImageSource> sources = new ArrayList<>();
                for (Path p : learn) sources.add(ImageSource.file(p));
                err.println("learning the whitening on " + learn.size() + " images of " + whitenOn);
                try {
                    whitening = Whitening.fit(describer.describe(sources), 0);
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--whiten-on " + whitenOn + ": " + e.getMessage());
                }
                Path dir = target.toAbsolutePath().getParent();
                whitenFile = dir.resolve("whiten.safetensors");
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("kind", Whitening.KIND);
                meta.put("fitted_on", whitenOn.toString());
                meta.put("images", Integer.toString(learn.size()));
                meta.put("scales", Arrays.toString(sc));
                meta.put("dims", Integer.toString(whitening.outputDims()));
                SafeTensors.write(whitenFile, whitening.toTensors(), meta);
                err.println("saved the whitening (" + whitening.inputDims() + " -> " + whitening.outputDims() + ") to " + whitenFile);
            }
            Map<RevisitedMap.Protocol, RevisitedMap.Result> results = RevisitedEvaluation.evaluate(d, layout, whitening);
            spec.commandLine().getOut().println(revisitedTable(name, results));
            if (target != null) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("dataset", name);
                json.put("queries", layout.queries().size());
                json.put("database", layout.database().size());
                json.put("scales", sc);
                json.put("pooling", pipeline.pooling().name().toLowerCase(Locale.ROOT));
                json.put("whitening", whitenFile == null ? null : whitenFile.getFileName().toString());
                for (Map.Entry<RevisitedMap.Protocol, RevisitedMap.Result> e : results.entrySet()) {
                    Map<String, Double> fig = new LinkedHashMap<>();
                    fig.put("mAP", e.getValue().map());
                    int[] k = e.getValue().kappas();
                    for (int i = 0; i < k.length; i++) fig.put("mP@" + k[i], e.getValue().meanPrecisionAtK()[i]);
                    json.put(e.getKey().name().toLowerCase(Locale.ROOT), fig);
                }
                AtomicFiles.writeString(target, RunConfig.json().writeValueAsString(json));
                err.println("wrote " + target);
            }
        }
        return 0;
    }

    /** revisitop's figures in percent, one row per protocol. */
    static String revisitedTable(String dataset, Map<RevisitedMap.Protocol, RevisitedMap.Result> results) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-10s %7s", dataset, "mAP"));
        int[] k = results.values().iterator().next().kappas();
        for (int kk : k) b.append(String.format(Locale.ROOT, " %7s", "mP@" + kk));
        for (Map.Entry<RevisitedMap.Protocol, RevisitedMap.Result> e : results.entrySet()) {
            String p = e.getKey().name().charAt(0) + e.getKey().name().substring(1).toLowerCase(Locale.ROOT);
            b.append('\n').append(String.format(Locale.ROOT, "%-10s %7.2f", p, 100 * e.getValue().map()));
            for (double v : e.getValue().meanPrecisionAtK()) b.append(String.format(Locale.ROOT, " %7.2f", 100 * v));
        }
        return b.toString();
    }

    static String table(Map<String, Double> figures) {
        StringBuilder head = new StringBuilder(), row = new StringBuilder();
        figures.forEach((k, v) -> {
            String cell = String.format(Locale.ROOT, "%.2f", 100 * v);
            int w = Math.max(k.length(), cell.length()) + 2;
            head.append(String.format("%" + w + "s", k));
            row.append(String.format("%" + w + "s", cell));
        });
        return head + "\n" + row;
    }
}
