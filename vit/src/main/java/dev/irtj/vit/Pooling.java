package dev.irtj.vit;

import dev.irtj.autograd.Var;

import java.util.Locale;

/**
 * How the final tokens [B, T, D] become one vector per image. CLS takes the class token (the
 * paper's default); AVG, MAX and GEM (generalized mean, p = 3, inputs clamped at 1e-6) pool the
 * patch tokens only. CLS_DIST ({@code --dist-token avg}) is the mean of the class and the
 * distillation token of a distilled DeiT, the descriptor timm's distilled models give at
 * evaluation ((x[:, 0] + x[:, 1]) / 2).
 */
public enum Pooling {
    CLS, AVG, MAX, GEM, CLS_DIST;

    /** The poolings of the paper's Table 9 (any model); CLS_DIST needs a distilled one. */
    public static final java.util.List<Pooling> TABLE_9 = java.util.List.of(CLS, AVG, MAX, GEM);

    public static final double GEM_P = 3.0;
    public static final double GEM_EPS = 1e-6;

    /** Pools tokens whose first {@code prefixTokens} are class/distillation tokens. */
    public Var apply(Var tokens, int prefixTokens) {
        if (this == CLS) return tokens.select(1, 0);
        if (this == CLS_DIST) {
            if (prefixTokens < 2) throw new IllegalArgumentException(NEEDS_DISTILLED);
            return tokens.select(1, 0).add(tokens.select(1, 1)).mul(0.5);
        }
        Var patches = tokens.narrow(1, prefixTokens, tokens.shape(1) - prefixTokens);
        return switch (this) {
            case AVG -> patches.mean(1, false);
            case MAX -> patches.max(1, false);
            case GEM -> patches.clamp(GEM_EPS, Double.POSITIVE_INFINITY).pow(GEM_P).mean(1, false).pow(1 / GEM_P);
            default -> throw new AssertionError(this);
        };
    }

    /** Why CLS_DIST cannot pool a model without a distillation token. */
    public static final String NEEDS_DISTILLED =
            "--dist-token avg (cls_dist pooling) needs a distilled model: weights with a dist_token, e.g. deit_small_distilled_patch16_224";

    /** Parses cls|avg|max|gem|cls_dist (any case). */
    public static Pooling parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown pooling '" + s + "'; expected cls, avg, max, gem or cls_dist");
        }
    }
}
