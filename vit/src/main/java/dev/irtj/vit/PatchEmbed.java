package dev.irtj.vit;

import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.Module;
import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;

/**
 * Image [B, C, H, W] → patch tokens [B, H/p·W/p, D] by a stride-p convolution with kernel p
 * (parameters {@code proj.weight} [D, C, p, p] and {@code proj.bias} [D], as in timm).
 */
public final class PatchEmbed extends Module {
    /** timm's {@code proj}: a Conv2d, here only a holder of its weight and bias. */
    static final class Projection extends Module {
        final Parameter weight;
        final Parameter bias;

        Projection(ViTConfig c, Rng rng, DType dtype) {
            // timm leaves the patch conv at PyTorch's Conv2d default: uniform in ±1/√fan_in for both.
            int fanIn = c.inChans() * c.patchSize() * c.patchSize();
            double bound = 1 / Math.sqrt(fanIn);
            weight = addParameter("weight", Tensor.uniform(rng, -bound, bound, dtype, c.embedDim(), c.inChans(), c.patchSize(), c.patchSize()));
            bias = addParameter("bias", Tensor.uniform(rng, -bound, bound, dtype, c.embedDim()));
        }
    }

    private final Projection proj;
    private final ViTConfig config;

    PatchEmbed(ViTConfig config, Rng rng, DType dtype) {
        this.config = config;
        proj = addModule("proj", new Projection(config, rng, dtype));
    }

    public Var forward(Var images) {
        int[] s = images.shape();
        if (s.length != 4 || s[1] != config.inChans() || s[2] != config.imgSize() || s[3] != config.imgSize()) {
            throw new IllegalArgumentException("expected images [B, " + config.inChans() + ", " + config.imgSize() + ", "
                    + config.imgSize() + "], got " + java.util.Arrays.toString(s));
        }
        Var maps = images.conv2dPatch(proj.weight.var(), proj.bias.var());    // [B, D, g, g]
        return maps.reshape(s[0], config.embedDim(), config.numPatches()).transpose(1, 2);
    }
}
