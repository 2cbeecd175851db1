package dev.irtj.train.objective;

import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.Linear;
import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.loss.CrossEntropyLoss;
import dev.irtj.vit.VisionTransformer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Classification pretraining (IRT_O): a linear head on the pooled features, cross-entropy
 * against the labels. The head's weights are trained, checkpointed ({@code head.*}) and restored.
 */
public final class CrossEntropyObjective implements Objective {
    private static final String PREFIX = "head.";
    private final int classes;
    private final long seed;
    private final CrossEntropyLoss crossEntropy = new CrossEntropyLoss();
    private Linear head;

    /** @param seed the run's seed; the head is initialized from its stream 77 */
    public CrossEntropyObjective(int classes, long seed) {
        if (classes < 2) throw new IllegalArgumentException("cross-entropy needs at least 2 classes, got " + classes);
        this.classes = classes;
        this.seed = seed;
    }

    @Override
    public String name() {
        return "cross_entropy";
    }

    @Override
    public Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("classes", classes);
        return s;
    }

    @Override
    public void attach(VisionTransformer model) {
        DType dtype = model.namedParameters().get("pos_embed").data().dtype();
        head = new Linear(model.config().embedDim(), classes, true, Rng.stream(seed, 77), dtype);
        head.to(model.device());
    }

    /** The classification head (after {@link #attach}). */
    public Linear head() {
        return head;
    }

    @Override
    public Loss loss(Step step) {
        Var ce = crossEntropy.apply(head.forward(step.features()), step.labels());
        return new Loss(ce, Map.of("cross_entropy", ce));
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> p = new LinkedHashMap<>();
        head.namedParameters().forEach((n, v) -> p.put(PREFIX + n, v));
        return p;
    }

    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        head.stateDict().forEach((n, t) -> s.put(PREFIX + n, t));
        return s;
    }

    @Override
    public void loadState(Map<String, Tensor> checkpoint, String file) {
        Map<String, Tensor> mine = new LinkedHashMap<>();
        checkpoint.forEach((n, t) -> {
            if (n.startsWith(PREFIX)) mine.put(n.substring(PREFIX.length()), t);
        });
        head.loadStateDict(mine, file, n -> false);
    }
}
