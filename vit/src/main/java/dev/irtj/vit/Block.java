package dev.irtj.vit;

import dev.irtj.autograd.ResidualNorm;
import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.DropPath;
import dev.irtj.autograd.nn.LayerNorm;
import dev.irtj.autograd.nn.Module;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;

/** Pre-norm transformer block: x + drop_path(attn(norm1(x))), then x + drop_path(mlp(norm2(x))). */
public final class Block extends Module {
    private final LayerNorm norm1;
    private final Attention attn;
    private final LayerNorm norm2;
    private final Mlp mlp;
    private final DropPath dropPath;

    Block(ViTConfig c, double dropPathRate, Rng rng, DType dtype) {
        norm1 = addModule("norm1", new LayerNorm(c.embedDim(), c.layerNormEps(), dtype));
        attn = addModule("attn", new Attention(c, rng, dtype));
        norm2 = addModule("norm2", new LayerNorm(c.embedDim(), c.layerNormEps(), dtype));
        mlp = addModule("mlp", new Mlp(c, rng, dtype));
        dropPath = addModule("drop_path", new DropPath(dropPathRate, Rng.stream(rng.nextLong(), 0)));
    }

    DropPath dropPath() {
        return dropPath;
    }

    /** The first residual add and norm2 run as one fused op ({@link LayerNorm#forwardResidual}). */
    public Var forward(Var x) {
        ResidualNorm h = norm2.forwardResidual(x, dropPath.forward(attn.forward(norm1.forward(x))));
        return h.sum().add(dropPath.forward(mlp.forward(h.normed())));
    }
}
