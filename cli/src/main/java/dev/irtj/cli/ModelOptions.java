package dev.irtj.cli;

import dev.irtj.vit.ViTConfig;
import picocli.CommandLine.Option;

/** Which ViT: a timm preset, or a custom shape. */
public final class ModelOptions {
    @Option(names = "--model", description = "Preset: deit_tiny_patch16_224, deit_small_patch16_224, deit_base_patch16_224 (alternative to the custom shape options).")
    String preset;

    @Option(names = "--img-size", description = "Input size in pixels (custom model, or overrides the preset's).")
    Integer imgSize;

    @Option(names = "--patch", description = "Patch size (custom model).")
    Integer patch;

    @Option(names = "--dim", description = "Embedding dimension (custom model).")
    Integer dim;

    @Option(names = "--depth", description = "Number of blocks (custom model).")
    Integer depth;

    @Option(names = "--heads", description = "Attention heads (custom model).")
    Integer heads;

    @Option(names = "--mlp-ratio", defaultValue = "4", description = "MLP hidden size / dim for a custom model (default: ${DEFAULT-VALUE}).")
    double mlpRatio;

    @Option(names = "--drop-path", defaultValue = "0", description = "Stochastic depth rate (default: ${DEFAULT-VALUE}).")
    double dropPath;

    boolean given() {
        return preset != null || imgSize != null || patch != null || dim != null || depth != null || heads != null;
    }

    /** The configuration asked for, with {@code channels} input channels. */
    ViTConfig config(int channels) {
        for (Object[] f : new Object[][] {{"--img-size", imgSize}, {"--patch", patch}, {"--dim", dim}, {"--depth", depth}, {"--heads", heads}}) {
            if (f[1] != null && (Integer) f[1] < 1) throw new UsageException(f[0] + " must be at least 1, got " + f[1]);
        }
        if (!(mlpRatio > 0) || !Double.isFinite(mlpRatio)) throw new UsageException("--mlp-ratio must be positive, got " + mlpRatio);
        if (!(dropPath >= 0 && dropPath < 1)) throw new UsageException("--drop-path must be in [0, 1), got " + dropPath);
        try {
            ViTConfig c;
            if (preset != null) {
                if (patch != null || dim != null || depth != null || heads != null) {
                    throw new UsageException("--model " + preset + " fixes the shape; drop --patch/--dim/--depth/--heads or drop --model");
                }
                c = ViTConfig.preset(preset).withInChans(channels);
                if (imgSize != null) {
                    checkMultiple(imgSize, c.patchSize(), "the patch size of " + preset);
                    c = c.withImgSize(imgSize);
                }
            } else {
                if (imgSize == null || patch == null || dim == null || depth == null || heads == null) {
                    throw new UsageException("give either --model PRESET or all of --img-size, --patch, --dim, --depth and --heads");
                }
                checkMultiple(imgSize, patch, "--patch " + patch);
                if (dim % heads != 0) {
                    throw new UsageException("--dim " + dim + " is not divisible by --heads " + heads + "; use --heads "
                            + largestDivisorUpTo(dim, heads) + " or a --dim that " + heads + " divides");
                }
                c = ViTConfig.of(imgSize, patch, channels, dim, depth, heads, mlpRatio);
            }
            return c.withDropPathRate(dropPath);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--model/--img-size/--patch/--dim/--heads: " + e.getMessage());
        }
    }

    /** --img-size must be a whole number of patches; the line names the nearest sizes that are. */
    private static void checkMultiple(int size, int patchSize, String what) {
        if (size % patchSize == 0) return;
        int below = size / patchSize * patchSize, above = below + patchSize;
        throw new UsageException("--img-size " + size + " is not a multiple of " + what + "; use --img-size "
                + (below > 0 ? below + " or " : "") + above);
    }

    private static int largestDivisorUpTo(int n, int max) {
        for (int d = Math.min(n, max); d > 1; d--) if (n % d == 0) return d;
        return 1;
    }
}
