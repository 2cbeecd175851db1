package dev.irtj.train.objective;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.MomentumEncoder;
import dev.irtj.train.loss.ContrastiveLoss;
import dev.irtj.train.loss.CrossBatchMemory;
import dev.irtj.vit.VisionTransformer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * IRT_L's objective: the contrastive loss of the step's descriptors against the batch and the
 * cross-batch memory, in one of the published reductions ({@link ContrastiveLoss.Reduction}).
 * The memory is filled with the step's detached descriptors, or, with a momentum, with those of
 * an EMA copy of the model (the paper's In-Shop setting), either after the step's update (irtj's
 * default: the memory holds past batches only) or before its loss (research-xbm's and jhgan00's
 * trainers: the memory term sees the batch's own copies); see {@link CrossBatchMemory.Enqueue}.
 * It is filled and used from iteration {@code memoryStart} on; the EMA is updated after each
 * step from then on, so with BEFORE the copy enqueued at a step is the EMA of the previous one.
 * Memory and EMA weights are checkpointed ({@code memory.*}, {@code ema.*}). The memory lives on
 * the model's device (see {@link CrossBatchMemory}), so a step adds nothing to the Trainer's one
 * read of its scalars.
 */
public final class ContrastiveObjective implements Objective {
    private static final String EMA = "ema.";
    private final ContrastiveLoss contrastive;
    private final int memorySize;
    private final int memoryStart;
    private final double momentum;
    private final CrossBatchMemory.Enqueue enqueue;
    private CrossBatchMemory memory;
    private MomentumEncoder ema;

    /** Eq. 1, the memory enqueued after each step. */
    public ContrastiveObjective(double beta, int memorySize, int memoryStart, double momentum) {
        this(beta, ContrastiveLoss.Reduction.PAPER, memorySize, memoryStart, momentum, CrossBatchMemory.Enqueue.AFTER);
    }

    /**
     * @param memorySize  entries of the cross-batch memory; 0 = the batch only
     * @param memoryStart the iteration from which the memory is filled and used
     * @param momentum    0 = fill the memory from the model itself; in (0, 1) = from its EMA
     * @param enqueue     when a step's batch joins the memory, relative to its loss
     */
    public ContrastiveObjective(double beta, ContrastiveLoss.Reduction reduction, int memorySize, int memoryStart, double momentum,
                                CrossBatchMemory.Enqueue enqueue) {
        if (memorySize < 0 || memoryStart < 0) throw new IllegalArgumentException("memory size and start must be >= 0, got " + memorySize + ", " + memoryStart);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        if (enqueue == null) throw new IllegalArgumentException("the memory needs an enqueue order (before or after the loss)");
        this.contrastive = new ContrastiveLoss(beta, reduction);
        this.memorySize = memorySize;
        this.memoryStart = memoryStart;
        this.momentum = momentum;
        this.enqueue = enqueue;
    }

    @Override
    public String name() {
        return "contrastive";
    }

    @Override
    public Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("reduction", contrastive.reduction().name().toLowerCase(java.util.Locale.ROOT));
        s.put("beta", contrastive.beta());
        s.put("memory", memorySize);
        s.put("memory_start", memoryStart);
        s.put("momentum", momentum);
        s.put("enqueue", enqueue.name().toLowerCase(java.util.Locale.ROOT));
        return s;
    }

    @Override
    public void attach(VisionTransformer model) {
        memory = new CrossBatchMemory(memorySize, model.config().embedDim(), enqueue, model.device());
        if (momentum > 0 && memorySize > 0) {
            DType dtype = model.namedParameters().get("pos_embed").data().dtype();
            // The copy's initial values are overwritten with the model's by MomentumEncoder.
            ema = new MomentumEncoder(new VisionTransformer(model.config(), model.distilled(), new Rng(0), dtype), model, momentum);
        }
    }

    /** The cross-batch memory (after {@link #attach}). */
    public CrossBatchMemory memory() {
        return memory;
    }

    @Override
    public Loss loss(Step step) {
        Var z = step.descriptors();
        if (enqueue == CrossBatchMemory.Enqueue.BEFORE && memory.capacity() > 0 && step.iteration() >= memoryStart) {
            memory.beforeLoss(memoryEntries(step), step.labels());
        }
        boolean useMemory = memory.capacity() > 0 && memory.size() > 0 && step.iteration() >= memoryStart;
        Var lc = useMemory
                ? contrastive.apply(z, step.labels(), memory.contents(z.dtype()), memory.labelTensor())
                : contrastive.apply(z, step.labels());
        return new Loss(lc, Map.of("contrastive", lc));
    }

    @Override
    public void afterStep(Step step) {
        if (memory.capacity() == 0 || step.iteration() + 1 < memoryStart) return;
        if (ema != null) ema.update(step.model());
        if (enqueue == CrossBatchMemory.Enqueue.AFTER) memory.afterLoss(memoryEntries(step), step.labels());
    }

    /**
     * What the memory takes from this step, detached: the EMA copy's descriptors of the batch
     * (computed only when they are enqueued), or the step's own.
     */
    private Tensor memoryEntries(Step step) {
        if (ema == null) return step.descriptors().data();
        try (NoGrad ignored = NoGrad.enter()) {
            return ema.model().descriptor(step.images(), step.pooling()).data();
        }
    }

    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        if (memory.capacity() > 0) s.putAll(memory.state());
        if (ema != null) ema.model().stateDict().forEach((n, t) -> s.put(EMA + n, t));
        return s;
    }

    @Override
    public void loadState(Map<String, Tensor> checkpoint, String file) {
        if (memory.capacity() > 0) memory.loadState(checkpoint);
        if (ema != null) {
            Map<String, Tensor> weights = new LinkedHashMap<>();
            checkpoint.forEach((n, t) -> {
                if (n.startsWith(EMA)) weights.put(n.substring(EMA.length()), t);
            });
            ema.model().loadStateDict(weights, file, n -> false);
        }
    }
}
