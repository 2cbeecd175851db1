package dev.irtj.train.objective;

import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.Tensor;
import dev.irtj.vit.VisionTransformer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What training minimizes, as a plug-in of the {@link dev.irtj.train.Trainer}: the Trainer knows
 * no loss, only this interface. A step gives the objective a {@link Step} (model, images,
 * labels, iteration; descriptors computed once and shared); the objective returns the total to
 * differentiate and its named terms, all device scalars, which the Trainer reads in one host
 * transfer after the step's work is queued. State an objective carries across steps (a
 * cross-batch memory, a classification head, an EMA copy) goes into the checkpoint through
 * {@link #state()} and comes back through {@link #loadState}, so a resumed run is bit-identical.
 *
 * <p>A new loss is one class implementing this (plus the flag that builds it); several combine
 * with {@link #sum}.
 */
public interface Objective {
    /** Metric names the Trainer writes itself; a term must not take one. */
    java.util.Set<String> RESERVED = java.util.Set.of("step", "loss", "lr", "images_per_s", "grad_norm", "eval");

    /**
     * One step's loss: {@code total} is differentiated; {@code terms} are logged by name (each a
     * scalar on the model's device, unweighted, e.g. KoLeo before λ).
     */
    record Loss(Var total, Map<String, Var> terms) {
        public Loss {
            if (total == null) throw new IllegalArgumentException("an objective's loss needs a total");
            terms = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(terms));
            for (String name : terms.keySet()) {
                if (RESERVED.contains(name)) throw new IllegalArgumentException("loss term '" + name + "' takes a name the trainer writes itself");
            }
        }
    }

    /** A short name for config.json and logs, e.g. {@code contrastive}. */
    String name();

    /** The settings that decide what this objective computes (recorded in config.json, compared on --resume), in a fixed order. */
    Map<String, Object> settings();

    /** Called once by the Trainer before any step, with the model to train (heads and EMA copies are made here, on its device). */
    default void attach(VisionTransformer model) {
    }

    Loss loss(Step step);

    /** After the optimizer's update of the step (e.g. enqueue the step's descriptors into a memory). */
    default void afterStep(Step step) {
    }

    /** Trainable parameters of its own (a head), trained with the model; names are unique across the run. */
    default Map<String, Parameter> parameters() {
        return Map.of();
    }

    /** Tensors to checkpoint, named uniquely across the run (e.g. {@code memory.*}, {@code head.*}). */
    default Map<String, Tensor> state() {
        return Map.of();
    }

    /** Restores {@link #state()} from all of a checkpoint's tensors; {@code file} names the checkpoint in errors. */
    default void loadState(Map<String, Tensor> checkpoint, String file) {
    }

    /** The parts' totals added in order, their terms side by side; one part is returned as it is. */
    static Objective sum(Objective... parts) {
        return parts.length == 1 ? parts[0] : new SumObjective(java.util.List.of(parts));
    }
}
