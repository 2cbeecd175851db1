package dev.irtj.bench;

import dev.irtj.kernels.cuda.CudaBackend;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.Backends;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.Device;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Milliseconds and TFLOP/s of the CUDA backend's GEMM on the products of a ViT-S/16 training
 * step at batch 64 (12 608 tokens of width 384, 6 heads of 64), forward and backward layouts.
 * {@code -Dirtj.cuda.gemm} and {@code -Dirtj.cuda.tf32} select the kernel as for training.
 * scripts/device-check.sh runs it next to bench/cuda_pytorch.py, which times torch.matmul on the
 * same list (keep the two lists identical). One line per shape: key=value pairs.
 */
public final class CudaGemmBench {
    /** name, batch, M, K, N, transA, transB (1 = the operand is stored transposed). */
    static final List<int[]> SHAPES = List.of(
            new int[] {1, 12608, 384, 1152, 0, 1},   // qkv forward: x · Wᵀ
            new int[] {1, 12608, 384, 384, 0, 1},    // proj forward
            new int[] {1, 12608, 384, 1536, 0, 1},   // fc1 forward
            new int[] {1, 12608, 1536, 384, 0, 1},   // fc2 forward
            new int[] {1, 12608, 1152, 384, 0, 0},   // qkv input gradient: dY · W
            new int[] {1, 1152, 12608, 384, 1, 0},   // qkv weight gradient: dYᵀ · X
            new int[] {384, 197, 64, 197, 0, 1},     // attention scores: q · kᵀ per head
            new int[] {384, 197, 197, 64, 0, 0});    // attention output: p · v
    static final String[] NAMES = {"qkv_fwd", "proj_fwd", "fc1_fwd", "fc2_fwd", "qkv_dx", "qkv_dw", "attn_qk", "attn_pv"};

    private CudaGemmBench() {
    }

    public static void main(String[] args) {
        int warmup = 3, reps = 10;
        Device gpu = Device.cuda(0);
        Backend backend = Backends.forDevice(gpu);
        CudaBackend cuda = (CudaBackend) backend;
        System.out.println("device=" + cuda.describe().replace(' ', '_'));
        Rng rng = new Rng(7);
        for (int s = 0; s < SHAPES.size(); s++) {
            int[] p = SHAPES.get(s);
            int batch = p[0], m = p[1], k = p[2], n = p[3];
            boolean ta = p[4] == 1, tb = p[5] == 1;
            int[] aShape = ta ? new int[] {k, m} : new int[] {m, k}, bShape = tb ? new int[] {n, k} : new int[] {k, n};
            if (batch > 1) {
                aShape = new int[] {batch, aShape[0], aShape[1]};
                bShape = new int[] {batch, bShape[0], bShape[1]};
            }
            Tensor a = Tensor.randn(rng, DType.F32, aShape).to(gpu), b = Tensor.randn(rng, DType.F32, bShape).to(gpu);
            double[] t = new double[reps];
            for (int r = -warmup; r < reps; r++) {
                try (MemoryScope scope = MemoryScope.open()) {
                    cuda.synchronize();
                    long t0 = System.nanoTime();
                    backend.gemm(a, ta, b, tb, 1.0, null, 0.0);
                    cuda.synchronize();
                    if (r >= 0) t[r] = (System.nanoTime() - t0) / 1e6;
                }
            }
            Arrays.sort(t);
            double ms = t[reps / 2], flops = 2.0 * batch * m * n * k;
            System.out.printf(Locale.ROOT, "shape=%s batch=%d m=%d k=%d n=%d ms=%.4f tflops=%.3f%n", NAMES[s], batch, m, k, n, ms, flops / ms / 1e9);
        }
    }
}
