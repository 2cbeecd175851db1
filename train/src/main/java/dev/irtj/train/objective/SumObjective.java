package dev.irtj.train.objective;

import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.Tensor;
import dev.irtj.vit.VisionTransformer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Several objectives trained together: totals added in order (IRT_R = contrastive + λ·KoLeo). */
final class SumObjective implements Objective {
    private final List<Objective> parts;

    SumObjective(List<Objective> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("a sum of objectives needs at least one");
        this.parts = List.copyOf(parts);
        Map<String, String> owner = new LinkedHashMap<>();
        for (Objective p : parts) {
            for (String key : p.settings().keySet()) {
                String before = owner.putIfAbsent(key, p.name());
                if (before != null) throw new IllegalArgumentException("objectives " + before + " and " + p.name() + " both record a setting '" + key + "'");
            }
        }
    }

    @Override
    public String name() {
        return parts.stream().map(Objective::name).collect(Collectors.joining("+"));
    }

    @Override
    public Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        for (Objective p : parts) s.putAll(p.settings());
        return s;
    }

    @Override
    public void attach(VisionTransformer model) {
        for (Objective p : parts) p.attach(model);
    }

    @Override
    public Loss loss(Step step) {
        Var total = null;
        Map<String, Var> terms = new LinkedHashMap<>();
        for (Objective p : parts) {
            Loss l = p.loss(step);
            total = total == null ? l.total() : total.add(l.total());
            for (Map.Entry<String, Var> t : l.terms().entrySet()) {
                if (terms.put(t.getKey(), t.getValue()) != null) throw new IllegalStateException("two objectives log a term '" + t.getKey() + "'");
            }
        }
        return new Loss(total, terms);
    }

    @Override
    public void afterStep(Step step) {
        for (Objective p : parts) p.afterStep(step);
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> all = new LinkedHashMap<>();
        for (Objective p : parts) all.putAll(p.parameters());
        return all;
    }

    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (Objective p : parts) all.putAll(p.state());
        return all;
    }

    @Override
    public void loadState(Map<String, Tensor> checkpoint, String file) {
        for (Objective p : parts) p.loadState(checkpoint, file);
    }
}
