package dev.irtj.vit;

import dev.irtj.autograd.Var;
import dev.irtj.autograd.nn.LayerNorm;
import dev.irtj.autograd.nn.Module;
import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * timm's VisionTransformer without the classification head: patch embedding, a class token
 * (and a distillation token for distilled DeiT), learned position embeddings, pre-norm blocks
 * and a final norm over all tokens. The image descriptor is the pooled token vector,
 * L2-normalized. Parameter names are timm's, so its checkpoints load as they are.
 */
public final class VisionTransformer extends Module {
    private final ViTConfig config;
    private final boolean distilled;
    private final Parameter clsToken;
    private final Parameter distToken;
    private final Parameter posEmbed;
    private final PatchEmbed patchEmbed;
    private final List<Block> blocks = new ArrayList<>();
    private final LayerNorm norm;

    public VisionTransformer(ViTConfig config, Rng rng, DType dtype) {
        this(config, false, rng, dtype);
    }

    /** With {@code distilled}, a distillation token follows the class token, as in DeiT's distilled models. */
    public VisionTransformer(ViTConfig config, boolean distilled, Rng rng, DType dtype) {
        this.config = config;
        this.distilled = distilled;
        int d = config.embedDim();
        clsToken = addParameter("cls_token", Tensor.randn(rng, dtype, 1, 1, d).mul(1e-6));
        distToken = distilled ? addParameter("dist_token", Tensor.truncatedNormal(rng, 0, 0.02, -2, 2, dtype, 1, 1, d)) : null;
        posEmbed = addParameter("pos_embed", Tensor.truncatedNormal(rng, 0, 0.02, -2, 2, dtype, 1, prefixTokens() + config.numPatches(), d));
        patchEmbed = addModule("patch_embed", new PatchEmbed(config, rng, dtype));
        BlockList list = addModule("blocks", new BlockList());
        for (int i = 0; i < config.depth(); i++) {
            // Stochastic depth grows linearly with depth, as in timm.
            double rate = config.depth() == 1 ? config.dropPathRate() : config.dropPathRate() * i / (config.depth() - 1);
            blocks.add(list.add(new Block(config, rate, rng, dtype)));
        }
        norm = addModule("norm", new LayerNorm(d, config.layerNormEps(), dtype));
    }

    /** timm's {@code nn.Sequential} of blocks: children named 0, 1, 2, ... */
    private static final class BlockList extends Module {
        private int count;

        Block add(Block b) {
            return addModule(Integer.toString(count++), b);
        }
    }

    public ViTConfig config() {
        return config;
    }

    public boolean distilled() {
        return distilled;
    }

    /** Class token, plus the distillation token when distilled. */
    public int prefixTokens() {
        return distilled ? 2 : 1;
    }

    /** Reseeds every block's stochastic depth from (seed, iteration), so training needs no RNG state. */
    public void reseedStochasticDepth(long seed, long iteration) {
        for (int i = 0; i < blocks.size(); i++) blocks.get(i).dropPath().reseed(Rng.stream(seed + 0x9E3779B97F4A7C15L * (i + 1), iteration));
    }

    /** All tokens after the final norm: [B, prefix + patches, D]. */
    public Var tokens(Var images) {
        Var x = patchEmbed.forward(images);
        int b = x.shape(0), d = config.embedDim();
        List<Var> parts = new ArrayList<>();
        parts.add(clsToken.var().expand(b, 1, d));
        if (distilled) parts.add(distToken.var().expand(b, 1, d));
        parts.add(x);
        x = Var.cat(parts, 1).add(posEmbed.var());
        for (Block blk : blocks) x = blk.forward(x);
        return norm.forward(x);
    }

    /** The pooled feature [B, D] before normalization. */
    public Var features(Var images, Pooling pooling) {
        return pooling.apply(tokens(images), prefixTokens());
    }

    /** The retrieval descriptor: pooled and L2-normalized, [B, D]. */
    public Var descriptor(Var images, Pooling pooling) {
        return features(images, pooling).l2Normalize();
    }
}
