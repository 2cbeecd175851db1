package dev.irtj.vit;

import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.pickle.TorchArchive;
import dev.irtj.vit.image.Resample;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Loads timm's {@code model.safetensors}, or a PyTorch checkpoint ({@code .pth} from
 * {@code torch.save}: the official DeiT releases' {@code {"model": state_dict}} or a plain state
 * dict, read by the restricted {@link TorchArchive}), for ViT/DeiT models as they are (F32, F16 or BF16):
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
        Map<String, Tensor> weights = readWeights(file);
        boolean distilled = weights.containsKey("dist_token");
        VisionTransformer model = new VisionTransformer(config, distilled, new Rng(0), dtype);
        loadInto(model, weights, file.toString());
        return model;
    }

    /**
     * The tensors of a weights file, its type recognised by its content rather than its name:
     * a zip archive is read as a {@code torch.save} checkpoint, a file whose 8-byte header length
     * is followed by a JSON object as safetensors. Anything else (PyTorch's legacy pre-1.6 pickle
     * stream included) is refused in one line saying what the file is not.
     */
    public static Map<String, Tensor> readWeights(Path file) throws IOException {
        byte[] head;
        long size = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(16);
        }
        if (TorchArchive.isZip(file)) return TorchArchive.readStateDict(file);
        if (head.length > 8 && head[8] == '{') return SafeTensors.read(file).tensors();
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            throw new SafeTensors.FormatException(file, null, "is a bare pickle stream, PyTorch's legacy checkpoint format (torch.save before "
                    + "PyTorch 1.6, or with _use_new_zipfile_serialization=False), which irtj does not read; re-save it with "
                    + "torch.save in PyTorch 1.6 or later, or as safetensors");
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(8, head.length); i++) hex.append(String.format("%02x ", head[i] & 0xff));
        throw new SafeTensors.FormatException(file, null, "is neither safetensors (an 8-byte header length, then a JSON header) "
                + "nor a PyTorch checkpoint (a torch.save zip archive); its " + size + " bytes start with " + hex.toString().trim());
    }

    /** Loads a read checkpoint into {@code model}; every mismatch is reported at once. */
    public static void loadInto(VisionTransformer model, SafeTensors.File f, String source) {
        loadInto(model, f.tensors(), source);
    }

    /** Loads named tensors into {@code model} (timm names); every mismatch is reported at once. */
    public static void loadInto(VisionTransformer model, Map<String, Tensor> weights, String source) {
        Map<String, Tensor> state = new LinkedHashMap<>(weights);
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
