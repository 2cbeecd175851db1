package dev.irtj.kernels.cpu;

import dev.irtj.tensor.AllocatedBytes;
import dev.irtj.tensor.Backend;
import dev.irtj.tensor.BinaryOp;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.MemoryScope;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import dev.irtj.tensor.UnaryOp;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CPU kernels run as compiled vector code, not boxed. On JDK 17 a kernel whose Vector API
 * intrinsics fail (a vector shape mixed into the shared type profiles, a method grown past C2's
 * node budget, a loop-carried vector stored after its loop) still computes the right values but
 * allocates an object per vector operation: megabytes per call and 10-50x slower. That shows as
 * allocation, which this test measures instead of time: after warm-up, each kernel must reach a
 * state in which a call allocates at most {@value #MAX_BYTES_PER_CALL} bytes (outputs come from
 * the buffer pool; what remains is per-call scratch such as split-k partial sums). A kernel that
 * never gets there within {@value #MAX_CALLS} calls fails, named.
 */
class KernelsRunUnboxedTest {
    private static final long MAX_BYTES_PER_CALL = 160 * 1024;
    private static final int MAX_CALLS = 3000;
    private static final int CALLS_PER_PROBE = 10;

    private final Backend cpu = new SimdBackend();
    private final Rng rng = new Rng(7);

    private Tensor randn(int... shape) {
        return Tensor.randn(rng, DType.F32, shape);
    }

    @Test
    void everyHotKernelReachesAnAllocationFreeSteadyState() {
        Tensor a = randn(256, 192), w = randn(384, 192), bias = randn(384), g = randn(256, 384);
        Tensor tall = randn(3100, 64), tall2 = randn(3100, 48);
        Tensor x = randn(256, 1536), dx = randn(256, 1536);
        Tensor rows = randn(256, 384), ln = Tensor.ones(DType.F32, 384), lb = Tensor.zeros(DType.F32, 384);
        Tensor scores = randn(8, 6, 33, 197), up = randn(8, 6, 33, 197), values = randn(8, 6, 197, 64);
        Backend.LayerNormResult norm = cpu.layerNorm(rows, ln, lb, 1e-6);
        Tensor probs = cpu.softmax(scores, 0.125, false);
        // DeiT-Ti-like attention over a packed qkv [B, N, 3·D]: strided q, k, v, gradients into one packed tensor.
        Tensor qkv = randn(2, 197, 3 * 192), dAttn = randn(2, 197, 192);
        Tensor parts = qkv.reshape(2, 197, 3, 3, 64).permute(2, 0, 3, 1, 4);
        dev.irtj.tensor.AttentionPlan attention = dev.irtj.tensor.AttentionPlan.resolve(parts.select(0, 0), parts.select(0, 1), parts.select(0, 2), 0.125);
        Backend.AttentionResult attended = cpu.attention(attention);
        Map<String, Supplier<Tensor>> kernels = new java.util.LinkedHashMap<>();
        kernels.put("gemm x·Wᵀ + bias", () -> cpu.gemm(a, false, w, true, 1, bias, 1));
        kernels.put("gemm g·W", () -> cpu.gemm(g, false, w, false, 1, null, 0));
        kernels.put("gemm gᵀ·x (long k, split over threads)", () -> cpu.gemm(tall, true, tall2, false, 1, null, 0));
        kernels.put("gemm batched attention", () -> cpu.gemm(scores, false, values, false, 1, null, 0));
        Tensor fc1In = randn(256, 384), fc1W = randn(1536, 384), fc1B = randn(1536);
        Tensor pre = cpu.linearGelu(dev.irtj.tensor.GemmShape.resolve(fc1In, false, fc1W, true, null), fc1B).z();
        kernels.put("linear + gelu (bias and GELU in the GEMM epilogue)",
                () -> cpu.linearGelu(dev.irtj.tensor.GemmShape.resolve(fc1In, false, fc1W, true, null), fc1B).y());
        kernels.put("gelu backward + bias gradient", () -> cpu.linearGeluBackward(pre, fc1B, dx)[0]);
        kernels.put("gelu", () -> cpu.unary(UnaryOp.GELU, x, 0, 0));
        kernels.put("gelu backward", () -> cpu.unaryBackward(UnaryOp.GELU, x, dx, 0, 0));
        kernels.put("softmax", () -> cpu.softmax(scores, 0.125, false));
        kernels.put("softmax backward", () -> cpu.softmaxBackward(probs, up, 0.125, false));
        kernels.put("layer norm", () -> cpu.layerNorm(rows, ln, lb, 1e-6).y());
        kernels.put("add + layer norm (residual)", () -> cpu.addLayerNorm(rows, g, ln, lb, 1e-6).norm().y());
        kernels.put("layer norm backward", () -> cpu.layerNormBackward(g, rows, ln, norm.mean(), norm.rstd(), true)[0]);
        kernels.put("add", () -> cpu.binary(BinaryOp.ADD, rows, g));
        kernels.put("fused attention", () -> cpu.attention(attention).out());
        kernels.put("fused attention backward", () -> {
            Tensor gqkv = Tensor.empty(DType.F32, 2, 197, 3, 3, 64);
            Tensor gp = gqkv.permute(2, 0, 3, 1, 4);
            cpu.attentionBackward(attention, attended.out(), attended.lse(), dAttn, gp.select(0, 0), gp.select(0, 1), gp.select(0, 2));
            return gqkv;
        });
        StringBuilder boxed = new StringBuilder();
        for (Map.Entry<String, Supplier<Tensor>> k : kernels.entrySet()) {
            long perCall = steadyStateAllocation(k.getValue());
            if (perCall > MAX_BYTES_PER_CALL) {
                boxed.append(String.format("%n  %s: %,d bytes per call after %d calls", k.getKey(), perCall, MAX_CALLS));
            }
        }
        if (boxed.length() > 0) fail("kernels still allocating (running boxed) after warm-up:" + boxed);
    }

    /** The lowest allocation per call seen over probes of a few calls, stopping once it is low. */
    private static long steadyStateAllocation(Supplier<Tensor> kernel) {
        long best = Long.MAX_VALUE;
        for (int calls = 0; calls < MAX_CALLS; calls += CALLS_PER_PROBE) {
            AllocatedBytes allocated = AllocatedBytes.start();
            for (int i = 0; i < CALLS_PER_PROBE; i++) {
                try (MemoryScope ignored = MemoryScope.open()) {
                    kernel.get();
                }
            }
            long total = allocated.sinceStart();
            best = Math.min(best, total / CALLS_PER_PROBE);
            if (best <= MAX_BYTES_PER_CALL) break;
        }
        return best;
    }
}
