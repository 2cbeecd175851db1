package dev.irtj.cli;

import dev.irtj.tensor.Devices;
import dev.irtj.train.Trainer;
import dev.irtj.train.TupleBatchSource;
import dev.irtj.train.data.Loader;
import dev.irtj.train.data.SfM120k;
import dev.irtj.train.data.Transforms;
import dev.irtj.train.objective.KoLeoObjective;
import dev.irtj.train.objective.Objective;
import dev.irtj.train.objective.TupleContrastiveObjective;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;

import java.util.Map;

/**
 * {@code irt train --format sfm120k}: tuples of retrieval-SfM-120k with hard negatives mined
 * from the model each epoch ({@link TupleBatchSource}), the tuple contrastive loss (β = 0.85
 * unless --beta) plus λ·KoLeo, through the same {@link TrainingRun} as the other formats (run
 * lock, config.json, checkpoints, --resume).
 */
final class SfmTraining {
    private SfmTraining() {
    }

    static int train(TrainCommand c) throws Exception {
        ViTConfig config = c.model.config(3);
        SfM120k sfm = c.data.sfm120k();
        TupleBatchSource.Settings settings = c.tuples.settings();
        String misfit = settings.misfit(sfm);
        if (misfit != null) throw new UsageException("--format sfm120k: " + misfit + " (see --queries, --neg-pool and --negatives)");
        Objective tuple = new TupleContrastiveObjective(TupleOptions.beta(c), settings.negatives());
        Objective objective = c.lambda > 0 ? Objective.sum(tuple, new KoLeoObjective(c.lambda)) : tuple;
        Trainer.Config tc = Trainer.Config.builder().iterations(c.iters).lr(c.lr).weightDecay(c.weightDecay).warmup(c.warmup).cosine(c.cosine)
                .pooling(c.pool).seed(c.seed).logEvery(c.logEvery).evalEvery(0).checkpointEvery(c.checkpointEvery).clipNorm(c.clip).build();
        int batch = settings.tuplesPerBatch() * settings.tupleSize();
        TrainingRun.Inputs in = new TrainingRun.Inputs(config, c.weights, null, sfm.images(), null, null, batch, 1, objective, tc, Map.of(),
                c.recall, c.resume, c.out, c.workers, Devices.parse(c.device));
        TrainingRun.Batches tuples = new TrainingRun.Batches() {
            @Override
            public Map<String, Object> settings() {
                Map<String, Object> s = settings.asMap();
                s.put("batch", batch);
                return s;
            }

            @Override
            public TrainingRun.Source open(VisionTransformer model, Transforms transforms, Loader.Options options) {
                TupleBatchSource s = new TupleBatchSource(sfm, model, tc.pooling(), transforms, settings, tc.seed(), options, Math.max(batch, 64));
                return new TrainingRun.Source(s, s, s::skipped);
            }
        };
        TrainingRun.Outcome o = TrainingRun.run(in, tuples, c.spec.commandLine().getErr());
        c.spec.commandLine().getErr().printf("done: %d iterations (%d epochs of mined tuples), %d unreadable images skipped; weights in %s%n",
                o.trainer().step(), (o.trainer().step() + settings.batchesPerEpoch() - 1) / settings.batchesPerEpoch(), o.skipped(),
                c.out.resolve(TrainingRun.WEIGHTS));
        return 0;
    }
}
