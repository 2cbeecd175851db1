package dev.irtj.vit;

import dev.irtj.autograd.Var;

import java.util.Locale;

/**
 * How the final tokens [B, T, D] become one vector per image. CLS takes the class token (the
 * paper's default); AVG, MAX and GEM (generalized mean, p = 3, inputs clamped at 1e-6) pool the
 * patch tokens only.
 */
public enum Pooling {
    CLS, AVG, MAX, GEM;

    public static final double GEM_P = 3.0;
    public static final double GEM_EPS = 1e-6;

    /** Pools tokens whose first {@code prefixTokens} are class/distillation tokens. */
    public Var apply(Var tokens, int prefixTokens) {
        if (this == CLS) return tokens.select(1, 0);
        Var patches = tokens.narrow(1, prefixTokens, tokens.shape(1) - prefixTokens);
        return switch (this) {
            case AVG -> patches.mean(1, false);
            case MAX -> patches.max(1, false);
            case GEM -> patches.clamp(GEM_EPS, Double.POSITIVE_INFINITY).pow(GEM_P).mean(1, false).pow(1 / GEM_P);
            default -> throw new AssertionError(this);
        };
    }

    /** Parses cls|avg|max|gem (any case). */
    public static Pooling parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown pooling '" + s + "'; expected cls, avg, max or gem");
        }
    }
}
