package dev.irtj.bench;

import dev.irtj.kernels.cpu.Parallel;
import dev.irtj.kernels.cpu.GeluKernels;
import dev.irtj.kernels.cpu.LayerNormKernels;
import dev.irtj.kernels.cpu.SoftmaxKernels;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.UnaryOp;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.util.Collection;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The CPU row kernels ({@link SoftmaxKernels}, {@link LayerNormKernels}, {@link GeluKernels}) against {@link ReferenceBackend} on ViT-S (DeiT-S, batch 64) shapes:
 * token rows 64·197 = 12 608 of width 384 (LayerNorm, residual stream) and 1152 (qkv width),
 * and attention rows 64·6·197 = 75 648 of width 197 (softmax over keys, 6 heads).
 *
 * <p>The reference backend computes element by element in double through its storage
 * accessors, so it runs on 1/16 of the rows ({@link #REF_ROW_DIVISOR}); compare the two per
 * element. {@link #main} runs the benchmarks (JMH options on the command line, e.g.
 * {@code -wi 2 -i 3 -f 1}) and prints ns per element for both and the speedup
 * (reference ns/element ÷ kernel ns/element). From plain JMH output: speedup =
 * score(xxxRef) / score(xxx) / 16, both in ms/op, for the same shape.
 *
 * <p>The kernels use {@link Parallel#threads()} threads ({@code -jvmArgsPrepend -Dirtj.threads=1}
 * for one: {@code -jvmArgsAppend} on the command line would replace the
 * {@code --add-modules jdk.incubator.vector} given in {@link Fork}); the reference is
 * single-threaded.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms3g", "-Xmx3g", "-XX:+UseParallelGC"})
public class RowKernelsBench {

    /** The reference runs on rows / REF_ROW_DIVISOR rows. */
    public static final int REF_ROW_DIVISOR = 16;

    private static final ReferenceBackend REF = new ReferenceBackend();

    @Param({"12608x384", "12608x1152", "75648x197"})
    public String shape;

    private int rows, n, refRows;
    private float[] x, y, logY, dy, dx, w, b, mean, rstd, dw, db;
    private Tensor rx, ry, rLogY, rdy, rw, rb, rMean, rRstd;

    @Setup(Level.Trial)
    public void setup() {
        int[] rn = parse(shape);
        rows = rn[0];
        n = rn[1];
        refRows = rows / REF_ROW_DIVISOR;
        int count = rows * n;
        SplittableRandom r = new SplittableRandom(7);
        x = new float[count];
        dy = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (4 * r.nextDouble() - 2);
            dy[i] = (float) (2 * r.nextDouble() - 1);
        }
        y = new float[count];
        logY = new float[count];
        dx = new float[count];
        w = new float[n];
        b = new float[n];
        for (int j = 0; j < n; j++) {
            w[j] = (float) (1 + 0.1 * r.nextDouble());
            b[j] = (float) (0.1 * r.nextDouble());
        }
        mean = new float[rows];
        rstd = new float[rows];
        dw = new float[n];
        db = new float[n];
        SoftmaxKernels.forward(x, 0, y, 0, rows, n, 0.125f, false);
        SoftmaxKernels.forward(x, 0, logY, 0, rows, n, 0.125f, true);
        LayerNormKernels.forward(x, 0, w, b, dx, 0, mean, rstd, rows, n, 1e-6f);

        int refCount = refRows * n;
        rx = Tensor.of(java.util.Arrays.copyOf(x, refCount), refRows, n);
        rdy = Tensor.of(java.util.Arrays.copyOf(dy, refCount), refRows, n);
        ry = Tensor.of(java.util.Arrays.copyOf(y, refCount), refRows, n);
        rLogY = Tensor.of(java.util.Arrays.copyOf(logY, refCount), refRows, n);
        rw = Tensor.of(w, n);
        rb = Tensor.of(b, n);
        rMean = Tensor.of(java.util.Arrays.copyOf(mean, refRows), refRows);
        rRstd = Tensor.of(java.util.Arrays.copyOf(rstd, refRows), refRows);
    }

    static int[] parse(String shape) {
        String[] p = shape.split("x");
        return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
    }

    // ---- softmax (attention scale 1/√64 = 0.125) ----------------------------------------------

    @Benchmark
    public float[] softmaxForward() {
        SoftmaxKernels.forward(x, 0, y, 0, rows, n, 0.125f, false);
        return y;
    }

    @Benchmark
    public Tensor softmaxForwardRef() {
        return REF.softmax(rx, 0.125, false);
    }

    @Benchmark
    public float[] softmaxBackward() {
        SoftmaxKernels.backward(y, 0, dy, 0, dx, 0, rows, n, 0.125f, false);
        return dx;
    }

    @Benchmark
    public Tensor softmaxBackwardRef() {
        return REF.softmaxBackward(ry, rdy, 0.125, false);
    }

    // ---- layer norm ---------------------------------------------------------------------------

    @Benchmark
    public float[] layerNormForward() {
        LayerNormKernels.forward(x, 0, w, b, dx, 0, mean, rstd, rows, n, 1e-6f);
        return dx;
    }

    @Benchmark
    public Backend.LayerNormResult layerNormForwardRef() {
        return REF.layerNorm(rx, rw, rb, 1e-6);
    }

    @Benchmark
    public float[] layerNormBackward() {
        LayerNormKernels.backward(dy, 0, x, 0, w, mean, rstd, dx, 0, dw, db, rows, n);
        return dx;
    }

    @Benchmark
    public Tensor[] layerNormBackwardRef() {
        return REF.layerNormBackward(rdy, rx, rw, rMean, rRstd, true);
    }

    // ---- GELU (erf) ---------------------------------------------------------------------------

    @Benchmark
    public float[] geluForward() {
        GeluKernels.gelu(x, 0, y, 0, rows * n);
        return y;
    }

    @Benchmark
    public Tensor geluForwardRef() {
        return REF.unary(UnaryOp.GELU, rx, 0, 0);
    }

    @Benchmark
    public float[] geluBackward() {
        GeluKernels.geluBackward(x, 0, dy, 0, dx, 0, rows * n);
        return dx;
    }

    @Benchmark
    public Tensor geluBackwardRef() {
        return REF.unaryBackward(UnaryOp.GELU, rx, rdy, 0, 0);
    }

    /**
     * Runs the benchmarks with the JMH options given (e.g. {@code -wi 2 -i 3 -f 1}; a regular
     * expression selects a subset) and prints, per kernel and shape, ns per element of the kernel
     * and of the reference, and the speedup.
     */
    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        OptionsBuilder builder = new OptionsBuilder();
        if (cli.getIncludes().isEmpty()) builder.include(RowKernelsBench.class.getName() + "\\.");
        Options options = builder.parent(cli).build();
        Collection<RunResult> results = new Runner(options).run();

        Map<String, double[]> table = new TreeMap<>(); // "kernel shape" -> {kernel ns/elem, ref ns/elem}
        for (RunResult rr : results) {
            String bench = rr.getParams().getBenchmark();
            String method = bench.substring(bench.lastIndexOf('.') + 1);
            String shape = rr.getParams().getParam("shape");
            int[] rn = parse(shape);
            boolean ref = method.endsWith("Ref");
            String kernel = ref ? method.substring(0, method.length() - 3) : method;
            long elements = (long) (ref ? rn[0] / REF_ROW_DIVISOR : rn[0]) * rn[1];
            double msPerOp = rr.getPrimaryResult().getScore();
            double nsPerElement = msPerOp * 1e6 / elements;
            table.computeIfAbsent(String.format("%-18s %-11s", kernel, shape), k -> new double[] {Double.NaN, Double.NaN})[ref ? 1 : 0] = nsPerElement;
        }
        System.out.println();
        String threads = java.util.stream.Stream.of(cli.getJvmArgs(), cli.getJvmArgsPrepend(), cli.getJvmArgsAppend())
                .flatMap(o -> o.orElse(java.util.List.of()).stream())
                .filter(a -> a.startsWith("-Dirtj.threads=")).map(a -> a.substring("-Dirtj.threads=".length()))
                .findFirst().orElse(String.valueOf(Parallel.threads()));
        System.out.printf("RowKernels vs ReferenceBackend: kernels on %s thread(s), the reference on one thread and 1/%d of the rows%n",
                threads, REF_ROW_DIVISOR);
        System.out.printf("%-18s %-11s %14s %14s %9s%n", "kernel", "rows x n", "kernel ns/el", "ref ns/el", "speedup");
        for (Map.Entry<String, double[]> e : table.entrySet()) {
            double[] v = e.getValue();
            System.out.printf("%s %14.4f %14.3f %8.1fx%n", e.getKey(), v[0], v[1], v[1] / v[0]);
        }
    }
}
