package dev.irtj.cli;

import dev.irtj.eval.Pca;
import dev.irtj.retrieval.DescriptorPipeline;
import dev.irtj.retrieval.ModelSource;
import dev.irtj.retrieval.RecallEvaluator;
import dev.irtj.retrieval.RunConfig;
import dev.irtj.tensor.AtomicFiles;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.train.data.Dataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code irt eval}: Recall@K of a model on a dataset's test split, through the descriptor pipeline. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Recall@K of a model on the test split of a dataset.")
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

    @Override
    public Integer call() throws Exception {
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
