package dev.irtj.train.objective;

import dev.irtj.autograd.Var;
import dev.irtj.train.loss.TupleContrastiveLoss;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The contrastive loss over tuples (1 query, 1 positive, N negatives; see
 * {@link TupleContrastiveLoss}) of batches made by a tuple source such as
 * {@code TupleBatchSource}: the batch is read by position, tuple after tuple, not by label. It
 * has no state: the hard negatives are mined by the source, from the model, each epoch. Combine
 * with {@link KoLeoObjective} by {@link Objective#sum} for λ·KoLeo over the batch.
 */
public final class TupleContrastiveObjective implements Objective {
    private final TupleContrastiveLoss loss;

    public TupleContrastiveObjective(double beta, int negatives) {
        this.loss = new TupleContrastiveLoss(beta, negatives + 2);
    }

    @Override
    public String name() {
        return "tuple_contrastive";
    }

    @Override
    public Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("beta", loss.beta());
        s.put("negatives", loss.tupleSize() - 2);
        return s;
    }

    @Override
    public Loss loss(Step step) {
        Var c = loss.apply(step.descriptors());
        return new Loss(c, Map.of("contrastive", c));
    }
}
