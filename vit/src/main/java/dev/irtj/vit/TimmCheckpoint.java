package dev.irtj.vit;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.vit.image.Resample;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Loads timm's {@code model.safetensors} for ViT/DeiT models as they are (F32, F16 or BF16):
 * by timm parameter name, with the classification heads ({@code head.*}, {@code head_dist.*})
 * ignored, distilled checkpoints recognized by their {@code dist_token}, and {@code pos_embed}
 * resampled over the patch grid (bicubic, prefix tokens kept) when the image size differs from
 * the checkpoint's — so a 384-pixel model starts from 224-pixel weights as in timm.
 */
public final class TimmCheckpoint {
    private static final Logger LOG = Logger.getLogger(TimmCheckpoint.class.getName());

    private TimmCheckpoint() {
    }

    /** Builds a model of {@code config} (distilled if the file is) and loads the file into it. */
    public static VisionTransformer load(Path file, ViTConfig config, DType dtype) throws IOException {
        SafeTensors.File f = SafeTensors.read(file);
        boolean distilled = f.tensors().containsKey("dist_token");
        VisionTransformer model = new VisionTransformer(config, distilled, new Rng(0), dtype);
        loadInto(model, f, file.toString());
        return model;
    }

    /** Loads a read checkpoint into {@code model}; every mismatch is reported at once. */
    public static void loadInto(VisionTransformer model, SafeTensors.File f, String source) {
        Map<String, Tensor> state = new LinkedHashMap<>(f.tensors());
        Tensor pos = state.get("pos_embed");
        int[] want = model.namedParameters().get("pos_embed").shape();
        if (pos != null && pos.rank() == 3 && want[2] == pos.shape(2) && pos.shape(1) != want[1]) {
            state.put("pos_embed", resamplePosEmbed(pos, model.prefixTokens(), model.config().gridSize(), source));
        }
        model.loadStateDict(state, source, name -> name.startsWith("head.") || name.startsWith("head_dist."));
    }

    /**
     * pos_embed [1, prefix + g·g, D] → [1, prefix + n·n, D]: the prefix tokens' embeddings are
     * kept, the patch grid is resized bicubically (antialiased when shrinking).
     */
    public static Tensor resamplePosEmbed(Tensor pos, int prefix, int newGrid, String source) {
        int tokens = pos.shape(1) - prefix, d = pos.shape(2);
        int oldGrid = (int) Math.round(Math.sqrt(tokens));
        if (oldGrid * oldGrid != tokens) {
            throw new IllegalArgumentException(source + ": pos_embed " + java.util.Arrays.toString(pos.shape())
                    + " has " + tokens + " patch positions after " + prefix + " prefix tokens, not a square grid");
        }
        LOG.info("resampling pos_embed of " + source + " from a " + oldGrid + "x" + oldGrid + " to a " + newGrid + "x" + newGrid + " grid");
        // [g·g, D] → channel-planar [D, g, g] for the resampler, and back.
        float[] grid = pos.narrow(1, prefix, tokens).reshape(tokens, d).mT().contiguous().toFloatArray();
        float[] resized = Resample.resize(grid, d, oldGrid, oldGrid, newGrid, newGrid);
        Tensor patches = Tensor.of(resized, d, newGrid * newGrid).mT().reshape(1, newGrid * newGrid, d).to(pos.dtype());
        return Tensor.cat(java.util.List.of(pos.narrow(1, 0, prefix).contiguous(), patches), 1);
    }

    /** Writes a model's weights under timm's names (loadable by timm and by {@link #load}). */
    public static void save(VisionTransformer model, Path file) throws IOException {
        ViTConfig c = model.config();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("irtj.img_size", Integer.toString(c.imgSize()));
        meta.put("irtj.patch_size", Integer.toString(c.patchSize()));
        meta.put("irtj.in_chans", Integer.toString(c.inChans()));
        meta.put("irtj.embed_dim", Integer.toString(c.embedDim()));
        meta.put("irtj.depth", Integer.toString(c.depth()));
        meta.put("irtj.num_heads", Integer.toString(c.numHeads()));
        meta.put("irtj.mlp_ratio", Double.toString(c.mlpRatio()));
        model.save(file, meta);
    }
}
