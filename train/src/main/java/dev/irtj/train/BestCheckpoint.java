package dev.irtj.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.irtj.tensor.AtomicFiles;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.VisionTransformer;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The best model of a run by its periodic evaluation: the first Recall@K the evaluator reports
 * (the first figure, when it reports no recall), higher is better, the earliest step on a tie.
 * The weights go to {@code RUN/best-STEP.safetensors} (timm names, like {@code model.safetensors},
 * usable with {@code --weights}); then {@code RUN/best.json} is replaced, naming that file, the
 * step, the figure and every figure of the evaluation; then the superseded weights are deleted.
 * Each write is atomic and the index is written last, so a crash at any moment leaves a
 * best.json whose file holds exactly the weights it describes. The best so far is part of the
 * training checkpoint, so a resumed run compares against the same value.
 */
final class BestCheckpoint {
    static final String INDEX = "best.json";
    private final Path runDir;
    private String metric;
    private double value = Double.NEGATIVE_INFINITY;
    private long step = -1;

    BestCheckpoint(Path runDir) {
        this.runDir = runDir;
    }

    /** Saves {@code model} when the evaluation at {@code atStep} beats the best so far; returns whether it did. */
    boolean offer(long atStep, Map<String, Double> figures, VisionTransformer model) throws IOException {
        String key = metric != null ? metric : choose(figures);
        if (key == null || !figures.containsKey(key)) return false;
        double v = figures.get(key);
        if (!(v > value)) return false;
        String name = String.format("best-%08d.safetensors", atStep);
        TimmCheckpoint.save(model, runDir.resolve(name));
        ObjectNode index = Checkpoint.json().createObjectNode();
        index.put("file", name);
        index.put("step", atStep);
        index.put("metric", key);
        index.put("value", v);
        ObjectNode all = index.putObject("figures");
        figures.forEach((k, x) -> {
            if (!k.equals("step")) all.put(k, x);
        });
        AtomicFiles.writeString(runDir.resolve(INDEX), Checkpoint.json().writerWithDefaultPrettyPrinter().writeValueAsString(index));
        try (DirectoryStream<Path> old = Files.newDirectoryStream(runDir, "best-*.safetensors")) {
            for (Path p : old) if (!p.getFileName().toString().equals(name)) Files.deleteIfExists(p);
        }
        metric = key;
        value = v;
        step = atStep;
        return true;
    }

    private static String choose(Map<String, Double> figures) {
        String first = null;
        for (String k : figures.keySet()) {
            if (k.startsWith("recall@")) return k;
            if (first == null && !k.equals("step") && !k.equals("left_out")) first = k;
        }
        return first;
    }

    /** For the training checkpoint; null before any evaluation. */
    JsonNode state() {
        if (metric == null) return null;
        ObjectNode n = Checkpoint.json().createObjectNode();
        n.put("metric", metric);
        n.put("value", value);
        n.put("step", step);
        return n;
    }

    void restore(JsonNode state) {
        if (state == null || !state.hasNonNull("metric")) return;
        metric = state.get("metric").asText();
        value = state.path("value").asDouble(Double.NEGATIVE_INFINITY);
        step = state.path("step").asLong(-1);
    }
}
