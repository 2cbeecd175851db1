package dev.irtj.kernels.cuda;

import dev.irtj.tensor.Backends;
import dev.irtj.tensor.DType;
import dev.irtj.tensor.ReferenceBackend;
import dev.irtj.tensor.Rng;
import dev.irtj.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;

import static dev.irtj.kernels.cuda.CudaBackendTest.assertClose;
import static dev.irtj.kernels.cuda.CudaBackendTest.gpu;
import static dev.irtj.kernels.cuda.CudaBackendTest.onGpu;
import static dev.irtj.kernels.cuda.CudaBackendTest.random;

/**
 * cuBLAS (JCublas2 on CUDA 12, JavaCPP's binding on CUDA 13) against the reference, on the
 * layouts CudaBackend hands it: transposes, transposed/offset views that need a copy, broadcast
 * batches, a C0 added with β, and attention's batched products of permuted views. Skipped, with
 * the reason, where no binding loads (CublasInUse). Tolerances: exact FP32 rtol 1e-4,
 * atol 1e-5·K; with -Dirtj.cuda.tf32=true rtol 2e-3, atol 4e-3·√K (see CudaBackendTest).
 */
@Tag("device-check") // scripts/device-check.sh runs every class with this tag on a GPU
@ExtendWith(CublasInUse.class)
class CudaCublasTest {
    private static final ReferenceBackend REF = new ReferenceBackend();

    private static CudaBackend cuda() {
        return (CudaBackend) Backends.byName("cuda");
    }

    private static void assertGemmClose(String what, Tensor expected, Tensor actual, int k) {
        if (cuda().describe().endsWith("TF32")) assertClose(what, expected, actual, 2e-3, 4e-3 * Math.sqrt(k));
        else assertClose(what, expected, actual, 1e-4, 1e-5 * k);
    }

    @Test
    void stridedBatchedProductsMatchTheReference() {
        Rng rng = new Rng(11);
        int[] dims = {1, 3, 7, 17, 31, 64, 65, 129, 200};
        for (int c = 0; c < 60; c++) {
            int m = dims[rng.nextInt(dims.length)], k = dims[rng.nextInt(dims.length)], n = dims[rng.nextInt(dims.length)];
            int batch = rng.nextInt(4);
            boolean transA = rng.nextInt(2) == 1, transB = rng.nextInt(2) == 1, stridedA = rng.nextInt(2) == 1, broadcastB = rng.nextInt(2) == 1;
            int cMode = rng.nextInt(3);
            int[] aShape = batch == 0 ? (transA ? new int[] {k, m} : new int[] {m, k}) : (transA ? new int[] {batch, k, m} : new int[] {batch, m, k});
            int[] bCore = transB ? new int[] {n, k} : new int[] {k, n};
            int[] bShape = batch == 0 || broadcastB ? bCore : new int[] {batch, bCore[0], bCore[1]};
            Tensor a = random(rng, DType.F32, stridedA, aShape), b = random(rng, DType.F32, false, bShape);
            Tensor c0 = cMode == 1 ? Tensor.randn(rng, DType.F32, n) : cMode == 2 ? Tensor.randn(rng, DType.F32, m, n) : null;
            double alpha = 0.75, beta = c0 == null ? 0 : -1.25;
            Tensor expected = REF.gemm(a, transA, b, transB, alpha, c0, beta);
            Tensor actual = cuda().gemm(CudaBackend.GemmMode.CUBLAS, onGpu(a), transA, gpu(b), transB, alpha, c0 == null ? null : gpu(c0), beta);
            assertGemmClose("cuBLAS case " + c + " m,k,n,batch=" + Arrays.toString(new int[] {m, k, n, batch}) + " transA=" + transA
                    + " transB=" + transB + " stridedA=" + stridedA + " broadcastB=" + broadcastB + " c0=" + cMode, expected, actual, k);
        }
    }

    @Test
    void attentionShapedBatchedProductsOfPermutedViews() {
        Rng rng = new Rng(3);
        Tensor qkv = Tensor.randn(rng, DType.F32, 2, 197, 3, 3, 64);
        Tensor g = gpu(qkv).permute(2, 0, 3, 1, 4), h = qkv.permute(2, 0, 3, 1, 4);
        Tensor scores = REF.gemm(h.select(0, 0), false, h.select(0, 1), true, 0.125, null, 0);
        boolean tf32 = cuda().describe().endsWith("TF32");
        // Tolerances as CudaBackendTest's attention test for the same products.
        assertClose("q·kᵀ cuBLAS", scores, cuda().gemm(CudaBackend.GemmMode.CUBLAS, g.select(0, 0), false, g.select(0, 1), true, 0.125, null, 0),
                tf32 ? 2e-3 : 1e-4, tf32 ? 3e-2 : 1e-4);
        assertClose("attn·v cuBLAS", REF.gemm(scores, false, h.select(0, 2), false, 1, null, 0),
                cuda().gemm(CudaBackend.GemmMode.CUBLAS, gpu(scores), false, g.select(0, 2), false, 1, null, 0), tf32 ? 2e-3 : 1e-4, tf32 ? 0.5 : 1e-3);
    }
}
