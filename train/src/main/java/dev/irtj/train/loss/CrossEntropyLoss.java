package dev.irtj.train.loss;

import dev.irtj.autograd.Var;
import dev.irtj.tensor.Tensor;

/** Mean cross-entropy of logits [B, C] against integer labels (classification pretraining). */
public final class CrossEntropyLoss {
    public Var apply(Var logits, long[] labels) {
        int b = logits.shape(0), c = logits.shape(1);
        if (labels.length != b) throw new IllegalArgumentException(labels.length + " labels for " + b + " logits");
        for (long y : labels) {
            if (y < 0 || y >= c) throw new IllegalArgumentException("label " + y + " outside the " + c + " classes");
        }
        Tensor index = Tensor.ofLongs(labels, b, 1).to(logits.data().device());
        return logits.logSoftmax().gather(1, index).mean().neg();
    }
}
