package dev.irtj.kernels.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;

/** cuBLAS through JCublas2 12.6, which links {@code libcublas.so.12} (absent on CUDA 13 machines). */
final class JCublasBinding implements CublasBinding {
    private final cublasHandle handle = new cublasHandle();

    /** Fails with a LinkageError when the library does not load, a CudaException when cuBLAS refuses. */
    JCublasBinding(Cuda cuda, boolean tf32) {
        JCublas2.setExceptionsEnabled(false);
        check(JCublas2.cublasCreate(handle), "cublasCreate");
        check(JCublas2.cublasSetStream(handle, new cudaStream_t(cuda.stream)), "cublasSetStream");
        check(JCublas2.cublasSetMathMode(handle, tf32 ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH),
                "cublasSetMathMode");
    }

    private static void check(int status, String call) {
        CublasBinding.check(status, call, cublasStatus.stringFor(status));
    }

    @Override
    public String name() {
        return "JCublas2, libcublas.so.12";
    }

    @Override
    public void sgemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                    CUdeviceptr a, long aOffset, int lda, long strideA,
                                    CUdeviceptr b, long bOffset, int ldb, long strideB,
                                    float beta, CUdeviceptr c, int ldc, long strideC, int batch) {
        check(JCublas2.cublasSgemmStridedBatched(handle,
                transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
                transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N, m, n, k,
                Pointer.to(new float[] {alpha}), a.withByteOffset(4L * aOffset), lda, strideA,
                b.withByteOffset(4L * bOffset), ldb, strideB,
                Pointer.to(new float[] {beta}), c, ldc, strideC, batch), "cublasSgemmStridedBatched");
    }
}
