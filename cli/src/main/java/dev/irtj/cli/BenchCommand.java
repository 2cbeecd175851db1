package dev.irtj.cli;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Devices;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.optim.AdamW;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code irt bench}: images/s of a ViT's forward pass, forward+backward, and full training step
 * (forward, backward, AdamW update) on random inputs, on the CPU or a GPU ({@code --device}); the
 * medians of timed repetitions after warm-up. Used by {@code bench/vit-vs-pytorch.sh}, which
 * runs PyTorch on the same shapes in the same script and prints the ratios.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Time a ViT's forward, forward+backward and training step (images/s).")
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = false, heading = "Model%n")
    ModelOptions model = new ModelOptions();

    @Option(names = "--in-chans", defaultValue = "3", description = "Input channels (default: ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = "--batch", defaultValue = "32", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed repetitions first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--reps", defaultValue = "5", description = "Timed repetitions; the median is reported (default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--device", defaultValue = "auto",
            description = "auto (cuda when a GPU, its driver and JCuda load; else cpu, with one log line), cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Override
    public Integer call() {
        if (!model.given()) throw new UsageException("give --model PRESET or a custom shape (--img-size --patch --dim --depth --heads)");
        Device dev = Devices.parse(device);
        ViTConfig c = model.config(channels);
        VisionTransformer vit = new VisionTransformer(c, new Rng(1), DType.F32);
        vit.to(dev);
        Tensor x = Tensor.randn(new Rng(2), DType.F32, batch, c.inChans(), c.imgSize(), c.imgSize()).to(dev);
        // Reading one value back makes each timed repetition wait for the device to finish.
        Tensor probe = vit.namedParameters().get("cls_token").data();
        double forward = time(() -> {
            try (NoGrad ignored = NoGrad.enter(); MemoryScope s = MemoryScope.open()) {
                vit.descriptor(Var.constant(x), Pooling.CLS).data().sum().item();
            }
        });
        vit.train(true);
        double train = time(() -> {
            try (MemoryScope s = MemoryScope.open()) {
                vit.zeroGrad();
                vit.descriptor(Var.constant(x), Pooling.CLS).sum().backward();
                vit.namedParameters().get("cls_token").grad().sum().item();
            }
        });
        AdamW opt = new AdamW(vit.namedParameters(), 1e-4, 0.9, 0.999, 1e-8, 0.05);
        double step = time(() -> {
            try (MemoryScope s = MemoryScope.open()) {
                vit.zeroGrad();
                vit.descriptor(Var.constant(x), Pooling.CLS).sum().backward();
                opt.step();
                probe.sum().item();
            }
        });
        spec.commandLine().getOut().printf(Locale.ROOT,
                "backend=%s threads=%s batch=%d forward_img_s=%.2f fwd_bwd_img_s=%.2f train_step_img_s=%.2f device=%s tf32=%s%n",
                Backends.forDevice(dev).name(), System.getProperty("irtj.threads", "all"), batch, batch / forward, batch / train,
                batch / step, dev, Boolean.getBoolean("irtj.cuda.tf32"));
        return 0;
    }

    private double time(Runnable r) {
        for (int i = 0; i < warmup; i++) r.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }
}
