package dev.irtj.bench;

import dev.irtj.tensor.AttentionPlan;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;

/**
 * One self-attention op on a packed qkv [B, N, 3·D], timed in this process: {@code fused} (the
 * fused primitive, {@link Tensor#attention} and {@link Tensor#attentionBackward}) or
 * {@code composed} (the pre-fusion op: batched GEMMs over strided views, softmax materialising
 * [B, H, N, N], a transposed copy of the output; in backward the GEMMs, softmax backward and the
 * copies into the qkv gradient), on the CPU backend. {@code bench/attention-fused-vs-composed.sh}
 * runs both in fresh processes, interleaved.
 *
 * <p>Usage: {@code AttentionBench fused|composed B N H HEAD_DIM [REPS]}; prints one line with the
 * median wall and CPU (all threads) milliseconds per call of the forward and of the backward, the
 * least CPU time seen (the figure least disturbed by other processes) and the MB allocated per step.
 */
public final class AttentionBench {
    private AttentionBench() {
    }

    public static void main(String[] args) {
        if (args.length < 5 || !(args[0].equals("fused") || args[0].equals("composed"))) {
            System.err.println("usage: AttentionBench fused|composed B N H HEAD_DIM [REPS=20]");
            System.exit(2);
        }
        // Timed repetitions start after the warm-up; allocation is counted over them only.
        boolean fused = args[0].equals("fused");
        int b = Integer.parseInt(args[1]), n = Integer.parseInt(args[2]), h = Integer.parseInt(args[3]), hd = Integer.parseInt(args[4]);
        int reps = args.length > 5 ? Integer.parseInt(args[5]) : 20;
        int d = h * hd;
        double scale = 1 / Math.sqrt(hd);
        Rng rng = new Rng(1);
        Tensor qkv = Tensor.randn(rng, DType.F32, b, n, 3 * d), g = Tensor.randn(rng, DType.F32, b, n, d);
        Tensor parts = qkv.reshape(b, n, 3, h, hd).permute(2, 0, 3, 1, 4);
        Tensor q = parts.select(0, 0), k = parts.select(0, 1), v = parts.select(0, 2);
        long alloc0 = 0;
        double[] fwdWall = new double[reps], fwdCpu = new double[reps], bwdWall = new double[reps], bwdCpu = new double[reps];
        int warmup = Math.max(3, reps / 2);
        for (int it = -warmup; it < reps; it++) {
            if (it == 0) alloc0 = allocatedBytes();
            try (MemoryScope ignored = MemoryScope.open()) {
                long w0 = System.nanoTime(), c0 = cpuNanos();
                Object saved;
                Tensor out;
                if (fused) {
                    AttentionPlan plan = AttentionPlan.resolve(q, k, v, scale);
                    var r = Tensor.attention(plan);
                    out = r.out();
                    saved = new Object[] {plan, r.lse()};
                } else {
                    Tensor p = q.gemm(false, k, true).softmax(scale, false);
                    out = p.gemm(false, v, false).transpose(1, 2).contiguous().reshape(b, n, d);
                    saved = p;
                }
                long w1 = System.nanoTime(), c1 = cpuNanos();
                Tensor gx = Tensor.empty(DType.F32, b, n, 3, h, hd);
                Tensor gp = gx.permute(2, 0, 3, 1, 4);
                if (fused) {
                    Object[] s = (Object[]) saved;
                    Tensor.attentionBackward((AttentionPlan) s[0], out, (Tensor) s[1], g, gp.select(0, 0), gp.select(0, 1), gp.select(0, 2));
                } else {
                    Tensor p = (Tensor) saved;
                    Tensor go = g.reshape(b, n, h, hd).transpose(1, 2);
                    Tensor gs = p.softmaxBackward(go.gemm(false, v, true), scale, false);
                    gp.select(0, 0).copyFrom(gs.gemm(false, k, false));
                    gp.select(0, 1).copyFrom(gs.gemm(true, q, false));
                    gp.select(0, 2).copyFrom(p.gemm(true, go, false));
                }
                long w2 = System.nanoTime(), c2 = cpuNanos();
                if (it >= 0) {
                    fwdWall[it] = (w1 - w0) / 1e6;
                    fwdCpu[it] = (c1 - c0) / 1e6;
                    bwdWall[it] = (w2 - w1) / 1e6;
                    bwdCpu[it] = (c2 - c1) / 1e6;
                }
            }
        }
        double allocMb = (allocatedBytes() - alloc0) / 1e6 / reps;
        System.out.printf(Locale.ROOT, "%s B=%d N=%d H=%d hd=%d fwd_ms=%.3f fwd_cpu_ms=%.3f fwd_cpu_min_ms=%.3f bwd_ms=%.3f bwd_cpu_ms=%.3f bwd_cpu_min_ms=%.3f alloc_mb_per_step=%.2f%n",
                args[0], b, n, h, hd, median(fwdWall), median(fwdCpu), min(fwdCpu), median(bwdWall), median(bwdCpu), min(bwdCpu), allocMb);
    }

    /** Bytes allocated so far by every live thread (a kernel running boxed shows here). */
    private static long allocatedBytes() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long bytes : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) if (bytes > 0) sum += bytes;
        return sum;
    }

    /** CPU time of every live thread (the caller and the pool's workers), in nanoseconds. */
    private static long cpuNanos() {
        var threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t > 0) sum += t;
        }
        return sum;
    }

    private static double min(double[] x) {
        return Arrays.stream(x).min().orElse(Double.NaN);
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
