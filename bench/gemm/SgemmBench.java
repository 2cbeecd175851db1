import dev.irtj.kernels.cpu.GemmPool;
import dev.irtj.kernels.cpu.Sgemm;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;

/**
 * Times Sgemm.sgemm (no transposes, alpha 1, beta 0: what numpy's matmul does) on the shapes
 * given as M,N,K arguments after the minimum seconds per shape. Thread count comes from the
 * irtj.threads system property. Prints "RESULT M N K gflops_median gflops_best gflops_per_cpu_s" per
 * shape; the last is the FLOPs of all measured repetitions over the process's CPU time while they
 * ran (all threads), the figure that holds up when other processes share the cores.
 */
public final class SgemmBench {

    private static final com.sun.management.OperatingSystemMXBean PROCESS =
            ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class);

    public static void main(String[] args) {
        double minSeconds = Double.parseDouble(args[0]);
        // JIT warm-up on a mid-sized product, so the first shape is not timed against C1 code.
        timeShape(512, 512, 512, 1.0, 1);
        System.out.println("INFO threads=" + GemmPool.parallelism()
                + " java=" + System.getProperty("java.version"));
        for (int i = 1; i < args.length; i++) {
            String[] parts = args[i].split(",");
            int m = Integer.parseInt(parts[0]), n = Integer.parseInt(parts[1]), k = Integer.parseInt(parts[2]);
            double[] gflops = timeShape(m, n, k, minSeconds, 5);
            System.out.printf("RESULT %d %d %d %.2f %.2f %.2f%n", m, n, k, gflops[0], gflops[1], gflops[2]);
        }
    }

    private static double[] timeShape(int m, int n, int k, double minSeconds, int minReps) {
        Random random = new Random(1);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        float[] c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) random.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) random.nextGaussian();
        long minNanos = (long) (minSeconds * 1e9);
        long start = System.nanoTime();
        while (System.nanoTime() - start < minNanos) {
            Sgemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        }
        long[] times = new long[1 << 16];
        int reps = 0;
        long cpuStart = PROCESS.getProcessCpuTime();
        start = System.nanoTime();
        while (reps < minReps || (System.nanoTime() - start < minNanos && reps < times.length)) {
            long t0 = System.nanoTime();
            Sgemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
            times[reps++] = System.nanoTime() - t0;
        }
        long cpuNanos = PROCESS.getProcessCpuTime() - cpuStart;
        long[] measured = Arrays.copyOf(times, reps);
        Arrays.sort(measured);
        double flops = 2.0 * m * n * k;
        return new double[] {flops / measured[reps / 2], flops / measured[0], flops * reps / cpuNanos};
    }
}
