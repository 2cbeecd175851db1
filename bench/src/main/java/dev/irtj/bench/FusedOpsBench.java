package dev.irtj.bench;

import dev.irtj.autograd.nn.Parameter;
import dev.irtj.tensor.AdamWParameter;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.UnaryOp;
import dev.irtj.vit.ViTConfig;
import dev.irtj.vit.VisionTransformer;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Each fused op of issue 14 against the unfused ops it replaces, in one JVM on the default
 * backend, on DeiT-S/16 shapes at a batch of B images (rows = B·197): the two are alternated rep
 * sample by sample, and both the wall time and the process CPU time of each sample are recorded (on a shared
 * machine the CPU time is the steadier figure). Prints medians in ms and the ratio
 * unfused/fused, with the load average before and after.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp cli/target/irt.jar:bench/target/classes \
 *     dev.irtj.bench.FusedOpsBench [BATCH=32] [REPS=7]</pre>
 */
public final class FusedOpsBench {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private FusedOpsBench() {
    }

    public static void main(String[] args) throws Exception {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        int rows = batch * 197, d = 384, hidden = 1536;
        Rng rng = new Rng(1);
        Tensor x = Tensor.randn(rng, DType.F32, rows, d), w1 = Tensor.randn(rng, DType.F32, hidden, d).mul(0.05f);
        Tensor b1 = Tensor.randn(rng, DType.F32, hidden), dy = Tensor.randn(rng, DType.F32, rows, hidden);
        Tensor r = Tensor.randn(rng, DType.F32, rows, d), lw = Tensor.ones(DType.F32, d), lb = Tensor.zeros(DType.F32, d);
        Tensor z = x.linearGelu(w1, b1).z(), pre = x.linear(w1, b1);
        System.out.printf(Locale.ROOT, "DeiT-S shapes, batch %d (rows %d), %d reps, load before %s%n", batch, rows, reps, load());
        System.out.printf(Locale.ROOT, "%-44s %11s %11s %7s   %11s %11s %7s%n", "op", "unfused ms", "fused ms", "wall", "unfused cpu", "fused cpu", "cpu");
        compare("fc1 + GELU forward", reps, 5, () -> x.linear(w1, b1).gelu(), () -> x.linearGelu(w1, b1).y());
        compare("GELU backward + bias gradient", reps, 10,
                () -> pre.applyBackward(UnaryOp.GELU, dy, 0, 0).sum(new int[] {0}, false),
                () -> z.linearGeluBackward(b1, dy)[1]);
        compare("residual add + layer norm", reps, 20,
                () -> x.add(r).layerNormWithStatistics(lw, lb, 1e-6).y(), () -> x.addLayerNorm(r, lw, lb, 1e-6).norm().y());

        VisionTransformer vit = new VisionTransformer(new ViTConfig(224, 16, 3, 384, 12, 6, 4, true, 0.0, 1e-6), new Rng(2), DType.F32);
        List<AdamWParameter> all = new ArrayList<>();
        for (Parameter p : vit.namedParameters().values()) {
            Tensor t = p.data();
            all.add(new AdamWParameter(t, Tensor.randn(rng, DType.F32, t.shape()).mul(1e-3f), Tensor.zeros(DType.F32, t.shape()),
                    Tensor.zeros(DType.F32, t.shape()), t.rank() > 1));
        }
        long[] step = {0};
        compare("AdamW, DeiT-S's " + all.size() + " parameters", reps, 5, () -> {
            step[0]++;
            for (AdamWParameter e : all) e.param().adamwUpdate(e.grad(), e.m(), e.v(), step[0], 1e-4, 0.9, 0.999, 1e-8, e.decays() ? 0.05 : 0);
            return null;
        }, () -> {
            step[0]++;
            Tensor.adamwUpdate(all, step[0], 1e-4, 0.9, 0.999, 1e-8, 0.05);
            return null;
        });
        System.out.printf(Locale.ROOT, "load after %s%n", load());
    }

    private interface Op {
        Tensor run();
    }

    /**
     * Alternates the two (after two warm-up samples of each), reps samples each of {@code calls}
     * calls (the process CPU clock ticks in 10 ms steps, so a sample must be long); prints the
     * medians per call and the ratios.
     */
    private static void compare(String name, int reps, int calls, Op unfused, Op fused) {
        for (int i = 0; i < 2; i++) {
            time(unfused, calls);
            time(fused, calls);
        }
        double[] uw = new double[reps], uc = new double[reps], fw = new double[reps], fc = new double[reps];
        for (int i = 0; i < reps; i++) {
            boolean unfusedFirst = i % 2 == 0;
            double[] a = unfusedFirst ? time(unfused, calls) : time(fused, calls), b = unfusedFirst ? time(fused, calls) : time(unfused, calls);
            double[] u = unfusedFirst ? a : b, f = unfusedFirst ? b : a;
            uw[i] = u[0];
            uc[i] = u[1];
            fw[i] = f[0];
            fc[i] = f[1];
        }
        double muw = median(uw), mfw = median(fw), muc = median(uc), mfc = median(fc);
        System.out.printf(Locale.ROOT, "%-44s %11.2f %11.2f %7.3f   %11.2f %11.2f %7.3f%n", name, muw, mfw, muw / mfw, muc, mfc, muc / mfc);
    }

    /** {wall ms, process CPU ms} per call over {@code calls} calls, each call's temporaries released after it. */
    private static double[] time(Op op, int calls) {
        long c0 = OS.getProcessCpuTime(), t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            try (MemoryScope ignored = MemoryScope.open()) {
                op.run();
            }
        }
        return new double[] {(System.nanoTime() - t0) / 1e6 / calls, (OS.getProcessCpuTime() - c0) / 1e6 / calls};
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String load() throws java.io.IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }
}
