package dev.irtj.train.objective;

import dev.irtj.autograd.Var;
import dev.irtj.train.loss.KoLeoLoss;

import java.util.LinkedHashMap;
import java.util.Map;

/** λ·KoLeo over the step's descriptors (IRT_R's regularizer); logs the unweighted {@code koleo}. */
public final class KoLeoObjective implements Objective {
    private final double lambda;
    private final KoLeoLoss koleo = new KoLeoLoss();

    public KoLeoObjective(double lambda) {
        if (!(lambda > 0) || !Double.isFinite(lambda)) throw new IllegalArgumentException("KoLeo's weight λ must be positive (leave the objective out for 0), got " + lambda);
        this.lambda = lambda;
    }

    @Override
    public String name() {
        return "koleo";
    }

    @Override
    public Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("lambda", lambda);
        return s;
    }

    @Override
    public Loss loss(Step step) {
        Var k = koleo.apply(step.descriptors());
        return new Loss(k.mul(lambda), Map.of("koleo", k));
    }
}
