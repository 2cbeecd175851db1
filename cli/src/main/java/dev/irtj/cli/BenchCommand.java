package dev.irtj.cli;

import dev.irtj.autograd.NoGrad;
import dev.irtj.autograd.Var;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.Devices;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.SafeTensors;
import dev.irtj.tensor.Tensor;
import dev.irtj.train.optim.AdamW;
import dev.irtj.vit.Pooling;
import dev.irtj.vit.TimmCheckpoint;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code irt bench}: images/s of a ViT's forward pass, forward+backward, and full training step
 * (forward, backward, AdamW update) on random inputs, on the CPU or a GPU ({@code --device}); the
 * medians of timed repetitions after warm-up. Used by {@code bench/vit-vs-pytorch.sh}, which
 * runs PyTorch on the same shapes in the same script and prints the ratios, and by {@code
 * bench/vit-vs-djl.sh}, which also reads the images per CPU second of the process ({@code
 * *_img_cpu_s}), the memory report ({@code peak_heap_mb}: the most heap in use during the
 * training-step repetitions; {@code peak_rss_mb}: the process's peak resident set) and, with
 * {@code --check-out}, the outputs and gradients for its equivalence check.
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

    @Option(names = "--check-out", paramLabel = "DIR",
            description = "Instead of timing: write the model's weights (weights.safetensors, timm names), the input batch and a loss weighting "
                    + "(input.safetensors: x, w) and one forward+backward's descriptors and gradients, loss = sum(descriptors * w) "
                    + "(irtj.safetensors: out, grad.NAME) to DIR, for bench/vit-vs-djl.sh's equivalence check.")
    Path checkOut;

    @Override
    public Integer call() {
        if (!model.given()) throw new UsageException("give --model PRESET or a custom shape (--img-size --patch --dim --depth --heads)");
        if (batch < 1) throw new UsageException("--batch must be at least 1, got " + batch);
        if (checkOut == null && (warmup < 0 || reps < 1)) {
            throw new UsageException("--warmup must be at least 0 and --reps at least 1, got --warmup " + warmup + " --reps " + reps);
        }
        if (checkOut != null && Files.exists(checkOut) && !Files.isDirectory(checkOut)) {
            throw new UsageException("--check-out " + checkOut + " exists and is not a directory");
        }
        Device dev = Devices.parse(device);
        ViTConfig c = model.config(channels);
        VisionTransformer vit = new VisionTransformer(c, new Rng(1), DType.F32);
        vit.to(dev);
        Tensor x = Tensor.randn(new Rng(2), DType.F32, batch, c.inChans(), c.imgSize(), c.imgSize()).to(dev);
        if (checkOut != null) return writeCheck(vit, x);
        // Reading one value back makes each timed repetition wait for the device to finish.
        Tensor probe = vit.namedParameters().get("cls_token").data();
        double[] forward = time(() -> {
            try (NoGrad ignored = NoGrad.enter(); MemoryScope s = MemoryScope.open()) {
                vit.descriptor(Var.constant(x), Pooling.CLS).data().sum().item();
            }
        });
        vit.train(true);
        double[] train = time(() -> {
            try (MemoryScope s = MemoryScope.open()) {
                vit.zeroGrad();
                vit.descriptor(Var.constant(x), Pooling.CLS).sum().backward();
                vit.namedParameters().get("cls_token").grad().sum().item();
            }
        });
        AdamW opt = new AdamW(vit.namedParameters(), 1e-4, 0.9, 0.999, 1e-8, 0.05);
        double[] step;
        long peakHeap;
        // The memory report covers the training step (forward, backward, AdamW with its moments),
        // the largest of the three phases; on a GPU it is the host side only.
        try (PeakMemory memory = new PeakMemory()) {
            step = time(() -> {
                try (MemoryScope s = MemoryScope.open()) {
                    vit.zeroGrad();
                    vit.descriptor(Var.constant(x), Pooling.CLS).sum().backward();
                    opt.step();
                    probe.sum().item();
                    memory.sample();
                }
            });
            peakHeap = memory.peakHeapBytes();
        }
        spec.commandLine().getOut().printf(Locale.ROOT,
                "backend=%s threads=%s batch=%d forward_img_s=%.2f fwd_bwd_img_s=%.2f train_step_img_s=%.2f device=%s tf32=%s"
                        + " forward_img_cpu_s=%.2f fwd_bwd_img_cpu_s=%.2f train_step_img_cpu_s=%.2f peak_heap_mb=%.1f peak_rss_mb=%.1f%n",
                Backends.forDevice(dev).name(), System.getProperty("irtj.threads", "all"), batch, batch / forward[0], batch / train[0],
                batch / step[0], dev, Boolean.getBoolean("irtj.cuda.tf32"), batch / forward[1], batch / train[1], batch / step[1],
                peakHeap / MIB, PeakMemory.peakRssBytes() / MIB);
        return 0;
    }

    private static final double MIB = 1024.0 * 1024.0;

    /**
     * The equivalence check's files: the weights, the input, and the descriptors and gradients of
     * one forward+backward. Its loss weights the descriptors by a random {@code w}: the timed
     * phases' plain sum would give the blocks no gradient to compare, since a freshly initialized
     * final norm (weight 1, bias 0) has outputs of mean zero, so the sum of the normalized class
     * token has a constant gradient, which the layer norm's backward removes exactly.
     */
    private int writeCheck(VisionTransformer vit, Tensor x) {
        try {
            Files.createDirectories(checkOut);
            TimmCheckpoint.save(vit, checkOut.resolve("weights.safetensors"));
            Tensor w = Tensor.randn(new Rng(3), DType.F32, batch, vit.config().embedDim()).to(x.device());
            Map<String, Tensor> input = new LinkedHashMap<>();
            input.put("x", x.to(Device.CPU));
            input.put("w", w.to(Device.CPU));
            SafeTensors.write(checkOut.resolve("input.safetensors"), input, null);
            vit.train(true);
            vit.zeroGrad();
            Map<String, Tensor> result = new LinkedHashMap<>();
            try (MemoryScope s = MemoryScope.open()) {
                Var out = vit.descriptor(Var.constant(x), Pooling.CLS);
                out.mul(Var.constant(w)).sum().backward();
                result.put("out", out.data().to(Device.CPU).contiguous());
                vit.namedParameters().forEach((name, p) -> result.put("grad." + name, p.grad().to(Device.CPU).contiguous()));
                SafeTensors.write(checkOut.resolve("irtj.safetensors"), result, null);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("--check-out " + checkOut + ": " + e.getMessage(), e);
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "check_out=%s batch=%d parameters=%d%n", checkOut, batch, vit.namedParameters().size());
        return 0;
    }

    /** Median seconds per repetition: {wall clock, CPU time of the whole process}. */
    private double[] time(Runnable r) {
        for (int i = 0; i < warmup; i++) r.run();
        double[] t = new double[reps], cpu = new double[reps];
        for (int i = 0; i < reps; i++) {
            long c0 = processCpuNanos(), t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
            cpu[i] = (processCpuNanos() - c0) / 1e9;
        }
        Arrays.sort(t);
        Arrays.sort(cpu);
        return new double[]{t[reps / 2], cpu[reps / 2]};
    }

    /**
     * CPU time of the whole process (every thread, the JIT's and the collector's included): on a
     * machine shared with other work, images per CPU second measure the code, images per second
     * also measure the scheduler. -1 where the JVM cannot tell.
     */
    private static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
    }
}
