package dev.irtj.cli;

import dev.irtj.train.TupleBatchSource;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.util.List;

/**
 * The flags of tuple training ({@code irt train --format sfm120k}): tuples per batch, negatives
 * per tuple, queries and negative candidates per epoch (the paper's 5, 5, 2,000 and 22,000 by
 * default). They apply to that format only, and the flags of m-per-class training with a
 * cross-batch memory do not apply to it; either mix is refused in one line.
 */
public final class TupleOptions {
    /** The paper's margin for SfM-120k (β = 0.85) where --beta is not given. */
    static final double SFM_BETA = 0.85;

    /** TrainCommand flags that mean nothing to tuple training. */
    private static final List<String> NOT_FOR_TUPLES = List.of("--batch", "--m", "--memory", "--memory-ratio", "--reduction", "--enqueue",
            "--memory-start", "--momentum", "--pretrain-classification", "--train-classes", "--test-classes", "--eval-every", "--recall");
    private static final List<String> TUPLE_FLAGS = List.of("--tuples", "--negatives", "--queries", "--neg-pool");

    @Option(names = "--tuples", paramLabel = "T", description = "sfm120k: tuples per batch (default: 5).")
    Integer tuples;

    @Option(names = "--negatives", paramLabel = "N", description = "sfm120k: hard negatives per tuple, each of another cluster (default: 5).")
    Integer negatives;

    @Option(names = "--queries", paramLabel = "Q", description = "sfm120k: query-positive pairs drawn per epoch; an epoch is Q / T batches (default: 2000).")
    Integer queries;

    @Option(names = "--neg-pool", paramLabel = "P", description = "sfm120k: candidate images drawn per epoch to mine the negatives from (default: 22000).")
    Integer negPool;

    TupleBatchSource.Settings settings() {
        TupleBatchSource.Settings d = TupleBatchSource.Settings.PAPER;
        return new TupleBatchSource.Settings(tuples != null ? tuples : d.tuplesPerBatch(), negatives != null ? negatives : d.negatives(),
                queries != null ? queries : d.queries(), negPool != null ? negPool : d.poolSize());
    }

    /** One line for the first flag that does not fit the format, or a tuple count out of range. */
    void check(boolean tupleFormat, CommandSpec spec) {
        var parsed = spec.commandLine().getParseResult();
        if (!tupleFormat) {
            for (String f : TUPLE_FLAGS) if (parsed.hasMatchedOption(f)) throw new UsageException(f + " applies to --format sfm120k (tuple training) only");
            return;
        }
        for (String f : NOT_FOR_TUPLES) {
            if (parsed.hasMatchedOption(f)) {
                throw new UsageException(f + " does not apply to --format sfm120k: a batch is --tuples tuples of 1 query, 1 positive and --negatives "
                        + "hard negatives, with no cross-batch memory and no periodic evaluation (evaluate with irt eval --format roxford5k|rparis6k)");
            }
        }
        for (var f : new Object[][] {{"--tuples", tuples}, {"--negatives", negatives}, {"--queries", queries}, {"--neg-pool", negPool}}) {
            if (f[1] != null && (Integer) f[1] < 1) throw new UsageException(f[0] + " must be at least 1, got " + f[1]);
        }
        TupleBatchSource.Settings d = TupleBatchSource.Settings.PAPER;
        int t = tuples != null ? tuples : d.tuplesPerBatch(), n = negatives != null ? negatives : d.negatives();
        int q = queries != null ? queries : d.queries(), p = negPool != null ? negPool : d.poolSize();
        if (q < t) throw new UsageException("--queries " + q + " does not fill one batch of --tuples " + t);
        if (p < n) throw new UsageException("--neg-pool " + p + " is smaller than the --negatives " + n + " to pick from it");
    }

    /** --beta as given, else the paper's SfM-120k margin. */
    static double beta(TrainCommand c) {
        return c.spec.commandLine().getParseResult().hasMatchedOption("--beta") ? c.beta : SFM_BETA;
    }
}
