package dev.irtj.bench.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The DJL side of bench/vit-vs-djl.sh: a TorchScript ViT (written by bench/djl/vit_djl.py) loaded
 * by DJL's PyTorch engine with trainable parameters, driven the way a JVM user of DJL trains it:
 * {@link Trainer#forward}, a {@link GradientCollector}'s backward and {@link Trainer#step} with
 * DJL's AdamW. The loss is the sum of the model's outputs (its L2-normalized class tokens), as in
 * {@code irt bench}; the optimizer settings are irtj's (lr 1e-4, betas 0.9/0.999, eps 1e-8,
 * weight decay 0.05).
 *
 * <pre>
 * timing: DjlVitBench --model vit.pt --batch B --chans C --img I --warmup W --reps R
 *   prints: engine=PyTorch threads=T interop_threads=1 batch=B forward_img_s=.. train_step_img_s=..
 *           forward_img_cpu_s=.. train_step_img_cpu_s=.. (images per CPU second of the process) peak_rss_mb=..
 * check:  DjlVitBench --model vit.pt --check-in input.safetensors --check-out djl.safetensors
 *   writes the outputs ("out") and the gradients ("grad.NAME", DJL's parameter names) of one
 *   forward+backward on the input's "x", loss = sum(outputs * w) with the input's "w" (as irt
 *   bench --check-out does)
 * </pre>
 *
 * Threads come from the system properties {@code ai.djl.pytorch.num_threads} and {@code
 * ai.djl.pytorch.num_interop_threads}, which the script sets; the line printed reports what
 * libtorch actually uses.
 */
public final class DjlVitBench {
    private DjlVitBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        Path model = Path.of(required(a, "--model"));
        if (!Files.isRegularFile(model)) fail("--model " + model + ": no such file (a TorchScript archive from bench/djl/vit_djl.py script)");
        Criteria<NDList, NDList> criteria = Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optModelPath(model)
                .optEngine("PyTorch")
                .optOption("trainParam", "true")
                .build();
        try (ZooModel<NDList, NDList> zoo = criteria.loadModel()) {
            if (a.containsKey("--check-in")) {
                check(zoo, Path.of(required(a, "--check-in")), Path.of(required(a, "--check-out")));
            } else {
                time(zoo, a);
            }
        }
    }

    private static Trainer newTrainer(Model model) {
        // The loss given here is never evaluated: each step's loss is the outputs' sum, as in irt bench.
        DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l1Loss())
                .optOptimizer(Optimizer.adamW()
                        .optLearningRateTracker(Tracker.fixed(1e-4f))
                        .optBeta1(0.9f).optBeta2(0.999f).optEpsilon(1e-8f)
                        .optWeightDecays(0.05f)
                        .build());
        return model.newTrainer(config);
    }

    private static void time(ZooModel<NDList, NDList> zoo, Map<String, String> a) {
        int batch = positive(a, "--batch"), chans = positive(a, "--chans"), img = positive(a, "--img");
        int warmup = Integer.parseInt(a.getOrDefault("--warmup", "2")), reps = positive(a, "--reps");
        if (warmup < 0) fail("--warmup must be at least 0, got " + warmup);
        NDManager manager = zoo.getNDManager();
        NDArray x = manager.randomNormal(new Shape(batch, chans, img, img));
        Block block = zoo.getBlock();

        ParameterStore inference = new ParameterStore(manager, false);
        double[] forward = median(warmup, reps, () -> {
            try (NDManager step = manager.newSubManager()) {
                x.tempAttach(step);
                block.forward(inference, new NDList(x), false).singletonOrThrow().sum().getFloat();
            }
        });

        double[] train;
        try (Trainer trainer = newTrainer(zoo)) {
            trainer.initialize(x.getShape());
            train = median(warmup, reps, () -> {
                try (NDManager step = manager.newSubManager()) {
                    x.tempAttach(step);
                    try (GradientCollector collector = trainer.newGradientCollector()) {
                        NDArray loss = trainer.forward(new NDList(x)).singletonOrThrow().sum();
                        collector.backward(loss);
                    }
                    trainer.step();
                }
            });
        }
        System.out.printf(Locale.ROOT, "engine=PyTorch threads=%d interop_threads=%d batch=%d forward_img_s=%.2f train_step_img_s=%.2f "
                        + "forward_img_cpu_s=%.2f train_step_img_cpu_s=%.2f peak_rss_mb=%.1f%n",
                JniUtils.getNumThreads(), JniUtils.getNumInteropThreads(), batch, batch / forward[0], batch / train[0],
                batch / forward[1], batch / train[1], peakRssBytes() / (1024.0 * 1024.0));
    }

    private static void check(ZooModel<NDList, NDList> zoo, Path in, Path out) throws Exception {
        NDManager manager = zoo.getNDManager();
        Map<String, SafeTensorsF32.Entry> input = SafeTensorsF32.read(in);
        if (!input.containsKey("x") || !input.containsKey("w")) fail(in + ": expected tensors x and w, found " + input.keySet());
        NDArray x = array(manager, input.get("x")), w = array(manager, input.get("w"));
        Map<String, SafeTensorsF32.Entry> result = new LinkedHashMap<>();
        try (Trainer trainer = newTrainer(zoo)) {
            trainer.initialize(x.getShape());
            try (GradientCollector collector = trainer.newGradientCollector()) {
                NDArray y = trainer.forward(new NDList(x)).singletonOrThrow();
                collector.backward(y.mul(w).sum());
                result.put("out", entry(y));
            }
            for (Pair<String, Parameter> p : zoo.getBlock().getParameters()) {
                result.put("grad." + p.getKey(), entry(p.getValue().getArray().getGradient()));
            }
        }
        SafeTensorsF32.write(out, result);
        System.out.printf(Locale.ROOT, "check_out=%s tensors=%d%n", out, result.size());
    }

    private static NDArray array(NDManager manager, SafeTensorsF32.Entry e) {
        return manager.create(e.data(), new Shape(Arrays.stream(e.shape()).asLongStream().toArray()));
    }

    private static SafeTensorsF32.Entry entry(NDArray a) {
        long[] s = a.getShape().getShape();
        return new SafeTensorsF32.Entry(Arrays.stream(s).mapToInt(Math::toIntExact).toArray(), a.toFloatArray());
    }

    /** Median seconds per repetition: {wall clock, CPU time of the whole process, libtorch's threads included}. */
    private static double[] median(int warmup, int reps, Runnable r) {
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

    private static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
    }

    /** VmHWM of /proc/self/status in bytes: the process's peak resident set, libtorch's memory included; -1 where absent. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 == args.length) fail("expected --name value pairs, got '" + args[i] + "'");
            a.put(args[i], args[++i]);
        }
        for (String k : a.keySet()) {
            if (!Arrays.asList("--model", "--batch", "--chans", "--img", "--warmup", "--reps", "--check-in", "--check-out").contains(k)) {
                fail("unknown option " + k);
            }
        }
        return a;
    }

    private static String required(Map<String, String> a, String key) {
        String v = a.get(key);
        if (v == null) fail("missing " + key);
        return v;
    }

    private static int positive(Map<String, String> a, String key) {
        int v;
        try {
            v = Integer.parseInt(required(a, key));
        } catch (NumberFormatException e) {
            fail(key + " must be a whole number, got '" + a.get(key) + "'");
            return 0;
        }
        if (v < 1) fail(key + " must be at least 1, got " + v);
        return v;
    }

    static void fail(String message) {
        System.err.println("DjlVitBench: " + message);
        System.exit(2);
    }
}
