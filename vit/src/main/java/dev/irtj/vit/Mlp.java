package dev.irtj.vit;

import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.Linear;
import dev.irtj.autograd.nn.Module;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;

/** fc1 → exact (erf) GELU → fc2; fc1 and its GELU run as one fused op ({@link Linear#forwardGelu}). */
public final class Mlp extends Module {
    private final Linear fc1;
    private final Linear fc2;

    Mlp(ViTConfig c, Rng rng, DType dtype) {
        fc1 = addModule("fc1", new Linear(c.embedDim(), c.mlpHidden(), true, rng, dtype));
        fc2 = addModule("fc2", new Linear(c.mlpHidden(), c.embedDim(), true, rng, dtype));
    }

    public Var forward(Var x) {
        return fc2.forward(fc1.forwardGelu(x));
    }
}
