package dev.irtj.vit;

import java.util.Locale;

/**
 * The shape of a Vision Transformer. Presets follow timm's DeiT models; any field may be
 * changed with the {@code with...} methods (e.g. a 384-pixel input from 224 weights).
 */
public record ViTConfig(int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads,
                        double mlpRatio, boolean qkvBias, double dropPathRate, double layerNormEps) {

    public ViTConfig {
        if (imgSize <= 0 || patchSize <= 0 || inChans <= 0 || embedDim <= 0 || depth <= 0 || numHeads <= 0) {
            throw new IllegalArgumentException("ViT sizes must be positive: " + this);
        }
        if (imgSize % patchSize != 0) throw new IllegalArgumentException("image size " + imgSize + " is not a multiple of the patch size " + patchSize);
        if (embedDim % numHeads != 0) throw new IllegalArgumentException("embed dim " + embedDim + " is not divisible by " + numHeads + " heads");
        if (!(mlpRatio > 0 && embedDim * mlpRatio < Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("mlp ratio must be positive, with embed dim x mlp ratio below 2^31, got " + mlpRatio);
        }
        if (!(layerNormEps >= 0 && layerNormEps < 1)) throw new IllegalArgumentException("layer-norm eps must be in [0, 1), got " + layerNormEps);
        if (!(dropPathRate >= 0 && dropPathRate < 1)) throw new IllegalArgumentException("drop-path rate must be in [0, 1), got " + dropPathRate);
    }

    /** A custom ViT with timm's defaults for the rest (qkv bias, eps 1e-6, no drop path). */
    public static ViTConfig of(int imgSize, int patchSize, int inChans, int embedDim, int depth, int numHeads, double mlpRatio) {
        return new ViTConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, true, 0.0, 1e-6);
    }

    public static ViTConfig deitTiny() {
        return of(224, 16, 3, 192, 12, 3, 4);
    }

    public static ViTConfig deitSmall() {
        return of(224, 16, 3, 384, 12, 6, 4);
    }

    public static ViTConfig deitBase() {
        return of(224, 16, 3, 768, 12, 12, 4);
    }

    /** A preset by timm's name: deit_tiny_patch16_224, deit_small_patch16_224, deit_base_patch16_224 (distilled variants too). */
    public static ViTConfig preset(String name) {
        String n = name.toLowerCase(Locale.ROOT).replace("_distilled", "");
        return switch (n) {
            case "deit_tiny_patch16_224" -> deitTiny();
            case "deit_small_patch16_224" -> deitSmall();
            case "deit_base_patch16_224" -> deitBase();
            default -> throw new IllegalArgumentException("unknown model '" + name
                    + "'; expected deit_tiny_patch16_224, deit_small_patch16_224 or deit_base_patch16_224 (optionally _distilled)");
        };
    }

    public ViTConfig withImgSize(int size) {
        return new ViTConfig(size, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, dropPathRate, layerNormEps);
    }

    public ViTConfig withInChans(int chans) {
        return new ViTConfig(imgSize, patchSize, chans, embedDim, depth, numHeads, mlpRatio, qkvBias, dropPathRate, layerNormEps);
    }

    public ViTConfig withDropPathRate(double rate) {
        return new ViTConfig(imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, qkvBias, rate, layerNormEps);
    }

    public int gridSize() {
        return imgSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    public int headDim() {
        return embedDim / numHeads;
    }

    public int mlpHidden() {
        return (int) (embedDim * mlpRatio);
    }
}
