package dev.irtj.cli;

import dev.irtj.tensor.Devices;
import dev.irtj.train.Trainer;
import dev.irtj.train.data.Dataset;
import dev.irtj.train.loss.ContrastiveLoss;
import dev.irtj.train.loss.CrossBatchMemory;
import dev.irtj.train.objective.ContrastiveObjective;
import dev.irtj.train.objective.CrossEntropyObjective;
import dev.irtj.train.objective.KoLeoObjective;
import dev.irtj.train.objective.Objective;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.ViTConfig;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code irt train}: the paper's recipe on a dataset. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a ViT for retrieval with the contrastive loss, a cross-batch memory and the KoLeo regularizer.")
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DataOptions data;

    @Mixin
    TupleOptions tuples = new TupleOptions();

    @ArgGroup(exclusive = false, heading = "Model%n")
    ModelOptions model = new ModelOptions();

    @Option(names = "--weights", description = "Initial weights: timm model.safetensors (e.g. ImageNet DeiT) or an irt run's model.safetensors.")
    Path weights;

    @Option(names = "--out", required = true, description = "Run folder: checkpoints, metrics.jsonl, config.json, model.safetensors.")
    Path out;

    @Option(names = "--device", defaultValue = "auto",
            description = "auto (cuda when a GPU, its driver and JCuda load; else cpu, with one log line), cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--iters", defaultValue = "1000", description = "Iterations (default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--batch", defaultValue = "64", description = "Batch size, a multiple of --m (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "3e-5", description = "AdamW learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--wd", defaultValue = "5e-4", description = "AdamW weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--beta", defaultValue = "0.5", description = "Contrastive margin β (default: ${DEFAULT-VALUE}).")
    double beta;

    @Option(names = "--lambda", defaultValue = "0.7", description = "KoLeo weight λ; 0 disables it (default: ${DEFAULT-VALUE}).")
    double lambda;

    @Option(names = "--memory", description = "Cross-batch memory size; 0 disables it (default: the training set's size).")
    Integer memory;

    @Option(names = "--memory-ratio", paramLabel = "R",
            description = "Cross-batch memory size as a fraction of the training set, e.g. 0.2 for In-Shop as the paper; instead of --memory.")
    Double memoryRatio;

    @Option(names = "--reduction", paramLabel = "paper|pml|xbm",
            description = "Contrastive loss convention: paper (Eq. 1: pair losses summed over batch and memory, / B), pml (pytorch-metric-learning's "
                    + "AvgNonZero per term, as jhgan00 trains) or xbm (research-xbm's) (default: paper).")
    ContrastiveLoss.Reduction reduction;

    @Option(names = "--enqueue", paramLabel = "before|after",
            description = "When a batch joins the cross-batch memory: after its update (the memory holds past batches only) or before its loss "
                    + "(as the XBM and jhgan00 code) (default: after).")
    CrossBatchMemory.Enqueue enqueue;

    @Option(names = "--memory-start", defaultValue = "0", description = "Iteration at which the memory starts (default: ${DEFAULT-VALUE}).")
    int memoryStart;

    @Option(names = "--momentum", defaultValue = "0", description = "Fill the memory from an EMA copy of the model with this momentum, e.g. 0.999 for In-Shop (default: off).")
    double momentum;

    @Option(names = "--m", defaultValue = "2", description = "Images per class in a batch (default: ${DEFAULT-VALUE}).")
    int m;

    @Option(names = "--pool", defaultValue = "cls", description = "Descriptor pooling: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Pooling pool;

    @Option(names = "--dist-token", description = DistToken.HELP)
    DistToken distToken;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for initialization, sampling, augmentation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--warmup", defaultValue = "0", description = "Linear warm-up iterations (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--cosine", description = "Cosine learning-rate decay to 0 at the last iteration (default: constant).")
    boolean cosine;

    @Option(names = "--clip", defaultValue = "0", description = "Clip the global gradient norm to this value; 0 = off (default).")
    double clip;

    @Option(names = "--log-every", defaultValue = "10", description = "Iterations per metrics.jsonl line (default: ${DEFAULT-VALUE}).")
    int logEvery;

    @Option(names = "--eval-every", defaultValue = "0", description = "Evaluate Recall@K on the test split every N iterations; 0 = only at the end (default).")
    int evalEvery;

    @Option(names = "--checkpoint-every", defaultValue = "500", description = "Checkpoint every N iterations, and always at the end (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--recall", split = ",", defaultValue = "1,2,4,8", description = "K values for Recall@K (default: ${DEFAULT-VALUE}).")
    int[] recall;

    @Option(names = "--workers", defaultValue = "2", description = "Image decoding threads (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint.")
    boolean resume;

    @Option(names = "--pretrain-classification", description = "Train a linear head with cross-entropy instead (classification pretraining).")
    boolean classification;

    @Override
    public Integer call() throws Exception {
        checkFlags();
        if (weights != null && !java.nio.file.Files.isRegularFile(weights)) {
            throw new UsageException("--weights " + weights + ": no such file (expected a timm model.safetensors or an irt run's model.safetensors)");
        }
        if (data.format == DataOptions.Format.SFM120K) return SfmTraining.train(this);
        ViTConfig config = model.config(data.channels());
        Dataset train = data.train(), test = data.test();
        if (!classification && batch / m > train.numClasses()) {
            int fit = train.numClasses() * m;
            throw new UsageException("--batch " + batch + " with --m " + m + " needs " + batch / m + " classes in every batch, but the training split has "
                    + train.numClasses() + "; use --batch " + (fit >= 2 ? fit : 2 * train.numClasses()) + (fit >= 2 ? "" : " --m 2") + " or fewer"
                    + (fit >= 2 ? " (with --m " + m + ")" : ""));
        }
        for (String w : data.splitWarnings()) spec.commandLine().getErr().println(w);
        int memorySize = memory != null ? memory
                : memoryRatio != null ? (memoryRatio > 0 ? Math.max(1, (int) Math.round(memoryRatio * train.size())) : 0)
                : train.size();
        Objective objective = classification ? new CrossEntropyObjective(maxLabel(train) + 1, seed)
                : irtObjective(beta, reduction == null ? ContrastiveLoss.Reduction.PAPER : reduction, lambda, memorySize, memoryStart, momentum,
                enqueue == null ? CrossBatchMemory.Enqueue.AFTER : enqueue);
        Map<String, Object> asked = new LinkedHashMap<>();
        if (memoryRatio != null) asked.put("memory_ratio", memoryRatio);
        Trainer.Config tc = Trainer.Config.builder().iterations(iters).lr(lr).weightDecay(weightDecay).warmup(warmup).cosine(cosine)
                .pooling(pool).seed(seed).logEvery(logEvery).evalEvery(evalEvery > 0 ? evalEvery : iters).checkpointEvery(checkpointEvery)
                .clipNorm(clip).build();
        TrainingRun.Outcome o = TrainingRun.run(new TrainingRun.Inputs(config, weights, null, train, test, data.gallery(),
                batch, m, objective, tc, asked, recall, resume, out, workers, Devices.parse(device)), spec.commandLine().getErr());
        spec.commandLine().getErr().printf("done: %d iterations, %d unreadable images skipped; weights in %s%n",
                o.trainer().step(), o.skipped(), out.resolve(TrainingRun.WEIGHTS));
        return 0;
    }

    /** Every value checked before any data is read or file written; one line naming the flag, the value and what is allowed. */
    private void checkFlags() {
        pool = DistToken.pooling(pool, distToken);
        tuples.check(data.format == DataOptions.Format.SFM120K, spec);
        positive("--m", m);
        if (batch < 2 || batch % m != 0) throw new UsageException("--batch must be a multiple of --m (" + m + ") and at least 2, got " + batch);
        positive("--iters", iters);
        if (!(lr > 0) || !Double.isFinite(lr)) throw new UsageException("--lr must be a positive number, got " + lr);
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) throw new UsageException("--wd must be >= 0, got " + weightDecay);
        if (!(beta >= -1 && beta <= 1)) throw new UsageException("--beta is a cosine-similarity margin in [-1, 1], got " + beta);
        if (!(lambda >= 0) || !Double.isFinite(lambda)) throw new UsageException("--lambda must be >= 0 (0 disables KoLeo), got " + lambda);
        if (!(momentum >= 0 && momentum < 1)) throw new UsageException("--momentum must be in [0, 1) (0 = off), got " + momentum);
        if (!(clip >= 0) || !Double.isFinite(clip)) throw new UsageException("--clip must be >= 0 (0 = off), got " + clip);
        if (warmup < 0 || warmup > iters) throw new UsageException("--warmup must be in [0, --iters = " + iters + "], got " + warmup);
        if (memoryStart < 0) throw new UsageException("--memory-start must be >= 0, got " + memoryStart);
        if (memory != null && memory < 0) throw new UsageException("--memory must be >= 0 (0 = no cross-batch memory), got " + memory);
        if (memory != null && memoryRatio != null) {
            throw new UsageException("--memory and --memory-ratio both set the cross-batch memory's size; give one (--memory N entries, or --memory-ratio R of the training set)");
        }
        if (memoryRatio != null && !(memoryRatio >= 0 && memoryRatio <= 1)) {
            throw new UsageException("--memory-ratio is a fraction of the training set in [0, 1] (0.2 for In-Shop, as the paper; 0 = no memory), got " + memoryRatio);
        }
        if (classification) {
            for (Map.Entry<String, Object> f : Map.<String, Object>of("--reduction", reduction == null ? "" : reduction, "--enqueue", enqueue == null ? "" : enqueue,
                    "--memory-ratio", memoryRatio == null ? "" : memoryRatio).entrySet()) {
                if (!"".equals(f.getValue())) throw new UsageException(f.getKey() + " applies to the contrastive loss, not to --pretrain-classification");
            }
        }
        boolean noMemory = (memory != null && memory == 0) || (memoryRatio != null && memoryRatio == 0);
        if (enqueue != null && noMemory) throw new UsageException("--enqueue " + enqueue.name().toLowerCase(Locale.ROOT) + " needs a cross-batch memory, but its size is 0");
        positive("--log-every", logEvery);
        if (evalEvery < 0) throw new UsageException("--eval-every must be >= 0 (0 = only at the end), got " + evalEvery);
        positive("--checkpoint-every", checkpointEvery);
        positive("--workers", workers);
        for (int k : recall) if (k < 1) throw new UsageException("--recall values must be at least 1, got " + k);
    }

    private static void positive(String flag, int v) {
        if (v < 1) throw new UsageException(flag + " must be at least 1, got " + v);
    }

    /** IRT_L (λ = 0) or IRT_R: the contrastive loss with its memory, plus λ·KoLeo. */
    static Objective irtObjective(double beta, ContrastiveLoss.Reduction reduction, double lambda, int memorySize, int memoryStart, double momentum,
                                  CrossBatchMemory.Enqueue enqueue) {
        Objective contrastive = new ContrastiveObjective(beta, reduction, memorySize, memoryStart, momentum, enqueue);
        return lambda > 0 ? Objective.sum(contrastive, new KoLeoObjective(lambda)) : contrastive;
    }

    static int maxLabel(Dataset d) {
        long max = 0;
        for (long l : d.labels()) max = Math.max(max, l);
        if (max > 1_000_000) throw new UsageException("labels up to " + max + " are too large for a classification head; remap them");
        return (int) max;
    }
}
