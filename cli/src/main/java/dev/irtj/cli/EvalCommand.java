package dev.irtj.cli;

import dev.irtj.eval.Pca;
import dev.irtj.eval.Recall;
import dev.irtj.tensor.AtomicFiles;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.Embeddings;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.data.Loader;
import dev.irtj.train.data.Transforms;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.VisionTransformer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code irt eval}: Recall@K of a trained model on a dataset's test split. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Recall@K of a model on the test split of a dataset.")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DataOptions data;

    @Option(names = "--checkpoint", description = "A run folder written by irt train (its model.safetensors, or its last checkpoint).")
    Path run;

    @Option(names = "--weights", description = "Weights to evaluate instead of a run (timm names); needs --model or a custom shape.")
    Path weights;

    @ArgGroup(exclusive = false, heading = "Model (with --weights)%n")
    ModelOptions model = new ModelOptions();

    @Option(names = "--pool", description = "Pooling (default: the run's, or cls).")
    Pooling pool;

    @Option(names = "--recall", split = ",", defaultValue = "1,2,4,8", description = "K values (default: ${DEFAULT-VALUE}).")
    int[] recall;

    @Option(names = "--pca", description = "Reduce descriptors to this size with PCA fitted on the training split, then L2-normalize.")
    Integer pcaDims;

    @Option(names = "--batch", defaultValue = "64", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--workers", defaultValue = "2", description = "Image decoding threads (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--out", description = "Where to write the figures as JSON (default: RUN/eval.json with --checkpoint).")
    Path out;

    @Override
    public Integer call() throws Exception {
        if ((run == null) == (weights == null)) throw new UsageException("give exactly one of --checkpoint RUN and --weights FILE");
        VisionTransformer vit;
        Pooling pooling;
        if (run != null) {
            if (model.given()) throw new UsageException("--checkpoint takes the model from the run; drop the model options");
            vit = TrainingRun.loadRun(run);
            pooling = pool != null ? pool : RunConfig.read(run).pooling();
        } else {
            if (!model.given()) throw new UsageException("--weights needs --model PRESET or a custom shape (--img-size --patch --dim --depth --heads)");
            vit = TimmCheckpoint.load(weights, model.config(data.channels()), DType.F32);
            pooling = pool != null ? pool : Pooling.CLS;
        }
        Map<String, Double> figures = evaluate(vit, pooling, data.test(), data.gallery(), pcaDims == null ? null : data.train(), pcaDims,
                batch, workers, recall);
        spec.commandLine().getOut().println(table(figures));
        Path target = out != null ? out : run != null ? run.resolve("eval.json") : null;
        if (target != null) {
            AtomicFiles.writeString(target, RunConfig.json().writeValueAsString(figures));
            spec.commandLine().getErr().println("wrote " + target);
        }
        return 0;
    }

    /** Recall@K of {@code vit} on the test set (against a gallery for In-Shop), with optional PCA. */
    static Map<String, Double> evaluate(VisionTransformer vit, Pooling pooling, Dataset test, Dataset gallery, Dataset pcaTrain,
                                        Integer pcaDims, int batch, int workers, int[] ks) {
        Transforms t = Transforms.forModel(vit.config().imgSize(), vit.config().inChans());
        Loader.Options options = Loader.Options.defaults().withWorkers(workers);
        Tensor q = Embeddings.compute(vit, test, t, pooling, batch, options);
        Tensor g = gallery == null ? null : Embeddings.compute(vit, gallery, t, pooling, batch, options);
        if (pcaDims != null) {
            Pca pca = Pca.fit(Embeddings.compute(vit, pcaTrain, t, pooling, batch, options), pcaDims);
            q = pca.apply(q);
            if (g != null) g = pca.apply(g);
        }
        Map<Integer, Double> r = g == null ? Recall.atK(q, test.labels(), ks) : Recall.queryGallery(q, test.labels(), g, gallery.labels(), ks);
        Map<String, Double> figures = new LinkedHashMap<>();
        r.forEach((k, v) -> figures.put("recall@" + k, v));
        return figures;
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
