package dev.irtj.cli;

import dev.irtj.vit.Pooling;

/**
 * {@code --dist-token cls|avg}: which token of a distilled DeiT is its descriptor. CLS is the
 * class token alone (irtj's default, the paper's); AVG is the mean of the class and the
 * distillation token, as timm evaluates distilled models. Both are CLS-style poolings, so the
 * switch resolves to a {@link Pooling} and travels everywhere a pooling does (the run's
 * config.json, the descriptor fingerprint, an index's recorded source).
 */
enum DistToken {
    CLS, AVG;

    static final String HELP = "For distilled DeiT: cls (the class token, default) or avg (the mean of the class and "
            + "distillation tokens, as timm evaluates them); the same as --pool cls / --pool cls_dist.";

    /** The pooling that {@code --pool} and {@code --dist-token} give together (null: neither says). */
    static Pooling pooling(Pooling pool, DistToken token) {
        if (token == null) return pool;
        Pooling wanted = token == AVG ? Pooling.CLS_DIST : Pooling.CLS;
        if (pool != null && pool != wanted && !(pool == Pooling.CLS && token == AVG)) {
            throw new UsageException("--dist-token " + token.name().toLowerCase(java.util.Locale.ROOT) + " picks a token; it cannot be combined with --pool "
                    + pool.name().toLowerCase(java.util.Locale.ROOT) + " (drop one of them)");
        }
        return wanted;
    }
}
